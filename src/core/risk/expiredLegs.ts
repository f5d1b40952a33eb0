/**
 * Legs that expired before the valuation time are settled once, never revalued (DESIGN.md: an
 * expired position is settled or excluded with a reason). splitExpired separates a book into the
 * live legs (for greeks, grids, stress, margin) and the settled ones with their settlement value.
 *
 * Settlement price: the venue's delivery price for (underlying, expiry) when the caller knows it
 * (`source: "delivery"`); otherwise intrinsic at the current index, stated as
 * `source: "index-intrinsic"` (the delivery price is unknown: that is an approximation, named).
 * With P the settlement price and m = quantity * contractSize:
 *   option payoff USD = m max(P - K, 0) (call) / m max(K - P, 0) (put); an inverse option pays it
 *   in coin: payoff / P (Deribit settles coin options at the delivery price); linear in USDC.
 *   dated inverse future: coin = m (1/entry - 1/P); linear future: USD = m (P - entry).
 * valueUsd = coin x the current index for coin-settled legs (the coins are held at today's price).
 * Vol instruments (USD-settled, volValuation.ts conventions): a variance swap pays
 * quantity N_var (RV_pts^2 - K_pts^2) on the realized variance of [start, expiry] given by
 * `prices.realizedVariance` (decimal^2/yr; settlementPrice reports it in vol points, 100 sqrt RV);
 * a vol-index future pays quantity contractSize (P - entry) on the index at expiry given by
 * `prices.volIndexSettlement` (index points; a future without entry is taken as entered at P).
 * Without those prices the leg is unsettled with the reason: an expired vol leg is never settled
 * on the coin's index.
 */
import type { Position, VarianceSwapContract, VolIndexFutureContract } from "../instruments/types.js";
import { varianceNotionalPerContract } from "../instruments/volInstruments.js";

/** A leg settled before the valuation time. */
export interface SettledLeg {
  readonly position: Position;
  /** Price it settled at, USD per coin. */
  readonly settlementPrice: number;
  readonly source: "delivery" | "index-intrinsic";
  /** Settlement currency: the coin (inverse) or "USDC" (linear). */
  readonly currency: string;
  /** Settlement amount in `currency`. */
  readonly value: number;
  readonly valueUsd: number;
  /** One line, e.g. "BTC-9JAN26-90000-P expired 2026-01-09T08:00:00Z, settled at index 90500 (delivery price unknown)". */
  readonly detail: string;
}

export interface ExpirySplit {
  readonly live: Position[];
  readonly settled: SettledLeg[];
}

/**
 * Splits `positions` at `valuationTime` (epoch ms UTC). `indexPrice(underlying)` gives the current
 * index (USD) or null; `deliveryPrice(underlying, expiry)` the venue's settlement price or null.
 * A leg with neither price is listed in `unsettled` with the reason (no value is invented).
 * live + settled + unsettled = positions, always.
 */
export function splitExpired(
  positions: readonly Position[],
  valuationTime: number,
  prices: {
    readonly indexPrice: (underlying: string) => number | null;
    readonly deliveryPrice?: (underlying: string, expiry: number) => number | null;
    /** Realized variance (decimal^2/yr) of the underlying's index over [start, expiry], or null. */
    readonly realizedVariance?: (underlying: string, start: number, expiry: number) => number | null;
    /** The vol index's settlement value (index points) at a vol-index future's expiry, or null. */
    readonly volIndexSettlement?: (underlying: string, expiry: number) => number | null;
  },
): ExpirySplit & { readonly unsettled: { readonly position: Position; readonly detail: string }[] } {
  const live: Position[] = [];
  const settled: SettledLeg[] = [];
  const unsettled: { position: Position; detail: string }[] = [];
  for (const p of positions) {
    const ins = p.instrument;
    if (ins.expiry === null || ins.expiry > valuationTime) {
      live.push(p);
      continue;
    }
    const when = new Date(ins.expiry).toISOString();
    if (ins.type === "varianceSwap" || ins.type === "volIndexFuture") {
      const r = settleVolLeg({ ...p, instrument: ins }, prices, when);
      if ("position" in r) settled.push(r);
      else unsettled.push({ position: p, detail: r.detail });
      continue;
    }
    const delivery = prices.deliveryPrice?.(ins.underlying, ins.expiry) ?? null;
    const index = prices.indexPrice(ins.underlying);
    const P = delivery ?? index;
    if (P === null || !(P > 0) || index === null) {
      unsettled.push({
        position: p,
        detail: `${ins.name} expired ${when}; no ${ins.underlying} delivery or index price to settle it at`,
      });
      continue;
    }
    const source = delivery !== null ? "delivery" : "index-intrinsic";
    const m = p.quantity * ins.contractSize;
    const currency = ins.settlement === "inverse" ? ins.underlying : "USDC";
    let usdAtP: number;
    let coin: number | null = null;
    if (ins.type === "option") {
      usdAtP = m * (ins.kind === "call" ? Math.max(P - ins.strike, 0) : Math.max(ins.strike - P, 0));
      if (ins.settlement === "inverse") coin = usdAtP / P;
    } else {
      const E = p.entryPrice ?? P;
      if (ins.settlement === "inverse") {
        coin = m * (1 / E - 1 / P);
        usdAtP = coin * P;
      } else usdAtP = m * (P - E);
    }
    const value = (coin ?? usdAtP) + 0; // + 0: a short leg expiring worthless settles at 0, not -0
    settled.push({
      position: p,
      settlementPrice: P,
      source,
      currency,
      value,
      valueUsd: coin !== null ? coin * index : usdAtP,
      detail: `${ins.name} expired ${when}, settled at ${source === "delivery" ? "delivery price" : "index"} ${P}${source === "delivery" ? "" : " (delivery price unknown: intrinsic at the current index)"}: ${value} ${currency}`,
    });
  }
  return { live, settled, unsettled };
}

/** An expired variance swap or vol-index future, settled in USDC (see the module comment). */
function settleVolLeg(
  p: Position & { readonly instrument: VarianceSwapContract | VolIndexFutureContract },
  prices: Parameters<typeof splitExpired>[2],
  when: string,
): SettledLeg | { readonly detail: string } {
  const ins = p.instrument;
  let price: number | null;
  let usd: number;
  if (ins.type === "varianceSwap") {
    const rv = prices.realizedVariance?.(ins.underlying, ins.start, ins.expiry) ?? null;
    if (rv === null || !(rv >= 0))
      return {
        detail: `${ins.name} expired ${when}; no realized variance of ${ins.underlying} to settle it on`,
      };
    price = 100 * Math.sqrt(rv);
    usd = p.quantity * varianceNotionalPerContract(ins) * (1e4 * rv - 1e4 * ins.strikeVol * ins.strikeVol);
  } else {
    price = prices.volIndexSettlement?.(ins.underlying, ins.expiry) ?? null;
    if (price === null || !(price > 0))
      return { detail: `${ins.name} expired ${when}; no ${ins.underlying} vol index value to settle it on` };
    usd = p.quantity * ins.contractSize * (price - (p.entryPrice ?? price));
  }
  const value = usd + 0;
  return {
    position: p,
    settlementPrice: price,
    source: "delivery",
    currency: "USDC",
    value,
    valueUsd: value,
    detail: `${ins.name} expired ${when}, settled at ${ins.type === "varianceSwap" ? "realized vol" : "index"} ${price} points: ${value} USDC`,
  };
}
