/**
 * Raw SVI fit of one expiry slice to implied vols, weighted least squares in vol space:
 *
 *   minimize sum_i (weight_i (sqrt(w(k_i)/T) - targetVol_i))^2
 *
 * over the raw SVI domain with Lee's wing bound, using the projected Levenberg-Marquardt solver
 * (analytic Jacobian). Internal variables (v, beta, rho, m, sigma) make the domain a box:
 * v = a + b sigma sqrt(1-rho^2) is the minimum total variance (>= a 1% vol floor) and
 * b = 2 beta / (1 + |rho|) with beta in [0, 1) keeps both wing slopes b(1 +- rho) below 2.
 * Starting points come from the quasi-explicit method (Zeliade 2009): for fixed (m, sigma) the
 * smile is linear in (a, b rho, b), solved by weighted linear least squares on a grid of
 * (m, sigma); the best few start LM runs (restarts) and the best result wins.
 *
 * Too few distinct strikes degrade the fit and say so: 3-4 strikes fix (m, sigma) at the best
 * grid point; 1-2 strikes fit a flat smile (b = 0). Parameters are never NaN.
 */
import { InvalidInputError } from "../errors.js";
import { levenbergMarquardt } from "../math/levenbergMarquardt.js";
import {
  type SurfaceQuote,
  type SurfaceSlice,
  type SurfaceWeighting,
  surfaceQuoteWeights,
} from "./sliceData.js";
import { type SviParams, sviTotalVariance } from "./svi.js";

export interface SviFitOptions {
  readonly weighting?: SurfaceWeighting;
  /** Number of LM runs from the best quasi-explicit starting points (default 4). */
  readonly restarts?: number;
  /** LM iteration cap per run (default 100). */
  readonly maxIterations?: number;
}

export interface SviSliceFit {
  readonly expiry: number;
  readonly forward: number;
  readonly params: SviParams;
  /** Weighted cost 0.5 sum (weight * vol error)^2. */
  readonly cost: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Why the fit is degraded (too few strikes), or null for a full fit. */
  readonly degraded: string | null;
}

/** Minimum-vol floor of the fit: 1% (v >= 1e-4 T). */
const VOL_FLOOR = 0.01;
const RHO_MAX = 0.999;
const BETA_MAX = 0.999;

/** Internal (v, beta, rho, m, sigma) -> raw SVI. */
export function sviFromInternal(x: ArrayLike<number>): SviParams {
  const [v = 0, beta = 0, rho = 0, m = 0, sigma = 0] = [x[0], x[1], x[2], x[3], x[4]];
  const b = (2 * beta) / (1 + Math.abs(rho));
  return { a: v - b * sigma * Math.sqrt(1 - rho * rho), b, rho, m, sigma };
}

/** Raw SVI -> internal (v, beta, rho, m, sigma). */
export function sviToInternal(p: SviParams): number[] {
  return [
    p.a + p.b * p.sigma * Math.sqrt(1 - p.rho * p.rho),
    (p.b * (1 + Math.abs(p.rho))) / 2,
    p.rho,
    p.m,
    p.sigma,
  ];
}

interface SliceArrays {
  k: Float64Array;
  vol: Float64Array;
  weight: Float64Array;
  T: number;
}

/** The quote at i of a slice's arrays (sorted by k). */
function quoteAt(d: SliceArrays, i: number): { k: number; vol: number; weight: number } {
  return { k: d.k[i] ?? 0, vol: d.vol[i] ?? 0, weight: d.weight[i] ?? 0 };
}

