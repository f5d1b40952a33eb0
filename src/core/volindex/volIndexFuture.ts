/**
 * Fair value of a vol-index future (Deribit's DVOL futures) from the forward variance term
 * structure, with a stated convexity adjustment.
 *
 * The contract [Deribit, "Demystifying DVOL Futures", insights.deribit.com/industry/
 * demystifying-dvol-futures, launched 27 Mar 2023]: a cash-settled future on the BTC DVOL index
 * (Deribit index `btcdvol_usdc`, Deribit API public/get_index_price), settling on DVOL at expiry; the
 * price is quoted in DVOL points. Contract size and tick are inputs here (`contractSizeUsdPerPoint`,
 * `tickSize`): the stored Deribit pages do not carry the DVOL futures specification table, so the
 * defaults (1 USD per index point, 0.1 point) are to be checked against Deribit's instrument API
 * (public/get_instruments, `contract_size`, `tick_size`) before trading.
 *
 * Fair value. At expiry T_e the index is 100 sqrt(V), V = the 30-day model-free variance from
 * T_e to T_e + 30d. Under the pricing measure E[V] = the forward variance, read from the variance
 * swap strikes of the chain (varianceSwap.ts) in total variance w(t) = t K_var(t):
 *
 *   V_fwd = (w(T_e + 30d) - w(T_e)) / (30/365).
 *
 * A future on sqrt(V) is worth E[sqrt V] <= sqrt(E V) (Jensen). Convexity adjustment used: V
 * lognormal with annualized vol of log-variance omega over the time to expiry tau,
 *
 *   E[sqrt V] = sqrt(E V) exp(-omega^2 tau / 8)              (exact for lognormal V)
 *
 * whose second-order expansion is the textbook term sqrt(E V) - Var(V) / (8 E[V]^{3/2}) with
 * Var(V) = E[V]^2 (exp(omega^2 tau) - 1) (reported too, `secondOrderAdjustment`). The lognormal
 * form stays positive for any omega (the expansion does not) and is the one subtracted. omega is an
 * input or estimated from the DVOL history (`volOfVarianceFromIndex`: 2 x the annualized std of daily
 * log changes of DVOL, since ln V = 2 ln DVOL); taking today's vol-of-vol for the whole horizon
 * ignores DVOL's mean reversion, so for long expiries that adjustment is an upper estimate; with a
 * mean-reversion speed kappa (per year; ln V an Ornstein-Uhlenbeck process, `meanReversionFromIndex`
 * fits it by AR(1) on the daily log index) the variance of ln V at tau is
 * omega^2 (1 - exp(-2 kappa tau)) / (2 kappa) instead of omega^2 tau.
 *
 * Units: variances decimal^2/yr; index and futures prices in vol points (55.2 = 55.2%); times
 * epoch ms UTC, year fractions ACT/365.
 */
import { InvalidInputError } from "../errors.js";
import { DVOL_FUTURE_SPEC } from "../instruments/volInstruments.js";
import { mean } from "../math/stats.js";
import type { MarketSnapshot } from "../market/types.js";
import type { VolSurface } from "../surface/types.js";
import { DAY_MS, DAYS_PER_YEAR, timeToExpiry } from "../time.js";
import { replicationSurface, type VarianceSwapOptions, varianceSwapStrike } from "./varianceSwap.js";

/** DVOL futures contract terms (see the module comment for the sources and the unverified defaults). */
export const DVOL_FUTURE_DEFAULTS = {
  indexDays: DVOL_FUTURE_SPEC.indexDays,
  contractSizeUsdPerPoint: DVOL_FUTURE_SPEC.contractSize,
  tickSize: DVOL_FUTURE_SPEC.tickSize,
} as const;

export interface VolIndexFutureInputs {
  /** Future expiry, epoch ms UTC (after the snapshot's valuation time). */
  readonly expiry: number;
  /** Annualized vol of ln(variance) (decimal, e.g. 1.6); see volOfVarianceFromIndex. */
  readonly volOfVariance: number;
  /** Mean-reversion speed of ln V per year (default 0: none, the upper estimate). */
  readonly meanReversion?: number;
  /** The index's constant maturity in days (DVOL: 30). */
  readonly indexDays?: number;
  readonly contractSizeUsdPerPoint?: number;
  readonly tickSize?: number;
  /** Strip and surface options for the variance swap strikes (tenorDays is set here). */
  readonly strip?: VarianceSwapOptions["strip"];
  /** Surface for the replication corrections (default: calibrated once on the snapshot). */
  readonly surface?: VolSurface | null;
}

