/**
 * Infeasibility diagnosis with elastic slacks: every user constraint row (greek bands, bucket
 * bands, CVaR limit, stress rows, margin and premium budgets) gets penalised slack columns
 * and the solver minimizes the total violation (rows are scaled, so each unit of slack is a
 * unit of the row's largest coefficient). Constraint groups whose slack is positive must be
 * relaxed (by the reported amount, in the constraint's own units) for the spec to be
 * feasible; groups that bind in the elastic solution are the ones they conflict with.
 */
import {
  buildOptimizeLp,
  type ConstraintGroup,
  type CvarMethod,
  type LpProblem,
  type LpRow,
} from "./buildProblem.js";
import { chooseCvarMethod, solveWithCvarCuts } from "./cvarCuts.js";
import type { HighsBackend, HighsOptions, LpSolver } from "./lpSolver.js";
import type { OptimizeProblem } from "./spec.js";

export interface ConstraintRelaxation {
  readonly group: ConstraintGroup;
  readonly row: string;
  /** Bound that must move, and by how much (user units: coin, USD), in the direction that loosens it. */
  readonly side: "min" | "max";
  readonly bound: number;
  readonly relaxBy: number;
}

/** One member of the irreducible infeasible subset. */
export interface IisMember {
  readonly group: ConstraintGroup;
  readonly row: string;
}

export interface InfeasibilityDiagnosis {
  /**
   * An irreducible infeasible subset of the user constraints (deletion filter): these alone are
   * infeasible, and without any ONE of them the rest of the subset is feasible (given the
   * per-instrument size limits and quotes, which are column bounds and always kept). A spec can
   * hold several such conflicts; this is one of them.
   * Empty when the problem is infeasible without any user constraint.
   */
  readonly iis: IisMember[];
  /** Constraint groups that must be relaxed (minimum total scaled violation). */
  readonly relax: ConstraintRelaxation[];
  /** Other groups binding in the elastic solution (the conflict partners). */
  readonly conflictsWith: ConstraintGroup[];
  readonly text: string;
}

/** Adds elastic slacks to a built LP (returns a new LP; slack columns after the originals). */
export function elasticLp(lp: LpProblem): {
  lp: LpProblem;
  slacks: { row: number; side: "min" | "max"; col: number }[];
} {
  const names = [...lp.colNames];
  const lower = Array.from(lp.colLower);
  const upper = Array.from(lp.colUpper);
  const cost = new Array<number>(lp.numCol).fill(0);
  const integer = Array.from(lp.integer);
  const slacks: { row: number; side: "min" | "max"; col: number }[] = [];
  const rows = lp.rows.map((r, i) => {
    if (!r.elastic) return r;
    const idx = Array.from(r.idx);
    const val = Array.from(r.val);
    const add = (side: "min" | "max", coef: number): void => {
      const col = names.length;
      names.push(`e${i}${side}`);
      lower.push(0);
      upper.push(Number.POSITIVE_INFINITY);
      cost.push(1);
      integer.push(0);
      idx.push(col);
      val.push(coef);
      slacks.push({ row: i, side, col });
    };
    if (Number.isFinite(r.lower)) add("min", 1);
    if (Number.isFinite(r.upper)) add("max", -1);
    return { ...r, idx: Int32Array.from(idx), val: Float64Array.from(val) };
  });
  return {
    lp: {
      ...lp,
      numCol: names.length,
      colNames: names,
      colLower: Float64Array.from(lower),
      colUpper: Float64Array.from(upper),
      cost: Float64Array.from(cost),
      integer: Uint8Array.from(integer),
      rows,
    },
    slacks,
  };
}

