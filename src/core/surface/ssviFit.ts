/**
 * SSVI (power law, one global fit) and eSSVI (slice by slice) calibration with the
 * Gatheral-Jacquier no-arbitrage conditions enforced during the fit, by parametrizing the
 * admissible set as a box for the projected Levenberg-Marquardt solver (vol-space weighted
 * least squares, as in sviFit.ts).
 *
 * SSVI: variables (rho, e, gamma, theta_1, dtheta_2..dtheta_N) with eta = 2 e / (1 + |rho|),
 * e in (0, 1], gamma in [0.01, 0.5], theta_i = theta_1 + sum dtheta (dtheta >= 0): then
 * eta (1 + |rho|) <= 2 and gamma <= 1/2 give no butterfly arbitrage and theta non-decreasing with
 * theta phi(theta) increasing gives no calendar arbitrage (GJ 2014, section 4). One expiry:
 * gamma is not identifiable and is fixed at 0.5 (reported as degraded).
 *
 * eSSVI (after Corbetta, Cohort, Laachir, Martini 2019): slices in increasing T, each with variables
 * (callWing = psi(1+rho), putWing = psi(1-rho), u >= 0), theta = max(theta_prev, (cw + pw) max(cw, pw) / 8) + u,
 * cw >= cw_prev, pw >= pw_prev, max(cw, pw) < 4: the GJ butterfly conditions (Thm 4.2) hold by
 * construction, as do the necessary calendar conditions (ATM level, wing slopes). Those are not
 * sufficient (see ssvi.ts), so w(k) >= w_prev(k) is also imposed on a dense k grid (out to 25x
 * the quoted range) by a quadratic penalty raised until it holds; the arbitrage report verifies.
 *
 * Units: k = ln(K/F), T years, theta total variance.
 */
import { InvalidInputError } from "../errors.js";
import { levenbergMarquardt } from "../math/levenbergMarquardt.js";
import { type SurfaceSlice, type SurfaceWeighting, surfaceQuoteWeights } from "./sliceData.js";
import { type EssviSliceParams, essviGradient, essviTotalVariance, type SsviPowerLawParams } from "./ssvi.js";

export interface SsviFitOptions {
  readonly weighting?: SurfaceWeighting;
  readonly maxIterations?: number;
}

export interface SsviSurfaceFit {
  readonly params: SsviPowerLawParams;
  readonly nodes: { expiry: number; forward: number; theta: number }[];
  readonly cost: number;
  readonly iterations: number;
  readonly converged: boolean;
  readonly degraded: string | null;
}

export interface EssviSliceFit {
  readonly expiry: number;
  readonly forward: number;
  readonly params: EssviSliceParams;
  readonly cost: number;
  readonly iterations: number;
  readonly converged: boolean;
  readonly degraded: string | null;
}

interface Flat {
  k: Float64Array;
  vol: Float64Array;
  weight: Float64Array;
  slice: Int32Array;
  T: Float64Array;
}

function flatten(slices: readonly SurfaceSlice[], weighting: SurfaceWeighting): Flat {
  const total = slices.reduce((s, x) => s + x.quotes.length, 0);
  const f: Flat = {
    k: new Float64Array(total),
    vol: new Float64Array(total),
    weight: new Float64Array(total),
    slice: new Int32Array(total),
    T: new Float64Array(slices.length),
  };
  let i = 0;
  slices.forEach((s, j) => {
    f.T[j] = s.expiry;
    const w = surfaceQuoteWeights(s, weighting);
    s.quotes.forEach((q, qi) => {
      if (!(Number.isFinite(q.k) && Number.isFinite(q.targetVol) && q.targetVol > 0))
        throw new InvalidInputError(`slices[${j}].quotes[${qi}]`, q, "needs finite k and targetVol > 0");
      f.k[i] = q.k;
      f.vol[i] = q.targetVol;
      f.weight[i] = w[qi];
      f.slice[i] = j;
      i++;
    });
  });
  return f;
}

