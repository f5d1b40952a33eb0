/**
 * A variance swap as an optimizer candidate: a FIXED basket of the chain's replicating strip
 * (Demeterfi, Derman, Kamal & Zou 1999): one unit is 1 USD per variance point (vol points
 * squared) of variance notional, i.e. 1e4 x 2 dK / (T K^2) contracts of each out-of-the-money
 * option of the DVOL-method strip of the listed expiry closest to the tenor (core/volindex
 * dvolExpiryVariance: its strikes, filters and Cboe midpoint widths dK; puts below K0, calls above,
 * half of each at K0). Everything the LP sees is the sum of its legs' candidate data
 * (candidates.ts, the same engine valuation as every single option): bid = sum of leg bids x
 * weight, ask likewise (a unit is bought leg by leg at the asks), fair value, greeks, scenario and
 * stress PnL. Its margin short is the engine's standard margin of one short unit (legs netted);
 * standard margin is linear in the contracts of each option, so this is exact for the basket
 * alone and an upper bound when a leg is also traded singly (margin of a sum <= sum of margins);
 * the result's engine margin (marginOfBook) expands the basket into its legs. The spec's per-contract
 * fee (costs.feePerContractUsd) is charged by the LP once per traded unit: the rest of the legs'
 * fees (sum |w| - 1 contracts) is added to the basket's ask and taken off its bid.
 *
 * The strip's vega is ~ 2 K_pts USD per vol point per unit (DDKZ: N_vega = 2 K N_var); its
 * `varianceUsdPerPt` = 1 is the exposure only such baskets carry (the optimizer's `variance` band).
 * Units: USD per contract (per basket unit), contracts of the venue (inverse: 1 coin).
 */
import type { Position } from "../instruments/types.js";
import { nearestExpiry } from "../market/byExpiry.js";
import type { CleanQuote, MarketSnapshot } from "../market/types.js";
import { expiryBucket } from "../risk/greeks.js";
import type { RiskMarket } from "../risk/market.js";
import type { Scenario } from "../risk/scenario.js";
import { DAY_MS } from "../time.js";
import { dvolExpiryVariance } from "../volindex/dvol.js";
import { stripQuantities } from "../volindex/modelFreeVariance.js";
import { buildOptimizeCandidates, standardMarginUsd } from "./candidates.js";
import type { OptimizeCandidate, OptimizeGreeks } from "./spec.js";

/** A variance-swap basket: the candidate, the legs of one unit and the strip it came from. */
export interface VarianceSwapBasket {
  readonly candidate: OptimizeCandidate;
  /** One unit's legs (contracts per unit). */
  readonly legs: readonly Position[];
  readonly tenorDays: number;
  readonly expiry: number;
  /** The DVOL-method strip variance of the expiry (decimal^2/yr) and its strike in vol points. */
  readonly stripVariance: number;
  readonly strikeVolPoints: number;
}

/** The listed expiry of `quotes` closest to `tenorDays` among those at least a day away, or null. */
function basketExpiry(quotes: readonly CleanQuote[], now: number, tenorDays: number): number | null {
  return nearestExpiry(
    quotes.map((q) => q.instrument.expiry),
    now,
    now + tenorDays * DAY_MS,
    DAY_MS,
  );
}

/** The strip's legs for one unit (1 USD per variance point), or why there is none. */
function stripLegs(
  snapshot: MarketSnapshot,
  tenorDays: number,
): { legs: Position[]; quotes: CleanQuote[]; expiry: number; variance: number } | { issue: string } {
  const own = snapshot.quotes.filter((q) => q.instrument.underlying === snapshot.underlying);
  const inverse = own.filter((q) => q.instrument.settlement === "inverse");
  const pool = inverse.length > 0 ? inverse : own;
  const expiry = basketExpiry(pool, snapshot.valuationTime, tenorDays);
  if (expiry === null) return { issue: "no expiry at least a day away" };
  const quotes = pool.filter((q) => q.instrument.expiry === expiry);
  const v = dvolExpiryVariance(quotes);
  if (!v.ok) return { issue: `no strip at the expiry: ${v.message}` };
  const T = v.value.timeToExpiry;
  const byKey = new Map(quotes.map((q) => [`${q.instrument.strike}|${q.instrument.kind}`, q]));
  const legs: Position[] = [];
  const legQuotes: CleanQuote[] = [];
  // 1 unit = 1 USD per variance point = 1e4 USD per unit of decimal variance.
  for (const leg of stripQuantities(v.value.contributions, T, 1e4)) {
    const q = byKey.get(`${leg.strike}|${leg.kind}`);
    if (!q) return { issue: `strip option ${leg.strike} ${leg.kind} not quoted` };
    legs.push({ instrument: q.instrument, quantity: leg.quantity / q.instrument.contractSize });
    legQuotes.push(q);
  }
  return { legs, quotes: legQuotes, expiry, variance: v.value.variance };
}

