/**
 * The backtest's hedger: holds the hedge future (the inverse perpetual, or a dated inverse future
 * with `instrument: "future"`), marks it to the core mark at every step (variation and perpetual
 * funding into coin cash), trades it on the strategy's hedge orders and the hedge policy's
 * decisions (hedge/policies.ts hedgeTrade on the book's net USD delta in coins), and rolls a dated
 * future before it expires. Fills follow fills.ts inverseHedgeFill; cash, costs and records are
 * booked in the ledger (ledger.ts). Units: contracts of `contractSize` USD, coins, USD; epoch ms.
 */
import { InvalidInputError } from "../errors.js";
import type { HedgePolicy } from "../hedge/policies.js";
import { hedgeTrade } from "../hedge/policies.js";
import { instrumentFromName } from "../instruments/names.js";
import type { FutureContract, Instrument, Position } from "../instruments/types.js";
import { positionGreeks } from "../risk/greeks.js";
import { forwardAtExpiry, type RiskMarket } from "../risk/market.js";
import { optionMarketInputs } from "../risk/valuation.js";
import { DAY_MS, timeToExpiry } from "../time.js";
import { futureName } from "./calendar.js";
import { futureHedgeExpiry, inverseHedgeFill } from "./fills.js";
import type { BacktestLedger } from "./ledger.js";
import { type BacktestStep, marketValues, type StepMarket } from "./market.js";

/** The hedge as held: signed contracts, entered at the core mark of the last variation (USD). */
export interface HedgeHolding {
  readonly instrument: FutureContract;
  contracts: number;
  entry: number;
}

/** The core mark of a future on `m` (perpetual: the index; dated: its expiry's forward), USD. */
export function futureMark(m: RiskMarket, ins: FutureContract): number {
  const um = m.underlyings[ins.underlying];
  if (!um)
    throw new InvalidInputError("market.underlyings", ins.underlying, "no market for the hedge future");
  return forwardAtExpiry(um, m.valuationTime, ins.expiry);
}

function isFuture(ins: Instrument): ins is FutureContract {
  return ins.type === "future";
}

/** The inverse future named `name` (the perpetual or a dated future). */
function futureInstrument(name: string): FutureContract {
  const ins = instrumentFromName(name);
  if (!isFuture(ins)) throw new InvalidInputError("hedge.instrument", name, "is not a future");
  return ins;
}

/** Hedge fills by price source, and the basis paid over the core mark at venue fills (coin, USD). */
export interface HedgeFillCounts {
  venue: number;
  mark: number;
  basisCoin: number;
  basisUsd: number;
}

export class Hedger {
  holding: HedgeHolding | null = null;
  readonly fills: HedgeFillCounts = { venue: 0, mark: 0, basisCoin: 0, basisUsd: 0 };
  private lastHedge = Number.NEGATIVE_INFINITY;
  private readonly useFuture: boolean;
  /** The policy's cost per unit notional of a hedge trade: fee + half spread + slippage. */
  private readonly costRate: number;

  constructor(
    private readonly policy: HedgePolicy,
    private readonly ledger: BacktestLedger,
  ) {
    const c = ledger.costs;
    this.costRate = c.hedgeFeeRate + (c.hedgeHalfSpreadBps + c.slippageBps) / 1e4;
    this.useFuture = policy.instrument === "future";
  }

  /** The hedge as a core Position (entry = its mark), null when flat. */
  position(): Position | null {
    const h = this.holding;
    return h && h.contracts !== 0
      ? { instrument: h.instrument, quantity: h.contracts, entryPrice: h.entry }
      : null;
  }

  /** The hedge's coin delta (notional / mark), 0 when flat. */
  coins(): number {
    const h = this.holding;
    return h ? (h.contracts * h.instrument.contractSize) / h.entry : 0;
  }

  /** The step's core market for the book (options + dated hedge) and `extra` expiries. */
  marketFor(s: BacktestStep, extra: readonly number[] = []): StepMarket {
    const es = this.ledger.optionExpiries();
    const he = this.holding?.instrument.expiry;
    if (he != null) es.push(he);
    const m = s.market([...es, ...extra]);
    if (!m)
      throw new InvalidInputError(
        "steps[].chain",
        new Date(s.time).toISOString(),
        "has no quote with a mark vol: no market to value the book on",
      );
    return m;
  }

  /**
   * Step 2: the hedge marked to the core mark M (variation m (1/entry - 1/M) into coin cash; the
   * entry reset to M), and on the perpetual the funding since `prev` at the policy's rate, else
   * the previous step's.
   */
  vary(s: BacktestStep, prev: BacktestStep): void {
    const h = this.holding;
    if (!h) return;
    const M =
      h.instrument.expiry === null ? s.indexPrice : futureMark(this.marketFor(s).market, h.instrument);
    const m = h.contracts * h.instrument.contractSize;
    this.ledger.addCoins(m * (1 / h.entry - 1 / M));
    if (h.instrument.expiry === null) {
      const rate = this.policy.fundingRatePerYear ?? prev.fundingRatePerYear ?? 0;
      const fund = (m / h.entry) * rate * timeToExpiry(s.time, prev.time);
      this.ledger.payFunding(fund, s.indexPrice);
    }
    h.entry = M;
  }

