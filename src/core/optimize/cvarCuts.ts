/**
 * CVaR by cutting planes (Kunzi-Bay and Mayer 2006, "Computational aspects of minimizing
 * conditional value-at-risk", Computational Management Science 3:3-27).
 *
 * With losses L_s(x) = -(book_s + sum_i x_i P_is) over N equally weighted scenarios,
 *   CVaR_a(x) = min_zeta zeta + 1/((1-a)N) sum_s (L_s(x) - zeta)+
 *             = min_zeta zeta + max_{K subset of scenarios} 1/((1-a)N) sum_{s in K} (L_s(x) - zeta),
 * a maximum of linear functions of (x, zeta). The master LP (buildProblem.ts, cvarMethod "cuts")
 * keeps zeta, one column v and the row zeta + v <= limit; each cut is ONE aggregated row
 *   v >= 1/((1-a)N) sum_{s in K} (L_s(x) - zeta)
 * with one coefficient per candidate. Separation at the master's (x*, zeta*): K = {s: L_s(x*) > zeta*};
 * the cut is violated by f - v* where f = 1/((1-a)N) sum_K (L_s(x*) - zeta*). A second cut at
 * zeta = VaR_a(x*) (the minimizing zeta for x*, so it touches CVaR(x*)) is added with it.
 * The loop stops when the violation is <= tolerance (USD): x* is then feasible for the CVaR limit
 * to that tolerance and, the master being a relaxation, optimal. Finite: there are finitely many
 * subsets K. Works for MILPs too (each master is a MILP; cuts are valid for every x).
 *
 * Memory: the scenario PnL stays where the problem holds it (one Float64Array per candidate,
 * n x N x 8 bytes); the master has O(n + cuts) rows of O(n) nonzeros, and a separation needs
 * O(N) scratch. The monolithic LP instead copies n x N nonzeros into row arrays and HiGHS.
 * Units: USD in the cut computations; the rows are in riskScale units like the LP's CVaR rows.
 */
import type { CvarMethod, LpProblem, LpRow } from "./buildProblem.js";
import type { HighsBackend, HighsOptions, LpSolution, LpSolver } from "./lpSolver.js";
import type { OptimizeProblem } from "./spec.js";
import { empiricalCvar } from "./verify.js";

/**
 * Candidates x scenarios above which "auto" uses cutting planes. Measured (bench/optimize.bench.ts):
 * the monolithic LP is faster on small problems, the cuts from about this size on, and the
 * monolithic wasm LP aborts on its 2 GiB heap near 1e7 nonzeros.
 */
export const CVAR_CUTS_AUTO_NONZEROS = 100_000;

/** The CVaR formulation `options.cvarMethod` selects for `p`. */
export function chooseCvarMethod(p: OptimizeProblem, method: "auto" | CvarMethod = "auto"): CvarMethod {
  if (method !== "auto") return method;
  return p.candidates.length * p.book.scenarioPnlUsd.length > CVAR_CUTS_AUTO_NONZEROS ? "cuts" : "lp";
}

export interface CvarCutOptions {
  readonly highs?: HighsOptions;
  readonly backend?: HighsBackend;
  /** Stop when the most violated cut is violated by at most this many USD (default: see cutTolerance). */
  readonly toleranceUsd?: number;
  /** Master solves at most (default 500). */
  readonly maxIterations?: number;
  /**
   * Cuts from an earlier solve of the same problem structure (e.g. the previous frontier point):
   * valid for any limit and objective, they start the master closer. New cuts are appended.
   */
  readonly pool?: LpRow[];
  /** Called after each separation (progress for long runs). */
  readonly onIteration?: (s: { iteration: number; violationUsd: number; cuts: number }) => void;
}

export interface CvarCutStats {
  readonly iterations: number;
  /** Cuts in the final master (including those from the pool). */
  readonly cuts: number;
  /** Violation of the most violated cut at the returned solution, USD. */
  readonly violationUsd: number;
  readonly toleranceUsd: number;
  readonly converged: boolean;
}

/**
 * Default stopping tolerance, USD: 1e-9 of the loss scale (one lot's largest scenario PnL plus the
 * book's largest scenario loss), never of the limit (a frontier's "no limit" is 1e300).
 */
export function cutTolerance(p: OptimizeProblem, lp: LpProblem): number {
  let bookMax = 0;
  for (const v of p.book.scenarioPnlUsd) bookMax = Math.max(bookMax, Math.abs(v));
  return 1e-9 * Math.max(1, lp.riskScaleUsd + bookMax);
}

/** Scenario losses L_s = -(book_s + sum_i q_i P_is) for net contracts q (USD). */
export function scenarioLosses(p: OptimizeProblem, q: Float64Array): Float64Array {
  const S = p.book.scenarioPnlUsd.length;
  const L = new Float64Array(S);
  const b = p.book.scenarioPnlUsd;
  for (let s = 0; s < S; s++) L[s] = -(b[s] as number);
  for (let i = 0; i < q.length; i++) {
    const qi = q[i] as number;
    if (qi === 0) continue;
    const P = (p.candidates[i] as OptimizeProblem["candidates"][number]).scenarioPnlUsd;
    for (let s = 0; s < S; s++) L[s] = (L[s] as number) - qi * (P[s] as number);
  }
  return L;
}

