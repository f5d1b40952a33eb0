/**
 * eSSVI calibration slice by slice (after Corbetta, Cohort, Laachir, Martini 2019) with the
 * Gatheral-Jacquier no-arbitrage conditions enforced during the fit, by parametrizing the admissible
 * set as a box for the projected Levenberg-Marquardt solver (vol-space weighted least squares, as
 * in sviFit.ts). The power-law SSVI fit is in ssviFit.ts.
 *
 * Slices in increasing T, each with variables (callWing = psi(1+rho), putWing = psi(1-rho), u >= 0),
 * theta = max(theta_prev, (cw + pw) max(cw, pw) / 8) + u, cw >= cw_prev, pw >= pw_prev,
 * max(cw, pw) < 4: the GJ butterfly conditions (Thm 4.2) hold by construction, as do the necessary
 * calendar conditions (ATM level, wing slopes). Those are not sufficient (see ssvi.ts), so
 * w(k) >= w_prev(k) is also imposed on a dense k grid (out to 25x the quoted range) by a quadratic
 * penalty raised until it holds (essviSliceProblem.ts); the arbitrage report verifies.
 *
 * Units: k = ln(K/F), T years, theta total variance.
 */
import { InvalidInputError } from "../errors.js";
import { type LeastSquaresProblem, levenbergMarquardt } from "../math/levenbergMarquardt.js";
import {
  CAL_MARGIN,
  calendarBound,
  calendarHolds,
  type EssviMode,
  type EssviOrder,
  type EssviSliceSetup,
  essviMap,
  essviSliceProblem,
  uForTheta,
  wingFloor,
} from "./essviSliceProblem.js";
import type { SurfaceSlice, SurfaceWeighting } from "./sliceData.js";
import { type EssviSliceParams, essviTotalVariance } from "./ssvi.js";
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
} from "./ssviFitData.js";

export interface EssviSliceFit {
  readonly expiry: number;
  readonly forward: number;
  readonly params: EssviSliceParams;
  readonly cost: number;
  readonly iterations: number;
  readonly converged: boolean;
  readonly degraded: string | null;
}

const WING_MAX = 4 * (1 - 1e-9);

/** The slice fitted just before in the pass, with its wing variables. */
interface Neighbour {
  readonly theta: number;
  readonly cw: number;
  readonly pw: number;
  readonly params: EssviSliceParams;
}

interface Box {
  readonly lower: number[];
  readonly upper: number[];
}

const wingBound = (w: number) => Math.min(Math.max(w, 1e-8), WING_MAX);

/** Box of (cw, pw, u): wings at least (after) or at most (before) the neighbour's. */
function sliceBox(mode: EssviMode, ref: Neighbour | null, wMax: number): Box {
  if (mode === "after" && ref)
    return { lower: [wingBound(ref.cw), wingBound(ref.pw), 0], upper: [WING_MAX, WING_MAX, 4 * wMax + 1e-6] };
  if (mode === "before" && ref)
    return { lower: [1e-8, 1e-8, 0], upper: [Math.max(ref.cw, 1e-8), Math.max(ref.pw, 1e-8), 1] };
  return { lower: [1e-8, 1e-8, 0], upper: [WING_MAX, WING_MAX, 4 * wMax + 1e-6] };
}

/** Under 3 distinct strikes the shape is copied from the neighbour (wings fixed in the box) or flagged. */
function fewStrikes(points: readonly FitPoint[], ref: Neighbour | null, box: Box): string | null {
  const distinct = new Set(points.map((q) => q.k.toFixed(9))).size;
  if (distinct >= 3) return null;
  if (!ref) return `only ${distinct} distinct strike(s): smile shape weakly determined`;
  box.lower[0] = box.upper[0] = wingBound(ref.cw);
  box.lower[1] = box.upper[1] = wingBound(ref.pw);
  return `only ${distinct} distinct strike(s): smile shape copied from the neighbouring slice`;
}

/** LM from six (rho, psi scale) starts around the market ATM total variance. */
function bestOfStarts(
  problem: LeastSquaresProblem,
  setup: EssviSliceSetup,
  atm: number,
  box: Box,
  maxIterations: number,
): { best: BestRun | null; iterations: number } {
  const clamp = (x: number[]) =>
    x.map((v, j) => Math.min(box.upper[j] ?? Number.NaN, Math.max(box.lower[j] ?? Number.NaN, v)));
  let best: BestRun | null = null;
  let iterations = 0;
  for (const rho0 of [-0.4, 0, 0.4]) {
    for (const sc of [0.3, 1]) {
      const psi0 = sc * Math.sqrt(Math.max(atm, 1e-8));
      const cw0 = psi0 * (1 + rho0);
      const pw0 = psi0 * (1 - rho0);
      const u0 = uForTheta(atm, setup.mode, setup.thetaRef, wingFloor(cw0, pw0));
      const res = levenbergMarquardt(problem, clamp([cw0, pw0, u0]), { ...box, maxIterations });
      iterations += res.iterations;
      best = betterRun(best, res);
    }
  }
  return { best, iterations };
}

