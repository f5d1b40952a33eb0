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
import { choleskySolve } from "./cholesky.js";

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
  for (const v of r) s += v * v;
  return 0.5 * s;
}

/** The box [lo, hi] per parameter. */
interface Box {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

/** Preallocated buffers of one solve (m residuals, n parameters). */
interface Workspace {
  readonly n: number;
  readonly m: number;
  readonly x: Float64Array;
  readonly r: Float64Array;
  readonly rTrial: Float64Array;
  /** Jacobian, row-major m x n. */
  readonly J: Float64Array;
  readonly JtJ: Float64Array;
  /** Gradient J'r. */
  readonly g: Float64Array;
  readonly L: Float64Array;
  readonly rhs: Float64Array;
  readonly dxFree: Float64Array;
  readonly xTrial: Float64Array;
  /** Indices of the free variables (first nf entries). */
  readonly idx: Int32Array;
  /** Damped normal matrix on the free variables. */
  readonly A: Float64Array;
}

/** Iteration state of one solve. */
interface LmState {
  cost: number;
  /** Damping; negative until set from the first J'J. */
  lambda: number;
  nu: number;
  iterations: number;
  evaluations: number;
  needJacobian: boolean;
}

interface Tolerances {
  readonly maxIter: number;
  readonly fTol: number;
  readonly gTol: number;
  readonly xTol: number;
  readonly tau: number;
}

function checkProblem(problem: LeastSquaresProblem, x0: ArrayLike<number>): void {
  const n = problem.parameters;
  const m = problem.residuals;
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidInputError("problem.parameters", n, "must be an integer >= 1");
  if (!Number.isInteger(m) || m < 1)
    throw new InvalidInputError("problem.residuals", m, "must be an integer >= 1");
  if (x0.length !== n) throw new InvalidInputError("x0.length", x0.length, `must equal parameters (${n})`);
}

/** The bounds as a box (a missing entry of a given bound array is NaN, rejected like a NaN bound). */
function boxOf(n: number, options: LevenbergMarquardtOptions): Box {
  const lo = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  const hi = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let j = 0; j < n; j++) {
    if (options.lower) lo[j] = options.lower[j] ?? Number.NaN;
    if (options.upper) hi[j] = options.upper[j] ?? Number.NaN;
    const l = lo[j] ?? Number.NaN;
    const h = hi[j] ?? Number.NaN;
    if (Number.isNaN(l) || Number.isNaN(h) || l > h)
      throw new InvalidInputError(`bounds[${j}]`, [l, h], "must satisfy lower <= upper");
  }
  return { lo, hi };
}

function tolerancesOf(options: LevenbergMarquardtOptions): Tolerances {
  return {
    maxIter: options.maxIterations ?? 200,
    fTol: options.costTolerance ?? 1e-12,
    gTol: options.gradientTolerance ?? 1e-12,
    xTol: options.stepTolerance ?? 1e-10,
    tau: options.initialDamping ?? 1e-3,
  };
}

function workspaceOf(n: number, m: number): Workspace {
  return {
    n,
    m,
    x: new Float64Array(n),
    r: new Float64Array(m),
    rTrial: new Float64Array(m),
    J: new Float64Array(m * n),
    JtJ: new Float64Array(n * n),
    g: new Float64Array(n),
    L: new Float64Array(n * n),
    rhs: new Float64Array(n),
    dxFree: new Float64Array(n),
    xTrial: new Float64Array(n),
    idx: new Int32Array(n),
    A: new Float64Array(n * n),
  };
}

/** v clamped to [lo[j], hi[j]]. */
function clampTo(box: Box, j: number, v: number): number {
  return Math.min(box.hi[j] ?? Number.POSITIVE_INFINITY, Math.max(box.lo[j] ?? Number.NEGATIVE_INFINITY, v));
}

/** r(p) into `out`; returns the cost 0.5 |r|^2, +Infinity when not finite. */
function evaluateCost(
  problem: LeastSquaresProblem,
  state: LmState,
  p: Float64Array,
  out: Float64Array,
): number {
  state.evaluations++;
  problem.evaluate(p, out);
  const c = halfSumSquares(out);
  return Number.isFinite(c) ? c : Number.POSITIVE_INFINITY;
}

