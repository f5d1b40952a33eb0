/**
 * Bounded (projected) Levenberg-Marquardt for small nonlinear least-squares problems:
 *
 *   minimize  0.5 * sum_i r_i(x)^2   subject to  lower_j <= x_j <= upper_j.
 *
 * Each iteration solves the damped normal equations (J'J + lambda diag(J'J)) dx = -J'r on the
 * free variables (a variable sitting on a bound whose gradient pushes it outward is held there,
 * an active-set step), projects the trial point onto the box and accepts it when the cost drops;
 * lambda follows Nielsen's (1999) update. The Jacobian is analytic when the problem supplies it
 * and forward differences otherwise. Buffers are preallocated: one solve allocates O(m n) once.
 *
 * Reference: K. Madsen, H.B. Nielsen, O. Tingleff, "Methods for non-linear least squares
 * problems" (2004), sections 3.2 (LM) and 3.4 (damping update); Kanzow, Yamashita, Fukushima
 * (2004) for the projected variant.
 *
 * Example: fit y = p0 * exp(p1 t) with p1 in [-1, 0]:
 *   levenbergMarquardt({ parameters: 2, residuals: 3, evaluate: (p, r) => {...} }, [1, -0.5],
 *     { lower: [0, -1], upper: [10, 0] })
 */
import { InvalidInputError } from "../errors.js";

/** A least-squares problem with `residuals` residuals in `parameters` unknowns. */
export interface LeastSquaresProblem {
  readonly parameters: number;
  readonly residuals: number;
  /** Writes r(x) into `out` (length `residuals`). */
  evaluate(x: Float64Array, out: Float64Array): void;
  /**
   * Optional analytic Jacobian: writes dr_i/dx_j into `out[i * parameters + j]` (row-major).
   * Without it, forward differences are used.
   */
  jacobian?(x: Float64Array, out: Float64Array): void;
}

export interface LevenbergMarquardtOptions {
  /** Lower bounds per parameter (default -Infinity). */
  readonly lower?: ArrayLike<number>;
  /** Upper bounds per parameter (default +Infinity). */
  readonly upper?: ArrayLike<number>;
  /** Maximum number of iterations (Jacobian evaluations), default 200. */
  readonly maxIterations?: number;
  /** Stop when the relative cost decrease of an accepted step is below this (default 1e-12). */
  readonly costTolerance?: number;
  /** Stop when the projected gradient's max norm is below this (default 1e-12). */
  readonly gradientTolerance?: number;
  /** Stop when the step is below stepTolerance * (|x| + stepTolerance) (default 1e-10). */
  readonly stepTolerance?: number;
  /** Initial damping relative to max diag(J'J) (default 1e-3). */
  readonly initialDamping?: number;
}

export type LevenbergMarquardtStop =
  | "cost-tolerance"
  | "gradient-tolerance"
  | "step-tolerance"
  | "max-iterations"
  | "non-finite";

export interface LevenbergMarquardtResult {
  /** Best point found (inside the bounds). */
  readonly x: Float64Array;
  /** 0.5 * sum r^2 at x. */
  readonly cost: number;
  readonly iterations: number;
  readonly evaluations: number;
  /** True when a tolerance test stopped the run (not max-iterations or a non-finite residual). */
  readonly converged: boolean;
  readonly stop: LevenbergMarquardtStop;
}

function halfSumSquares(r: Float64Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i] * r[i];
  return 0.5 * s;
}

/**
 * In-place Cholesky solve of the n x n symmetric positive definite system A x = b restricted to
 * the indices in `idx` (length nf). Returns false if A is not numerically positive definite.
 */
function choleskySolve(
  A: Float64Array,
  n: number,
  idx: Int32Array,
  nf: number,
  b: Float64Array,
  L: Float64Array,
  out: Float64Array,
): boolean {
  for (let i = 0; i < nf; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[idx[i] * n + idx[j]];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) return false;
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  // forward: L y = b
  for (let i = 0; i < nf; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * out[k];
    out[i] = s / L[i * n + i];
  }
  // backward: L' x = y
  for (let i = nf - 1; i >= 0; i--) {
    let s = out[i];
    for (let k = i + 1; k < nf; k++) s -= L[k * n + i] * out[k];
    out[i] = s / L[i * n + i];
  }
  return true;
}

