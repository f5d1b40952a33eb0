/**
 * Calibration of GBM and Merton parameters from a price history.
 *
 * GBM (moments): r_i = ln(P_i / P_{i-1}); vol = stdev(r) sqrt(N), drift = mean(r) N + vol^2 / 2,
 * with N observations per year (365 for crypto, which trades every day).
 * Merton: maximum likelihood on the exact per-period return density (a Poisson mixture of
 * normals), started from threshold moments (see `calibrateMerton`); the drift is set so that
 * E[S_T] matches the data: drift = mean(r) N + vol^2/2 + lambda (kbar - jumpMean).
 */
import { InvalidInputError } from "../../errors.js";
import { nelderMead } from "../../math/nelderMead.js";
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
  /** Returns whose posterior probability of holding at least one jump exceeds 1/2. */
  readonly jumpCount: number;
  readonly observations: number;
  /** Log-likelihood of the returns at the estimate (nats). */
  readonly logLikelihood: number;
  /** "mle" (the estimate), or "threshold" when the likelihood search did not improve on it. */
  readonly method: "mle" | "threshold";
}

/**
 * Threshold (jump-filter) moments: returns farther than `c` robust standard deviations from
 * the centre are jumps, iterated until the classification is stable. Biased low in intensity
 * when jumps are small next to the daily diffusion (a jump inside the threshold is counted as
 * diffusion: lambda 5 with N(-5%, 8%) jumps at 50% vol is fitted as about 2), so it serves only
 * as the starting point of the likelihood search.
 */
export function thresholdMerton(r: readonly number[], N: number, c: number): MertonParams {
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
  const vol = stdev(diff) * Math.sqrt(N);
  const jumpIntensity = jumps.length / (r.length / N);
  const jumpMean = jumps.length > 0 ? mean(jumps) : 0;
  const jumpVol = jumps.length > 1 ? stdev(jumps) : 0;
  return {
    drift: driftFromMean(mean(r) * N, { vol, jumpIntensity, jumpMean, jumpVol }),
    vol,
    jumpIntensity,
    jumpMean,
    jumpVol,
  };
}

/** Total drift such that E[ln S_T/S_0]/T = meanLogReturnPerYear (see merton.ts). */
function driftFromMean(meanLogReturnPerYear: number, p: Omit<MertonParams, "drift">): number {
  return meanLogReturnPerYear + 0.5 * p.vol * p.vol + p.jumpIntensity * (mertonKbar(p) - p.jumpMean);
}

/**
 * Daily return density of Merton's model: a Poisson mixture of normals,
 * sum_n P(n; lambda dt) phi(x; m + n jumpMean, s^2 + n jumpVol^2), m the diffusion mean per
 * period, truncated where the Poisson tail is below 1e-14. Returns the log-likelihood of `r`
 * and, for each return, the posterior probability of at least one jump.
 */
function mertonLogLikelihood(
  r: readonly number[],
  p: { m: number; s: number; lambdaDt: number; jumpMean: number; jumpVol: number },
  posteriors?: number[],
): number {
  const weights: number[] = [];
  let w = Math.exp(-p.lambdaDt);
  let cumulative = 0;
  for (let n = 0; n < 50 && (n < 2 || 1 - cumulative > 1e-12); n++) {
    weights.push(w);
    cumulative += w;
    w *= p.lambdaDt / (n + 1);
  }
  const K = weights.length;
  const means = new Float64Array(K);
  const halfInvVar = new Float64Array(K);
  const scale = new Float64Array(K);
  for (let n = 0; n < K; n++) {
    const v = p.s * p.s + n * p.jumpVol * p.jumpVol;
    means[n] = p.m + n * p.jumpMean;
    halfInvVar[n] = 0.5 / v;
    scale[n] = (weights[n] as number) / Math.sqrt(v * 2 * Math.PI);
  }
  let ll = 0;
  for (let i = 0; i < r.length; i++) {
    const x = r[i] as number;
    let d0 = x - (means[0] as number);
    const first = (scale[0] as number) * Math.exp(-(halfInvVar[0] as number) * d0 * d0);
    let density = first;
    for (let n = 1; n < K; n++) {
      d0 = x - (means[n] as number);
      density += (scale[n] as number) * Math.exp(-(halfInvVar[n] as number) * d0 * d0);
    }
    if (!(density > 0)) return Number.NEGATIVE_INFINITY;
    ll += Math.log(density);
    if (posteriors) posteriors[i] = 1 - first / density;
  }
  return ll;
}

/**
 * Merton parameters by maximum likelihood on the exact daily-return density (Poisson mixture
 * of normals; Press 1967, Ball & Torous 1983), started from the threshold moments and searched
 * by Nelder-Mead over (m, ln s, ln lambda, jumpMean, ln jumpVol). Maximum likelihood is
 * consistent where the threshold method is not (small jumps hide in the diffusion); the drift
 * is then set so E[ln S_T] matches the sample mean, as the threshold method did.
 */
export function calibrateMerton(
  prices: ArrayLike<number>,
  opts: { periodsPerYear?: number; threshold?: number } = {},
): MertonCalibration {
  const N = opts.periodsPerYear ?? 365;
  const c = opts.threshold ?? 4;
  const r = Array.from(pathLogReturns(prices));
  if (r.length < 10) throw new InvalidInputError("prices.length", prices.length, "must be >= 11");
  const start = thresholdMerton(r, N, c);
  const dt = 1 / N;
  // Floors keep the search off degenerate optima (a zero-width jump component on one return).
  const toParams = (x: readonly number[]) => ({
    m: x[0] as number,
    s: Math.exp(x[1] as number),
    lambdaDt: Math.exp(x[2] as number) * dt,
    jumpMean: x[3] as number,
    jumpVol: Math.max(Math.exp(x[4] as number), 1e-4),
  });
  const s0 = start.vol * Math.sqrt(dt);
  const x0 = [
    mean(r) - start.jumpIntensity * dt * start.jumpMean,
    Math.log(Math.max(s0, 1e-6)),
    Math.log(Math.max(start.jumpIntensity, 0.5)),
    start.jumpMean,
    Math.log(Math.max(start.jumpVol, 2 * s0)),
  ];
  const nll = (x: readonly number[]) => -mertonLogLikelihood(r, toParams(x));
  let best = nelderMead(nll, x0, { step: 0.3, maxIterations: 1500, functionTolerance: 1e-7 });
  // One restart from the optimum: Nelder-Mead can stall on a flat ridge of the mixture.
  best = nelderMead(nll, best.x, { step: 0.1, maxIterations: 1000, functionTolerance: 1e-8 });
  const startLl = -nll(x0);
  const useMle = Number.isFinite(best.value) && -best.value >= startLl;
  const p = toParams(useMle ? best.x : x0);
  const posteriors: number[] = new Array(r.length).fill(0);
  const logLikelihood = mertonLogLikelihood(r, p, posteriors);
  const shape = {
    vol: p.s * Math.sqrt(N),
    jumpIntensity: p.lambdaDt * N,
    jumpMean: p.jumpMean,
    jumpVol: p.jumpVol,
  };
  return {
    drift: driftFromMean(mean(r) * N, shape),
    ...shape,
    jumpCount: posteriors.filter((q) => q > 0.5).length,
    observations: r.length,
    logLikelihood,
    method: useMle ? "mle" : "threshold",
  };
}
