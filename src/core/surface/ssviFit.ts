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

/** 121 points on [lo, hi] plus a geometric tail out to +-far (calendar floor grid). */
function calendarGrid(lo: number, hi: number, far: number): Float64Array {
  const pts: number[] = [];
  for (let i = 0; i <= 120; i++) pts.push(lo + ((hi - lo) * i) / 120);
  for (let x = 2; x <= 64; x *= 2) {
    if (lo * x > -far) pts.push(lo * x);
    if (hi * x < far) pts.push(hi * x);
  }
  pts.push(-far, far);
  return Float64Array.from(pts);
}

/** eSSVI internal (callWing, putWing, u) -> slice params given the previous slice's theta. */
function essviFromInternal(x: ArrayLike<number>, thetaPrev: number): EssviSliceParams {
  const cw = x[0];
  const pw = x[1];
  const psi = 0.5 * (cw + pw);
  const fb = ((cw + pw) * Math.max(cw, pw)) / 8;
  return { theta: Math.max(thetaPrev, fb) + x[2], rho: (cw - pw) / (cw + pw), psi };
}

/** Fits eSSVI slice by slice (increasing expiry) with the arbitrage constraints as bounds. */
export function fitEssviSurface(
  slices: readonly SurfaceSlice[],
  options: SsviFitOptions = {},
): EssviSliceFit[] {
  checkSlices(slices);
  const weighting = options.weighting ?? "spread";
  const maxIterations = options.maxIterations ?? 100;
  const fits: EssviSliceFit[] = [];
  let prev = { theta: 0, cw: 0, pw: 0 };
  let prevParams: EssviSliceParams | null = null;
  const grad = new Float64Array(3);
  for (const slice of slices) {
    const f = flatten([slice], weighting);
    const n = f.k.length;
    const T = slice.expiry;
    const thetaPrev = prev.theta;
    // calendar floor: the previous slice on a dense grid (none for the first slice)
    let kLo = 0;
    let kHi = 0;
    for (let i = 0; i < n; i++) {
      kLo = Math.min(kLo, f.k[i]);
      kHi = Math.max(kHi, f.k[i]);
    }
    const reach = Math.max(kHi - kLo, 0.5);
    const grid = prevParams ? calendarGrid(kLo - reach, kHi + reach, 25 * reach) : new Float64Array(0);
    const nGrid = grid.length;
    const floorW = grid.map((k) => (prevParams ? essviTotalVariance(prevParams, k) * (1 + 1e-10) : 0));
    const scale = Math.max(thetaPrev, 1e-8);
    const penalty = { sqrtMu: 10 };
    const problem = {
      parameters: 3,
      residuals: n + nGrid,
      evaluate(x: Float64Array, out: Float64Array) {
        const p = essviFromInternal(x, thetaPrev);
        for (let i = 0; i < n; i++) {
          const w = essviTotalVariance(p, f.k[i]);
          out[i] = f.weight[i] * (Math.sqrt(w > 0 ? w / T : 0) - f.vol[i]);
        }
        for (let j = 0; j < nGrid; j++) {
          const gap = floorW[j] - essviTotalVariance(p, grid[j]);
          out[n + j] = gap > 0 ? (penalty.sqrtMu * gap) / scale : 0;
        }
      },
      jacobian(x: Float64Array, J: Float64Array) {
        const cw = x[0];
        const pw = x[1];
        const p = essviFromInternal(x, thetaPrev);
        const s = cw + pw;
        const fb = (s * Math.max(cw, pw)) / 8;
        const active = fb > thetaPrev;
        const dfdc = active ? (cw >= pw ? (2 * cw + pw) / 8 : pw / 8) : 0;
        const dfdp = active ? (cw >= pw ? cw / 8 : (cw + 2 * pw) / 8) : 0;
        const drdc = (2 * pw) / (s * s);
        const drdp = (-2 * cw) / (s * s);
        for (let i = 0; i < n; i++) {
          const w = Math.max(essviTotalVariance(p, f.k[i]), 1e-300);
          essviGradient(p, f.k[i], grad);
          const c = f.weight[i] / (2 * Math.sqrt(w / T) * T);
          J[i * 3] = c * (grad[0] * dfdc + grad[1] * drdc + grad[2] * 0.5);
          J[i * 3 + 1] = c * (grad[0] * dfdp + grad[1] * drdp + grad[2] * 0.5);
          J[i * 3 + 2] = c * grad[0];
        }
        for (let j = 0; j < nGrid; j++) {
          const row = (n + j) * 3;
          const gap = floorW[j] - essviTotalVariance(p, grid[j]);
          if (!(gap > 0)) {
            J[row] = J[row + 1] = J[row + 2] = 0;
            continue;
          }
          essviGradient(p, grid[j], grad);
          const c = -penalty.sqrtMu / scale;
          J[row] = c * (grad[0] * dfdc + grad[1] * drdc + grad[2] * 0.5);
          J[row + 1] = c * (grad[0] * dfdp + grad[1] * drdp + grad[2] * 0.5);
          J[row + 2] = c * grad[0];
        }
      },
    };
    const atm = marketAtmTotalVariance(slice);
    let wMax = 0;
    for (let i = 0; i < n; i++) wMax = Math.max(wMax, f.vol[i] ** 2 * T);
    const lower = [Math.max(prev.cw, 1e-8), Math.max(prev.pw, 1e-8), 0];
    const upper = [WING_MAX, WING_MAX, 4 * wMax + 1e-6];
    let degraded: string | null = null;
    if (lower[0] >= WING_MAX || lower[1] >= WING_MAX) {
      lower[0] = Math.min(lower[0], WING_MAX);
      lower[1] = Math.min(lower[1], WING_MAX);
      degraded = "wing bound reached: slice pinned to the previous slice's wings";
    }
    const distinct = new Set(Array.from(f.k, (k) => k.toFixed(9))).size;
    if (distinct < 3) {
      degraded = `only ${distinct} distinct strike(s): smile shape copied from the previous slice`;
      lower[0] = upper[0] = lower[0];
      lower[1] = upper[1] = lower[1];
    }
    let best: { x: Float64Array; cost: number; iterations: number; converged: boolean } | null = null;
    let iterations = 0;
    const calendarOk = (x: ArrayLike<number>): boolean => {
      const p = essviFromInternal(x, thetaPrev);
      for (let j = 0; j < nGrid; j++)
        if (essviTotalVariance(p, grid[j]) < floorW[j] / (1 + 1e-10) - 1e-15) return false;
      return true;
    };
    for (const rho0 of [-0.4, 0, 0.4]) {
      for (const scale of [0.3, 1]) {
        const psi0 = scale * Math.sqrt(Math.max(atm, 1e-8));
        const cw0 = psi0 * (1 + rho0);
        const pw0 = psi0 * (1 - rho0);
        const fb = ((cw0 + pw0) * Math.max(cw0, pw0)) / 8;
        const x0 = [cw0, pw0, Math.max(atm - Math.max(thetaPrev, fb), 0)];
        const res = levenbergMarquardt(problem, x0, { lower, upper, maxIterations });
        iterations += res.iterations;
        if (Number.isFinite(res.cost) && (best === null || res.cost < best.cost))
          best = { x: res.x, cost: res.cost, iterations: res.iterations, converged: res.converged };
      }
    }
    if (!best) throw new InvalidInputError("slice", slice.expiry, "gave a non-finite fit cost");
    for (let round = 0; round < 6 && !calendarOk(best.x); round++) {
      penalty.sqrtMu *= 10;
      const res = levenbergMarquardt(problem, best.x, { lower, upper, maxIterations });
      iterations += res.iterations;
      best = { x: res.x, cost: res.cost, iterations: res.iterations, converged: res.converged };
    }
    if (!calendarOk(best.x)) {
      // fall back to a provably calendar-free slice: the previous one scaled to the ATM level
      const lambda = Math.max(1, atm / Math.max(thetaPrev, 1e-12));
      const x = new Float64Array([
        Math.min(prev.cw * lambda, WING_MAX),
        Math.min(prev.pw * lambda, WING_MAX),
        0,
      ]);
      const fb = ((x[0] + x[1]) * Math.max(x[0], x[1])) / 8;
      x[2] = Math.max(thetaPrev * lambda - Math.max(thetaPrev, fb), 0);
      const r = new Float64Array(n + nGrid);
      problem.evaluate(x, r);
      let cost = 0;
      for (let i = 0; i < n; i++) cost += 0.5 * r[i] * r[i];
      best = { x, cost, iterations: 0, converged: false };
      degraded = "calendar penalty did not converge: previous slice scaled to the ATM level";
    }
    const params = essviFromInternal(best.x, thetaPrev);
    fits.push({
      expiry: T,
      forward: slice.forward,
      params,
      cost: best.cost,
      iterations,
      converged: best.converged,
      degraded,
    });
    prev = { theta: params.theta, cw: best.x[0], pw: best.x[1] };
    prevParams = params;
  }
  return fits;
}
