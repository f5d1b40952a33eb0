/**
 * Variance swaps and vol-index futures on a RiskMarket: the pieces valuePosition (valuation.ts)
 * uses for them, on the SAME surface and forwards the options are valued on.
 *
 * Variance swap (instruments/types.ts VarianceSwapContract; vol points "pts", N_var =
 * contractSize / (2 K_pts) USD per pt^2 per contract, r = 0 as for the options):
 *
 *   value USD = quantity N_var [ a RV_pts^2 + (1 - a) K_rem,pts^2 - K_pts^2 ]
 *
 *   RV   realized variance of the market's daily index fixings (UnderlyingMarket.indexFixings)
 *        from the swap's start to the last fixing at or before the valuation time (DDKZ eq. (1),
 *        volindex/varianceSwap.ts realizedVariance: 365/elapsed days x sum ln^2 returns);
 *   a    = (last fixing used - start) / (expiry - start): the accrued fraction; the gap from the
 *        last fixing to the valuation time (hours on a live market; the roll of a time-rolled
 *        scenario) is counted as still to realize at K_rem;
 *   K_rem the model-free fair variance of the rest, from the market's surface at the swap's expiry
 *        forward (volindex surfaceFairVariance: the log-contract integral of the surface's OTM
 *        prices, vol flat beyond the market's listed strikes, interpolated in T, when it has them); a forward-starting swap (start after the valuation time) has a = 0 and K_rem the
 *        forward variance (w(expiry) - w(start)) / (expiry - start), w = T K_var(T).
 *   A started swap needs fixings: without them (or with the first fixing more than a day after the
 *   start) the market is refused, naming `indexFixings` (no value is invented).
 *   At or after expiry (a scenario rolled past it) the leg is settled on RV of the fixings it has,
 *   taken as the whole period's (a live market's expired swap is settled once by expiredLegs.ts).
 *
 * Vol-index future (DVOL): fair = 100 sqrt(V_fwd) exp(-omega^2 tau / 8), V_fwd the forward
 * variance of the 30-day window after expiry from the surface's fair variances to expiry and to
 * expiry + 30 d (volindex/volIndexFuture.ts volIndexFutureFromVariances), omega the market's
 * volOfVariance (absent: 0, no convexity; the forward vol, an upper bound); value USD =
 * quantity contractSize (fair - entry), entry = fair when absent (as futures, resolveFutureEntries).
 * At or after expiry: the index itself, 100 sqrt(K_var(30 d)) from the surface at that time.
 *
 * Greeks (greeks.ts): both are functions of the surface only (a surface in log-moneyness, so
 * independent of spot: delta and gamma 0, exactly, in the engine's model; the replicating option
 * strip has delta, the swap has none). vega by a central parallel bump of the surface's vols
 * (+/- VOL_BUMP, the same shift a scenario's volShift applies), and the variance vega: USD per
 * vol-point^2 of the leg's own variance (swap: quantity N_var (1 - a); future: quantity
 * contractSize d fair / d V_fwd,pts^2 = fair / (2 V_fwd,pts^2) per contract).
 */
import { InvalidInputError } from "../errors.js";
import type { Position, VarianceSwapContract, VolIndexFutureContract } from "../instruments/types.js";
import { DVOL_FUTURE_SPEC, varianceNotionalPerContract } from "../instruments/volInstruments.js";
import { DAY_MS, timeToExpiry } from "../time.js";
import { type IndexFixing, realizedVariance, surfaceFairVariance } from "../volindex/varianceSwap.js";
import { volIndexFutureFromVariances } from "../volindex/volIndexFuture.js";
import { forwardAtExpiry, type RiskMarket, type UnderlyingMarket, underlyingMarket } from "./market.js";
import { applyScenario } from "./scenario.js";

/** Parallel vol bump of the vega finite difference (decimal: 1e-4 = 0.01 vol point). */
export const VOL_BUMP = 1e-4;

/** Fair variance (decimal^2/yr) from the valuation time to `expiry` on one underlying's market. */
function varianceTo(um: UnderlyingMarket, valuationTime: number, expiry: number): number {
  const T = timeToExpiry(expiry, valuationTime);
  const F = forwardAtExpiry(um, valuationTime, expiry);
  const range = listedRange(um, valuationTime, T);
  return range ? surfaceFairVariance(um.surface, F, T, range) : surfaceFairVariance(um.surface, F, T);
}

/**
 * Log-moneyness range of the listed strikes at T: each live listed expiry's ln(first/F), ln(last/F)
 * at its own forward, linear in T between the bracketing expiries, the nearest one's beyond them.
 */
