/**
 * The agent's trading rules (pure): given the book, its greeks and the market, which orders to
 * send now and why. Rules, in order:
 *  1. roll: options closer to expiry than `rollHours` are closed (they would otherwise settle
 *     inside the agent's blind spot); the vega rule re-opens exposure in the target expiry. A leg
 *     with no quote in the tick's chain cannot be closed: it is left to settle at expiry.
 *  2. vega off target: when |vega - target| > tolerance, trade the out-of-the-money option
 *     nearest the forward in the expiry closest to `vegaExpiryDays` (lots of `lotSize`, at most
 *     `maxOrderContracts` per order); an injected optimizer may replace this rule.
 *  3. delta outside band: hedge the whole delta (including the delta of the orders above) back
 *     to zero with the perpetual.
 * Quantities are rounded to the venue's lots; an order that rounds to zero is not sent.
 *
 * Greeks: the book's and each contract's come from the core valuation on the tick's market
 * (valuation.ts: portfolioGreeks / positionGreeks; delta = deltaUnderlyingCoin, Black-76 forward
 * delta in coins; vega USD per 1.00 vol); moneyness uses the market's forward of the expiry.
 *
 * The caller may pass a risk breach (`riskReduction`: CVaR or margin over its limit; rule "risk"
 * closes a fraction of every option position instead of the vega rule) or the optimizer's orders
 * (`optimizerOrders`, rule "optimizer", replacing rules "risk" and "vega"); the delta hedge always
 * comes last. `reduceOnly` (a position the market cannot value is held): only orders that close
 * (part of) a held option position: the roll and the risk rule; no vega rule, no optimizer
 * orders and no delta hedge (the book's delta is not known while a leg is unpriced).
 */
import type { OrderRequest } from "../adapters/broker/types.js";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot, OptionQuote } from "../core/market/types.js";
import { DAY_MS, HOUR_MS } from "../core/time.js";
import type { AgentBook } from "./book.js";
import type { ContractGreeks } from "./valuation.js";

export interface PolicyConfig {
  /** Hedge when |delta| exceeds this many coins. */
  readonly deltaBand: number;
  /** Perpetual used for delta hedges, e.g. "BTC-PERPETUAL" (inverse, 10 USD per contract). */
  readonly hedgeInstrument: string;
  /** Target vega, USD per vol point (x100 = per 1.00 vol). Negative = short vol. */
  readonly vegaTargetPerVolPoint: number;
  /** Act when |vega - target| exceeds this, USD per vol point. */
  readonly vegaTolerancePerVolPoint: number;
  /** Preferred expiry for vega trades, days. */
  readonly vegaExpiryDays: number;
  /** Close options with less than this many hours to expiry. */
  readonly rollHours: number;
  /** Option lot, contracts (Deribit: 0.1). */
  readonly lotSize: number;
  /** Largest option order, contracts. */
  readonly maxOrderContracts: number;
  /** Limit price tolerance through the touch, fraction (0.02 = 2%). */
  readonly limitSlippage: number;
}

export interface ProposedOrder extends Omit<OrderRequest, "clientOrderId"> {
  readonly rule: "roll" | "vega" | "delta" | "risk" | "optimizer";
  readonly why: string;
  /** Delta this order adds, coins (for the hedge). */
  readonly deltaChange: number;
}

const roundLots = (x: number, lot: number) => Math.round(x / lot) * lot;

export function limitFor(side: "buy" | "sell", q: OptionQuote, slip: number): number | null {
  const touch = side === "buy" ? q.ask : q.bid;
  if (touch === null) return null;
  return side === "buy" ? touch * (1 + slip) : touch * (1 - slip);
}

/** What decideOrders reads. */
export interface DecideInput {
  book: AgentBook;
  /** The book's delta (coins) and vega (USD per 1.00 vol) on the tick's market (valuation.ts). */
  greeks: { readonly deltaUnderlyingCoin: number; readonly vegaUsdPerVol: number };
  snapshot: ChainSnapshot;
  /** The tick's quotes by instrument name (touch prices). */
  quotes: Map<string, OptionQuote>;
  resolveInstrument: (name: string) => Instrument;
  config: PolicyConfig;
  /** Per-contract greeks on the tick's market, null for an instrument it cannot value. */
  contractGreeks: (instrument: Instrument) => ContractGreeks | null;
  /** A CVaR/margin breach: close `fraction` of every option position (rule "risk"). */
  riskReduction?: { reason: string; fraction: number } | null;
  /** Orders proposed by the optimizer (rule "optimizer"): replace rules "risk" and "vega". */
  optimizerOrders?: readonly ProposedOrder[] | null;
  /** Why the book is reduce-only (a position the market cannot value), or null. */
  reduceOnly?: string | null;
  /**
   * false: no delta hedge here; the loop sizes it with hedgeOrder after the option orders went
   * through the pre-trade check and the broker, on the book as it then is (default true).
   */
  hedge?: boolean;
}

