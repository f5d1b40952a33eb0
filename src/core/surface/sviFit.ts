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
import { type SurfaceSlice, type SurfaceWeighting, surfaceQuoteWeights } from "./sliceData.js";
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
  const [v, beta, rho, m, sigma] = [x[0], x[1], x[2], x[3], x[4]];
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

/** Builds the LM problem of a slice in internal variables. */
function sviProblem(d: SliceArrays) {
  const n = d.k.length;
  const T = d.T;
  return {
    parameters: 5,
    residuals: n,
    evaluate(x: Float64Array, out: Float64Array) {
      const v = x[0];
      const rho = x[2];
      const m = x[3];
      const sg = x[4];
      const b = (2 * x[1]) / (1 + Math.abs(rho));
      const sS = sg * Math.sqrt(1 - rho * rho);
      for (let i = 0; i < n; i++) {
        const y = d.k[i] - m;
        const w = v + b * (rho * y + Math.sqrt(y * y + sg * sg) - sS);
        out[i] = d.weight[i] * (Math.sqrt(w > 0 ? w / T : 0) - d.vol[i]);
      }
    },
    jacobian(x: Float64Array, J: Float64Array) {
      const v = x[0];
      const beta = x[1];
      const rho = x[2];
      const m = x[3];
      const sg = x[4];
      const ar = Math.abs(rho);
      const sgn = rho > 0 ? 1 : rho < 0 ? -1 : 0;
      const b = (2 * beta) / (1 + ar);
      const dbdbeta = 2 / (1 + ar);
      const dbdrho = (-2 * beta * sgn) / ((1 + ar) * (1 + ar));
      const S = Math.sqrt(1 - rho * rho);
      for (let i = 0; i < n; i++) {
        const y = d.k[i] - m;
        const R = Math.sqrt(y * y + sg * sg);
        const shape = rho * y + R - sg * S;
        const w = Math.max(v + b * shape, 1e-300);
        const vol = Math.sqrt(w / T);
        const f = d.weight[i] / (2 * vol * T);
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
    const y = d.k[i] - m;
    const f = [1, y, Math.sqrt(y * y + s * s)];
    const o = omega[i] * omega[i];
    for (let a = 0; a < 3; a++) {
      r[a] += o * f[a] * wTarget[i];
      for (let b = 0; b < 3; b++) A[a * 3 + b] += o * f[a] * f[b];
    }
  }
  // Cramer's rule on the 3x3 system
  const det3 = (M: number[]) =>
    M[0] * (M[4] * M[8] - M[5] * M[7]) -
    M[1] * (M[3] * M[8] - M[5] * M[6]) +
    M[2] * (M[3] * M[7] - M[4] * M[6]);
  const D = det3(A);
  if (!(Math.abs(D) > 1e-300)) return null;
  const out: number[] = [];
  for (let c = 0; c < 3; c++) {
    const M = A.slice();
    for (let a = 0; a < 3; a++) M[a * 3 + c] = r[a];
    out.push(det3(M) / D);
  }
  return out.every(Number.isFinite) ? out : null;
}

function distinctCount(k: Float64Array): number {
  let c = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < k.length; i++) {
    if (k[i] - last > 1e-9) c++;
    last = k[i];
  }
  return c;
}

function vwCost(d: SliceArrays, p: SviParams): number {
  let s = 0;
  for (let i = 0; i < d.k.length; i++) {
    const w = sviTotalVariance(p, d.k[i]);
    const e = d.weight[i] * (Math.sqrt(w > 0 ? w / d.T : 0) - d.vol[i]);
    s += e * e;
  }
  return 0.5 * s;
}

/**
 * Fits raw SVI to one slice. Throws InvalidInputError for a slice without quotes or with a
 * non-positive expiry; too few strikes give a degraded fit (see the module comment).
 */
export function fitSviSlice(slice: SurfaceSlice, options: SviFitOptions = {}): SviSliceFit {
  const T = slice.expiry;
  if (!(Number.isFinite(T) && T > 0))
    throw new InvalidInputError("slice.expiry", T, "must be a finite number > 0");
  const n = slice.quotes.length;
  if (n === 0) throw new InvalidInputError("slice.quotes.length", 0, "must be at least 1");
  const order = slice.quotes.map((_, i) => i).sort((i, j) => slice.quotes[i].k - slice.quotes[j].k);
  const weights = surfaceQuoteWeights(slice, options.weighting ?? "spread");
  const d: SliceArrays = {
    k: Float64Array.from(order, (i) => slice.quotes[i].k),
    vol: Float64Array.from(order, (i) => slice.quotes[i].targetVol),
    weight: Float64Array.from(order, (i) => weights[i]),
    T,
  };
  for (let i = 0; i < n; i++) {
    if (!(Number.isFinite(d.k[i]) && Number.isFinite(d.vol[i]) && d.vol[i] > 0))
      throw new InvalidInputError(
        `slice.quotes[${order[i]}]`,
        { k: d.k[i], vol: d.vol[i] },
        "needs finite k and vol > 0",
      );
  }
  const wTarget = d.vol.map((v) => v * v * T);
  const omega = d.vol.map((v, i) => d.weight[i] / (2 * v * T));
  const kMin = d.k[0];
  const kMax = d.k[n - 1];
  const span = Math.max(kMax - kMin, 0.05);
  let wMax = 0;
  for (const w of wTarget) wMax = Math.max(wMax, w);
  const vFloor = VOL_FLOOR * VOL_FLOOR * T;
  const lower = [vFloor, 0, -RHO_MAX, kMin - span, 1e-4];
  const upper = [Math.max(2 * wMax, 2 * vFloor), BETA_MAX, RHO_MAX, kMax + span, Math.max(2, 2 * span)];
  const clampInternal = (x: number[]) =>
    x.map((xi, j) => Math.min(upper[j], Math.max(lower[j], Number.isFinite(xi) ? xi : lower[j])));

  const distinct = distinctCount(d.k);
  let degraded: string | null = null;

  // flat smile for 1-2 strikes
  if (distinct <= 2) {
    let sw = 0;
    let sv = 0;
    for (let i = 0; i < n; i++) {
      sw += d.weight[i] * d.weight[i];
      sv += d.weight[i] * d.weight[i] * wTarget[i];
    }
    const a = Math.max(sw > 0 ? sv / sw : wTarget[0], vFloor);
    const params: SviParams = { a, b: 0, rho: 0, m: d.k[0], sigma: 0.1 };
    degraded = `only ${distinct} distinct strike(s): flat smile (b = 0)`;
    return {
      expiry: T,
      forward: slice.forward,
      params,
      cost: vwCost(d, params),
      iterations: 0,
      converged: true,
      degraded,
    };
  }

  // quasi-explicit starting points on an (m, sigma) grid
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
      const [a, c, dd] = sol;
      const b = Math.max(dd, 1e-6);
      const rho = Math.max(-0.95, Math.min(0.95, c / b));
      const x = clampInternal(sviToInternal({ a, b, rho, m, sigma: s }));
      starts.push({ x, cost: vwCost(d, sviFromInternal(x)) });
    }
  }
  if (starts.length === 0)
    starts.push({
      x: clampInternal([wTarget[n >> 1], 0.1, 0, 0, 0.1 * span]),
      cost: Number.POSITIVE_INFINITY,
    });
  starts.sort((p, q) => p.cost - q.cost);

  if (distinct < 5) {
    const best = starts[0].x;
    lower[3] = upper[3] = best[3];
    lower[4] = upper[4] = best[4];
    degraded = `only ${distinct} distinct strikes: m and sigma fixed, fitted a, b, rho`;
  }

  const problem = sviProblem(d);
  const restarts = Math.max(1, options.restarts ?? 4);
  const maxIterations = options.maxIterations ?? 100;
  let best: { x: Float64Array; cost: number; iterations: number; converged: boolean } | null = null;
  let totalIterations = 0;
  const picked: number[][] = [];
  for (const s of starts) {
    if (picked.length >= restarts) break;
    // skip near-duplicate starts
    if (picked.some((p) => p.every((v, j) => Math.abs(v - s.x[j]) < 1e-3 * (Math.abs(v) + 1e-3)))) continue;
    picked.push(s.x);
    const res = levenbergMarquardt(problem, clampInternal(s.x), { lower, upper, maxIterations });
    totalIterations += res.iterations;
    if (Number.isFinite(res.cost) && (best === null || res.cost < best.cost))
      best = { x: res.x, cost: res.cost, iterations: res.iterations, converged: res.converged };
  }
  const x = best ? Array.from(best.x) : clampInternal(starts[0].x);
  const params = sviFromInternal(x);
  return {
    expiry: T,
    forward: slice.forward,
    params,
    cost: best ? best.cost : vwCost(d, params),
    iterations: totalIterations,
    converged: best?.converged ?? false,
    degraded,
  };
}
