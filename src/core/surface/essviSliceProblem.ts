/**
 * The least-squares problem of one eSSVI slice fitted next to an already fitted neighbour
 * (essviFit.ts): the map from the box variables (callWing, putWing, u) to the slice parameters, and
 * the calendar constraint against the neighbour on a dense k grid as a quadratic penalty.
 *
 * f = (cw + pw) max(cw, pw) / 8 is the smallest theta the GJ butterfly condition allows; theta is
 *  - "after" a fitted earlier slice: max(thetaPrev, f) + u (u >= 0);
 *  - "before" a fitted later slice: f + u (thetaNext - f) (u in [0, 1]);
 *  - alone: f + u (u >= 0).
 * Calendar: w >= (1 + m) w_prev on the grid going forward (a floor), w <= w_next / (1 + m) going
 * backward (a ceiling), m = CAL_MARGIN; a violation gap costs sqrtMu gap / theta_ref per grid point.
 *
 * Units: k = ln(K/F), T years, theta total variance.
 */
import type { LeastSquaresProblem } from "../math/levenbergMarquardt.js";
import { type EssviSliceParams, essviGradient, essviTotalVariance } from "./ssvi.js";
import { type FitPoint, volResidual, volResidualSlope } from "./ssviFitData.js";

/** Where the slice sits relative to its fitted neighbour. */
export type EssviMode = "after" | "before" | "alone";
/** Pass direction: increasing ("forward") or decreasing ("backward") expiry. */
export type EssviOrder = "forward" | "backward";

/** Relative calendar margin of the eSSVI fit (w_i >= (1 + m) w_{i-1} on its grid). */
export const CAL_MARGIN = 1e-7;

/** The butterfly floor of theta: (cw + pw) max(cw, pw) / 8. */
export function wingFloor(cw: number, pw: number): number {
  return ((cw + pw) * Math.max(cw, pw)) / 8;
}

/** u giving theta = target for the given floor f (clamped to u's range in each mode). */
export function uForTheta(target: number, mode: EssviMode, thetaRef: number, f: number): number {
  if (mode === "after") return Math.max(target - Math.max(thetaRef, f), 0);
  if (mode === "before") return thetaRef > f ? Math.min(Math.max((target - f) / (thetaRef - f), 0), 1) : 0;
  return Math.max(target - f, 0);
}

