/**
 * Binding constraints of a whole-lot (MILP) solution, by relax-and-resolve: MILPs have no duals,
 * and a row can bind without being at its bound (the next lot does not fit: a margin budget used
 * 59,167 of 60,000 binds while a CVaR limit at 42,642 of 60,000 does not). Each user constraint
 * row (greek and bucket bands, CVaR, each stress row, margin and premium budgets) is removed in
 * turn and the MILP re-solved (with the CVaR cuts when the model uses them): it binds when the
 * optimum improves by more than 1e-9 relative. Reported with the gain of removing it (USD) and
 * how much of the bound the solution uses. One MILP solve per user row.
 */
import type { LpProblem, LpRow } from "./buildProblem.js";
import { solveWithCvarCuts } from "./cvarCuts.js";
import { type BindingConstraint, constraintUnit, formatUsd } from "./explain.js";
import type { HighsBackend, HighsOptions, LpSolution, LpSolver } from "./lpSolver.js";
import type { OptimizeProblem } from "./spec.js";

/** A row's activity and bound in user units (USD, coin). */
function userUnits(r: LpRow, activityScaled: number): { activity: number; lo: number; hi: number } {
  return {
    activity: activityScaled / r.rowScale + r.constant,
    lo: r.lower / r.rowScale + r.constant,
    hi: r.upper / r.rowScale + r.constant,
  };
}

/** Relax-and-resolve binding constraints of a MILP solution `sol` of `lp` (see the module comment). */
export function milpBindingConstraints(
  p: OptimizeProblem,
  lp: LpProblem,
  sol: LpSolution,
  solver: LpSolver,
  o: { readonly highs?: HighsOptions; readonly backend?: HighsBackend } = {},
): BindingConstraint[] {
  const out: BindingConstraint[] = [];
  const base = sol.objective;
  for (let i = 0; i < lp.rows.length; i++) {
    const r = lp.rows[i] as LpRow;
    if (!r.elastic) continue;
    const rows = lp.rows.slice();
    rows[i] = { ...r, lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
    const relaxed: LpProblem = { ...lp, rows };
    const s =
      lp.cvarMethod === "cuts"
        ? solveWithCvarCuts(p, relaxed, solver, { ...o }).sol
        : solver.solve(relaxed, o.highs, o.backend);
    if (!s.optimal) continue;
    // Minimization in scaled units: relaxing can only lower it.
    const gainUsd = (base - s.objective) * lp.objScaleUsd;
    if (!(gainUsd > 1e-9 * Math.max(1, Math.abs(base * lp.objScaleUsd)))) continue;
    const u = userUnits(r, sol.rowActivity[i] as number);
    const dLo = Number.isFinite(u.lo) ? Math.abs(u.activity - u.lo) : Number.POSITIVE_INFINITY;
    const dHi = Number.isFinite(u.hi) ? Math.abs(u.activity - u.hi) : Number.POSITIVE_INFINITY;
    const side = u.lo === u.hi ? "equal" : dLo <= dHi ? "min" : "max";
    const bound = side === "min" ? u.lo : u.hi;
    const unit = constraintUnit(r.group);
    const name = r.group === "worst-stress" ? `worst-stress (${r.name})` : r.name;
    const used =
      r.group === "worst-stress"
        ? `loss ${formatUsd(-u.activity)} of <= ${formatUsd(-bound)} ${unit}`
        : `${formatUsd(u.activity)} vs ${side === "min" ? ">=" : side === "max" ? "<=" : "="} ${formatUsd(bound)} ${unit}`;
    out.push({
      name,
      group: r.group,
      side,
      bound,
      shadowPriceUsd: Number.NaN,
      relaxGainUsd: gainUsd,
      text: `${name} binds (whole lots; found by removing it and re-solving): ${used}; without it the objective improves by ${formatUsd(gainUsd)} USD`,
    });
  }
  return out;
}
