/**
 * The optimizer: spec -> LP/MILP (buildProblem.ts) -> HiGHS (highsAdapter.ts) -> trades,
 * independently verified (verify.ts) and explained (explain.ts). Infeasible specs are
 * diagnosed with elastic slacks (infeasibility.ts).
 *
 * Trades are in contracts; prices and figures in USD (see spec.ts). Limit prices are the quoted
 * side plus the slippage allowance (buys: ask + slip, sells: bid - slip).
 */
import {
  buildOptimizeLp,
  type CvarMethod,
  type LpProblem,
  type LpRow,
  tradeCostsUsd,
} from "./buildProblem.js";
import { type CvarCutStats, chooseCvarMethod, solveWithCvarCuts } from "./cvarCuts.js";
import { type BindingConstraint, bindingConstraints, cvarLabel, explainTrade } from "./explain.js";
import type { HighsBackend, HighsOptions, LpSolution, LpSolver } from "./lpSolver.js";
import { milpBindingConstraints } from "./milpBinding.js";
import { diagnoseInfeasibility, type InfeasibilityDiagnosis } from "./infeasibility.js";
import type { OptimizeProblem } from "./spec.js";
import {
  netQuantities,
  type OptimizeRiskSummary,
  type OptimizeTradeQuantity,
  summarizeOptimizeRisk,
  type VerificationReport,
  verifyOptimizeResult,
} from "./verify.js";

export interface OptimizeTrade extends OptimizeTradeQuantity {
  readonly name: string;
  /** Limit price per contract, USD. */
  readonly limitPriceUsd: number;
  /** Edge vs fair after costs, USD (positive = in our favour). */
  readonly edgeUsd: number;
  readonly explanation: string;
}

export type OptimizeStatus = "optimal" | "infeasible" | "unbounded" | "failed";

export interface OptimizeResult {
  readonly status: OptimizeStatus;
  /** HiGHS model status as reported. */
  readonly solverStatus: string;
  readonly trades: OptimizeTrade[];
  /** Objective in USD in the objective's sense (edge or theta to maximize; cost to minimize). */
  readonly objectiveUsd: number;
  readonly objectiveKind: OptimizeProblem["objective"]["kind"];
  readonly before: OptimizeRiskSummary;
  readonly after: OptimizeRiskSummary;
  readonly binding: BindingConstraint[];
  /** What the CVaR figures are (level, tail size of how many equally weighted scenarios); null without scenarios. */
  readonly cvarLabel: string | null;
  readonly verification: VerificationReport | null;
  readonly diagnosis: InfeasibilityDiagnosis | null;
  readonly stats: {
    readonly columns: number;
    readonly rows: number;
    readonly nonzeros: number;
    readonly integer: boolean;
    readonly lpTextChars: number;
    /** How CVaR was solved: "lp" (whole Rockafellar-Uryasev LP), "cuts" (cutting planes), "none". */
    readonly cvarMethod: "none" | CvarMethod;
    /** Cutting planes: master solves, cuts, final violation (USD); null otherwise. */
    readonly cvarCuts: CvarCutStats | null;
  };
  readonly notes: string[];
}

export interface OptimizeOptions {
  readonly highs?: HighsOptions;
  /** HiGHS path: "model" (typed model API, default) or "lp-text" (CPLEX LP text). */
  readonly backend?: HighsBackend;
  /** Diagnose infeasible specs (extra solves; default true). */
  readonly diagnose?: boolean;
  /** Trades below this many contracts are dropped as solver noise (default 1e-7). */
  readonly minContracts?: number;
  /**
   * CVaR formulation: "lp" (the whole Rockafellar-Uryasev LP: S rows of n nonzeros), "cuts"
   * (Kunzi-Bay-Mayer cutting planes, cvarCuts.ts), or "auto" (default): cuts when candidates x
   * scenarios exceeds CVAR_CUTS_AUTO_NONZEROS.
   */
  readonly cvarMethod?: "auto" | CvarMethod;
  /** Progress of the cutting-plane loop. */
  readonly onCutIteration?: (s: { iteration: number; violationUsd: number; cuts: number }) => void;
  /** Cutting planes: a pool of cuts shared by solves of one problem structure (see cvarCuts.ts). */
  readonly cutPool?: LpRow[];
}