const sumGreeks = (a: OptimizeGreeks, b: OptimizeGreeks, w: number): OptimizeGreeks => ({
  deltaCoin: a.deltaCoin + w * b.deltaCoin,
  cashGammaUsd: a.cashGammaUsd + w * b.cashGammaUsd,
  vegaUsdPerVolPt: a.vegaUsdPerVolPt + w * b.vegaUsdPerVolPt,
  thetaUsdPerDay: a.thetaUsdPerDay + w * b.thetaUsdPerDay,
});

/** sum_i w_i x rows_i (null when a leg has no such vector). */
function weightedRows(
  rows: readonly (Float64Array | undefined)[],
  w: readonly number[],
): Float64Array | null {
  const first = rows[0];
  if (!first) return null;
  const out = new Float64Array(first.length);
  for (const [i, r] of rows.entries()) {
    if (!r) return null;
    for (let s = 0; s < out.length; s++) out[s] = (out[s] as number) + (w[i] as number) * (r[s] as number);
  }
  return out;
}

/** The basket candidate from its legs' candidates (each one contract) and weights. */
function basketOf(
  name: string,
  bucket: string,
  legs: readonly OptimizeCandidate[],
  w: readonly number[],
  marginShortUsd: number,
  feePerContractUsd: number,
): OptimizeCandidate {
  let bid: number | null = 0;
  let ask: number | null = 0;
  let fair = 0;
  let greeks: OptimizeGreeks = { deltaCoin: 0, cashGammaUsd: 0, vegaUsdPerVolPt: 0, thetaUsdPerDay: 0 };
  let maxBuy = Number.POSITIVE_INFINITY;
  let maxSell = Number.POSITIVE_INFINITY;
  for (const [i, c] of legs.entries()) {
    const wi = w[i] as number;
    bid = bid === null || c.bidUsd === null ? null : bid + wi * c.bidUsd;
    ask = ask === null || c.askUsd === null ? null : ask + wi * c.askUsd;
    fair += wi * c.fairUsd;
    greeks = sumGreeks(greeks, c.greeks, wi);
    maxBuy = Math.min(maxBuy, c.maxBuy / wi);
    maxSell = Math.min(maxSell, c.maxSell / wi);
  }
  const extraFee = feePerContractUsd * (w.reduce((a, x) => a + Math.abs(x), 0) - 1);
  if (bid !== null) bid -= extraFee;
  if (ask !== null) ask += extraFee;
  const stress = weightedRows(
    legs.map((c) => c.stressPnlUsd),
    w,
  );
  return {
    name,
    bucket,
    bidUsd: bid,
    askUsd: ask,
    fairUsd: fair,
    greeks,
    maxBuy,
    maxSell,
    marginShortUsd,
    scenarioPnlUsd:
      weightedRows(
        legs.map((c) => c.scenarioPnlUsd),
        w,
      ) ?? new Float64Array(0),
    ...(stress ? { stressPnlUsd: stress } : {}),
    varianceUsdPerPt: 1,
  };
}

/**
 * The variance swap of `tenorDays` as a basket candidate named "VS-<tenor>d" (see the module
 * comment), or the reason it cannot be built on this chain.
 */
export function varianceSwapBasket(o: {
  readonly snapshot: MarketSnapshot;
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
  readonly stressScenarios?: readonly Scenario[];
  readonly tenorDays: number;
  /** The spec's per-contract fee, USD (see the module comment; default 0). */
  readonly feePerContractUsd?: number;
}): VarianceSwapBasket | { readonly issue: string } {
  const strip = stripLegs(o.snapshot, o.tenorDays);
  if ("issue" in strip) return strip;
  const set = buildOptimizeCandidates({
    snapshot: { ...o.snapshot, quotes: strip.quotes },
    market: o.market,
    scenarios: o.scenarios,
    ...(o.stressScenarios ? { stressScenarios: o.stressScenarios } : {}),
  });
  const byName = new Map(set.candidates.map((c) => [c.name, c]));
  const legCands: OptimizeCandidate[] = [];
  for (const l of strip.legs) {
    const c = byName.get(l.instrument.name);
    if (!c) return { issue: `strip option ${l.instrument.name} is not a valid candidate` };
    legCands.push(c);
  }
  const w = strip.legs.map((l) => l.quantity);
  const short = strip.legs.map((l) => ({ ...l, quantity: -l.quantity }));
  const candidate = basketOf(
    `VS-${o.tenorDays}d`,
    expiryBucket(strip.expiry, o.market.valuationTime),
    legCands,
    w,
    standardMarginUsd(short, o.market),
    o.feePerContractUsd ?? 0,
  );
  return {
    candidate,
    legs: strip.legs,
    tenorDays: o.tenorDays,
    expiry: strip.expiry,
    stripVariance: strip.variance,
    strikeVolPoints: 100 * Math.sqrt(Math.max(strip.variance, 0)),
  };
}

/** The positions of `units` of a basket (legs scaled). */
export function basketPositions(b: Pick<VarianceSwapBasket, "legs">, units: number): Position[] {
  return units === 0 ? [] : b.legs.map((l) => ({ instrument: l.instrument, quantity: l.quantity * units }));
}
