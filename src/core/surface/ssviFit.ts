/**
 * Power-law SSVI calibration (one global fit) with the Gatheral-Jacquier no-arbitrage conditions
 * enforced during the fit, by parametrizing the admissible set as a box for the projected
 * Levenberg-Marquardt solver (vol-space weighted least squares, as in sviFit.ts). The slice-by-slice
 * eSSVI fit is in essviFit.ts, the shared pieces in ssviFitData.ts.
 *
 * Variables (rho, e, gamma, theta_1, dtheta_2..dtheta_N) with eta = 2 e / (1 + |rho|),
 * e in (0, 1], gamma in [0.01, 0.5], theta_i = theta_1 + sum dtheta (dtheta >= 0): then
 * eta (1 + |rho|) <= 2 and gamma <= 1/2 give no butterfly arbitrage and theta non-decreasing with
 * theta phi(theta) increasing gives no calendar arbitrage (GJ 2014, section 4). One expiry:
 * gamma is not identifiable and is fixed at 0.5 (reported as degraded).
 *
 * Units: k = ln(K/F), T years, theta total variance.
 */
import { InvalidInputError } from "../errors.js";
import { type LeastSquaresProblem, levenbergMarquardt } from "../math/levenbergMarquardt.js";
import type { SurfaceSlice } from "./sliceData.js";
import { essviGradient, essviTotalVariance, type SsviPowerLawParams } from "./ssvi.js";
import {
  type BestRun,
  betterRun,
  checkSlices,
  type FitPoint,
  fitPoints,
  marketAtmTotalVariance,
  maxTotalVariance,
  type SsviFitOptions,
  volResidual,
  volResidualSlope,
} from "./ssviFitData.js";

export { marketAtmTotalVariance, type SsviFitOptions } from "./ssviFitData.js";

export interface SsviSurfaceFit {
  readonly params: SsviPowerLawParams;
  readonly nodes: { expiry: number; forward: number; theta: number }[];
  readonly cost: number;
  readonly iterations: number;
  readonly converged: boolean;
  readonly degraded: string | null;
}

/** theta_1 = x[3], theta_j = theta_{j-1} + x[3 + j - 1], into out (length N). */
function thetaOf(x: Float64Array, out: Float64Array): void {
  let t = x[3] ?? 0;
  out[0] = t;
  for (let j = 1; j < out.length; j++) {
    t += x[3 + j] ?? 0;
    out[j] = t;
  }
}

/** (rho, eta, gamma) of the internal variables (eta = 2 e / (1 + |rho|)). */
function powerLawOf(x: Float64Array): SsviPowerLawParams {
  const rho = x[0] ?? 0;
  return { rho, eta: (2 * (x[1] ?? 0)) / (1 + Math.abs(rho)), gamma: x[2] ?? 0 };
}

function ssviResiduals(x: Float64Array, points: readonly FitPoint[], theta: Float64Array, out: Float64Array) {
  const { rho, eta, gamma } = powerLawOf(x);
  thetaOf(x, theta);
  let i = 0;
  for (const q of points) {
    const th = theta[q.slice] ?? 0;
    const psi = (eta * th ** (1 - gamma)) / (1 + th) ** (1 - gamma);
    out[i++] = volResidual(q, essviTotalVariance({ theta: th, rho, psi }, q.k));
  }
}

/** Analytic Jacobian (row-major, 3 + N columns) of the SSVI residuals. */
function ssviJacobian(
  x: Float64Array,
  points: readonly FitPoint[],
  theta: Float64Array,
  grad: Float64Array,
  J: Float64Array,
): void {
  J.fill(0);
  const P = x.length;
  const { rho, eta, gamma } = powerLawOf(x);
  const e = x[1] ?? 0;
  const ar = Math.abs(rho);
  const sgn = rho > 0 ? 1 : rho < 0 ? -1 : 0;
  thetaOf(x, theta);
  let row = 0;
  for (const q of points) {
    const th = theta[q.slice] ?? 0;
    const ratio = th / (1 + th);
    const psi = eta * ratio ** (1 - gamma);
    const p = { theta: th, rho, psi };
    const w = Math.max(essviTotalVariance(p, q.k), 1e-300);
    essviGradient(p, q.k, grad);
    const c = volResidualSlope(q, w);
    const dpsiDeta = psi / eta;
    const dwdPsi = grad[2] ?? 0;
    // rho: direct + through eta
    J[row] = c * ((grad[1] ?? 0) + dwdPsi * dpsiDeta * ((-2 * e * sgn) / ((1 + ar) * (1 + ar))));
    J[row + 1] = c * dwdPsi * dpsiDeta * (2 / (1 + ar));
    J[row + 2] = c * dwdPsi * psi * -Math.log(ratio);
    const dpsiDtheta = (psi * (1 - gamma)) / (th * (1 + th));
    const dwdTheta = c * ((grad[0] ?? 0) + dwdPsi * dpsiDtheta);
    for (let l = 0; l <= q.slice; l++) J[row + 3 + l] = dwdTheta;
    row += P;
  }
}