/** Market ATM total variance of a slice: linear interpolation of targetVol^2 T at k = 0. */
export function marketAtmTotalVariance(slice: SurfaceSlice): number {
  const qs = [...slice.quotes].sort((a, b) => a.k - b.k);
  const T = slice.expiry;
  if (qs.length === 0) throw new InvalidInputError("slice.quotes.length", 0, "must be at least 1");
  let i = qs.findIndex((q) => q.k >= 0);
  if (i < 0) i = qs.length - 1;
  if (i === 0 || qs[i].k === 0) return qs[i].targetVol ** 2 * T;
  const a = qs[i - 1];
  const b = qs[i];
  const t = (0 - a.k) / (b.k - a.k);
  return ((1 - t) * a.targetVol ** 2 + t * b.targetVol ** 2) * T;
}

function checkSlices(slices: readonly SurfaceSlice[]): void {
  if (slices.length === 0) throw new InvalidInputError("slices.length", 0, "must be at least 1");
  slices.forEach((s, j) => {
    if (!(Number.isFinite(s.expiry) && s.expiry > 0))
      throw new InvalidInputError(`slices[${j}].expiry`, s.expiry, "must be > 0");
    if (j > 0 && !(s.expiry > slices[j - 1].expiry))
      throw new InvalidInputError(`slices[${j}].expiry`, s.expiry, "must be strictly increasing");
    if (s.quotes.length === 0)
      throw new InvalidInputError(`slices[${j}].quotes.length`, 0, "must be at least 1");
  });
}