/** Raises the calendar penalty (x10, up to 8 rounds) and refits until the calendar bound holds. */
function penaltyRounds(
  problem: LeastSquaresProblem,
  setup: EssviSliceSetup,
  start: BestRun,
  box: Box,
  maxIterations: number,
): { best: BestRun; iterations: number } {
  let best = start;
  let iterations = 0;
  const holds = (x: Float64Array) => calendarHolds(setup.cal, essviMap(x, setup.mode, setup.thetaRef).p);
  for (let round = 0; round < 8 && !holds(best.x); round++) {
    setup.penalty.sqrtMu *= 10;
    const res = levenbergMarquardt(problem, best.x, { ...box, maxIterations });
    iterations += res.iterations;
    best = { x: res.x, cost: res.cost, converged: res.converged };
  }
  return { best, iterations };
}

/** Provably calendar-free fallback: the neighbour itself scaled (w is 1-homogeneous in (theta, cw, pw)). */
function scaledNeighbour(ref: Neighbour, setup: EssviSliceSetup, order: EssviOrder, box: Box): BestRun {
  const lam = order === "forward" ? 1 + 2 * CAL_MARGIN : 1 / (1 + 2 * CAL_MARGIN);
  const cw = Math.min(ref.cw * lam, box.upper[0] ?? Number.NaN);
  const pw = Math.min(ref.pw * lam, box.upper[1] ?? Number.NaN);
  const u = uForTheta(ref.theta * lam, setup.mode, setup.thetaRef, wingFloor(cw, pw));
  return { x: new Float64Array([cw, pw, u]), cost: Number.POSITIVE_INFINITY, converged: false };
}

/** Weighted fit cost of the quotes only (no penalty rows). */
function quoteCost(params: EssviSliceParams, points: readonly FitPoint[]): number {
  let cost = 0;
  for (const q of points) cost += 0.5 * volResidual(q, essviTotalVariance(params, q.k)) ** 2;
  return cost;
}

/** Fits one slice next to its fitted neighbour (none for the first of a pass). */
function fitSlice(
  slice: SurfaceSlice,
  ref: Neighbour | null,
  order: EssviOrder,
  weighting: SurfaceWeighting,
  maxIterations: number,
): { fit: EssviSliceFit; next: Neighbour } {
  const points = fitPoints([slice], weighting);
  const mode: EssviMode = ref === null ? "alone" : order === "forward" ? "after" : "before";
  const thetaRef = ref ? ref.theta : 0;
  const cal = calendarBound(points, ref ? ref.params : null, order);
  const setup: EssviSliceSetup = { points, mode, thetaRef, cal, penalty: { sqrtMu: 10 } };
  const problem = essviSliceProblem(setup);
  const box = sliceBox(mode, ref, maxTotalVariance(points));
  let degraded = fewStrikes(points, ref, box);
  const starts = bestOfStarts(problem, setup, marketAtmTotalVariance(slice), box, maxIterations);
  if (!starts.best) throw new InvalidInputError("slice", slice.expiry, "gave a non-finite fit cost");
  const rounds = penaltyRounds(problem, setup, starts.best, box, maxIterations);
  let best = rounds.best;
  if (!calendarHolds(cal, essviMap(best.x, mode, thetaRef).p) && ref) {
    best = scaledNeighbour(ref, setup, order, box);
    degraded = "calendar penalty did not converge: neighbouring slice reused (scaled)";
  }
  const params = essviMap(best.x, mode, thetaRef).p;
  const fit: EssviSliceFit = {
    expiry: slice.expiry,
    forward: slice.forward,
    params,
    cost: quoteCost(params, points),
    iterations: starts.iterations + rounds.iterations,
    converged: best.converged,
    degraded,
  };
  return { fit, next: { theta: params.theta, cw: best.x[0] ?? 0, pw: best.x[1] ?? 0, params } };
}

/** One sequential eSSVI pass, in increasing ("forward") or decreasing ("backward") expiry; fits in expiry order. */
function essviPass(
  slices: readonly SurfaceSlice[],
  order: EssviOrder,
  weighting: SurfaceWeighting,
  maxIterations: number,
): { fits: EssviSliceFit[]; totalCost: number } {
  const inPassOrder = order === "forward" ? slices : [...slices].reverse();
  const fits: EssviSliceFit[] = [];
  let ref: Neighbour | null = null;
  let totalCost = 0;
  for (const slice of inPassOrder) {
    const { fit, next } = fitSlice(slice, ref, order, weighting, maxIterations);
    fits.push(fit);
    totalCost += fit.cost;
    ref = next;
  }
  return { fits: order === "forward" ? fits : fits.reverse(), totalCost };
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