/** Builds the LM problem of a slice in internal variables. */
function sviProblem(d: SliceArrays) {
  const n = d.k.length;
  const T = d.T;
  return {
    parameters: 5,
    residuals: n,
    evaluate(x: Float64Array, out: Float64Array) {
      const [v = 0, beta = 0, rho = 0, m = 0, sg = 0] = x;
      const b = (2 * beta) / (1 + Math.abs(rho));
      const sS = sg * Math.sqrt(1 - rho * rho);
      for (let i = 0; i < n; i++) {
        const q = quoteAt(d, i);
        const y = q.k - m;
        const w = v + b * (rho * y + Math.sqrt(y * y + sg * sg) - sS);
        out[i] = q.weight * (Math.sqrt(w > 0 ? w / T : 0) - q.vol);
      }
    },
    jacobian(x: Float64Array, J: Float64Array) {
      const [v = 0, beta = 0, rho = 0, m = 0, sg = 0] = x;
      const ar = Math.abs(rho);
      const sgn = rho > 0 ? 1 : rho < 0 ? -1 : 0;
      const b = (2 * beta) / (1 + ar);
      const dbdbeta = 2 / (1 + ar);
      const dbdrho = (-2 * beta * sgn) / ((1 + ar) * (1 + ar));
      const S = Math.sqrt(1 - rho * rho);
      for (let i = 0; i < n; i++) {
        const q = quoteAt(d, i);
        const y = q.k - m;
        const R = Math.sqrt(y * y + sg * sg);
        const shape = rho * y + R - sg * S;
        const w = Math.max(v + b * shape, 1e-300);
        const vol = Math.sqrt(w / T);
        const f = q.weight / (2 * vol * T);
        const dwdb = shape;
        const row = i * 5;
        J[row] = f;
        J[row + 1] = f * dwdb * dbdbeta;
        J[row + 2] = f * (b * (y + (sg * rho) / S) + dwdb * dbdrho);
        J[row + 3] = -f * b * (rho + y / R);
        J[row + 4] = f * b * (sg / R - S);
      }
    },
  };
}

/** Determinant of a 3x3 matrix given row-major. */
function det3(M: readonly number[]): number {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0, i = 0] = M;
  return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
}

/** Weighted 3x3 least squares of w ~ a + c (k-m) + d sqrt((k-m)^2 + s^2); returns [a, c, d] or null. */
function quasiExplicit(
  d: SliceArrays,
  wTarget: Float64Array,
  omega: Float64Array,
  m: number,
  s: number,
): number[] | null {
  const A = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const r = [0, 0, 0];
  for (let i = 0; i < d.k.length; i++) {
    const y = (d.k[i] ?? 0) - m;
    const f = [1, y, Math.sqrt(y * y + s * s)];
    const o = (omega[i] ?? 0) ** 2;
    const wt = wTarget[i] ?? 0;
    for (let a = 0; a < 3; a++) {
      const fa = f[a] ?? 0;
      r[a] = (r[a] ?? 0) + o * fa * wt;
      for (let b = 0; b < 3; b++) A[a * 3 + b] = (A[a * 3 + b] ?? 0) + o * fa * (f[b] ?? 0);
    }
  }
  // Cramer's rule on the 3x3 system
  const D = det3(A);
  if (!(Math.abs(D) > 1e-300)) return null;
  const out: number[] = [];
  for (let c = 0; c < 3; c++) {
    const M = A.slice();
    for (let a = 0; a < 3; a++) M[a * 3 + c] = r[a] ?? 0;
    out.push(det3(M) / D);
  }
  return out.every(Number.isFinite) ? out : null;
}

function distinctCount(k: Float64Array): number {
  let c = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const x of k) {
    if (x - last > 1e-9) c++;
    last = x;
  }
  return c;
}

function vwCost(d: SliceArrays, p: SviParams): number {
  let s = 0;
  for (let i = 0; i < d.k.length; i++) {
    const q = quoteAt(d, i);
    const w = sviTotalVariance(p, q.k);
    const e = q.weight * (Math.sqrt(w > 0 ? w / d.T : 0) - q.vol);
    s += e * e;
  }
  return 0.5 * s;
}