/** Names the constraints that conflict in an infeasible spec. */
export function diagnoseInfeasibility(
  p: OptimizeProblem,
  solver: LpSolver,
  highs?: HighsOptions,
  backend?: HighsBackend,
  cvarMethod: "auto" | CvarMethod = "auto",
): InfeasibilityDiagnosis {
  const method = p.constraints.cvar ? chooseCvarMethod(p, cvarMethod) : "lp";
  const base = buildOptimizeLp(p, { cvarMethod: method });
  const el = elasticLp(base);
  const slacks = el.slacks;
  const solved =
    base.cvarMethod === "cuts"
      ? solveWithCvarCuts(p, el.lp, solver, { ...(highs ? { highs } : {}), ...(backend ? { backend } : {}) })
      : { sol: solver.solve(el.lp, highs, backend), lp: el.lp };
  const { sol, lp } = solved;
  const iis = irreducibleInfeasibleSubset(p, base, solver, highs, backend);
  const iisText =
    iis.length > 0
      ? `minimal conflict: ${iis.map((m) => m.row).join(" + ")} (infeasible together; without any one of them the rest is feasible, given the size limits; other conflicts may remain)`
      : "infeasible without any user constraint (size limits / quotes)";
  if (!sol.optimal)
    return {
      iis,
      relax: [],
      conflictsWith: [],
      text: `${iisText}; elastic problem not solved (${sol.status})`,
    };
  const relax: ConstraintRelaxation[] = [];
  const violated = new Set<number>();
  for (const s of slacks) {
    const v = sol.x[s.col] as number;
    if (v <= 1e-9) continue;
    const r = lp.rows[s.row];
    if (!r) continue;
    violated.add(s.row);
    const bound = (s.side === "min" ? r.lower : r.upper) / r.rowScale + r.constant;
    relax.push({ group: r.group, row: r.name, side: s.side, bound, relaxBy: v / r.rowScale });
  }
  const conflicts = new Set<ConstraintGroup>();
  lp.rows.forEach((r, i) => {
    if (!r.elastic || violated.has(i)) return;
    const a = sol.rowActivity[i] as number;
    const d = sol.rowDual[i] as number;
    const at =
      (Number.isFinite(r.lower) && Math.abs(a - r.lower) <= 1e-7 * Math.max(1, Math.abs(r.lower))) ||
      (Number.isFinite(r.upper) && Math.abs(a - r.upper) <= 1e-7 * Math.max(1, Math.abs(r.upper)));
    if (at && (!Number.isFinite(d) || Math.abs(d) > 1e-10)) conflicts.add(r.group);
  });
  // Size limits are column bounds: report when a candidate sits at its size limit.
  const relaxGroups = new Set(relax.map((r) => r.group));
  for (const g of relaxGroups) conflicts.delete(g);
  const words = relax.map(
    (r) =>
      `${r.row} (${r.side} ${r.group === "worst-stress" || r.group === "cvar" ? "loss " : ""}${r.side === "min" ? ">=" : "<="} ${r.bound.toPrecision(6)}) must be relaxed by ${r.relaxBy.toPrecision(4)}`,
  );
  const text =
    relax.length === 0
      ? `${iisText}; no violated constraint found by the elastic problem (numerical infeasibility?)`
      : `infeasible: ${iisText}. Cheapest repair: ${words.join("; ")}`;
  return { iis, relax, conflictsWith: [...conflicts], text };
}

/** Solves `lp` with the user rows not in `keep` removed; true when feasible. */
function feasibleWith(
  p: OptimizeProblem,
  lp: LpProblem,
  keep: ReadonlySet<number>,
  solver: LpSolver,
  highs?: HighsOptions,
  backend?: HighsBackend,
): boolean {
  const rows = lp.rows.map((r, i) =>
    r.elastic && !keep.has(i)
      ? { ...r, lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY }
      : r,
  );
  // Feasibility only: no objective.
  const q: LpProblem = { ...lp, rows, cost: new Float64Array(lp.numCol) };
  const sol =
    lp.cvarMethod === "cuts"
      ? solveWithCvarCuts(p, q, solver, { ...(highs ? { highs } : {}), ...(backend ? { backend } : {}) }).sol
      : solver.solve(q, highs, backend);
  if (sol.optimal) return true;
  if (/infeasible/i.test(sol.status)) return false;
  throw new RangeError(`feasibility check: solver status ${sol.status}`);
}

/**
 * Deletion filter (Chinneck): start from every user row; drop a row when the rest stays
 * infeasible without it. What is left is an irreducible infeasible subset: each member is
 * needed (removing it gave a feasible problem when it was tested, and sets only shrink after).
 * One solve per user row.
 */
export function irreducibleInfeasibleSubset(
  p: OptimizeProblem,
  lp: LpProblem,
  solver: LpSolver,
  highs?: HighsOptions,
  backend?: HighsBackend,
): IisMember[] {
  const set = new Set<number>();
  lp.rows.forEach((r, i) => {
    if (r.elastic) set.add(i);
  });
  if (feasibleWith(p, lp, set, solver, highs, backend)) return [];
  for (const i of [...set]) {
    set.delete(i);
    if (feasibleWith(p, lp, set, solver, highs, backend)) set.add(i);
  }
  return [...set].map((i) => ({ group: (lp.rows[i] as LpRow).group, row: (lp.rows[i] as LpRow).name }));
}
