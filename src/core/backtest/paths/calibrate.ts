/**
 * Calibration of GBM and Merton parameters from a price history (method of moments).
 *
 * GBM: r_i = ln(P_i / P_{i-1}); vol = stdev(r) sqrt(N), drift = mean(r) N + vol^2 / 2, with N
 * observations per year (365 for crypto, which trades every day).
 * Merton (threshold / jump-filter moments, e.g. Ait-Sahalia & Jacod 2014 ch. 10 for the idea):
 * returns farther than `threshold` robust standard deviations (1.4826 * MAD) from the median are
 * classified as jumps, iterated until the classification is stable; then
 * jumpIntensity = jumps / years, jumpMean / jumpVol = mean / stdev of the jump returns (minus the
 * diffusion mean), vol from the remaining returns, drift from the overall mean
 * (drift = mean(r) N + vol^2/2 + lambda (kbar - jumpMean)), so E[S_T] matches the data.
 */
import { InvalidInputError } from "../../errors.js";
import { mean, quantile, stdev } from "../../math/stats.js";
import { type MertonParams, mertonKbar } from "./merton.js";
import type { GbmParams } from "./gbm.js";

/** Log returns of consecutive prices; throws on a non-positive price. */
export function pathLogReturns(prices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(prices.length - 1, 0));
  for (let i = 1; i < prices.length; i++) {
    const a = prices[i - 1] as number;
    const b = prices[i] as number;
    if (!(a > 0) || !(b > 0))
      throw new InvalidInputError(`prices[${a > 0 ? i : i - 1}]`, a > 0 ? b : a, "must be > 0");
    out[i - 1] = Math.log(b / a);
  }
  return out;
}

/** GBM drift and vol from prices sampled `periodsPerYear` times a year. */
export function calibrateGbm(prices: ArrayLike<number>, periodsPerYear = 365): GbmParams {
  const r = pathLogReturns(prices);
  if (r.length < 2) throw new InvalidInputError("prices.length", prices.length, "must be >= 3");
  const vol = stdev(r) * Math.sqrt(periodsPerYear);
  return { drift: mean(r) * periodsPerYear + 0.5 * vol * vol, vol };
}

export interface MertonCalibration extends MertonParams {
  /** Number of returns classified as jumps, out of `observations`. */
  readonly jumpCount: number;
  readonly observations: number;
}

/** Merton parameters by the threshold method of moments (see the file comment). */
export function calibrateMerton(
  prices: ArrayLike<number>,
  opts: { periodsPerYear?: number; threshold?: number } = {},
): MertonCalibration {
  const N = opts.periodsPerYear ?? 365;
  const c = opts.threshold ?? 4;
  const r = Array.from(pathLogReturns(prices));
  if (r.length < 10) throw new InvalidInputError("prices.length", prices.length, "must be >= 11");
  const med = quantile(r, 0.5);
  const mad = quantile(
    r.map((x) => Math.abs(x - med)),
    0.5,
  );
  let sd = 1.4826 * mad;
  let center = med;
  let isJump = r.map(() => false);
  for (let iter = 0; iter < 20; iter++) {
    const next = r.map((x) => Math.abs(x - center) > c * sd);
    const normal = r.filter((_, i) => !next[i]);
    const same = next.every((b, i) => b === isJump[i]);
    isJump = next;
    center = mean(normal);
    sd = stdev(normal);
    if (same && iter > 0) break;
  }
  const diff = r.filter((_, i) => !isJump[i]);
  const jumps = r.filter((_, i) => isJump[i]).map((x) => x - center);
  const years = r.length / N;
  const vol = stdev(diff) * Math.sqrt(N);
  const jumpIntensity = jumps.length / years;
  const jumpMean = jumps.length > 0 ? mean(jumps) : 0;
  const jumpVol = jumps.length > 1 ? stdev(jumps) : 0;
  // E[ln S_T/S_0]/T = drift - lambda kbar - vol^2/2 + lambda jumpMean = mean(r) N.
  const kbar = mertonKbar({ jumpMean, jumpVol });
  const drift = mean(r) * N + 0.5 * vol * vol + jumpIntensity * (kbar - jumpMean);
  return {
    drift,
    vol,
    jumpIntensity,
    jumpMean,
    jumpVol,
    jumpCount: jumps.length,
    observations: r.length,
  };
}