/** (callWing, putWing, u) -> slice params and d theta / d(cw, pw, u). */
export function essviMap(
  x: ArrayLike<number>,
  mode: EssviMode,
  thetaRef: number,
): { p: EssviSliceParams; dc: number; dp: number; du: number } {
  const cw = x[0] ?? 0;
  const pw = x[1] ?? 0;
  const u = x[2] ?? 0;
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

/** The calendar constraint of a slice against its fitted neighbour on a k grid (empty when alone). */
export interface CalendarBound {
  readonly grid: Float64Array;
  /** Floor (forward) or ceiling (backward) of w at each grid point. */
  readonly bound: Float64Array;
  /** gap = sign (bound - w) > 0 is a violation. */
  readonly sign: 1 | -1;
  readonly order: EssviOrder;
  /** Penalty scale: the neighbour's theta (>= 1e-8). */
  readonly scale: number;
}

/** The grid (out to 25x the quoted k range, at least 0.5 wide) and the neighbour's bound on it. */
export function calendarBound(
  points: readonly FitPoint[],
  neighbour: EssviSliceParams | null,
  order: EssviOrder,
): CalendarBound {
  let kLo = 0;
  let kHi = 0;
  for (const q of points) {
    kLo = Math.min(kLo, q.k);
    kHi = Math.max(kHi, q.k);
  }
  const reach = Math.max(kHi - kLo, 0.5);
  const grid = neighbour ? calendarGrid(kLo - reach, kHi + reach, 25 * reach) : new Float64Array(0);
  const bound = grid.map((k) =>
    neighbour
      ? order === "forward"
        ? essviTotalVariance(neighbour, k) * (1 + CAL_MARGIN)
        : essviTotalVariance(neighbour, k) / (1 + CAL_MARGIN)
      : 0,
  );
  const sign = order === "forward" ? 1 : -1;
  return { grid, bound, sign, order, scale: Math.max(neighbour ? neighbour.theta : 0, 1e-8) };
}

/** Whether the slice meets the neighbour's calendar bound (without the margin) at every grid point. */
export function calendarHolds(cal: CalendarBound, p: EssviSliceParams): boolean {
  for (let j = 0; j < cal.grid.length; j++) {
    const w = essviTotalVariance(p, cal.grid[j] ?? 0);
    const b = cal.bound[j] ?? 0;
    const prevOrNext = cal.order === "forward" ? b / (1 + CAL_MARGIN) : b * (1 + CAL_MARGIN);
    if (cal.order === "forward" ? w < prevOrNext : w > prevOrNext) return false;
  }
  return true;
}

/** One slice's fit: its points, expiry, placement and calendar constraint; sqrtMu is raised between rounds. */
export interface EssviSliceSetup {
  readonly points: readonly FitPoint[];
  readonly mode: EssviMode;
  readonly thetaRef: number;
  readonly cal: CalendarBound;
  readonly penalty: { sqrtMu: number };
}

function essviResiduals(s: EssviSliceSetup, x: Float64Array, out: Float64Array): void {
  const { p } = essviMap(x, s.mode, s.thetaRef);
  const n = s.points.length;
  let i = 0;
  for (const q of s.points) out[i++] = volResidual(q, essviTotalVariance(p, q.k));
  const { grid, bound, sign, scale } = s.cal;
  for (let j = 0; j < grid.length; j++) {
    const gap = sign * ((bound[j] ?? 0) - essviTotalVariance(p, grid[j] ?? 0));
    out[n + j] = gap > 0 ? (s.penalty.sqrtMu * gap) / scale : 0;
  }
}

function essviJacobian(s: EssviSliceSetup, x: Float64Array, J: Float64Array, grad: Float64Array): void {
  const m = essviMap(x, s.mode, s.thetaRef);
  const p = m.p;
  const x0 = x[0] ?? 0;
  const x1 = x[1] ?? 0;
  const sum = x0 + x1;
  const drdc = (2 * x1) / (sum * sum);
  const drdp = (-2 * x0) / (sum * sum);
  const row3 = (r: number, c: number) => {
    const g0 = grad[0] ?? 0;
    const g1 = grad[1] ?? 0;
    const g2 = grad[2] ?? 0;
    J[r * 3] = c * (g0 * m.dc + g1 * drdc + g2 * 0.5);
    J[r * 3 + 1] = c * (g0 * m.dp + g1 * drdp + g2 * 0.5);
    J[r * 3 + 2] = c * g0 * m.du;
  };
  const n = s.points.length;
  s.points.forEach((q, i) => {
    const w = Math.max(essviTotalVariance(p, q.k), 1e-300);
    essviGradient(p, q.k, grad);
    row3(i, volResidualSlope(q, w));
  });
  const { grid, bound, sign, scale } = s.cal;
  for (let j = 0; j < grid.length; j++) {
    const k = grid[j] ?? 0;
    const gap = sign * ((bound[j] ?? 0) - essviTotalVariance(p, k));
    if (!(gap > 0)) {
      J[(n + j) * 3] = J[(n + j) * 3 + 1] = J[(n + j) * 3 + 2] = 0;
      continue;
    }
    essviGradient(p, k, grad);
    row3(n + j, (-sign * s.penalty.sqrtMu) / scale);
  }
}

/** The slice's least-squares problem: weighted vol residuals of its quotes plus the calendar penalty rows. */
export function essviSliceProblem(s: EssviSliceSetup): LeastSquaresProblem {
  const grad = new Float64Array(3);
  return {
    parameters: 3,
    residuals: s.points.length + s.cal.grid.length,
    evaluate: (x, out) => essviResiduals(s, x, out),
    jacobian: (x, J) => essviJacobian(s, x, J, grad),
  };
}
