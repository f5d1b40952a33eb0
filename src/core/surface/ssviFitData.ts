/**
 * Pieces shared by the power-law SSVI fit (ssviFit.ts) and the slice-by-slice eSSVI fit
 * (essviFit.ts): the options, the input checks, the quotes as weighted fit points, the market ATM
 * total variance (start values), the vol-space residual and the best-of-starts bookkeeping.
 *
 * Units: k = ln(K/F), T years, total variance w = vol^2 T.
 */
import { InvalidInputError } from "../errors.js";
import type { LevenbergMarquardtResult } from "../math/levenbergMarquardt.js";
import { type SurfaceSlice, type SurfaceWeighting, surfaceQuoteWeights } from "./sliceData.js";

export interface SsviFitOptions {
  readonly weighting?: SurfaceWeighting;
  readonly maxIterations?: number;
}

/** One quote as a fit point: log-moneyness, target vol, weight, its slice's index and expiry. */
export interface FitPoint {
  readonly k: number;
  readonly vol: number;
  readonly weight: number;
  readonly slice: number;
  readonly T: number;
}

/** The quotes of the slices as fit points, slice by slice; throws on a non-finite k or a vol <= 0. */
export function fitPoints(slices: readonly SurfaceSlice[], weighting: SurfaceWeighting): FitPoint[] {
  const points: FitPoint[] = [];
  slices.forEach((s, j) => {
    const w = surfaceQuoteWeights(s, weighting);
    s.quotes.forEach((q, qi) => {
      if (!(Number.isFinite(q.k) && Number.isFinite(q.targetVol) && q.targetVol > 0))
        throw new InvalidInputError(`slices[${j}].quotes[${qi}]`, q, "needs finite k and targetVol > 0");
      points.push({ k: q.k, vol: q.targetVol, weight: w[qi] ?? Number.NaN, slice: j, T: s.expiry });
    });
  });
  return points;
}

/** Slices must be non-empty, with expiries > 0 strictly increasing and at least one quote each. */
export function checkSlices(slices: readonly SurfaceSlice[]): void {
  if (slices.length === 0) throw new InvalidInputError("slices.length", 0, "must be at least 1");
  slices.forEach((s, j) => {
    if (!(Number.isFinite(s.expiry) && s.expiry > 0))
      throw new InvalidInputError(`slices[${j}].expiry`, s.expiry, "must be > 0");
    const prev = slices[j - 1];
    if (prev !== undefined && !(s.expiry > prev.expiry))
      throw new InvalidInputError(`slices[${j}].expiry`, s.expiry, "must be strictly increasing");
    if (s.quotes.length === 0)
      throw new InvalidInputError(`slices[${j}].quotes.length`, 0, "must be at least 1");
  });
}

/** Market ATM total variance of a slice: linear interpolation of targetVol^2 T at k = 0. */
export function marketAtmTotalVariance(slice: SurfaceSlice): number {
  const qs = [...slice.quotes].sort((a, b) => a.k - b.k);
  const T = slice.expiry;
  let i = qs.findIndex((q) => q.k >= 0);
  if (i < 0) i = qs.length - 1;
  const b = qs[i];
  if (b === undefined) throw new InvalidInputError("slice.quotes.length", 0, "must be at least 1");
  const a = qs[i - 1];
  if (a === undefined || b.k === 0) return b.targetVol ** 2 * T;
  const t = (0 - a.k) / (b.k - a.k);
  return ((1 - t) * a.targetVol ** 2 + t * b.targetVol ** 2) * T;
}

/** Weighted vol residual weight (sqrt(w / T) - vol) of a point at model total variance w (w <= 0 reads as vol 0). */
export function volResidual(p: FitPoint, w: number): number {
  return p.weight * (Math.sqrt(w > 0 ? w / p.T : 0) - p.vol);
}

/** d(volResidual)/dw at w > 0: weight / (2 sqrt(w / T) T). */
export function volResidualSlope(p: FitPoint, w: number): number {
  return p.weight / (2 * Math.sqrt(w / p.T) * p.T);
}

/** Largest quoted total variance vol^2 T (0 for no points). */
export function maxTotalVariance(points: readonly FitPoint[]): number {
  let wMax = 0;
  for (const p of points) wMax = Math.max(wMax, p.vol ** 2 * p.T);
  return wMax;
}

/** The best run so far of a multi-start fit. */
export interface BestRun {
  readonly x: Float64Array;
  readonly cost: number;
  readonly converged: boolean;
}

/** `best`, or `res` when its cost is finite and lower. */
export function betterRun(best: BestRun | null, res: LevenbergMarquardtResult): BestRun | null {
  if (Number.isFinite(res.cost) && (best === null || res.cost < best.cost))
    return { x: res.x, cost: res.cost, converged: res.converged };
  return best;
}