export function decideOrders(input: DecideInput): ProposedOrder[] {
  const { greeks, config } = input;
  const reduceOnly = input.reduceOnly ?? null;
  const roll = rollOrders(input);
  const orders: ProposedOrder[] = [...roll.orders];
  const rolled = new Set(orders.map((o) => o.instrument));
  if (input.optimizerOrders && !reduceOnly) orders.push(...input.optimizerOrders);
  else if (input.riskReduction) orders.push(...riskOrders(input, input.riskReduction, rolled));
  if (!reduceOnly && !input.optimizerOrders && !input.riskReduction) {
    const v = vegaOrder(input, roll.vega);
    if (v) orders.push(v);
  }
  // 3. Delta hedge (hedgeOrder), unless the caller sizes it later on the book as it will be.
  if (input.hedge !== false) {
    const delta = greeks.deltaUnderlyingCoin + orders.reduce((s, o) => s + o.deltaChange, 0);
    const h = hedgeOrder({
      delta,
      config,
      resolveInstrument: input.resolveInstrument,
      contractGreeks: input.contractGreeks,
      reduceOnly,
    });
    if (h) orders.push(h);
  }
  return orders;
}

/** Rule 1: close options within rollHours of expiry; the book's vega after those closes. */
function rollOrders(input: DecideInput): { orders: ProposedOrder[]; vega: number } {
  const { book, quotes, config } = input;
  const now = input.snapshot.valuationTime;
  const orders: ProposedOrder[] = [];
  let vega = input.greeks.vegaUsdPerVol;
  for (const p of Object.values(book.positions)) {
    const inst = input.resolveInstrument(p.instrument);
    if (inst.type !== "option" || inst.expiry - now > config.rollHours * HOUR_MS) continue;
    const q = quotes.get(p.instrument);
    if (!q) continue;
    const side = p.quantity > 0 ? "sell" : "buy";
    const g = input.contractGreeks(inst);
    if (g) vega -= p.quantity * g.vegaUsdPerVol;
    orders.push({
      rule: "roll",
      instrument: p.instrument,
      side,
      quantity: Math.abs(p.quantity),
      limitPrice: limitFor(side, q, config.limitSlippage),
      why: `expires in ${((inst.expiry - now) / HOUR_MS).toFixed(1)} h < ${config.rollHours} h: close`,
      deltaChange: g ? -p.quantity * g.deltaUnderlyingCoin : 0,
    });
  }
  return { orders, vega };
}

/** Rule 2': close `fraction` of every option position not rolled. */
function riskOrders(
  input: DecideInput,
  risk: { reason: string; fraction: number },
  rolled: ReadonlySet<string>,
): ProposedOrder[] {
  const { config } = input;
  const orders: ProposedOrder[] = [];
  for (const p of Object.values(input.book.positions)) {
    const inst = input.resolveInstrument(p.instrument);
    if (inst.type !== "option" || rolled.has(p.instrument)) continue;
    const contracts = Math.min(
      roundLots(Math.abs(p.quantity) * risk.fraction, config.lotSize) || Math.abs(p.quantity),
      config.maxOrderContracts,
    );
    const q = input.quotes.get(p.instrument);
    const side = p.quantity > 0 ? "sell" : "buy";
    const g = input.contractGreeks(inst);
    if (!q || !g || contracts <= 0) continue;
    const signed = side === "buy" ? contracts : -contracts;
    orders.push({
      rule: "risk",
      instrument: p.instrument,
      side,
      quantity: contracts,
      limitPrice: limitFor(side, q, config.limitSlippage),
      why: `${risk.reason}: ${side} ${contracts} of ${Math.abs(p.quantity)} (reduce ${Math.round(risk.fraction * 100)}%)`,
      deltaChange: signed * g.deltaUnderlyingCoin,
    });
  }
  return orders;
}

