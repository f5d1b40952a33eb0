/**
 * Constant-maturity variance index from two expiries bracketing the target (Cboe VIX White
 * Paper, step 3): linear interpolation in total variance T sigma^2, annualized over the target.
 *
 *   index = 100 sqrt( [T1 s1^2 (T2 - Tt)/(T2 - T1) + T2 s2^2 (Tt - T1)/(T2 - T1)] / Tt )
 *
 * Year fractions may be built from minutes (Cboe: minutes / 525,600), or ACT/365 instants.
 */
import { InvalidInputError } from "../errors.js";

export interface VariancePoint {
  /** Time to expiry, years. */
  readonly timeToExpiry: number;
  /** Annualized variance (decimal^2). */
  readonly variance: number;
}

/**
 * Annualized variance at `targetTime` (years), interpolated (or extrapolated flat in variance
 * when the target lies outside [T1, T2]; `bracketed` says which). `nearWeight` is the near
 * expiry's weight (T2 - Tt)/(T2 - T1) (the next expiry's is 1 - nearWeight).
 */
export function interpolateVariance(
  near: VariancePoint,
  next: VariancePoint,
  targetTime: number,
): { variance: number; bracketed: boolean; nearWeight: number } {
  for (const [name, v] of [
    ["near.timeToExpiry", near.timeToExpiry],
    ["next.timeToExpiry", next.timeToExpiry],
    ["targetTime", targetTime],
  ] as const) {
    if (!(v > 0) || !Number.isFinite(v)) throw new InvalidInputError(name, v, "must be a finite number > 0");
  }
  const t1 = near.timeToExpiry;
  const t2 = next.timeToExpiry;
  if (t2 === t1) return { variance: near.variance, bracketed: targetTime === t1, nearWeight: 1 };
  if (t2 < t1) throw new InvalidInputError("next.timeToExpiry", t2, `must be after near.timeToExpiry ${t1}`);
  const w1 = (t2 - targetTime) / (t2 - t1);
  const w2 = (targetTime - t1) / (t2 - t1);
  const totalVariance = t1 * near.variance * w1 + t2 * next.variance * w2;
  return {
    variance: totalVariance / targetTime,
    bracketed: targetTime >= t1 && targetTime <= t2,
    nearWeight: w1,
  };
}

/** The index level (vol points, e.g. 13.69) at `targetTime` from two expiries. */
export function varianceIndexLevel(near: VariancePoint, next: VariancePoint, targetTime: number): number {
  const { variance } = interpolateVariance(near, next, targetTime);
  return 100 * Math.sqrt(variance);
}

/**
 * The two expiries around `targetTime` in `points` (sorted by time): the last at or before it and
 * the first after it; the first two (last two) when the target lies before (after) them all.
 */
export function bracketExpiries<P extends { readonly timeToExpiry: number }>(
  points: readonly P[],
  targetTime: number,
): [P, P] {
  let i = points.findIndex((p) => p.timeToExpiry > targetTime);
  if (i === -1) i = points.length - 1;
  if (i === 0) i = 1;
  const near = points[i - 1];
  const next = points[i];
  if (near === undefined || next === undefined)
    throw new InvalidInputError("points", points.length, "must hold at least two expiries");
  return [near, next];
}

/**
 * The constant-maturity index at `targetTime` from sorted expiry variances (VIX and DVOL methods
 * alike): the bracketing expiries, their interpolation, and the level in vol points (a negative
 * interpolated variance, possible when extrapolating, floors the level at 0).
 */
export function varianceIndexAt<P extends VariancePoint>(
  points: readonly P[],
  targetTime: number,
): { index: number; near: P; next: P; bracketed: boolean; nearWeight: number } {
  const [near, next] = bracketExpiries(points, targetTime);
  const { variance, bracketed, nearWeight } = interpolateVariance(near, next, targetTime);
  return { index: 100 * Math.sqrt(Math.max(variance, 0)), near, next, bracketed, nearWeight };
}
