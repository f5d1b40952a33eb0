/**
 * Gaussian hidden Markov model of returns with K states (2 or 3 for calm / normal / stressed
 * regimes): Baum-Welch (EM) with scaled forward-backward recursions (Rabiner 1989), smoothed
 * state probabilities, and Viterbi decoding in log space. States are ordered by their vol,
 * state 0 the calmest; K-1 is the high-vol regime.
 */
import { InvalidInputError } from "../errors.js";
import { mean as meanOf, stdev } from "../math/stats.js";

export interface HmmParams {
  /** Initial state distribution, length K. */
  readonly initial: readonly number[];
  /** transition[i][j] = P(state j at t+1 | state i at t). */
  readonly transition: readonly (readonly number[])[];
  /** Emission mean per state (return per period). */
  readonly means: readonly number[];
  /** Emission standard deviation per state (per period). */
  readonly stdevs: readonly number[];
}

export interface HmmFit {
  readonly params: HmmParams;
  readonly logLikelihood: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** smoothed[t][k] = P(state k at t | all returns). */
  readonly smoothed: readonly (readonly number[])[];
  /** filtered[t][k] = P(state k at t | returns up to t): what a live strategy may use. */
  readonly filtered: readonly (readonly number[])[];
  /** Most likely state path (Viterbi). */
  readonly viterbi: readonly number[];
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);
const MIN_STDEV_FRACTION = 1e-3;

function density(x: number, mean: number, sd: number): number {
  const z = (x - mean) / sd;
  return Math.exp(-0.5 * z * z) / (sd * SQRT_2PI);
}

/**
 * Scaled forward-backward pass. Returns the log-likelihood, filtered and smoothed probabilities and
 * the expected transition counts. Flat Float64Array buffers (index t*K + k): the pass runs inside
 * every Baum-Welch iteration and on every agent tick.
 */
export function hmmForwardBackward(
  returns: readonly number[],
  p: HmmParams,
): { logLikelihood: number; filtered: number[][]; smoothed: number[][]; xi: number[][] } {
  const n = returns.length;
  const K = p.initial.length;
  const A = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) A[i * K + j] = (p.transition[i] as number[])[j]!;
  const b = new Float64Array(n * K);
  for (let t = 0; t < n; t++)
    for (let k = 0; k < K; k++)
      b[t * K + k] = Math.max(
        density(returns[t] as number, p.means[k] as number, p.stdevs[k] as number),
        1e-300,
      );
  const alpha = new Float64Array(n * K);
  const scale = new Float64Array(n);
  let logLikelihood = 0;
  for (let t = 0; t < n; t++) {
    let c = 0;
    for (let j = 0; j < K; j++) {
      let s = 0;
      if (t === 0) s = p.initial[j] as number;
      else for (let i = 0; i < K; i++) s += alpha[(t - 1) * K + i]! * A[i * K + j]!;
      const v = s * b[t * K + j]!;
      alpha[t * K + j] = v;
      c += v;
    }
    scale[t] = c;
    logLikelihood += Math.log(c);
    for (let j = 0; j < K; j++) alpha[t * K + j]! /= c;
  }
  const beta = new Float64Array(n * K);
  for (let k = 0; k < K; k++) beta[(n - 1) * K + k] = 1;
  for (let t = n - 2; t >= 0; t--) {
    for (let i = 0; i < K; i++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += A[i * K + j]! * b[(t + 1) * K + j]! * beta[(t + 1) * K + j]!;
      beta[t * K + i] = s / scale[t + 1]!;
    }
  }
  const filtered: number[][] = new Array(n);
  const smoothed: number[][] = new Array(n);
  for (let t = 0; t < n; t++) {
    const f = new Array<number>(K);
    const g = new Array<number>(K);
    let s = 0;
    for (let k = 0; k < K; k++) {
      f[k] = alpha[t * K + k]!;
      const v = alpha[t * K + k]! * beta[t * K + k]!;
      g[k] = v;
      s += v;
    }
    for (let k = 0; k < K; k++) g[k]! /= s;
    filtered[t] = f;
    smoothed[t] = g;
  }
  // Expected transition counts summed over t.
  const xiFlat = new Float64Array(K * K);
  const m = new Float64Array(K * K);
  for (let t = 0; t < n - 1; t++) {
    let total = 0;
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        const v = alpha[t * K + i]! * A[i * K + j]! * b[(t + 1) * K + j]! * beta[(t + 1) * K + j]!;
        m[i * K + j] = v;
        total += v;
      }
    }
    for (let q = 0; q < K * K; q++) xiFlat[q]! += m[q]! / total;
  }
  const xi: number[][] = Array.from({ length: K }, (_, i) => Array.from(xiFlat.subarray(i * K, i * K + K)));
  return { logLikelihood, filtered, smoothed, xi };
}

