/**
 * The agent's trading rules (pure): given the book, its risk and the market, which orders to
 * send now and why. Rules, in order:
 *  1. roll: options closer to expiry than `rollHours` are closed (they would otherwise settle
 *     inside the agent's blind spot); the vega rule re-opens exposure in the target expiry.
 *  2. vega off target: when |vega - target| > tolerance, trade the out-of-the-money option
 *     nearest the forward in the expiry closest to `vegaExpiryDays` (lots of `lotSize`, at most
 *     `maxOrderContracts` per order); an injected optimizer may replace this rule.
 *  3. delta outside band: hedge the whole delta (including the delta of the orders above) back
 *     to zero with the perpetual.
 * Quantities are rounded to the venue's lots; an order that rounds to zero is not sent.
 */
import type { OrderRequest } from "../adapters/broker/types.js";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot, OptionQuote } from "../core/market/types.js";
import type { AgentBook } from "./book.js";
import { type BookRisk, optionContractGreeks } from "./valuation.js";

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
  readonly rule: "roll" | "vega" | "delta";
  readonly why: string;
  /** Delta this order adds, coins (for the hedge). */
  readonly deltaChange: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const roundLots = (x: number, lot: number) => Math.round(x / lot) * lot;

function limitFor(side: "buy" | "sell", q: OptionQuote, slip: number): number | null {
  const touch = side === "buy" ? q.ask : q.bid;
  if (touch === null) return null;
  return side === "buy" ? touch * (1 + slip) : touch * (1 - slip);
}

export function decideOrders(input: {
  book: AgentBook;
  risk: BookRisk;
  snapshot: ChainSnapshot;
  quotes: Map<string, OptionQuote>;
  resolveInstrument: (name: string) => Instrument;
  config: PolicyConfig;
}): ProposedOrder[] {
  const { book, risk, snapshot, quotes, config } = input;
  const now = snapshot.valuationTime;
  const orders: ProposedOrder[] = [];
  let vega = risk.vega;

  // 1. Roll.
  for (const p of Object.values(book.positions)) {
    const inst = input.resolveInstrument(p.instrument);
    if (inst.type !== "option" || inst.expiry - now > config.rollHours * HOUR_MS) continue;
    const q = quotes.get(p.instrument);
    const side = p.quantity > 0 ? "sell" : "buy";
    const g = q ? optionContractGreeks(q, now, snapshot.indexPrice) : null;
    if (g) vega -= p.quantity * g.vega;
    orders.push({
      rule: "roll",
      instrument: p.instrument,
      side,
      quantity: Math.abs(p.quantity),
      limitPrice: q ? limitFor(side, q, config.limitSlippage) : null,
      why: `expires in ${((inst.expiry - now) / HOUR_MS).toFixed(1)} h < ${config.rollHours} h: close`,
      deltaChange: g ? -p.quantity * g.delta : 0,
    });
  }

  // 2. Vega toward target.
  const target = config.vegaTargetPerVolPoint * 100;
  const gap = target - vega;
  if (Math.abs(gap) > config.vegaTolerancePerVolPoint * 100) {
    const candidate = vegaInstrument(snapshot, quotes, config);
    if (candidate) {
      const side = gap > 0 ? "buy" : "sell";
      const contracts = Math.min(
        roundLots(Math.abs(gap) / candidate.vega, config.lotSize),
        config.maxOrderContracts,
      );
      const limitPrice = limitFor(side, candidate.quote, config.limitSlippage);
      if (contracts > 0 && limitPrice !== null) {
        const signed = side === "buy" ? contracts : -contracts;
        orders.push({
          rule: "vega",
          instrument: candidate.quote.instrument.name,
          side,
          quantity: contracts,
          limitPrice,
          why: `vega ${(vega / 100).toFixed(1)} vs target ${config.vegaTargetPerVolPoint} USD/vol pt: ${side} ${contracts} (vega ${(candidate.vega / 100).toFixed(2)} each)`,
          deltaChange: signed * candidate.delta,
        });
      }
    }
  }

  // 3. Delta hedge with the perpetual (inverse: contracts of contractSize USD).
  const delta = risk.delta + orders.reduce((s, o) => s + o.deltaChange, 0);
  if (Math.abs(delta) > config.deltaBand) {
    const perp = input.resolveInstrument(config.hedgeInstrument);
    const usd = delta * snapshot.indexPrice;
    const contracts =
      perp.settlement === "inverse"
        ? Math.round(Math.abs(usd) / perp.contractSize)
        : roundLots(Math.abs(delta) / perp.contractSize, 0.001);
    if (contracts > 0) {
      const side = delta > 0 ? "sell" : "buy";
      const change =
        (perp.settlement === "inverse"
          ? (contracts * perp.contractSize) / snapshot.indexPrice
          : contracts * perp.contractSize) * (side === "buy" ? 1 : -1);
      orders.push({
        rule: "delta",
        instrument: config.hedgeInstrument,
        side,
        quantity: contracts,
        limitPrice: null,
        why: `delta ${delta.toFixed(3)} outside band ±${config.deltaBand}: ${side} ${contracts} ${config.hedgeInstrument}`,
        deltaChange: change,
      });
    }
  }
  return orders;
}

function vegaInstrument(snapshot: ChainSnapshot, quotes: Map<string, OptionQuote>, config: PolicyConfig) {
  const now = snapshot.valuationTime;
  const minExpiry = now + config.rollHours * HOUR_MS + DAY_MS;
  const expiries = [...new Set(snapshot.quotes.map((q) => q.instrument.expiry))].filter((e) => e > minExpiry);
  if (expiries.length === 0) return null;
  const targetExpiry = expiries.reduce((best, e) =>
    Math.abs(e - now - config.vegaExpiryDays * DAY_MS) < Math.abs(best - now - config.vegaExpiryDays * DAY_MS)
      ? e
      : best,
  );
  let best: { quote: OptionQuote; vega: number; delta: number; distance: number } | null = null;
  for (const q of quotes.values()) {
    if (q.instrument.expiry !== targetExpiry || q.bid === null || q.ask === null) continue;
    const forward = q.underlyingPrice ?? snapshot.indexPrice;
    const otm = q.instrument.kind === "call" ? q.instrument.strike >= forward : q.instrument.strike < forward;
    if (!otm) continue;
    const g = optionContractGreeks(q, now, snapshot.indexPrice);
    if (!g || !(g.vega > 0)) continue;
    const distance = Math.abs(Math.log(q.instrument.strike / forward));
    if (!best || distance < best.distance) best = { quote: q, vega: g.vega, delta: g.delta, distance };
  }
  return best;
}