function listedRange(
  um: UnderlyingMarket,
  valuationTime: number,
  T: number,
): { kLo: number; kHi: number } | null {
  const nodes = (um.listedStrikes ?? [])
    .filter((x) => x.expiry > valuationTime)
    .map((x) => {
      const F = forwardAtExpiry(um, valuationTime, x.expiry);
      return {
        T: timeToExpiry(x.expiry, valuationTime),
        kLo: Math.log(x.first / F),
        kHi: Math.log(x.last / F),
      };
    });
  const first = nodes[0];
  if (!first) return null;
  let prev = first;
  for (const n of nodes) {
    if (n.T >= T) {
      if (n === prev || n.T === prev.T) return { kLo: n.kLo, kHi: n.kHi };
      const w = (T - prev.T) / (n.T - prev.T);
      return { kLo: prev.kLo + w * (n.kLo - prev.kLo), kHi: prev.kHi + w * (n.kHi - prev.kHi) };
    }
    prev = n;
  }
  return { kLo: prev.kLo, kHi: prev.kHi };
}

/** The accrued part of a started swap: realized variance and the fraction of the tenor it covers. */
export interface AccruedVariance {
  /** Annualized realized variance, decimal^2/yr (0 before two fixings). */
  readonly variance: number;
  /** (last fixing used - start) / (expiry - start), in [0, 1]. */
  readonly fraction: number;
  readonly fixings: number;
}

/** Realized variance accrued by the swap up to `until` from the market's fixings (module comment). */
export function accruedVariance(
  c: VarianceSwapContract,
  um: UnderlyingMarket,
  until: number,
): AccruedVariance {
  if (until <= c.start) return { variance: 0, fraction: 0, fixings: 0 };
  const all = um.indexFixings;
  if (!all)
    throw new InvalidInputError(
      `market.underlyings.${c.underlying}.indexFixings`,
      undefined,
      `are required to value ${c.name}, started ${new Date(c.start).toISOString()}`,
    );
  const end = Math.min(until, c.expiry);
  const used: IndexFixing[] = all.filter((f) => f.time >= c.start && f.time <= end);
  const first = used[0];
  if (!first || first.time - c.start > DAY_MS)
    throw new InvalidInputError(
      `market.underlyings.${c.underlying}.indexFixings`,
      first ? new Date(first.time).toISOString() : "none in the swap's period",
      `must start within a day of ${c.name}'s start ${new Date(c.start).toISOString()}`,
    );
  const last = used[used.length - 1] as IndexFixing;
  const rv = realizedVariance(used);
  return {
    variance: rv.variance,
    fraction: (last.time - c.start) / (c.expiry - c.start),
    fixings: used.length,
  };
}

/** Everything valuePosition and the greeks need about one variance swap on a market. */
export interface VarianceSwapState {
  readonly accrued: AccruedVariance;
  /** Fair variance of the part still to realize, decimal^2/yr (0 once expired). */
  readonly remainingVariance: number;
  /** a RV + (1 - a) K_rem, decimal^2/yr. */
  readonly expectedVariance: number;
  /** USD per contract: N_var (1e4 expectedVariance - K_pts^2). */
  readonly valuePerContract: number;
  /** USD per pt^2 per contract of the remaining variance: N_var (1 - a). */
  readonly varianceVegaPerContract: number;
  readonly settled: boolean;
}

/**
 * The swap's expected variance and value per contract on `market` (module comment).
 * `remaining`: the remaining fair variance when the caller already has it for this surface (the
 * grid: sticky-moneyness scenarios that differ only in spot share one surface integral).
 */
export function varianceSwapState(
  c: VarianceSwapContract,
  market: RiskMarket,
  remaining?: number,
): VarianceSwapState {
  const um = underlyingMarket(market, c.underlying);
  const t = market.valuationTime;
  const nVar = varianceNotionalPerContract(c);
  const kPts2 = 1e4 * c.strikeVol * c.strikeVol;
  const settled = c.expiry <= t;
  const accrued = accruedVariance(c, um, t);
  const a = settled ? 1 : accrued.fraction;
  let remainingVariance = 0;
  if (!settled && remaining !== undefined) remainingVariance = remaining;
  else if (!settled) {
    if (t >= c.start) remainingVariance = varianceTo(um, t, c.expiry);
    else {
      const wEnd = timeToExpiry(c.expiry, t) * varianceTo(um, t, c.expiry);
      const wStart = timeToExpiry(c.start, t) * varianceTo(um, t, c.start);
      remainingVariance = (wEnd - wStart) / timeToExpiry(c.expiry, c.start);
      if (!(remainingVariance > 0))
        throw new InvalidInputError(
          `${c.name} forward variance`,
          remainingVariance,
          "must be > 0 (total variance decreases from start to expiry: calendar arbitrage)",
        );
    }
  }
  const expectedVariance = a * accrued.variance + (1 - a) * remainingVariance;
  return {
    accrued,
    remainingVariance,
    expectedVariance,
    valuePerContract: nVar * (1e4 * expectedVariance - kPts2),
    varianceVegaPerContract: nVar * (1 - a),
    settled,
  };
}