/** Fits a power-law SSVI surface to all slices at once. */
export function fitSsviSurface(
  slices: readonly SurfaceSlice[],
  options: SsviFitOptions = {},
): SsviSurfaceFit {
  checkSlices(slices);
  const N = slices.length;
  const f = flatten(slices, options.weighting ?? "spread");
  const M = f.k.length;
  const P = 3 + N;
  const thetaOf = (x: Float64Array, out: Float64Array) => {
    let t = x[3];
    out[0] = t;
    for (let j = 1; j < N; j++) {
      t += x[3 + j];
      out[j] = t;
    }
  };
  const theta = new Float64Array(N);
  const grad = new Float64Array(3);
  const problem = {
    parameters: P,
    residuals: M,
    evaluate(x: Float64Array, out: Float64Array) {
      const rho = x[0];
      const eta = (2 * x[1]) / (1 + Math.abs(rho));
      const gamma = x[2];
      thetaOf(x, theta);
      for (let i = 0; i < M; i++) {
        const th = theta[f.slice[i]];
        const psi = (eta * th ** (1 - gamma)) / (1 + th) ** (1 - gamma);
        const w = essviTotalVariance({ theta: th, rho, psi }, f.k[i]);
        out[i] = f.weight[i] * (Math.sqrt(w > 0 ? w / f.T[f.slice[i]] : 0) - f.vol[i]);
      }
    },
    jacobian(x: Float64Array, J: Float64Array) {
      J.fill(0);
      const rho = x[0];
      const ar = Math.abs(rho);
      const sgn = rho > 0 ? 1 : rho < 0 ? -1 : 0;
      const eta = (2 * x[1]) / (1 + ar);
      const gamma = x[2];
      thetaOf(x, theta);
      for (let i = 0; i < M; i++) {
        const j = f.slice[i];
        const th = theta[j];
        const T = f.T[j];
        const ratio = th / (1 + th);
        const psi = eta * ratio ** (1 - gamma);
        const p = { theta: th, rho, psi };
        const w = Math.max(essviTotalVariance(p, f.k[i]), 1e-300);
        essviGradient(p, f.k[i], grad);
        const c = f.weight[i] / (2 * Math.sqrt(w / T) * T);
        const dpsiDeta = psi / eta;
        const dwdPsi = grad[2];
        const row = i * P;
        // rho: direct + through eta
        J[row] = c * (grad[1] + dwdPsi * dpsiDeta * ((-2 * x[1] * sgn) / ((1 + ar) * (1 + ar))));
        J[row + 1] = c * dwdPsi * dpsiDeta * (2 / (1 + ar));
        J[row + 2] = c * dwdPsi * psi * -Math.log(ratio);
        const dpsiDtheta = (psi * (1 - gamma)) / (th * (1 + th));
        const dwdTheta = c * (grad[0] + dwdPsi * dpsiDtheta);
        for (let l = 0; l <= j; l++) J[row + 3 + l] = dwdTheta;
      }
    },
  };
  const atm = slices.map(marketAtmTotalVariance);
  const thetaStart: number[] = [];
  let run = 0;
  for (const a of atm) {
    run = Math.max(run, a, 1e-8);
    thetaStart.push(run);
  }
  let wMax = 0;
  for (let i = 0; i < M; i++) wMax = Math.max(wMax, f.vol[i] ** 2 * f.T[f.slice[i]]);
  const lower = [-0.999, 1e-6, 0.01, 1e-8];
  const upper = [0.999, 1, 0.5, 4 * wMax + 1e-6];
  for (let j = 1; j < N; j++) {
    lower.push(0);
    upper.push(4 * wMax + 1e-6);
  }
  let degraded: string | null = null;
  if (N === 1) {
    lower[2] = upper[2] = 0.5;
    degraded = "single expiry: gamma fixed at 0.5 (not identifiable from one slice)";
  }
  const maxIterations = options.maxIterations ?? 200;
  let best: { x: Float64Array; cost: number; iterations: number; converged: boolean } | null = null;
  let iterations = 0;
  for (const rho0 of [-0.3, 0.1, 0.5]) {
    for (const e0 of [0.3, 0.8]) {
      const x0 = [rho0, e0, N === 1 ? 0.5 : 0.4, thetaStart[0]];
      for (let j = 1; j < N; j++) x0.push(thetaStart[j] - thetaStart[j - 1]);
      const res = levenbergMarquardt(problem, x0, { lower, upper, maxIterations });
      iterations += res.iterations;
      if (Number.isFinite(res.cost) && (best === null || res.cost < best.cost))
        best = { x: res.x, cost: res.cost, iterations: res.iterations, converged: res.converged };
    }
  }
  if (!best) throw new InvalidInputError("slices", "non-finite residuals", "must give a finite fit cost");
  const x = best.x;
  thetaOf(x, theta);
  const rho = x[0];
  return {
    params: { rho, eta: (2 * x[1]) / (1 + Math.abs(rho)), gamma: x[2] },
    nodes: slices.map((s, j) => ({ expiry: s.expiry, forward: s.forward, theta: theta[j] })),
    cost: best.cost,
    iterations,
    converged: best.converged,
    degraded,
  };
}

const WING_MAX = 4 * (1 - 1e-9);
/** Relative calendar margin of the eSSVI fit (w_i >= (1 + m) w_{i-1} on its grid). */
const CAL_MARGIN = 1e-7;

/** 241 points on [lo, hi] plus a geometric tail out to +-far (calendar grid). */
function calendarGrid(lo: number, hi: number, far: number): Float64Array {
  const pts: number[] = [];
  for (let i = 0; i <= 240; i++) pts.push(lo + ((hi - lo) * i) / 240);
  for (let x = 1.5; x <= 64; x *= 1.5) {
    if (lo * x > -far) pts.push(lo * x);
    if (hi * x < far) pts.push(hi * x);
  }
  pts.push(-far, far);
  return Float64Array.from(pts);
}

/**
 * Internal (callWing, putWing, u) -> slice params and d theta / d(cw, pw, u), f = (cw+pw) max(cw,pw)/8:
 * "after" a fitted earlier slice: theta = max(thetaPrev, f) + u (u >= 0);
 * "before" a fitted later slice: theta = f + u (thetaNext - f) (u in [0, 1]);
 * alone: theta = f + u (u >= 0).
 */