/** The Jacobian at ws.x into ws.J: analytic when given, else forward differences from ws.r. */
function jacobianAt(problem: LeastSquaresProblem, box: Box, ws: Workspace, state: LmState): void {
  const p = ws.x;
  if (problem.jacobian) {
    problem.jacobian(p, ws.J);
    return;
  }
  const { n, m, J, r, rTrial } = ws;
  for (let j = 0; j < n; j++) {
    const xj = p[j] ?? 0;
    let h = 1.4901161193847656e-8 * Math.max(1, Math.abs(xj));
    if (xj + h > (box.hi[j] ?? Number.POSITIVE_INFINITY)) h = -h;
    p[j] = xj + h;
    evaluateCost(problem, state, p, rTrial);
    p[j] = xj;
    for (let i = 0; i < m; i++) J[i * n + j] = ((rTrial[i] ?? 0) - (r[i] ?? 0)) / h;
  }
}

/** g = J'r and JtJ = J'J (full symmetric) from ws.J and ws.r. */
function normalEquations(ws: Workspace): void {
  const { n, m, J, JtJ, g, r } = ws;
  JtJ.fill(0);
  g.fill(0);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    const ri = r[i] ?? 0;
    for (let a = 0; a < n; a++) {
      const Ja = J[row + a] ?? 0;
      if (Ja === 0) continue;
      g[a] = (g[a] ?? 0) + Ja * ri;
      for (let b = 0; b <= a; b++) JtJ[a * n + b] = (JtJ[a * n + b] ?? 0) + Ja * (J[row + b] ?? 0);
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) JtJ[b * n + a] = JtJ[a * n + b] ?? 0;
}

/** Max norm of the projected gradient step P(x - g) - x. */
function projectedGradientNorm(box: Box, ws: Workspace): number {
  let pg = 0;
  for (let j = 0; j < ws.n; j++) {
    const xj = ws.x[j] ?? 0;
    const step = clampTo(box, j, xj - (ws.g[j] ?? 0)) - xj;
    pg = Math.max(pg, Math.abs(step));
  }
  return pg;
}

/** Initial damping tau * max diag(J'J) (tau when J'J is zero). */
function initialLambda(ws: Workspace, tau: number): number {
  let dmax = 0;
  for (let j = 0; j < ws.n; j++) dmax = Math.max(dmax, ws.JtJ[j * ws.n + j] ?? 0);
  return tau * (dmax > 0 ? dmax : 1);
}

/**
 * A new Jacobian at the accepted point: normal equations and the gradient stop test; sets the
 * first damping. Returns a stop reason or null to go on.
 */
function refreshJacobian(
  problem: LeastSquaresProblem,
  box: Box,
  ws: Workspace,
  state: LmState,
  tol: Tolerances,
): LevenbergMarquardtStop | null {
  state.iterations++;
  jacobianAt(problem, box, ws, state);
  normalEquations(ws);
  const pg = projectedGradientNorm(box, ws);
  if (!Number.isFinite(pg)) return "non-finite";
  if (pg <= tol.gTol) return "gradient-tolerance";
  if (state.lambda < 0) state.lambda = initialLambda(ws, tol.tau);
  state.needJacobian = false;
  return null;
}

/** Active set: the variables not held on a bound by a gradient pointing outside; returns their count. */
function freeVariables(box: Box, ws: Workspace): number {
  let nf = 0;
  for (let j = 0; j < ws.n; j++) {
    const xj = ws.x[j] ?? 0;
    const gj = ws.g[j] ?? 0;
    const atLo = xj <= (box.lo[j] ?? Number.NEGATIVE_INFINITY) && gj > 0;
    const atHi = xj >= (box.hi[j] ?? Number.POSITIVE_INFINITY) && gj < 0;
    if (!atLo && !atHi) ws.idx[nf++] = j;
  }
  return nf;
}

/** Solves (J'J + lambda diag(J'J)) dx = -g on the free variables into ws.dxFree; false if not positive definite. */
function solveDamped(ws: Workspace, nf: number, lambda: number): boolean {
  const { n, idx, A, JtJ, rhs, g } = ws;
  for (let a = 0; a < nf; a++) {
    const ia = idx[a] ?? 0;
    for (let b = 0; b < nf; b++) {
      const ib = idx[b] ?? 0;
      A[ia * n + ib] = JtJ[ia * n + ib] ?? 0;
    }
    const d = JtJ[ia * n + ia] ?? 0;
    A[ia * n + ia] = d + lambda * Math.max(d, 1e-12);
    rhs[a] = -(g[ia] ?? 0);
  }
  return choleskySolve(A, n, idx, nf, rhs, ws.L, ws.dxFree);
}

/** ws.xTrial = x + dx projected onto the box (the held variables unchanged). */
function projectedTrial(box: Box, ws: Workspace, nf: number): void {
  ws.xTrial.set(ws.x);
  for (let a = 0; a < nf; a++) {
    const j = ws.idx[a] ?? 0;
    ws.xTrial[j] = clampTo(box, j, (ws.x[j] ?? 0) + (ws.dxFree[a] ?? 0));
  }
}