/** Builds and solves `p` with the chosen CVaR formulation (the LP returned includes any cuts). */
export function solveOptimizeProblem(
  p: OptimizeProblem,
  solver: LpSolver,
  options: OptimizeOptions = {},
  tweak?: (lp: LpProblem) => LpProblem,
): { lp: LpProblem; sol: LpSolution; cvarCuts: CvarCutStats | null } {
  const method = p.constraints.cvar ? chooseCvarMethod(p, options.cvarMethod) : "lp";
  const built = buildOptimizeLp(p, { cvarMethod: method });
  const lp = tweak ? tweak(built) : built;
  if (lp.cvarMethod !== "cuts")
    return { lp, sol: solver.solve(lp, options.highs, options.backend), cvarCuts: null };
  const r = solveWithCvarCuts(p, lp, solver, {
    ...(options.highs ? { highs: options.highs } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.onCutIteration ? { onIteration: options.onCutIteration } : {}),
    ...(options.cutPool ? { pool: options.cutPool } : {}),
  });
  return { lp: r.lp, sol: r.sol, cvarCuts: r.stats };
}

/** Trades from a solution vector (contracts). */
export function tradesFromSolution(
  lp: LpProblem,
  x: Float64Array,
  minContracts = 1e-7,
): OptimizeTradeQuantity[] {
  const out: OptimizeTradeQuantity[] = [];
  for (let i = 0; i < lp.buyCol.length; i++) {
    const isInt = lp.integer[lp.buyCol[i] as number] === 1;
    const round = (v: number): number => (isInt ? Math.round(v) : Math.max(v, 0));
    const b = round(x[lp.buyCol[i] as number] as number) * (lp.lotOf[i] as number);
    const s = round(x[lp.sellCol[i] as number] as number) * (lp.lotOf[i] as number);
    // Buying and selling one instrument at once is never better than netting (costs > 0).
    if (b > minContracts) out.push({ index: i, side: "buy", contracts: b });
    if (s > minContracts) out.push({ index: i, side: "sell", contracts: s });
  }
  return out;
}

export function lpNonzeros(lp: LpProblem): number {
  let nz = 0;
  for (const r of lp.rows) nz += r.idx.length;
  return nz;
}

/** Objective in USD (user's sense) recomputed from trades (edge/theta/cost; vega-target adds the penalty). */
export function objectiveFromTrades(p: OptimizeProblem, trades: readonly OptimizeTradeQuantity[]): number {
  let edge = 0;
  let theta = 0;
  for (const t of trades) {
    const c = p.candidates[t.index];
    if (!c) continue;
    const tc = tradeCostsUsd(c, p.costs);
    edge -= t.contracts * (t.side === "buy" ? tc.buy : tc.sell);
    theta += (t.side === "buy" ? 1 : -1) * t.contracts * c.greeks.thetaUsdPerDay;
  }
  const o = p.objective;
  if (o.kind === "edge") return edge;
  if (o.kind === "theta") return theta + (o.costWeight ?? 1) * edge;
  const q = netQuantities(p, trades);
  let vega = p.book.greeks.vegaUsdPerVolPt;
  p.candidates.forEach((c, i) => {
    vega += (q[i] as number) * c.greeks.vegaUsdPerVolPt;
  });
  return -edge + (o.penaltyUsd ?? 100) * Math.abs(vega - o.targetUsdPerVolPt);
}

/**
 * When the problem carries the margin engine (p.marginOfBook), the reported margin after the
 * trades is the engine's figure; checks: it is within the budget, and the optimizer's own
 * margin model (the LP's rows) is not below it (equal for options, to rounding; for futures the
 * interpolated curve is on or above the engine's convex one).
 */
function withEngineMargin(
  p: OptimizeProblem,
  trades: readonly OptimizeTradeQuantity[],
  v: VerificationReport,
): VerificationReport {
  if (!p.marginOfBook) return v;
  const engine = p.marginOfBook(netQuantities(p, trades));
  const model = v.after.marginUsd;
  const checks = v.checks.filter((c) => c.name !== "margin");
  const budget = p.constraints.marginBudgetUsd;
  if (budget !== undefined)
    checks.push({ name: "margin", value: engine, max: budget, ok: engine <= budget * (1 + 1e-9) + 1e-9 });
  checks.push({
    name: "margin model - engine",
    value: model - engine,
    min: 0,
    ok: model - engine >= -1e-9 * Math.max(1, Math.abs(engine)),
  });
  return { ok: checks.every((c) => c.ok), checks, after: { ...v.after, marginUsd: engine } };
}

