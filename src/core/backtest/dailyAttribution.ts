/**
 * The engine's daily attribution windows (core/risk/pnlExplain.ts explains each one): a window
 * opens on the book after a day's first step's trades and closes at the next day's first step (or
 * the last step), with the legs settled in between and the hedge's end mark.
 */
import type { Position } from "../instruments/types.js";
import type { RiskMarket } from "../risk/market.js";
import {
  type AttributionDay,
  type AttributionWindow,
  carriedWindowLeg,
  closeAttributionWindow,
  liveWindowLeg,
  type WindowLeg,
  windowLegEnd,
} from "../risk/pnlExplain.js";
import { futureMark, type HedgeHolding } from "./hedger.js";
import type { OptionLeg } from "./ledger.js";
import { type BacktestStep, marketValues } from "./market.js";

/** The book a window opens on. */
export interface WindowBook {
  readonly coin: string;
  readonly cash: Readonly<Record<string, number>>;
  readonly options: Iterable<OptionLeg>;
  /** Coin value per contract of a leg at its last valuation, or null. */
  readonly carriedCoinPerContract: (name: string) => number | null;
  readonly hedge: HedgeHolding | null;
}

export class DailyAttribution {
  readonly days: AttributionDay[] = [];
  private win: AttributionWindow | null = null;
  private settled = new Map<string, { coinPerContract: number; indexPrice: number }>();
  private hedgeSettle: number | null = null;

  /** An option settled during the window: coins per contract, at the index `indexPrice`. */
  legSettled(name: string, coinPerContract: number, indexPrice: number): void {
    this.settled.set(name, { coinPerContract, indexPrice });
  }

  /** A hedge future settled at `price` (kept when it is the window's start hedge). */
  hedgeSettled(name: string, price: number): void {
    if (this.win?.hedge?.instrument.name === name) this.hedgeSettle = price;
  }

  /** Expiries after `time` of the open window's legs and hedge (the end market must value them). */
  pendingExpiries(time: number): number[] {
    const out: number[] = [];
    const w = this.win;
    for (const l of w?.legs ?? []) {
      const e = l.position.instrument.expiry;
      if (e !== null && e > time) out.push(e);
    }
    const we = w?.hedge?.instrument.expiry;
    if (we != null && we > time) out.push(we);
    return out;
  }

  /** Opens a window at `s` on `book` valued on `market`, with the day's equity (USD). */
  open(s: BacktestStep, market: RiskMarket, equityUsd: number, book: WindowBook): void {
    const legs: WindowLeg[] = [];
    for (const p of book.options) {
      if (marketValues(market, p)) legs.push(liveWindowLeg(p, market));
      else {
        const v = (book.carriedCoinPerContract(p.instrument.name) ?? 0) * p.quantity;
        legs.push(carriedWindowLeg(p, v, s.indexPrice));
      }
    }
    const h = book.hedge;
    this.win = {
      start: s.time,
      indexPrice: s.indexPrice,
      equityUsd,
      coin: book.coin,
      cash: { ...book.cash },
      legs,
      hedge:
        h && h.contracts !== 0 ? { instrument: h.instrument, contracts: h.contracts, mark: h.entry } : null,
    };
    this.settled = new Map();
    this.hedgeSettle = null;
  }

  /** Closes the open window (if any) at `s` on `market` with the equity (USD) there. */
  close(
    s: BacktestStep,
    market: RiskMarket,
    equityUsd: number,
    carriedCoinPerContract: (name: string) => number | null,
  ): void {
    const w = this.win;
    if (!w) return;
    this.days.push(
      closeAttributionWindow(w, {
        time: s.time,
        indexPrice: s.indexPrice,
        equityUsd,
        revalue: (p: Position) => (marketValues(market, p) ? windowLegEnd(p, market) : null),
        carriedCoinPerContract,
        settled: this.settled,
        hedgeMark: this.hedgeMarkAt(w, s, market),
      }),
    );
  }

  /** The start hedge's mark at `s`: its settlement price if it expired, else its core mark. */
  private hedgeMarkAt(w: AttributionWindow, s: BacktestStep, market: RiskMarket): number | null {
    if (!w.hedge) return null;
    const ins = w.hedge.instrument;
    if (ins.expiry !== null && ins.expiry <= s.time) return this.hedgeSettle ?? s.indexPrice;
    if (marketValues(market, { instrument: ins, quantity: 1 })) return futureMark(market, ins);
    return null;
  }
}