/** The cut v >= 1/((1-a)N) sum_{s: L_s > zeta} (L_s(x) - zeta) as a row of `lp`. */
function cutRow(p: OptimizeProblem, lp: LpProblem, L: Float64Array, zetaUsd: number, name: string): LpRow {
  const S = L.length;
  const alpha = p.constraints.cvar?.alpha ?? 0.95;
  const w = 1 / ((1 - alpha) * S);
  const K: number[] = [];
  for (let s = 0; s < S; s++) if ((L[s] as number) > zetaUsd) K.push(s);
  const rs = 1 / lp.riskScaleUsd;
  const idx: number[] = [];
  const val: number[] = [];
  const n = p.candidates.length;
  for (let i = 0; i < n; i++) {
    const P = (p.candidates[i] as OptimizeProblem["candidates"][number]).scenarioPnlUsd;
    let sum = 0;
    for (const s of K) sum += P[s] as number;
    if (sum === 0) continue;
    // -L_s contains +x_i P_is, so the row  v + w|K| zeta + w sum_i x_i sum_K P_is >= -w sum_K book_s.
    idx.push(lp.netCol[i] as number);
    val.push(w * sum * (lp.lotOf[i] as number) * rs);
  }
  let bookSum = 0;
  for (const s of K) bookSum += p.book.scenarioPnlUsd[s] as number;
  idx.push(lp.zetaCol, lp.vCol);
  val.push(w * K.length, 1);
  return {
    name,
    group: "cvar-cut",
    lower: -w * bookSum * rs,
    upper: Number.POSITIVE_INFINITY,
    idx: Int32Array.from(idx),
    val: Float64Array.from(val),
    rowScale: rs,
    constant: 0,
    elastic: false,
  };
}

/** Net contracts per candidate from a master solution. */
function netContracts(lp: LpProblem, x: Float64Array): Float64Array {
  const n = lp.netCol.length;
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const isInt = lp.integer[lp.buyCol[i] as number] === 1;
    const b = x[lp.buyCol[i] as number] as number;
    const s = x[lp.sellCol[i] as number] as number;
    q[i] = (isInt ? Math.round(b) - Math.round(s) : b - s) * (lp.lotOf[i] as number);
  }
  return q;
}

/**
 * Solves `lp` (built with cvarMethod "cuts", possibly with extra columns/rows such as elastic
 * slacks or another objective) by adding cuts until the CVaR epigraph holds to the tolerance.
 * Returns the last master's solution and the LP with its cuts (rows after the originals).
 */
export function solveWithCvarCuts(
  p: OptimizeProblem,
  lp: LpProblem,
  solver: LpSolver,
  o: CvarCutOptions = {},
): { sol: LpSolution; lp: LpProblem; stats: CvarCutStats } {
  if (lp.cvarMethod !== "cuts")
    throw new RangeError("solveWithCvarCuts needs an LP built with cvarMethod 'cuts'");
  const alpha = p.constraints.cvar?.alpha ?? 0.95;
  const S = p.book.scenarioPnlUsd.length;
  const w = 1 / ((1 - alpha) * S);
  const tol = o.toleranceUsd ?? cutTolerance(p, lp);
  const maxIt = o.maxIterations ?? 500;
  const pool = o.pool ?? [];
  const base = lp.rows;
  // First cut: K = every scenario (v >= (mean loss - zeta)/(1-a)). With v >= 0 it bounds zeta + v
  // below for every zeta, so a master minimizing CVaR is bounded from the first solve.
  if (pool.length === 0)
    pool.push(
      cutRow(
        p,
        lp,
        scenarioLosses(p, new Float64Array(p.candidates.length)),
        Number.NEGATIVE_INFINITY,
        "cut0",
      ),
    );
  let cur: LpProblem = { ...lp, rows: [...base, ...pool] };
  let violation = Number.POSITIVE_INFINITY;
  for (let it = 1; ; it++) {
    const sol = solver.solve(cur, o.highs, o.backend);
    const done = (converged: boolean) => ({
      sol,
      lp: cur,
      stats: { iterations: it, cuts: pool.length, violationUsd: violation, toleranceUsd: tol, converged },
    });
    if (!sol.optimal) return done(false);
    const q = netContracts(cur, sol.x);
    const L = scenarioLosses(p, q);
    const zeta = (sol.x[lp.zetaCol] as number) * lp.riskScaleUsd;
    const v = (sol.x[lp.vCol] as number) * lp.riskScaleUsd;
    let f = 0;
    for (let s = 0; s < S; s++) {
      const e = (L[s] as number) - zeta;
      if (e > 0) f += e;
    }
    violation = w * f - v;
    o.onIteration?.({ iteration: it, violationUsd: violation, cuts: pool.length });
    if (violation <= tol) return done(true);
    if (it >= maxIt) return done(false);
    pool.push(cutRow(p, cur, L, zeta, `cut${pool.length}`));
    // The cut through CVaR(x*) itself (zeta at VaR): tightens the master where it will move next.
    const varUsd = empiricalCvar(L, alpha).var;
    if (Number.isFinite(varUsd) && Math.abs(varUsd - zeta) > tol)
      pool.push(cutRow(p, cur, L, varUsd, `cut${pool.length}`));
    cur = { ...cur, rows: [...base, ...pool] };
  }
}
