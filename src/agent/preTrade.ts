/**
 * The pre-trade check of one proposed order on a tick's market, with everything checkOrder
 * (limits.ts) needs computed from the core valuation: the book's delta and vega now
 * (valueAgentBook), the contract's (contractGreeks), the margin before and after (the analytics'
 * model or the core standard margin), the held position and its coins per contract, the orders
 * sent in the order-rate window and the fall of equity since the start of the UTC day; reduce-only
 * while a position cannot be valued. An option order needs a quote in the tick's chain.
 *
 * The loop calls it before every order it sends (and recovery before every order it re-sends);
 * the fuzz test (test/agent/limitsBooks.test.ts) calls it on random books and judges the result by
 * its own Black-76 revaluation.
 */
import type { Instrument, Position } from "../core/instruments/types.js";
import type { ChainSnapshot, OptionQuote } from "../core/market/types.js";
import type { RiskMarket } from "../core/risk/market.js";
import { chainRiskMarket } from "../core/risk/chainMarket.js";
import { type AgentAnalytics, type AnalyzedTick, analyzeTick, bookMarginUsd } from "./analytics.js";
import type { AgentBook } from "./book.js";
import { checkOrder, DEFAULT_ORDER_WINDOW_MS, type LimitCheck, type PreTradeLimits } from "./limits.js";
import type { ProposedOrder } from "./policy.js";
import {
  type AgentValuation,
  type ContractGreeks,
  contractGreeks,
  type ResolveInstrument,
  valueAgentBook,
} from "./valuation.js";

/** One valued tick: its chain, market input, the book valued at the start of the tick. */
export interface TickContext extends AnalyzedTick {
  readonly step: number;
  readonly snapshot: ChainSnapshot;
  /** The book `valuation` values (the book at the start of the tick). */
  readonly book: AgentBook;
  /** The chain's quotes by name (touch prices) and the names of its clean quotes (valued). */
  readonly quotes: Map<string, OptionQuote>;
  readonly clean: ReadonlySet<string>;
  readonly contracts: Map<string, ContractGreeks | null>;
}

/** The tick's market and the book on it (analytics.ts analyzeTick), or why there is none. */
export function tickContext(
  analytics: AgentAnalytics | null,
  step: number,
  snapshot: ChainSnapshot,
  book: AgentBook,
  resolveInstrument: ResolveInstrument,
): TickContext | { reason: string } {
  const t = analyzeTick(analytics, step, snapshot, book, resolveInstrument);
  if ("reason" in t) return t;
  return {
    ...t,
    step,
    snapshot,
    book,
    quotes: new Map(snapshot.quotes.map((q) => [q.instrument.name, q])),
    clean: new Set(t.input.normalized.snapshot.quotes.map((q) => q.instrument.name)),
    contracts: new Map(),
  };
}

/**
 * Per-contract greeks on the tick's market of an instrument that market values (a clean quote
 * of the chain, an accepted book position, or another instrument chainRiskMarket accepts, such
 * as the hedge perpetual); null otherwise.
 */
export function contractOf(ctx: TickContext, instrument: Instrument): ContractGreeks | null {
  const name = instrument.name;
  const cached = ctx.contracts.get(name);
  if (cached !== undefined) return cached;
  const valued =
    ctx.clean.has(name) ||
    ctx.valuation.chain.accepted.some((p) => p.instrument.name === name) ||
    chainRiskMarket([ctx.input], [{ instrument, quantity: 1 }]).accepted.length === 1;
  const g = valued ? contractGreeks(instrument, ctx.valuation.market) : null;
  ctx.contracts.set(name, g);
  return g;
}

/** Coins of the underlying per contract: options and linear futures their size, inverse futures size USD / index. */
export function coinsPerContract(instrument: Instrument, indexPrice: number): number {
  return instrument.type !== "option" && instrument.settlement === "inverse"
    ? instrument.contractSize / indexPrice
    : instrument.contractSize;
}

/**
 * Book equity in USD on the tick's market (core bookEquity), NaN when any position or cash
 * balance cannot be valued (the daily-loss limit then cannot be evaluated and blocks).
 */
export function equityUsdOf(v: AgentValuation): number {
  if (v.report.unpriced.length > 0 || v.equity.unpriced.length > 0) return Number.NaN;
  return v.equity.equityUsd;
}

export interface PreTradeInputs {
  readonly book: AgentBook;
  readonly ctx: TickContext;
  readonly limits: PreTradeLimits;
  readonly resolveInstrument: ResolveInstrument;
  /** The margin model (analytics'), else the core standard margin when a margin limit is configured. */
  readonly analytics?: AgentAnalytics | null;
  /** Orders already sent in the order-rate window. */
  readonly ordersInWindow?: number;
  /** Equity at the start of the UTC day, USD (null/NaN: not known, the daily-loss limit blocks). */
  readonly startOfDayEquityUsd?: number | null;
}