/** Whether the trial step is below xTol (|dx| <= xTol (|x| + xTol)). */
function stepIsTiny(ws: Workspace, xTol: number): boolean {
  let stepNorm = 0;
  let xNorm = 0;
  for (let j = 0; j < ws.n; j++) {
    const xj = ws.x[j] ?? 0;
    stepNorm += ((ws.xTrial[j] ?? 0) - xj) ** 2;
    xNorm += xj * xj;
  }
  return Math.sqrt(stepNorm) <= xTol * (Math.sqrt(xNorm) + xTol);
}

/** Predicted decrease with the actual (projected) step: -g'dx - 0.5 dx'J'J dx. */
function predictedDecrease(ws: Workspace): number {
  const { n, x, xTrial, g, JtJ } = ws;
  let pred = 0;
  for (let a = 0; a < n; a++) {
    const da = (xTrial[a] ?? 0) - (x[a] ?? 0);
    if (da === 0) continue;
    pred -= (g[a] ?? 0) * da;
    let q = 0;
    for (let b = 0; b < n; b++) q += (JtJ[a * n + b] ?? 0) * ((xTrial[b] ?? 0) - (x[b] ?? 0));
    pred -= 0.5 * da * q;
  }
  return pred;
}

/** Accepts the trial point (Nielsen's damping update); returns "cost-tolerance" when the decrease is small. */
function acceptTrial(ws: Workspace, state: LmState, trialCost: number, pred: number, fTol: number) {
  const actual = state.cost - trialCost;
  const rho = pred > 0 ? actual / pred : 1;
  ws.x.set(ws.xTrial);
  ws.r.set(ws.rTrial);
  const oldCost = state.cost;
  state.cost = trialCost;
  state.lambda *= Math.max(1 / 3, 1 - (2 * rho - 1) ** 3);
  state.nu = 2;
  state.needJacobian = true;
  return actual <= fTol * oldCost || state.cost === 0 ? "cost-tolerance" : null;
}

/** Raises the damping after a rejected step; true when it has blown up. */
function raiseDamping(state: LmState): boolean {
  state.lambda *= state.nu;
  state.nu *= 2;
  return state.lambda > 1e300;
}

/** One damped step from ws.x (Jacobian current): returns a stop reason or null to go on. */
function dampedStep(
  problem: LeastSquaresProblem,
  box: Box,
  ws: Workspace,
  state: LmState,
  tol: Tolerances,
): LevenbergMarquardtStop | null {
  const nf = freeVariables(box, ws);
  if (nf === 0) return "gradient-tolerance";
  if (!solveDamped(ws, nf, state.lambda)) {
    const blown = raiseDamping(state);
    return !Number.isFinite(state.lambda) || blown ? "non-finite" : null;
  }
  projectedTrial(box, ws, nf);
  if (stepIsTiny(ws, tol.xTol)) return "step-tolerance";
  const trialCost = evaluateCost(problem, state, ws.xTrial, ws.rTrial);
  const pred = predictedDecrease(ws);
  if (trialCost < state.cost && Number.isFinite(trialCost))
    return acceptTrial(ws, state, trialCost, pred, tol.fTol);
  return raiseDamping(state) ? "step-tolerance" : null;
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
  checkProblem(problem, x0);
  const n = problem.parameters;
  const box = boxOf(n, options);
  const tol = tolerancesOf(options);
  const ws = workspaceOf(n, problem.residuals);
  for (let j = 0; j < n; j++) ws.x[j] = clampTo(box, j, x0[j] ?? Number.NaN);
  const state: LmState = { cost: 0, lambda: -1, nu: 2, iterations: 0, evaluations: 0, needJacobian: true };
  state.cost = evaluateCost(problem, state, ws.x, ws.r);
  if (!Number.isFinite(state.cost)) {
    const { evaluations } = state;
    return {
      x: ws.x,
      cost: Number.POSITIVE_INFINITY,
      iterations: 0,
      evaluations,
      converged: false,
      stop: "non-finite",
    };
  }
  let stop: LevenbergMarquardtStop = "max-iterations";
  while (state.iterations < tol.maxIter) {
    const reason =
      (state.needJacobian ? refreshJacobian(problem, box, ws, state, tol) : null) ??
      dampedStep(problem, box, ws, state, tol);
    if (reason !== null) {
      stop = reason;
      break;
    }
  }
  const converged = stop !== "max-iterations" && stop !== "non-finite";
  return {
    x: ws.x,
    cost: state.cost,
    iterations: state.iterations,
    evaluations: state.evaluations,
    converged,
    stop,
  };
}