function ssviProblem(points: readonly FitPoint[], N: number): LeastSquaresProblem {
  const theta = new Float64Array(N);
  const grad = new Float64Array(3);
  return {
    parameters: 3 + N,
    residuals: points.length,
    evaluate: (x, out) => ssviResiduals(x, points, theta, out),
    jacobian: (x, J) => ssviJacobian(x, points, theta, grad, J),
  };
}

/** Box of the internal variables; one expiry fixes gamma at 0.5 (degraded). */
function ssviBounds(points: readonly FitPoint[], N: number) {
  const wMax = maxTotalVariance(points);
  const lower = [-0.999, 1e-6, 0.01, 1e-8];
  const upper = [0.999, 1, 0.5, 4 * wMax + 1e-6];
  for (let j = 1; j < N; j++) {
    lower.push(0);
    upper.push(4 * wMax + 1e-6);
  }
  if (N > 1) return { lower, upper, degraded: null };
  lower[2] = upper[2] = 0.5;
  return { lower, upper, degraded: "single expiry: gamma fixed at 0.5 (not identifiable from one slice)" };
}

/** Start values of (theta_1, dtheta_2..): the running max of the market ATM total variances. */
function thetaStartIncrements(slices: readonly SurfaceSlice[]): number[] {
  const out: number[] = [];
  let run = 0;
  for (const s of slices) {
    const prev = run;
    run = Math.max(run, marketAtmTotalVariance(s), 1e-8);
    out.push(out.length === 0 ? run : run - prev);
  }
  return out;
}

/** LM from six (rho, e) starts; the lowest finite cost and the total iterations. */
function bestOfStarts(
  problem: LeastSquaresProblem,
  thetaStart: readonly number[],
  bounds: { lower: number[]; upper: number[] },
  maxIterations: number,
): { best: BestRun | null; iterations: number } {
  const gamma0 = thetaStart.length === 1 ? 0.5 : 0.4;
  let best: BestRun | null = null;
  let iterations = 0;
  for (const rho0 of [-0.3, 0.1, 0.5]) {
    for (const e0 of [0.3, 0.8]) {
      const res = levenbergMarquardt(problem, [rho0, e0, gamma0, ...thetaStart], {
        ...bounds,
        maxIterations,
      });
      iterations += res.iterations;
      best = betterRun(best, res);
    }
  }
  return { best, iterations };
}

/** Fits a power-law SSVI surface to all slices at once. */
export function fitSsviSurface(
  slices: readonly SurfaceSlice[],
  options: SsviFitOptions = {},
): SsviSurfaceFit {
  checkSlices(slices);
  const N = slices.length;
  const points = fitPoints(slices, options.weighting ?? "spread");
  const { lower, upper, degraded } = ssviBounds(points, N);
  const problem = ssviProblem(points, N);
  const maxIterations = options.maxIterations ?? 200;
  const { best, iterations } = bestOfStarts(
    problem,
    thetaStartIncrements(slices),
    { lower, upper },
    maxIterations,
  );
  if (!best) throw new InvalidInputError("slices", "non-finite residuals", "must give a finite fit cost");
  const theta = new Float64Array(N);
  thetaOf(best.x, theta);
  return {
    params: powerLawOf(best.x),
    nodes: slices.map((s, j) => ({ expiry: s.expiry, forward: s.forward, theta: theta[j] ?? 0 })),
    cost: best.cost,
    iterations,
    converged: best.converged,
    degraded,
  };
}