function essviMap(
  x: ArrayLike<number>,
  mode: "after" | "before" | "alone",
  thetaRef: number,
): { p: EssviSliceParams; dc: number; dp: number; du: number } {
  const cw = x[0];
  const pw = x[1];
  const u = x[2];
  const s = cw + pw;
  const f = (s * Math.max(cw, pw)) / 8;
  const dfdc = cw >= pw ? (2 * cw + pw) / 8 : pw / 8;
  const dfdp = cw >= pw ? cw / 8 : (cw + 2 * pw) / 8;
  let theta: number;
  let k = 1; // d theta / d f
  let du = 1;
  if (mode === "after") {
    theta = Math.max(thetaRef, f) + u;
    if (!(f > thetaRef)) k = 0;
  } else if (mode === "before") {
    theta = f + u * (thetaRef - f);
    k = 1 - u;
    du = thetaRef - f;
  } else theta = f + u;
  return { p: { theta, rho: (cw - pw) / s, psi: 0.5 * s }, dc: k * dfdc, dp: k * dfdp, du };
}

interface EssviRun {
  fits: EssviSliceFit[];
  totalCost: number;
}

/** One sequential eSSVI pass, in increasing ("forward") or decreasing ("backward") expiry. */
function essviPass(
  slices: readonly SurfaceSlice[],
  order: "forward" | "backward",
  weighting: SurfaceWeighting,
  maxIterations: number,
): EssviRun {
  const N = slices.length;
  const fits: (EssviSliceFit | null)[] = slices.map(() => null);
  let ref: { theta: number; cw: number; pw: number; params: EssviSliceParams } | null = null;
  const grad = new Float64Array(3);
  let totalCost = 0;
  for (let step = 0; step < N; step++) {
    const idx = order === "forward" ? step : N - 1 - step;
    const slice = slices[idx];
    const f = flatten([slice], weighting);
    const n = f.k.length;
    const T = slice.expiry;
    const mode: "after" | "before" | "alone" =
      ref === null ? "alone" : order === "forward" ? "after" : "before";
    const thetaRef = ref ? ref.theta : 0;
    const refParams = ref ? ref.params : null;
    let kLo = 0;
    let kHi = 0;
    for (let i = 0; i < n; i++) {
      kLo = Math.min(kLo, f.k[i]);
      kHi = Math.max(kHi, f.k[i]);
    }
    const reach = Math.max(kHi - kLo, 0.5);
    const grid = refParams ? calendarGrid(kLo - reach, kHi + reach, 25 * reach) : new Float64Array(0);
    const nGrid = grid.length;
    // forward: w >= (1+m) w_prev (a floor); backward: w <= w_next / (1+m) (a ceiling)
    const bound = grid.map((k) =>
      refParams
        ? order === "forward"
          ? essviTotalVariance(refParams, k) * (1 + CAL_MARGIN)
          : essviTotalVariance(refParams, k) / (1 + CAL_MARGIN)
        : 0,
    );
    const sign = order === "forward" ? 1 : -1; // gap = sign (bound - w) > 0 is a violation
    const scale = Math.max(thetaRef, 1e-8);
    const penalty = { sqrtMu: 10 };
    const problem = {
      parameters: 3,
      residuals: n + nGrid,
      evaluate(x: Float64Array, out: Float64Array) {
        const { p } = essviMap(x, mode, thetaRef);
        for (let i = 0; i < n; i++) {
          const w = essviTotalVariance(p, f.k[i]);
          out[i] = f.weight[i] * (Math.sqrt(w > 0 ? w / T : 0) - f.vol[i]);
        }
        for (let j = 0; j < nGrid; j++) {
          const gap = sign * (bound[j] - essviTotalVariance(p, grid[j]));
          out[n + j] = gap > 0 ? (penalty.sqrtMu * gap) / scale : 0;
        }
      },
      jacobian(x: Float64Array, J: Float64Array) {
        const m = essviMap(x, mode, thetaRef);
        const p = m.p;
        const s = x[0] + x[1];
        const drdc = (2 * x[1]) / (s * s);
        const drdp = (-2 * x[0]) / (s * s);
        const row3 = (r: number, c: number) => {
          J[r * 3] = c * (grad[0] * m.dc + grad[1] * drdc + grad[2] * 0.5);
          J[r * 3 + 1] = c * (grad[0] * m.dp + grad[1] * drdp + grad[2] * 0.5);
          J[r * 3 + 2] = c * grad[0] * m.du;
        };
        for (let i = 0; i < n; i++) {
          const w = Math.max(essviTotalVariance(p, f.k[i]), 1e-300);
          essviGradient(p, f.k[i], grad);
          row3(i, f.weight[i] / (2 * Math.sqrt(w / T) * T));
        }
        for (let j = 0; j < nGrid; j++) {
          const gap = sign * (bound[j] - essviTotalVariance(p, grid[j]));
          if (!(gap > 0)) {
            J[(n + j) * 3] = J[(n + j) * 3 + 1] = J[(n + j) * 3 + 2] = 0;
            continue;
          }
          essviGradient(p, grid[j], grad);
          row3(n + j, (-sign * penalty.sqrtMu) / scale);
        }
      },
    };
    const atm = marketAtmTotalVariance(slice);
    let wMax = 0;
    for (let i = 0; i < n; i++) wMax = Math.max(wMax, f.vol[i] ** 2 * T);
    let lower: number[];
    let upper: number[];
    if (mode === "after" && ref) {
      lower = [Math.min(Math.max(ref.cw, 1e-8), WING_MAX), Math.min(Math.max(ref.pw, 1e-8), WING_MAX), 0];
      upper = [WING_MAX, WING_MAX, 4 * wMax + 1e-6];
    } else if (mode === "before" && ref) {
      lower = [1e-8, 1e-8, 0];
      upper = [Math.max(ref.cw, 1e-8), Math.max(ref.pw, 1e-8), 1];
    } else {
      lower = [1e-8, 1e-8, 0];
      upper = [WING_MAX, WING_MAX, 4 * wMax + 1e-6];
    }
    let degraded: string | null = null;
    const distinct = new Set(Array.from(f.k, (k) => k.toFixed(9))).size;
    if (distinct < 3) {
      if (ref) {
        degraded = `only ${distinct} distinct strike(s): smile shape copied from the neighbouring slice`;
        lower[0] = upper[0] = Math.min(Math.max(ref.cw, 1e-8), WING_MAX);
        lower[1] = upper[1] = Math.min(Math.max(ref.pw, 1e-8), WING_MAX);
      } else degraded = `only ${distinct} distinct strike(s): smile shape weakly determined`;
    }
    const calendarOk = (x: ArrayLike<number>): boolean => {
      const { p } = essviMap(x, mode, thetaRef);
      for (let j = 0; j < nGrid; j++) {
        const w = essviTotalVariance(p, grid[j]);
        const prevOrNext = order === "forward" ? bound[j] / (1 + CAL_MARGIN) : bound[j] * (1 + CAL_MARGIN);
        if (order === "forward" ? w < prevOrNext : w > prevOrNext) return false;
      }
      return true;
    };
    const clamp = (x: number[]) => x.map((v, j) => Math.min(upper[j], Math.max(lower[j], v)));
    let best: { x: Float64Array; cost: number; converged: boolean } | null = null;
    let iterations = 0;
    for (const rho0 of [-0.4, 0, 0.4]) {
      for (const sc of [0.3, 1]) {
        const psi0 = sc * Math.sqrt(Math.max(atm, 1e-8));
        const cw0 = psi0 * (1 + rho0);
        const pw0 = psi0 * (1 - rho0);
        const f0 = ((cw0 + pw0) * Math.max(cw0, pw0)) / 8;
        let u0: number;
        if (mode === "after") u0 = Math.max(atm - Math.max(thetaRef, f0), 0);
        else if (mode === "before")
          u0 = thetaRef > f0 ? Math.min(Math.max((atm - f0) / (thetaRef - f0), 0), 1) : 0;
        else u0 = Math.max(atm - f0, 0);
        const res = levenbergMarquardt(problem, clamp([cw0, pw0, u0]), { lower, upper, maxIterations });
        iterations += res.iterations;
        if (Number.isFinite(res.cost) && (best === null || res.cost < best.cost))
          best = { x: res.x, cost: res.cost, converged: res.converged };
      }
    }
    if (!best) throw new InvalidInputError("slice", slice.expiry, "gave a non-finite fit cost");
    for (let round = 0; round < 8 && !calendarOk(best.x); round++) {
      penalty.sqrtMu *= 10;
      const res = levenbergMarquardt(problem, best.x, { lower, upper, maxIterations });
      iterations += res.iterations;
      best = { x: res.x, cost: res.cost, converged: res.converged };
    }
    if (!calendarOk(best.x) && ref) {
      // provably calendar-free fallback: the neighbour itself scaled (w is 1-homogeneous in (theta, cw, pw))
      const lam = order === "forward" ? 1 + 2 * CAL_MARGIN : 1 / (1 + 2 * CAL_MARGIN);
      const cw = Math.min(ref.cw * lam, upper[0]);
      const pw = Math.min(ref.pw * lam, upper[1]);
      const fb = ((cw + pw) * Math.max(cw, pw)) / 8;
      const target = ref.theta * lam;
      const u: number =
        mode === "after"
          ? Math.max(target - Math.max(thetaRef, fb), 0)
          : thetaRef > fb
            ? Math.min(Math.max((target - fb) / (thetaRef - fb), 0), 1)
            : 0;
      best = { x: new Float64Array([cw, pw, u]), cost: Number.POSITIVE_INFINITY, converged: false };
      degraded = "calendar penalty did not converge: neighbouring slice reused (scaled)";
    }
    const params: EssviSliceParams = essviMap(best.x, mode, thetaRef).p;
    // weighted fit cost of the quotes only (no penalty rows)
    let cost = 0;
    for (let i = 0; i < n; i++) {
      const w = essviTotalVariance(params, f.k[i]);
      cost += 0.5 * (f.weight[i] * (Math.sqrt(w > 0 ? w / T : 0) - f.vol[i])) ** 2;
    }
    totalCost += cost;
    fits[idx] = {
      expiry: T,
      forward: slice.forward,
      params,
      cost,
      iterations,
      converged: best.converged,
      degraded,
    };
    ref = { theta: params.theta, cw: best.x[0], pw: best.x[1], params };
  }
  return { fits: fits as EssviSliceFit[], totalCost };
}

/**
 * Fits eSSVI slice by slice with the arbitrage constraints as bounds (see the module comment),
 * twice - in increasing expiry (each slice bounded below by the previous one) and in decreasing
 * expiry (each bounded above by the next one) - and keeps the pass with the lower total weighted
 * cost (in vol space, so short expiries weigh most).
 */
export function fitEssviSurface(
  slices: readonly SurfaceSlice[],
  options: SsviFitOptions = {},
): EssviSliceFit[] {
  checkSlices(slices);
  const weighting = options.weighting ?? "spread";
  const maxIterations = options.maxIterations ?? 100;
  const fwd = essviPass(slices, "forward", weighting, maxIterations);
  if (slices.length === 1) return fwd.fits;
  const bwd = essviPass(slices, "backward", weighting, maxIterations);
  return bwd.totalCost < fwd.totalCost ? bwd.fits : fwd.fits;
}