/** The arrays of a slice sorted by k (weights from the weighting rule), validated. */
function sliceArrays(slice: SurfaceSlice, weighting: SurfaceWeighting): SliceArrays {
  const T = slice.expiry;
  if (!(Number.isFinite(T) && T > 0))
    throw new InvalidInputError("slice.expiry", T, "must be a finite number > 0");
  const n = slice.quotes.length;
  if (n === 0) throw new InvalidInputError("slice.quotes.length", 0, "must be at least 1");
  const q = (i: number) => slice.quotes[i] as SurfaceQuote;
  const order = slice.quotes.map((_, i) => i).sort((i, j) => q(i).k - q(j).k);
  const weights = surfaceQuoteWeights(slice, weighting);
  const d: SliceArrays = {
    k: Float64Array.from(order, (i) => q(i).k),
    vol: Float64Array.from(order, (i) => q(i).targetVol),
    weight: Float64Array.from(order, (i) => weights[i] ?? 0),
    T,
  };
  for (let i = 0; i < n; i++) {
    const k = d.k[i] ?? Number.NaN;
    const vol = d.vol[i] ?? Number.NaN;
    if (!(Number.isFinite(k) && Number.isFinite(vol) && vol > 0))
      throw new InvalidInputError(`slice.quotes[${order[i]}]`, { k, vol }, "needs finite k and vol > 0");
  }
  return d;
}

/**
 * Everything a fit of the slice starts from, in the internal variables (v, beta, rho, m, sigma):
 * the box, the LM starting points (the best `restarts` distinct quasi-explicit starts, best first)
 * and the degradation for too few strikes (m and sigma fixed: lower = upper there). Exported so
 * that a baseline solver (bench/surface.bench.ts: scipy) gets the same start rule and bounds.
 */
export interface SviFitSetup {
  readonly k: Float64Array;
  readonly vol: Float64Array;
  readonly weight: Float64Array;
  readonly T: number;
  readonly lower: number[];
  readonly upper: number[];
  readonly starts: number[][];
  /** Distinct strikes (<= 2: a flat smile, no LM run). */
  readonly distinct: number;
  readonly degraded: string | null;
}

/** The box of the internal variables for the sorted slice arrays. */
function internalBounds(d: SliceArrays): { lower: number[]; upper: number[] } {
  const kMin = d.k[0] ?? 0;
  const kMax = d.k[d.k.length - 1] ?? 0;
  const span = Math.max(kMax - kMin, 0.05);
  let wMax = 0;
  for (const v of d.vol) wMax = Math.max(wMax, v * v * d.T);
  const vFloor = VOL_FLOOR * VOL_FLOOR * d.T;
  return {
    lower: [vFloor, 0, -RHO_MAX, kMin - span, 1e-4],
    upper: [Math.max(2 * wMax, 2 * vFloor), BETA_MAX, RHO_MAX, kMax + span, Math.max(2, 2 * span)],
  };
}

/** Quasi-explicit starting points on an (m, sigma) grid, sorted by cost (best first). */
function quasiExplicitStarts(
  d: SliceArrays,
  clamp: (x: number[]) => number[],
): { x: number[]; cost: number }[] {
  const n = d.k.length;
  const wTarget = d.vol.map((v) => v * v * d.T);
  const omega = d.vol.map((v, i) => (d.weight[i] ?? 0) / (2 * v * d.T));
  const kMin = d.k[0] ?? 0;
  const kMax = d.k[n - 1] ?? 0;
  const span = Math.max(kMax - kMin, 0.05);
  const mGrid = [
    kMin + 0.25 * span,
    kMin + 0.5 * span,
    kMin + 0.75 * span,
    0,
    kMin + 0.1 * span,
    kMax - 0.1 * span,
  ];
  const sGrid = [0.05, 0.15, 0.35, 0.8].map((f) => f * span);
  const starts: { x: number[]; cost: number }[] = [];
  for (const m of mGrid) {
    for (const s of sGrid) {
      const sol = quasiExplicit(d, wTarget, omega, m, s);
      if (!sol) continue;
      const [a = 0, c = 0, dd = 0] = sol;
      const b = Math.max(dd, 1e-6);
      const rho = Math.max(-0.95, Math.min(0.95, c / b));
      const x = clamp(sviToInternal({ a, b, rho, m, sigma: s }));
      starts.push({ x, cost: vwCost(d, sviFromInternal(x)) });
    }
  }
  if (starts.length === 0)
    starts.push({ x: clamp([wTarget[n >> 1] ?? 0, 0.1, 0, 0, 0.1 * span]), cost: Number.POSITIVE_INFINITY });
  return starts.sort((p, q) => p.cost - q.cost);
}