export interface VolIndexFutureValue {
  readonly expiry: number;
  /** Years from the snapshot to the future's expiry. */
  readonly timeToExpiry: number;
  /** Variance swap strikes to T_e and to T_e + indexDays (decimal^2/yr). */
  readonly varianceToExpiry: number;
  readonly varianceToEnd: number;
  /** Forward variance of the index window, decimal^2/yr. */
  readonly forwardVariance: number;
  /** 100 sqrt(forwardVariance): the future's value without convexity, vol points. */
  readonly forwardVolPoints: number;
  readonly volOfVariance: number;
  /** forwardVolPoints - fairValue (vol points), the lognormal adjustment subtracted. */
  readonly convexityAdjustment: number;
  /** 100 Var(V) / (8 E[V]^{3/2}) with lognormal Var(V), for comparison (vol points). */
  readonly secondOrderAdjustment: number;
  /** Fair value in vol points (unrounded; fairValueTicks is on the tick grid). */
  readonly fairValue: number;
  /** Fair value rounded to the contract's tick. */
  readonly fairValueTicks: number;
  /** USD per contract per 1 vol point. */
  readonly contractSizeUsdPerPoint: number;
  /** Both swap tenors lie within the chain's eligible expiries. */
  readonly bracketed: boolean;
}

/** Convexity adjustments of E[sqrt V] for lognormal V with E[V] = forwardVariance (vol points). */
export function sqrtConvexity(
  forwardVariance: number,
  volOfVariance: number,
  timeToExpiry: number,
  meanReversion = 0,
): { lognormal: number; secondOrder: number } {
  if (!(forwardVariance > 0)) throw new InvalidInputError("forwardVariance", forwardVariance, "must be > 0");
  if (!(volOfVariance >= 0) || !Number.isFinite(volOfVariance))
    throw new InvalidInputError("volOfVariance", volOfVariance, "must be a finite number >= 0");
  if (!(timeToExpiry >= 0)) throw new InvalidInputError("timeToExpiry", timeToExpiry, "must be >= 0");
  if (!(meanReversion >= 0) || !Number.isFinite(meanReversion))
    throw new InvalidInputError("meanReversion", meanReversion, "must be a finite number >= 0");
  const k = meanReversion;
  // (1 - e^{-2 k tau}) / (2 k), with its series tau (1 - k tau) where 2 k tau underflows (k ~ 1e-300).
  const x = 2 * k * timeToExpiry;
  const meanRevertedTime = x > 1e-8 ? -Math.expm1(-x) / (2 * k) : timeToExpiry * (1 - x / 2);
  const s2 = volOfVariance * volOfVariance * meanRevertedTime;
  const root = 100 * Math.sqrt(forwardVariance);
  return { lognormal: root * (1 - Math.exp(-s2 / 8)), secondOrder: (root * Math.expm1(s2)) / 8 };
}

/** Inputs of volIndexFutureFromVariances: the two swap variances that bound the index window. */
export interface ForwardIndexInputs {
  /** Years from now to the future's expiry (> 0). */
  readonly timeToExpiry: number;
  /** Fair variance (decimal^2/yr) of a swap to the expiry and to expiry + indexDays. */
  readonly varianceToExpiry: number;
  readonly varianceToEnd: number;
  readonly indexDays: number;
  readonly volOfVariance: number;
  readonly meanReversion?: number;
}

/**
 * The future's fair value from the two variances (see the module comment): forward variance of
 * the index window and the lognormal convexity; throws InvalidInputError on a calendar arbitrage.
 */
export function volIndexFutureFromVariances(i: ForwardIndexInputs): {
  forwardVariance: number;
  forwardVolPoints: number;
  convexityAdjustment: number;
  secondOrderAdjustment: number;
  fairValue: number;
} {
  const T = i.timeToExpiry;
  const window = i.indexDays / DAYS_PER_YEAR;
  const forwardVariance = ((T + window) * i.varianceToEnd - T * i.varianceToExpiry) / window;
  if (!(forwardVariance > 0))
    throw new InvalidInputError(
      "forwardVariance",
      forwardVariance,
      "must be > 0 (the chain's total variance decreases over the index window: calendar arbitrage)",
    );
  const adj = sqrtConvexity(forwardVariance, i.volOfVariance, T, i.meanReversion ?? 0);
  const forwardVolPoints = 100 * Math.sqrt(forwardVariance);
  return {
    forwardVariance,
    forwardVolPoints,
    convexityAdjustment: adj.lognormal,
    secondOrderAdjustment: adj.secondOrder,
    fairValue: forwardVolPoints - adj.lognormal,
  };
}