/** Rule 2: trade toward the vega target when off by more than the tolerance (`vega` after rolls). */
function vegaOrder(input: DecideInput, vega: number): ProposedOrder | null {
  const { config } = input;
  const gap = config.vegaTargetPerVolPoint * 100 - vega;
  if (!(Math.abs(gap) > config.vegaTolerancePerVolPoint * 100)) return null;
  const candidate = vegaInstrument(input.snapshot, input.quotes, config, input.contractGreeks);
  if (!candidate) return null;
  const side = gap > 0 ? "buy" : "sell";
  const contracts = Math.min(
    roundLots(Math.abs(gap) / candidate.vega, config.lotSize),
    config.maxOrderContracts,
  );
  const limitPrice = limitFor(side, candidate.quote, config.limitSlippage);
  if (!(contracts > 0) || limitPrice === null) return null;
  const signed = side === "buy" ? contracts : -contracts;
  return {
    rule: "vega",
    instrument: candidate.quote.instrument.name,
    side,
    quantity: contracts,
    limitPrice,
    why: `vega ${(vega / 100).toFixed(1)} vs target ${config.vegaTargetPerVolPoint} USD/vol pt: ${side} ${contracts} (vega ${(candidate.vega / 100).toFixed(2)} each)`,
    deltaChange: signed * candidate.delta,
  };
}

/**
 * Rule 3, the delta hedge with the perpetual, sized by its per-contract delta on the tick's market
 * (inverse: contractSize USD / index coins per contract, whole contracts), for a book delta of
 * `delta` coins; null inside the band. Not in reduce-only: the book's delta leaves out the
 * positions the market cannot value, so a hedge computed from it (even one that shrinks the
 * perpetual) may add risk.
 */
export function hedgeOrder(input: {
  delta: number;
  config: PolicyConfig;
  resolveInstrument: (name: string) => Instrument;
  contractGreeks: (instrument: Instrument) => ContractGreeks | null;
  reduceOnly?: string | null;
}): ProposedOrder | null {
  const { delta, config } = input;
  const perp = input.resolveInstrument(config.hedgeInstrument);
  const perContract = input.contractGreeks(perp)?.deltaUnderlyingCoin ?? 0;
  if (input.reduceOnly || !(Math.abs(delta) > config.deltaBand) || !(perContract > 0)) return null;
  const contracts =
    perp.settlement === "inverse"
      ? Math.round(Math.abs(delta) / perContract)
      : roundLots(Math.abs(delta) / perContract, 0.001);
  const side = delta > 0 ? "sell" : "buy";
  if (!(contracts > 0)) return null;
  return {
    rule: "delta",
    instrument: config.hedgeInstrument,
    side,
    quantity: contracts,
    limitPrice: null,
    why: `delta ${delta.toFixed(3)} outside band ±${config.deltaBand}: ${side} ${contracts} ${config.hedgeInstrument}`,
    deltaChange: contracts * perContract * (side === "buy" ? 1 : -1),
  };
}

/** The expiry closest to `vegaExpiryDays` among those more than rollHours + 1 day away (epoch ms), or null. */
export function vegaTargetExpiry(snapshot: ChainSnapshot, config: PolicyConfig): number | null {
  const now = snapshot.valuationTime;
  const minExpiry = now + config.rollHours * HOUR_MS + DAY_MS;
  const expiries = [...new Set(snapshot.quotes.map((q) => q.instrument.expiry))].filter((e) => e > minExpiry);
  if (expiries.length === 0) return null;
  return expiries.reduce((best, e) =>
    Math.abs(e - now - config.vegaExpiryDays * DAY_MS) < Math.abs(best - now - config.vegaExpiryDays * DAY_MS)
      ? e
      : best,
  );
}

/** Names of the option positions the roll rule closes now. */
export function rollingPositions(
  book: AgentBook,
  now: number,
  config: PolicyConfig,
  resolveInstrument: (name: string) => Instrument,
): Set<string> {
  const out = new Set<string>();
  for (const p of Object.values(book.positions)) {
    const inst = resolveInstrument(p.instrument);
    if (inst.type === "option" && inst.expiry - now <= config.rollHours * HOUR_MS) out.add(p.instrument);
  }
  return out;
}

function vegaInstrument(
  snapshot: ChainSnapshot,
  quotes: Map<string, OptionQuote>,
  config: PolicyConfig,
  greeksOf: (instrument: Instrument) => ContractGreeks | null,
) {
  const targetExpiry = vegaTargetExpiry(snapshot, config);
  if (targetExpiry === null) return null;
  let best: { quote: OptionQuote; vega: number; delta: number; distance: number } | null = null;
  for (const q of quotes.values()) {
    if (q.instrument.expiry !== targetExpiry || q.bid === null || q.ask === null) continue;
    const g = greeksOf(q.instrument);
    if (!g || !(g.vegaUsdPerVol > 0)) continue;
    const forward = g.forwardUsd;
    const otm = q.instrument.kind === "call" ? q.instrument.strike >= forward : q.instrument.strike < forward;
    if (!otm) continue;
    const distance = Math.abs(Math.log(q.instrument.strike / forward));
    if (!best || distance < best.distance)
      best = { quote: q, vega: g.vegaUsdPerVol, delta: g.deltaUnderlyingCoin, distance };
  }
  return best;
}