/** The CVaR label of a problem (explain.ts cvarLabel): grid scenarios when they are named. */
export function optimizeCvarLabel(p: OptimizeProblem): string | null {
  const S = p.book.scenarioPnlUsd.length;
  if (S === 0) return null;
  return cvarLabel(p.constraints.cvar?.alpha ?? 0.95, S, p.scenarioNames ? "grid scenarios" : "scenarios");
}

function statusOf(sol: LpSolution): OptimizeStatus {
  if (sol.optimal) return "optimal";
  if (/infeasible/i.test(sol.status) && !/unbounded/i.test(sol.status)) return "infeasible";
  if (/unbounded/i.test(sol.status)) return "unbounded";
  return "failed";
}

type SolveStats = OptimizeResult["stats"];

/** The solve's notes: which margin and CVaR figures the result carries and how they were solved. */
function solveNotes(p: OptimizeProblem, lp: LpProblem, cvarCuts: CvarCutStats | null): string[] {
  const notes: string[] = [];
  if (p.portfolioMarginOfBook)
    notes.push(
      "portfolio margin: the engine's Deribit PM of the book before and after the trades, computed after the solve (reported, not constrained: the margin budget is standard margin)",
    );
  if (cvarCuts)
    notes.push(
      `CVaR by cutting planes (Kunzi-Bay-Mayer): ${cvarCuts.iterations} master solves, ${cvarCuts.cuts} cuts, final violation ${cvarCuts.violationUsd.toPrecision(3)} USD (tolerance ${cvarCuts.toleranceUsd.toPrecision(3)})${cvarCuts.converged ? "" : " NOT CONVERGED"}`,
    );
  else if (lp.cvarMethod === "lp")
    notes.push(`CVaR by the whole Rockafellar-Uryasev LP (${p.book.scenarioPnlUsd.length} scenario rows)`);
  if (p.constraints.marginBudgetUsd !== undefined)
    notes.push(
      `margin: Deribit standard initial margin per net position (core margin engine's figures${p.marginOfBook ? "; the figure after the trades is the engine's own, checked against the LP's" : ""})`,
    );
  return notes;
}

/** The result of a solve that found no optimum: no trades, the diagnosis when asked for. */
function notOptimalResult(
  p: OptimizeProblem,
  solver: LpSolver,
  options: OptimizeOptions,
  s: { status: OptimizeStatus; sol: LpSolution; stats: SolveStats; notes: string[] },
): OptimizeResult {
  const before = summarizeOptimizeRisk(p, []);
  const diagnosis =
    s.status !== "unbounded" && (options.diagnose ?? true)
      ? diagnoseInfeasibility(p, solver, options.highs, options.backend, options.cvarMethod)
      : null;
  return {
    status: s.status,
    solverStatus: s.sol.status,
    trades: [],
    objectiveUsd: Number.NaN,
    objectiveKind: p.objective.kind,
    before,
    after: before,
    binding: [],
    cvarLabel: optimizeCvarLabel(p),
    verification: null,
    diagnosis,
    stats: s.stats,
    notes: s.notes,
  };
}

/** Scenarios in the tail of the book after the trades: losses >= its VaR (USD). */
function tailScenarios(p: OptimizeProblem, q: readonly OptimizeTradeQuantity[], varUsd: number): number[] {
  const net = netQuantities(p, q);
  const finalPnl = Float64Array.from(p.book.scenarioPnlUsd);
  p.candidates.forEach((c, i) => {
    const qi = net[i] ?? 0;
    if (qi === 0) return;
    for (let s = 0; s < finalPnl.length; s++)
      finalPnl[s] = (finalPnl[s] ?? 0) + qi * (c.scenarioPnlUsd[s] ?? 0);
  });
  const tail: number[] = [];
  finalPnl.forEach((v, s) => {
    if (-v >= varUsd) tail.push(s);
  });
  return tail;
}