  /** The hedge future settled at expiry (ledger.ts books the proceeds): the hedge is flat. */
  settled(): void {
    this.holding = null;
  }

  /** Trades `coins` of delta on the hedge instrument (choosing a future expiry when flat). */
  tradeCoins(s: BacktestStep, coins: number, tag: string): void {
    let ins = this.holding?.instrument ?? null;
    if (!ins) {
      if (this.useFuture) {
        const e = futureHedgeExpiry(s, this.policy);
        if (e === null) {
          this.ledger.reject(s, `${s.underlying}-FUTURE`, coins, "not-listed");
          return;
        }
        ins = futureInstrument(futureName(s.underlying, e));
      } else ins = futureInstrument(`${s.underlying}-PERPETUAL`);
    }
    const M = ins.expiry === null ? s.indexPrice : futureMark(this.marketFor(s, [ins.expiry]).market, ins);
    this.tradeFuture(s, ins, (coins * M) / ins.contractSize, tag);
  }

  /** Step 5b: the hedge policy's trade on the book's net USD delta (coins), if any. */
  rebalance(s: BacktestStep): void {
    if (this.policy.policy === "none") return;
    const market = this.marketFor(s).market;
    let delta = this.ledger.coins() + this.coins();
    let gamma = 0;
    let gW = 0;
    let volW = 0;
    let tW = 0;
    for (const p of this.ledger.options.values()) {
      if (!marketValues(market, p)) continue;
      const g = positionGreeks(p, market);
      const mi = optionMarketInputs(p.instrument, market);
      delta += g.deltaUnderlyingCoin;
      gamma += g.gammaCoinPerUsd;
      const w = Math.abs(g.gammaCoinPerUsd);
      gW += w;
      volW += w * mi.vol;
      tW += w * mi.timeToExpiry;
    }
    const qty = hedgeTrade(this.policy, {
      now: s.time,
      lastHedgeTime: this.lastHedge,
      netDelta: delta,
      gamma,
      spot: s.indexPrice,
      vol: gW > 0 ? volW / gW : 0.5,
      timeToExpiry: gW > 0 ? tW / gW : 0.1,
      costRate: this.costRate,
    });
    if (qty === 0 || Math.abs(qty) < 1e-9) return;
    this.tradeCoins(s, qty, "hedge");
    this.lastHedge = s.time;
  }

  /** Step 5a: rolls a dated-future hedge within `rollDays` of its expiry into the next one. */
  roll(s: BacktestStep): void {
    const h = this.holding;
    if (!this.useFuture || !h || h.instrument.expiry === null) return;
    if (h.instrument.expiry - s.time >= (this.policy.rollDays ?? 1) * DAY_MS) return;
    const coins = this.coins();
    this.tradeFuture(s, h.instrument, -h.contracts, "roll");
    this.holding = null;
    this.tradeCoins(s, coins, "roll");
  }

  /**
   * Trades `contracts` of the inverse future `ins`. The position enters at the core mark M (the
   * index for the perpetual, the expiry's forward for a dated future) and is varied at it; the
   * fill is at the data's price of the instrument when the step has one (venue quote: the chain's
   * perpetual, e.g. the stored perpetual price, or the chain's future of that expiry; its bid/ask
   * when quoted, else its price -/+ hedgeHalfSpreadBps), else at M -/+ hedgeHalfSpreadBps
   * (fills.ts). Cash: m (1/price - 1/M) - fee, so a round trip pays exactly the venue prices.
   */
  private tradeFuture(s: BacktestStep, ins: FutureContract, contracts: number, tag: string): void {
    if (contracts === 0) return;
    const M = ins.expiry === null ? s.indexPrice : futureMark(this.marketFor(s, [ins.expiry]).market, ins);
    const q =
      ins.expiry === null
        ? s.perpetual
        : (s.chain([]).futures?.find((x) => x.expiry === ins.expiry && x.name === ins.name) ?? null);
    const venue = q && q.mark > 0 ? q : null;
    const P = venue ? venue.mark : M;
    const fill = inverseHedgeFill({
      costs: this.ledger.costs,
      contracts,
      contractSize: ins.contractSize,
      mark: P,
      quote: venue,
    });
    const m = contracts * ins.contractSize;
    if (venue) {
      this.fills.venue++;
      this.fills.basisCoin += m * (1 / P - 1 / M);
      this.fills.basisUsd += m * (1 / P - 1 / M) * s.indexPrice;
    } else this.fills.mark++;
    this.ledger.bookFutureTrade(s, {
      instrument: ins.name,
      type: ins.expiry === null ? "perpetual" : "future",
      quantity: contracts,
      notionalUsd: Math.abs(contracts * ins.contractSize),
      price: fill.price,
      mark: M,
      cash: m * (1 / fill.price - 1 / M) - fill.fee,
      costs: fill,
      tag,
    });
    this.hold(ins, contracts, M);
  }

  /** Adds `contracts` of `ins` entered at M to the holding (flat below 1e-9 contracts). */
  private hold(ins: FutureContract, contracts: number, M: number): void {
    const h = this.holding;
    if (h && h.instrument.name === ins.name) {
      h.contracts += contracts;
      h.entry = M;
      if (Math.abs(h.contracts) < 1e-9) this.holding = null;
    } else this.holding = { instrument: ins, contracts, entry: M };
  }
}