/**
 * Minimizes 0.5 ||r(x)||^2 over the box [lower, upper] from `x0` (projected onto the box first).
 * Throws InvalidInputError for inconsistent sizes or bounds; a non-finite residual at x0 returns
 * stop "non-finite" with cost Infinity (a value, not a throw: callers try several starts).
 */
export function levenbergMarquardt(
  problem: LeastSquaresProblem,
  x0: ArrayLike<number>,
  options: LevenbergMarquardtOptions = {},
): LevenbergMarquardtResult {
  const n = problem.parameters;
  const m = problem.residuals;
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidInputError("problem.parameters", n, "must be an integer >= 1");
  if (!Number.isInteger(m) || m < 1)
    throw new InvalidInputError("problem.residuals", m, "must be an integer >= 1");
  if (x0.length !== n) throw new InvalidInputError("x0.length", x0.length, `must equal parameters (${n})`);
  const lo = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  const hi = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let j = 0; j < n; j++) {
    if (options.lower) lo[j] = options.lower[j];
    if (options.upper) hi[j] = options.upper[j];
    if (Number.isNaN(lo[j]) || Number.isNaN(hi[j]) || lo[j] > hi[j])
      throw new InvalidInputError(`bounds[${j}]`, [lo[j], hi[j]], "must satisfy lower <= upper");
  }
  const maxIter = options.maxIterations ?? 200;
  const fTol = options.costTolerance ?? 1e-12;
  const gTol = options.gradientTolerance ?? 1e-12;
  const xTol = options.stepTolerance ?? 1e-10;
  const tau = options.initialDamping ?? 1e-3;

  const x = new Float64Array(n);
  for (let j = 0; j < n; j++) x[j] = Math.min(hi[j], Math.max(lo[j], x0[j]));
  const r = new Float64Array(m);
  const rTrial = new Float64Array(m);
  const J = new Float64Array(m * n);
  const JtJ = new Float64Array(n * n);
  const g = new Float64Array(n);
  const L = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  const dxFree = new Float64Array(n);
  const xTrial = new Float64Array(n);
  const idx = new Int32Array(n);
  const A = new Float64Array(n * n);

  let evaluations = 0;
  const evalAt = (p: Float64Array, out: Float64Array): number => {
    evaluations++;
    problem.evaluate(p, out);
    const c = halfSumSquares(out);
    return Number.isFinite(c) ? c : Number.POSITIVE_INFINITY;
  };
  const jacobianAt = (p: Float64Array): void => {
    if (problem.jacobian) {
      problem.jacobian(p, J);
      return;
    }
    for (let j = 0; j < n; j++) {
      const xj = p[j];
      let h = 1.4901161193847656e-8 * Math.max(1, Math.abs(xj));
      if (xj + h > hi[j]) h = -h;
      p[j] = xj + h;
      evalAt(p, rTrial);
      p[j] = xj;
      for (let i = 0; i < m; i++) J[i * n + j] = (rTrial[i] - r[i]) / h;
    }
  };

  let cost = evalAt(x, r);
  if (!Number.isFinite(cost)) {
    return {
      x,
      cost: Number.POSITIVE_INFINITY,
      iterations: 0,
      evaluations,
      converged: false,
      stop: "non-finite",
    };
  }
  let lambda = -1;
  let nu = 2;
  let iterations = 0;
  let stop: LevenbergMarquardtStop = "max-iterations";
  let needJacobian = true;

  while (iterations < maxIter) {
    if (needJacobian) {
      iterations++;
      jacobianAt(x);
      // g = J'r, JtJ = J'J
      JtJ.fill(0);
      g.fill(0);
      for (let i = 0; i < m; i++) {
        const row = i * n;
        const ri = r[i];
        for (let a = 0; a < n; a++) {
          const Ja = J[row + a];
          if (Ja === 0) continue;
          g[a] += Ja * ri;
          for (let b = 0; b <= a; b++) JtJ[a * n + b] += Ja * J[row + b];
        }
      }
      for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) JtJ[b * n + a] = JtJ[a * n + b];
      // projected gradient test
      let pg = 0;
      for (let j = 0; j < n; j++) {
        const step = Math.min(hi[j], Math.max(lo[j], x[j] - g[j])) - x[j];
        pg = Math.max(pg, Math.abs(step));
      }
      if (!Number.isFinite(pg)) {
        stop = "non-finite";
        break;
      }
      if (pg <= gTol) {
        stop = "gradient-tolerance";
        break;
      }
      if (lambda < 0) {
        let dmax = 0;
        for (let j = 0; j < n; j++) dmax = Math.max(dmax, JtJ[j * n + j]);
        lambda = tau * (dmax > 0 ? dmax : 1);
      }
      needJacobian = false;
    }
    // active set: variables on a bound with the descent direction pointing outside
    let nf = 0;
    for (let j = 0; j < n; j++) {
      const atLo = x[j] <= lo[j] && g[j] > 0;
      const atHi = x[j] >= hi[j] && g[j] < 0;
      if (!atLo && !atHi) idx[nf++] = j;
    }
    if (nf === 0) {
      stop = "gradient-tolerance";
      break;
    }
    for (let a = 0; a < nf; a++) {
      for (let b = 0; b < nf; b++) A[idx[a] * n + idx[b]] = JtJ[idx[a] * n + idx[b]];
      const d = JtJ[idx[a] * n + idx[a]];
      A[idx[a] * n + idx[a]] = d + lambda * Math.max(d, 1e-12);
      rhs[a] = -g[idx[a]];
    }
    if (!choleskySolve(A, n, idx, nf, rhs, L, dxFree)) {
      lambda *= nu;
      nu *= 2;
      if (!Number.isFinite(lambda) || lambda > 1e300) {
        stop = "non-finite";
        break;
      }
      continue;
    }
    xTrial.set(x);
    for (let a = 0; a < nf; a++) {
      const j = idx[a];
      xTrial[j] = Math.min(hi[j], Math.max(lo[j], x[j] + dxFree[a]));
    }
    let stepNorm = 0;
    let xNorm = 0;
    for (let j = 0; j < n; j++) {
      stepNorm += (xTrial[j] - x[j]) ** 2;
      xNorm += x[j] * x[j];
    }
    stepNorm = Math.sqrt(stepNorm);
    xNorm = Math.sqrt(xNorm);
    if (stepNorm <= xTol * (xNorm + xTol)) {
      stop = "step-tolerance";
      break;
    }
    const trialCost = evalAt(xTrial, rTrial);
    // predicted decrease with the actual (projected) step: -g'dx - 0.5 dx'J'J dx
    let pred = 0;
    for (let a = 0; a < n; a++) {
      const da = xTrial[a] - x[a];
      if (da === 0) continue;
      pred -= g[a] * da;
      let q = 0;
      for (let b = 0; b < n; b++) q += JtJ[a * n + b] * (xTrial[b] - x[b]);
      pred -= 0.5 * da * q;
    }
    const actual = cost - trialCost;
    if (trialCost < cost && Number.isFinite(trialCost)) {
      const rho = pred > 0 ? actual / pred : 1;
      x.set(xTrial);
      r.set(rTrial);
      const oldCost = cost;
      cost = trialCost;
      lambda *= Math.max(1 / 3, 1 - (2 * rho - 1) ** 3);
      nu = 2;
      needJacobian = true;
      if (actual <= fTol * oldCost || cost === 0) {
        stop = "cost-tolerance";
        break;
      }
    } else {
      lambda *= nu;
      nu *= 2;
      if (lambda > 1e300) {
        stop = "step-tolerance";
        break;
      }
    }
  }
  const converged = stop !== "max-iterations" && stop !== "non-finite";
  return { x, cost, iterations, evaluations, converged, stop };
}