/** The vol-index future's fair value and its variance sensitivity on `market`. */
export interface VolIndexFutureState {
  /** Fair value in index points (at or after expiry: the index itself). */
  readonly fair: number;
  /** Forward variance of the index window, decimal^2/yr. */
  readonly forwardVariance: number;
  /** Index points subtracted for convexity (0 when the market has no volOfVariance). */
  readonly convexityAdjustment: number;
  /** d fair / d V_fwd in index points per pt^2. */
  readonly fairPerVariancePoint: number;
  readonly settled: boolean;
}

/** Fair value of a vol-index future from the market's surface (module comment). */
export function volIndexFutureState(c: VolIndexFutureContract, market: RiskMarket): VolIndexFutureState {
  const um = underlyingMarket(market, c.underlying);
  const t = market.valuationTime;
  const days = c.indexDays ?? DVOL_FUTURE_SPEC.indexDays;
  const windowEnd = (from: number) => from + days * DAY_MS;
  if (c.expiry <= t) {
    const v = varianceTo(um, t, windowEnd(t));
    const fair = 100 * Math.sqrt(v);
    return { fair, forwardVariance: v, convexityAdjustment: 0, fairPerVariancePoint: 0, settled: true };
  }
  const f = volIndexFutureFromVariances({
    timeToExpiry: timeToExpiry(c.expiry, t),
    varianceToExpiry: varianceTo(um, t, c.expiry),
    varianceToEnd: varianceTo(um, t, windowEnd(c.expiry)),
    indexDays: days,
    volOfVariance: um.volOfVariance ?? 0,
    ...(um.volMeanReversion !== undefined ? { meanReversion: um.volMeanReversion } : {}),
  });
  // fair = 100 sqrt(V) e^{-s}: d fair / d(1e4 V) = fair / (2 1e4 V).
  return {
    fair: f.fairValue,
    forwardVariance: f.forwardVariance,
    convexityAdjustment: f.convexityAdjustment,
    fairPerVariancePoint: f.fairValue / (2 * 1e4 * f.forwardVariance),
    settled: false,
  };
}

/** USD value of a vol-instrument position (valuation.ts calls this; USD-settled, coin = USD / S). */
export function volPositionValueUsd(
  position: Position & { readonly instrument: VarianceSwapContract | VolIndexFutureContract },
  market: RiskMarket,
): { valueUsd: number; settled: boolean } {
  const ins = position.instrument;
  if (ins.type === "varianceSwap") {
    const s = varianceSwapState(ins, market);
    return { valueUsd: position.quantity * s.valuePerContract, settled: s.settled };
  }
  const s = volIndexFutureState(ins, market);
  const entry = position.entryPrice ?? s.fair;
  if (!(entry > 0) || !Number.isFinite(entry))
    throw new InvalidInputError(`position[${ins.name}].entryPrice`, entry, "must be a finite number > 0");
  return { valueUsd: position.quantity * ins.contractSize * (s.fair - entry), settled: s.settled };
}

/** The market with every surface vol shifted by `dv` (decimal): the scenario engine's volShift. */
function bumpVols(market: RiskMarket, dv: number): RiskMarket {
  return applyScenario(market, { spotShift: 0, volShift: dv });
}

/** Vega (USD per 1.00 vol, parallel shift) and variance vega (USD per pt^2) of a vol position. */
export function volPositionGreeks(
  position: Position & { readonly instrument: VarianceSwapContract | VolIndexFutureContract },
  market: RiskMarket,
): { vegaUsd: number; varianceVegaUsd: number; volgaUsd: number } {
  const ins = position.instrument;
  let fixed = position;
  let base: number;
  let varianceVegaUsd: number;
  if (ins.type === "varianceSwap") {
    base = volPositionValueUsd(position, market).valueUsd;
    const um = underlyingMarket(market, ins.underlying);
    const a =
      ins.expiry <= market.valuationTime ? 1 : accruedVariance(ins, um, market.valuationTime).fraction;
    varianceVegaUsd = position.quantity * varianceNotionalPerContract(ins) * (1 - a);
  } else {
    const s = volIndexFutureState(ins, market);
    // The entry is fixed across the bump (else an entry-less future would be worth 0 on every market).
    const entry = position.entryPrice ?? s.fair;
    fixed = { ...position, entryPrice: entry };
    base = position.quantity * ins.contractSize * (s.fair - entry);
    varianceVegaUsd = position.quantity * ins.contractSize * s.fairPerVariancePoint;
  }
  const up = volPositionValueUsd(fixed, bumpVols(market, VOL_BUMP)).valueUsd;
  const down = volPositionValueUsd(fixed, bumpVols(market, -VOL_BUMP)).valueUsd;
  return {
    vegaUsd: (up - down) / (2 * VOL_BUMP),
    volgaUsd: (up - 2 * base + down) / (VOL_BUMP * VOL_BUMP),
    varianceVegaUsd,
  };
}