/** The first `restarts` starts that are not near-duplicates of an earlier one. */
function distinctStarts(starts: readonly { x: number[] }[], restarts: number): number[][] {
  const picked: number[][] = [];
  for (const s of starts) {
    if (picked.length >= restarts) break;
    if (picked.some((p) => p.every((v, j) => Math.abs(v - (s.x[j] ?? 0)) < 1e-3 * (Math.abs(v) + 1e-3))))
      continue;
    picked.push(s.x);
  }
  return picked;
}

/** The setup of a slice's fit (see SviFitSetup). Throws as fitSviSlice. */
export function sviFitSetup(slice: SurfaceSlice, options: SviFitOptions = {}): SviFitSetup {
  const d = sliceArrays(slice, options.weighting ?? "spread");
  const { lower, upper } = internalBounds(d);
  const clamp = (x: number[]) =>
    x.map((xi, j) =>
      Math.min(upper[j] ?? xi, Math.max(lower[j] ?? xi, Number.isFinite(xi) ? xi : (lower[j] ?? 0))),
    );
  const distinct = distinctCount(d.k);
  if (distinct <= 2)
    return {
      ...d,
      lower,
      upper,
      starts: [],
      distinct,
      degraded: `only ${distinct} distinct strike(s): flat smile (b = 0)`,
    };
  const starts = quasiExplicitStarts(d, clamp);
  let degraded: string | null = null;
  const first = starts[0]?.x ?? [];
  if (distinct < 5) {
    lower[3] = upper[3] = first[3] ?? 0;
    lower[4] = upper[4] = first[4] ?? 0.1;
    degraded = `only ${distinct} distinct strikes: m and sigma fixed, fitted a, b, rho`;
  }
  const picked = distinctStarts(starts, Math.max(1, options.restarts ?? 4)).map(clamp);
  return { ...d, lower, upper, starts: picked, distinct, degraded };
}

/** The flat smile (b = 0) of a slice with 1-2 distinct strikes: the weighted mean total variance. */
function flatFit(setup: SviFitSetup, forward: number): SviSliceFit {
  let sw = 0;
  let sv = 0;
  for (let i = 0; i < setup.k.length; i++) {
    const w2 = (setup.weight[i] ?? 0) ** 2;
    const v = setup.vol[i] ?? 0;
    sw += w2;
    sv += w2 * v * v * setup.T;
  }
  const first = (setup.vol[0] ?? 0) ** 2 * setup.T;
  const a = Math.max(sw > 0 ? sv / sw : first, setup.lower[0] ?? 0);
  const params: SviParams = { a, b: 0, rho: 0, m: setup.k[0] ?? 0, sigma: 0.1 };
  return {
    expiry: setup.T,
    forward,
    params,
    cost: vwCost(setup, params),
    iterations: 0,
    converged: true,
    degraded: setup.degraded,
  };
}

/**
 * Fits raw SVI to one slice. Throws InvalidInputError for a slice without quotes or with a
 * non-positive expiry; too few strikes give a degraded fit (see the module comment).
 */
export function fitSviSlice(slice: SurfaceSlice, options: SviFitOptions = {}): SviSliceFit {
  const setup = sviFitSetup(slice, options);
  if (setup.distinct <= 2) return flatFit(setup, slice.forward);
  const problem = sviProblem(setup);
  const maxIterations = options.maxIterations ?? 100;
  const bounds = { lower: setup.lower, upper: setup.upper, maxIterations };
  let best: { x: Float64Array; cost: number; converged: boolean } | null = null;
  let totalIterations = 0;
  for (const x0 of setup.starts) {
    const res = levenbergMarquardt(problem, x0, bounds);
    totalIterations += res.iterations;
    if (Number.isFinite(res.cost) && (best === null || res.cost < best.cost))
      best = { x: res.x, cost: res.cost, converged: res.converged };
  }
  const params = sviFromInternal(best ? best.x : (setup.starts[0] ?? setup.lower));
  return {
    expiry: setup.T,
    forward: slice.forward,
    params,
    cost: best ? best.cost : vwCost(setup, params),
    iterations: totalIterations,
    converged: best?.converged ?? false,
    degraded: setup.degraded,
  };
}
