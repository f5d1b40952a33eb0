/**
 * Efficient frontier: objective (edge or theta, USD) against the scenario-loss CVaR limit.
 * The lowest reachable CVaR comes from minimizing the Rockafellar-Uryasev CVaR itself; the
 * highest useful limit is the CVaR of the unconstrained-CVaR optimum. Points in between are
 * solved with the CVaR limit swept evenly; each point's CVaR is recomputed independently
 * (verify.ts) from its trades. Exported as data (the dashboard plots it).
 */
import { InvalidInputError } from "../errors.js";
import type { CvarMethod, LpRow } from "./buildProblem.js";
import type { HighsOptions, LpSolver } from "./lpSolver.js";
import { chooseCvarMethod } from "./cvarCuts.js";
import { optimizePortfolio, solveOptimizeProblem, tradesFromSolution } from "./optimize.js";
import type { OptimizeProblem } from "./spec.js";
import { verifyOptimizeResult } from "./verify.js";

export interface FrontierPoint {
  /** CVaR limit imposed, USD. */
  readonly cvarLimitUsd: number;
  /** CVaR of the resulting book, recomputed from the trades, USD. */
  readonly cvarUsd: number;
  readonly objectiveUsd: number;
  readonly thetaUsdPerDay: number;
  readonly vegaUsdPerVolPt: number;
  readonly trades: number;
  readonly status: string;
  readonly verified: boolean;
}

export interface FrontierResult {
  readonly alpha: number;
  readonly objectiveKind: OptimizeProblem["objective"]["kind"];
  readonly minCvarUsd: number;
  readonly unconstrainedCvarUsd: number;
  readonly points: FrontierPoint[];
  /** CVaR formulation used ("lp" or "cuts"). */
  readonly cvarMethod: CvarMethod;
}

/** Lowest CVaR reachable under the other constraints (USD). */
export function minimumCvar(
  p: OptimizeProblem,
  solver: LpSolver,
  highs?: HighsOptions,
  o: { readonly cvarMethod?: "auto" | CvarMethod; readonly cutPool?: LpRow[] } = {},
): number {
  const alpha = p.constraints.cvar?.alpha ?? 0.95;
  const q: OptimizeProblem = { ...p, constraints: { ...p.constraints, cvar: { alpha, maxLossUsd: 1e300 } } };
  const S = p.book.scenarioPnlUsd.length;
  // Objective: the CVaR epigraph itself (zeta + mean tail excess, or zeta + v with cuts).
  const { lp, sol } = solveOptimizeProblem(q, solver, { ...(highs ? { highs } : {}), ...o }, (lp) => {
    const cost = new Float64Array(lp.numCol);
    cost[lp.zetaCol] = 1;
    if (lp.cvarMethod === "cuts") cost[lp.vCol] = 1;
    else for (let s = 0; s < S; s++) cost[lp.uCol0 + s] = 1 / ((1 - alpha) * S);
    return { ...lp, cost, rows: lp.rows.filter((r) => r.group !== "cvar") };
  });
  if (!sol.optimal) return Number.NaN;
  return verifyOptimizeResult(q, tradesFromSolution(lp, sol.x)).after.cvarUsd;
}

/** Sweeps the CVaR limit over `points` values from the minimum to the unconstrained CVaR. */
export function efficientFrontier(
  p: OptimizeProblem,
  solver: LpSolver,
  o: {
    readonly points?: number;
    readonly alpha?: number;
    readonly highs?: HighsOptions;
    /** CVaR formulation of every point (default "auto": by size, as optimizePortfolio). */
    readonly cvarMethod?: "auto" | CvarMethod;
  } = {},
): FrontierResult {
  const n = o.points ?? 8;
  if (!Number.isInteger(n) || n < 2) throw new InvalidInputError("points", n, "must be an integer >= 2");
  const alpha = o.alpha ?? p.constraints.cvar?.alpha ?? 0.95;
  const { cvar: _cvar, ...rest } = p.constraints;
  const withAlpha = (limit: number): OptimizeProblem => ({
    ...p,
    constraints: { ...rest, cvar: { alpha, maxLossUsd: limit } },
  });
  const cvarMethod = chooseCvarMethod(withAlpha(0), o.cvarMethod);
  // One cut pool for every point: cuts are valid whatever the limit or objective (cvarCuts.ts).
  const cutPool: LpRow[] = [];
  const solveOpts = { ...(o.highs ? { highs: o.highs } : {}), cvarMethod: o.cvarMethod ?? "auto", cutPool };
  const lo = minimumCvar(withAlpha(0), solver, o.highs, solveOpts);
  const top = optimizePortfolio(withAlpha(1e300), solver, { ...solveOpts, diagnose: false });
  const hi = top.status === "optimal" ? top.after.cvarUsd : Number.NaN;
  const points: FrontierPoint[] = [];
  // No frontier without both ends (an infeasible minimum or unbounded top): no points.
  const ends = Number.isFinite(lo) && Number.isFinite(hi);
  for (let k = 0; ends && k < n; k++) {
    // Nudge the first point up a hair so the minimum-CVaR point is numerically feasible.
    const limit = lo + ((hi - lo) * k) / (n - 1) + (k === 0 ? 1e-9 * Math.max(1, Math.abs(lo)) : 0);
    const r = optimizePortfolio(withAlpha(limit), solver, { ...solveOpts, diagnose: false });
    points.push({
      cvarLimitUsd: limit,
      cvarUsd: r.after.cvarUsd,
      objectiveUsd: r.objectiveUsd,
      thetaUsdPerDay: r.after.greeks.thetaUsdPerDay,
      vegaUsdPerVolPt: r.after.greeks.vegaUsdPerVolPt,
      trades: r.trades.length,
      status: r.status,
      verified: r.verification?.ok ?? false,
    });
  }
  return {
    alpha,
    objectiveKind: p.objective.kind,
    minCvarUsd: lo,
    unconstrainedCvarUsd: hi,
    points,
    cvarMethod,
  };
}