/** Fair value of a vol-index future on a normalized chain. */
export function volIndexFutureValue(
  snapshot: MarketSnapshot,
  inputs: VolIndexFutureInputs,
): VolIndexFutureValue {
  const o = { ...DVOL_FUTURE_DEFAULTS, ...inputs };
  const T = timeToExpiry(o.expiry, snapshot.valuationTime);
  if (!(T > 0))
    throw new InvalidInputError(
      "expiry",
      o.expiry,
      `must be after the valuation time ${snapshot.valuationTime}`,
    );
  if (!(o.indexDays > 0)) throw new InvalidInputError("indexDays", o.indexDays, "must be > 0");
  if (!(o.contractSizeUsdPerPoint > 0))
    throw new InvalidInputError("contractSizeUsdPerPoint", o.contractSizeUsdPerPoint, "must be > 0");
  if (!(o.tickSize > 0)) throw new InvalidInputError("tickSize", o.tickSize, "must be > 0");
  const daysToExpiry = (o.expiry - snapshot.valuationTime) / DAY_MS;
  // One surface for both tenors (calibrated here once unless given).
  const { surface } = replicationSurface(
    snapshot,
    inputs.surface !== undefined ? { tenorDays: 1, surface: inputs.surface } : { tenorDays: 1 },
  );
  const strike = (tenorDays: number) =>
    varianceSwapStrike(snapshot, { tenorDays, surface, ...(o.strip ? { strip: o.strip } : {}) });
  const first = strike(daysToExpiry);
  const second = strike(daysToExpiry + o.indexDays);
  const f = volIndexFutureFromVariances({
    timeToExpiry: T,
    varianceToExpiry: first.fairVariance,
    varianceToEnd: second.fairVariance,
    indexDays: o.indexDays,
    volOfVariance: o.volOfVariance,
    ...(o.meanReversion !== undefined ? { meanReversion: o.meanReversion } : {}),
  });
  const { forwardVariance, forwardVolPoints, fairValue } = f;
  return {
    expiry: o.expiry,
    timeToExpiry: T,
    varianceToExpiry: first.fairVariance,
    varianceToEnd: second.fairVariance,
    forwardVariance,
    forwardVolPoints,
    volOfVariance: o.volOfVariance,
    convexityAdjustment: f.convexityAdjustment,
    secondOrderAdjustment: f.secondOrderAdjustment,
    fairValue,
    fairValueTicks: Math.round(fairValue / o.tickSize) * o.tickSize,
    contractSizeUsdPerPoint: o.contractSizeUsdPerPoint,
    bracketed: first.bracketed && second.bracketed,
  };
}

/**
 * Annualized vol of ln(variance) from a daily index series (vol points, e.g. DVOL closes): 2 x the
 * sample std of daily log changes x sqrt(365), over the last `lookback` changes (default all).
 */
export function volOfVarianceFromIndex(levels: readonly number[], lookback?: number): number {
  for (let i = 0; i < levels.length; i++) {
    const v = levels[i] as number;
    if (!(v > 0) || !Number.isFinite(v))
      throw new InvalidInputError(`levels[${i}]`, v, "must be a finite number > 0");
  }
  const changes: number[] = [];
  for (let i = 1; i < levels.length; i++)
    changes.push(Math.log((levels[i] as number) / (levels[i - 1] as number)));
  const used = lookback === undefined ? changes : changes.slice(-lookback);
  if (used.length < 2)
    throw new InvalidInputError("levels.length", levels.length, "must give at least 2 daily changes");
  const m = mean(used);
  let ss = 0;
  for (const x of used) ss += (x - m) ** 2;
  return 2 * Math.sqrt(ss / (used.length - 1)) * Math.sqrt(DAYS_PER_YEAR);
}

/**
 * Mean-reversion speed (per year) of ln(index) from daily levels: AR(1) slope b of x_t on x_{t-1}
 * (ordinary least squares), kappa = -365 ln b; 0 when b >= 1 (no reversion measured).
 */
export function meanReversionFromIndex(levels: readonly number[], lookback?: number): number {
  const x = (lookback === undefined ? levels : levels.slice(-(lookback + 1))).map((v, i) => {
    if (!(v > 0) || !Number.isFinite(v))
      throw new InvalidInputError(`levels[${i}]`, v, "must be a finite number > 0");
    return Math.log(v);
  });
  if (x.length < 3) throw new InvalidInputError("levels.length", levels.length, "must be at least 3");
  const a = x.slice(0, -1);
  const b = x.slice(1);
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  for (let i = 0; i < a.length; i++) {
    sab += ((a[i] as number) - ma) * ((b[i] as number) - mb);
    saa += ((a[i] as number) - ma) ** 2;
  }
  const slope = sab / saa;
  return slope > 0 && slope < 1 ? -DAYS_PER_YEAR * Math.log(slope) : 0;
}