/** The pre-trade limits for `order` on the tick's market (module comment). */
export function preTradeCheck(
  order: Pick<ProposedOrder, "instrument" | "side" | "quantity" | "limitPrice">,
  o: PreTradeInputs,
): LimitCheck {
  const { ctx, book, limits } = o;
  const instrument = o.resolveInstrument(order.instrument);
  if (instrument.type === "option" && !ctx.quotes.has(order.instrument))
    return { ok: false, limit: "quote", reason: `no quote for ${order.instrument} in this tick's chain` };
  const now = book === ctx.book ? ctx.valuation : valueAgentBook(ctx.input, book, o.resolveInstrument);
  const unpriced = now.report.unpriced;
  const held = book.positions[order.instrument]?.quantity ?? 0;
  const reduceOnly =
    unpriced.length > 0
      ? {
          positionBefore: held,
          reason: `unpriced ${unpriced.map((u) => `${u.instrument} (${u.reason})`).join(", ")}`,
        }
      : undefined;
  const g = contractOf(ctx, instrument);
  if (!g && !reduceOnly)
    return { ok: false, limit: "quote", reason: `cannot value ${order.instrument} on the tick's market` };
  let margin: { marginBefore: number; marginAfter: number } | Record<string, never> = {};
  // The margin before and after: the analytics' model, else the core standard margin on the
  // tick's market whenever a margin limit is configured. A failure is NaN: the check blocks.
  if (g && (o.analytics || limits.maxMarginUsd !== undefined)) {
    const before = now.chain.accepted;
    const signed = order.side === "buy" ? order.quantity : -order.quantity;
    const after: Position[] = before.filter((p) => p.instrument.name !== order.instrument);
    const prev = before.find((p) => p.instrument.name === order.instrument);
    const q = (prev?.quantity ?? 0) + signed;
    if (Math.abs(q) > 1e-9) after.push({ ...(prev ?? {}), instrument, quantity: q });
    const marginOf = (ps: readonly Position[], market: RiskMarket) => {
      try {
        return o.analytics ? o.analytics.marginOf(ps, market) : bookMarginUsd(ps, market);
      } catch {
        return Number.NaN;
      }
    };
    margin = { marginBefore: marginOf(before, now.market), marginAfter: marginOf(after, now.market) };
  }
  const start = o.startOfDayEquityUsd;
  const dailyLossUsd = start === undefined || start === null ? Number.NaN : start - equityUsdOf(now);
  return checkOrder(
    {
      clientOrderId: "",
      instrument: order.instrument,
      side: order.side,
      quantity: order.quantity,
      limitPrice: order.limitPrice,
    },
    {
      instrument,
      indexPrice: ctx.snapshot.indexPrice,
      deltaBefore: now.report.greeks.deltaUnderlyingCoin,
      vegaBefore: now.report.greeks.vegaUsdPerVol,
      deltaPerContract: g?.deltaUnderlyingCoin ?? 0,
      vegaPerContract: g?.vegaUsdPerVol ?? 0,
      ...(reduceOnly ? { reduceOnly } : {}),
      ...margin,
      positionBefore: held,
      coinsPerContract: coinsPerContract(instrument, ctx.snapshot.indexPrice),
      ...(o.ordersInWindow !== undefined ? { ordersInWindow: o.ordersInWindow } : {}),
      dailyLossUsd,
    },
    limits,
  );
}

/**
 * The order-rate window and the start-of-day equity, rebuilt from the journal on restart (the
 * `order` records carry their decision-clock time `at`, `day-start` records the equity).
 */
export class TradingCounters {
  private sent: number[] = [];
  /** The UTC day (YYYY-MM-DD) and the book's equity at its first valued tick, USD. */
  dayStart: { readonly day: string; readonly equityUsd: number } | null = null;

  constructor(private readonly windowMs: number = DEFAULT_ORDER_WINDOW_MS) {}

  /** An order sent to the broker at decision-clock time `at`. */
  recordSent(at: number): void {
    this.sent.push(at);
  }

  /** Orders sent in (now - window, now]. */
  inWindow(now: number): number {
    this.sent = this.sent.filter((t) => t > now - this.windowMs);
    return this.sent.filter((t) => t <= now).length;
  }

  /**
   * The start-of-day equity for the day of `now`: kept if already set for that day and finite,
   * else `equityUsd` (the first tick of the day whose equity can be valued sets it). Returns the
   * new record to journal, or null when unchanged.
   */
  observeDay(now: number, equityUsd: number): { day: string; equityUsd: number } | null {
    const day = new Date(now).toISOString().slice(0, 10);
    if (this.dayStart && this.dayStart.day === day && Number.isFinite(this.dayStart.equityUsd)) return null;
    if (!Number.isFinite(equityUsd)) {
      this.dayStart = { day, equityUsd: Number.NaN };
      return null;
    }
    this.dayStart = { day, equityUsd };
    return this.dayStart;
  }

  /** The start-of-day equity for the day of `now`, or null. */
  startOfDay(now: number): number | null {
    const day = new Date(now).toISOString().slice(0, 10);
    return this.dayStart && this.dayStart.day === day && Number.isFinite(this.dayStart.equityUsd)
      ? this.dayStart.equityUsd
      : null;
  }
}