/** Most likely state path, in log space. */
export function hmmViterbi(returns: readonly number[], p: HmmParams): number[] {
  const n = returns.length;
  const K = p.initial.length;
  const logT = p.transition.map((row) => row.map((x) => Math.log(Math.max(x, 1e-300))));
  const logB = (x: number, k: number) =>
    Math.log(Math.max(density(x, p.means[k] as number, p.stdevs[k] as number), 1e-300));
  let delta = p.initial.map((pi, k) => Math.log(Math.max(pi, 1e-300)) + logB(returns[0] as number, k));
  const back: number[][] = [];
  for (let t = 1; t < n; t++) {
    const nextDelta = new Array<number>(K);
    const ptr = new Array<number>(K);
    for (let j = 0; j < K; j++) {
      let best = Number.NEGATIVE_INFINITY;
      let arg = 0;
      for (let i = 0; i < K; i++) {
        const v = (delta[i] as number) + (logT[i] as number[])[j]!;
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      nextDelta[j] = best + logB(returns[t] as number, j);
      ptr[j] = arg;
    }
    back.push(ptr);
    delta = nextDelta;
  }
  const path = new Array<number>(n);
  path[n - 1] = delta.indexOf(Math.max(...delta));
  for (let t = n - 2; t >= 0; t--) path[t] = (back[t] as number[])[path[t + 1] as number] as number;
  return path;
}

/**
 * Fits a K-state Gaussian HMM by Baum-Welch. Deterministic start: equal means, state vols spread
 * around the sample vol (x0.5 .. x2.5), sticky transitions (0.95 on the diagonal).
 */
export function fitHmm(
  returns: readonly number[],
  options: { states?: number; maxIterations?: number; tolerance?: number } = {},
): HmmFit {
  const K = options.states ?? 2;
  if (!Number.isInteger(K) || K < 2 || K > 5)
    throw new InvalidInputError("states", K, "must be an integer from 2 to 5");
  if (returns.length < 20 * K)
    throw new InvalidInputError("returns.length", returns.length, `must be at least ${20 * K}`);
  returns.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new InvalidInputError(`returns[${i}]`, r, "must be finite");
  });
  const { start, floor } = startingParams(returns, K);
  let p = start;
  const maxIterations = options.maxIterations ?? 500;
  const tolerance = options.tolerance ?? 1e-8;
  let previous = Number.NEGATIVE_INFINITY;
  let iterations = 0;
  let converged = false;
  let fb = hmmForwardBackward(returns, p);
  while (iterations < maxIterations) {
    iterations++;
    p = baumWelchStep(returns, fb, floor);
    fb = hmmForwardBackward(returns, p);
    if (Math.abs(fb.logLikelihood - previous) < tolerance * (1 + Math.abs(fb.logLikelihood))) {
      converged = true;
      break;
    }
    previous = fb.logLikelihood;
  }
  const ordered = orderedByVol(p);
  const final = hmmForwardBackward(returns, ordered);
  return {
    params: ordered,
    logLikelihood: final.logLikelihood,
    iterations,
    converged,
    smoothed: final.smoothed,
    filtered: final.filtered,
    viterbi: hmmViterbi(returns, ordered),
  };
}

/** The deterministic start of fitHmm and the stdev floor. */
function startingParams(returns: readonly number[], K: number): { start: HmmParams; floor: number } {
  const mean = meanOf(returns);
  const sd = stdev(returns);
  return {
    floor: sd * MIN_STDEV_FRACTION,
    start: {
      initial: new Array<number>(K).fill(1 / K),
      transition: Array.from({ length: K }, (_, i) =>
        Array.from({ length: K }, (_, j) => (i === j ? 0.95 : 0.05 / (K - 1))),
      ),
      means: new Array<number>(K).fill(mean),
      stdevs: Array.from({ length: K }, (_, k) => sd * (0.5 + (2 * k) / (K - 1))),
    },
  };
}

/** One Baum-Welch M-step from the E-step `fb` (stdevs floored at `floor`). */
function baumWelchStep(
  returns: readonly number[],
  fb: { readonly smoothed: readonly (readonly number[])[]; readonly xi: readonly (readonly number[])[] },
  floor: number,
): HmmParams {
  const gamma = fb.smoothed;
  const K = gamma[0]?.length ?? 0;
  const weights = new Array<number>(K).fill(0);
  for (const g of gamma) for (let k = 0; k < K; k++) weights[k] = (weights[k] ?? 0) + (g[k] ?? 0);
  const means = weights.map((w, k) => gamma.reduce((s, g, t) => s + (g[k] ?? 0) * (returns[t] ?? 0), 0) / w);
  const stdevs = weights.map((w, k) =>
    Math.max(
      floor,
      Math.sqrt(
        gamma.reduce((s, g, t) => s + (g[k] ?? 0) * ((returns[t] ?? 0) - (means[k] ?? 0)) ** 2, 0) / w,
      ),
    ),
  );
  const transition = fb.xi.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((x) => x / sum);
  });
  return { initial: [...(gamma[0] ?? [])], transition, means, stdevs };
}

/** The same parameters with the states ordered by vol, calmest first. */
function orderedByVol(p: HmmParams): HmmParams {
  const order = p.stdevs
    .map((s, k) => [s, k] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, k]) => k);
  const permute = (xs: readonly number[]) => order.map((k) => xs[k] ?? Number.NaN);
  return {
    initial: permute(p.initial),
    means: permute(p.means),
    stdevs: permute(p.stdevs),
    transition: order.map((i) => order.map((j) => p.transition[i]?.[j] ?? Number.NaN)),
  };
}

/** Simulates `n` returns and their states from `p` with a uniform source `uniform()` and normals `normal()`. */
export function simulateHmm(
  p: HmmParams,
  n: number,
  rng: { uniform(): number; normal(): number },
): { returns: number[]; states: number[] } {
  const draw = (probs: readonly number[]) => {
    const u = rng.uniform();
    let c = 0;
    for (let k = 0; k < probs.length; k++) {
      c += probs[k] as number;
      if (u < c) return k;
    }
    return probs.length - 1;
  };
  const states: number[] = [];
  const returns: number[] = [];
  let s = draw(p.initial);
  for (let t = 0; t < n; t++) {
    if (t > 0) s = draw(p.transition[s] as number[]);
    states.push(s);
    returns.push((p.means[s] as number) + (p.stdevs[s] as number) * rng.normal());
  }
  return { returns, states };
}