/** One trade with its limit price, edge and explanation (`tail`: the final book's tail scenarios). */
function explainedTrade(
  p: OptimizeProblem,
  t: OptimizeTradeQuantity,
  tail: readonly number[],
  before: OptimizeRiskSummary,
): OptimizeTrade {
  const c = p.candidates[t.index];
  if (!c) throw new RangeError(`trade index ${t.index} out of range`);
  const tc = tradeCostsUsd(c, p.costs);
  const fee = p.costs?.feePerContractUsd ?? 0;
  const unitCost = t.side === "buy" ? tc.buy : tc.sell;
  const limit = t.side === "buy" ? c.fairUsd + unitCost - fee : c.fairUsd - unitCost + fee;
  const sign = t.side === "buy" ? 1 : -1;
  let tailPnl = Number.NaN;
  if (tail.length > 0) {
    let s = 0;
    for (const k of tail) s += c.scenarioPnlUsd[k] ?? 0;
    tailPnl = (sign * t.contracts * s) / tail.length;
  }
  const edgeUsd = -unitCost * t.contracts;
  return {
    ...t,
    name: c.name,
    limitPriceUsd: limit,
    edgeUsd,
    explanation: explainTrade({
      objectiveKind: p.objective.kind,
      candidate: c,
      side: t.side,
      contracts: t.contracts,
      edgeUsd,
      before,
      tailPnlUsd: tailPnl,
    }),
  };
}

/** Binding constraints: duals for LPs, relax-and-resolve for MILPs; CVaR rows named by their label. */
function bindingOf(
  p: OptimizeProblem,
  lp: LpProblem,
  sol: LpSolution,
  solver: LpSolver,
  options: OptimizeOptions,
): BindingConstraint[] {
  const label = optimizeCvarLabel(p);
  const integer = lp.integer.some((v) => v === 1);
  const binding = integer
    ? milpBindingConstraints(p, lp, sol, solver, {
        ...(options.highs ? { highs: options.highs } : {}),
        ...(options.backend ? { backend: options.backend } : {}),
      })
    : bindingConstraints(lp, sol);
  return binding.map((b) =>
    b.group === "cvar" && label ? { ...b, text: `cvar (${label})${b.text.slice(4)}` } : b,
  );
}

/** Solves a problem and returns verified, explained trades (or a diagnosis). Synchronous. */
export function optimizePortfolio(
  p: OptimizeProblem,
  solver: LpSolver,
  options: OptimizeOptions = {},
): OptimizeResult {
  const { lp, sol, cvarCuts } = solveOptimizeProblem(p, solver, options);
  const status = statusOf(sol);
  const stats: SolveStats = {
    columns: lp.numCol,
    rows: lp.rows.length,
    nonzeros: lpNonzeros(lp),
    integer: lp.integer.some((v) => v === 1),
    lpTextChars: sol.lpTextChars,
    cvarMethod: lp.cvarMethod,
    cvarCuts,
  };
  const notes = solveNotes(p, lp, cvarCuts);
  if (status !== "optimal") return notOptimalResult(p, solver, options, { status, sol, stats, notes });
  const before = summarizeOptimizeRisk(p, []);
  const q = tradesFromSolution(lp, sol.x, options.minContracts);
  const verification = withEngineMargin(p, q, verifyOptimizeResult(p, q));
  const pm = (qs: readonly OptimizeTradeQuantity[]) =>
    p.portfolioMarginOfBook ? { portfolioMarginUsd: p.portfolioMarginOfBook(netQuantities(p, qs)) } : {};
  const after = { ...verification.after, ...pm(q) };
  const tail = tailScenarios(p, q, after.varUsd);
  const trades = q.map((t) => explainedTrade(p, t, tail, before));
  const objSense = lp.objectiveSense === "maximize" ? -1 : 1;
  if (!verification.ok) notes.push("verification FAILED: see verification.checks");
  return {
    status,
    solverStatus: sol.status,
    trades,
    objectiveUsd: objSense * sol.objective * lp.objScaleUsd,
    objectiveKind: p.objective.kind,
    before: { ...before, ...pm([]) },
    after,
    binding: bindingOf(p, lp, sol, solver, options),
    cvarLabel: optimizeCvarLabel(p),
    verification,
    diagnosis: null,
    stats,
    notes,
  };
}
