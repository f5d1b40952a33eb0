/**
 * The agent's optimizer rule: builds an OptimizeProblem (core/optimize) from the tick's analytics
 * and solves it with HiGHS; its trades become ProposedOrders (rule "optimizer").
 *
 * Problem: objective vega-target (policy.vegaTargetPerVolPoint, penalty per USD/vol pt of miss);
 * candidates = the quotes of the vega target expiry with |Black delta| in the configured window,
 * the book's option positions (so it can buy back or sell out of them) and the hedge perpetual;
 * Market: the tick's one market (valuation.ts; analytics.ts view), the book's figures from the
 * core valuation on it. Constraints = total delta within +-deltaBand/2 (room for rounding to lots), CVaR over the analytics' CVaR scenarios (the same
 * Merton scenarios the agent reports) <= cvarTargetFraction x maxCvarUsd, margin budget (Deribit
 * standard margin from the core engine, per candidate) <= marginTargetFraction x maxMarginUsd when the book
 * is inside it, and (vega "hard") total vega within target +- tolerance. Size limits per option:
 * min(policy.maxOrderContracts, limits.maxOptionContracts). The LP is continuous; option orders
 * are rounded to lots and the perpetual to whole contracts afterwards.
 *
 * Held positions as decisions: the option candidates' margin charges new sells, so a held
 * short is modelled as a "keep" candidate: selling it (up to the held size) keeps the short and
 * costs its margin, not selling it buys it back; its quote is the closing side (keeping earns the
 * buy-back cost avoided), so costs, greeks, scenario PnL and margin of buy-backs are all exact
 * and a margin breach can be repaired. Held longs likewise (buy = keep, bid = the closing side).
 * Held positions without a closing quote stay in the optimizer's book as fixed. The optimizer's
 * own figures (before/after) are therefore of the book after the roll, with held positions
 * counted as kept trades.
 * Positions the roll rule closes this tick are left out of the optimizer's book.
 *
 * Synchronous: the LP solver is passed in; the agent loads it once (agentLpSolver) and reloads
 * it only after a solve threw (a WebAssembly abort leaves an instance unusable).
 *
 * Units: USD, vega per vol point, delta in coins (core/optimize/spec.ts).
 */
import type { Instrument, Position } from "../core/instruments/types.js";
import type { CleanQuote } from "../core/market/types.js";
import {
  buildOptimizeBook,
  buildOptimizeCandidates,
  hedgeCandidate,
  keepDecisionCandidate,
} from "../core/optimize/candidates.js";
import { type LpSolver, loadLpSolver } from "../core/optimize/lpSolver.js";
import { type OptimizeResult, optimizePortfolio } from "../core/optimize/optimize.js";
import type { OptimizeCandidate, OptimizeConstraints, OptimizeProblem } from "../core/optimize/spec.js";
import type { summarizeOptimizeRisk } from "../core/optimize/verify.js";
import type { AnalyticsView } from "./analytics.js";
import type { AgentAnalyticsConfig } from "./config.js";
import type { PreTradeLimits } from "./limits.js";
import { limitFor, type PolicyConfig, type ProposedOrder, vegaTargetExpiry } from "./policy.js";

export interface OptimizerRuleResult {
  readonly status: string;
  readonly orders: ProposedOrder[];
  /** Infeasibility diagnosis (core/optimize/infeasibility.ts) or the solver status. */
  readonly diagnosis: string | null;
  readonly summary: string;
  readonly candidates: number;
  /**
   * Before: the analytics view of the whole book (vega USD/vol pt, delta coins, CVaR, margin USD);
   * after: the optimizer's own figures (scenario CVaR, engine standard margin), before rounding to lots.
   */
  readonly before: { vega: number; delta: number; cvarUsd: number; marginUsd: number };
  readonly after: { vega: number; delta: number; cvarUsd: number; marginUsd: number } | null;
}

const roundLots = (x: number, lot: number) => Math.round(x / lot) * lot;
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : String(x));

/**
 * The agent's LP solver, loaded on first use (the one load, at the agent's edge) and loaded
 * again after a solve threw: an aborted WebAssembly instance is not reusable.
 */
export function agentLpSolver(): () => Promise<LpSolver> {
  let loading: Promise<LpSolver> | null = null;
  const guarded = (s: LpSolver): LpSolver => ({
    solve: (lp, options, backend) => {
      try {
        return s.solve(lp, options, backend);
      } catch (e) {
        loading = null;
        throw e;
      }
    },
  });
  return () => {
    loading ??= loadLpSolver().then(guarded);
    return loading;
  };
}

export interface OptimizerRebalanceInput {
  readonly view: AnalyticsView;
  readonly positions: readonly Position[];
  /** Instruments the roll rule closes this tick (left out). */
  readonly rolling: ReadonlySet<string>;
  readonly policy: PolicyConfig;
  readonly limits: PreTradeLimits;
  readonly analytics: AgentAnalyticsConfig;
  readonly resolveInstrument: (name: string) => Instrument;
  readonly reason: string;
  /** The loaded LP solver (agentLpSolver). */
  readonly solver: LpSolver;
}

/** Candidates (fresh quotes of the target expiry, keep decisions, the hedge perpetual) and the fixed legs. */
interface RuleCandidates {
  readonly candidates: OptimizeCandidate[];
  readonly instruments: Instrument[];
  /** Candidate index -> held quantity of its keep decision. */
  readonly keepOf: Map<number, number>;
  readonly fixed: Position[];
  readonly maxContracts: number;
}

/** Option candidates: fresh quotes of the vega target expiry and held options' closing quotes. */
function optionCandidates(
  o: OptimizerRebalanceInput,
  held: ReadonlyMap<string, Position>,
  maxContracts: number,
) {
  const { view, policy } = o;
  const oc = o.analytics.optimizer;
  const target = vegaTargetExpiry(
    {
      underlying: view.snapshot.underlying,
      valuationTime: view.snapshot.valuationTime,
      indexPrice: view.snapshot.indexPrice,
      quotes: view.snapshot.quotes,
    },
    policy,
  );
  const fresh: CleanQuote[] = [];
  const heldQuotes: CleanQuote[] = [];
  for (const q of view.snapshot.quotes) {
    if (held.has(q.instrument.name)) heldQuotes.push(q);
    else if (q.instrument.expiry === target) fresh.push(q);
  }
  const snap = (quotes: CleanQuote[]) => ({ ...view.snapshot, quotes });
  const a = buildOptimizeCandidates({
    snapshot: snap(fresh),
    market: view.market,
    scenarios: view.scenarios,
    filter: { minAbsDelta: oc.minAbsDelta, maxAbsDelta: oc.maxAbsDelta, maxContracts },
  });
  const b = buildOptimizeCandidates({
    snapshot: snap(heldQuotes),
    market: view.market,
    scenarios: view.scenarios,
    filter: { maxContracts },
  });
  return { a, b };
}

/** Every candidate of the tick (see the module comment) and the legs that stay fixed. */
function ruleCandidates(o: OptimizerRebalanceInput): RuleCandidates {
  const { view, policy, limits } = o;
  const S = view.snapshot.indexPrice;
  const kept = o.positions.filter((p) => !o.rolling.has(p.instrument.name));
  const held = new Map(kept.filter((p) => p.instrument.type === "option").map((p) => [p.instrument.name, p]));
  const maxContracts = Math.min(policy.maxOrderContracts, limits.maxOptionContracts);
  const { a, b } = optionCandidates(o, held, maxContracts);
  const candidates: OptimizeCandidate[] = [...a.candidates, ...b.candidates];
  const instruments: Instrument[] = [...a.instruments, ...b.instruments];
  // Held options become "keep" decisions (see the module comment); without a closing quote they are fixed.
  const fixed: Position[] = kept.filter((p) => p.instrument.type !== "option");
  const keepOf = new Map<number, number>();
  for (const p of held.values()) {
    const i = b.instruments.findIndex((x) => x.name === p.instrument.name);
    const c = i >= 0 ? b.candidates[i] : undefined;
    const keep = c ? keepDecisionCandidate(c, p.quantity) : null;
    if (!keep) {
      fixed.push(p);
      continue;
    }
    keepOf.set(candidates.length, p.quantity);
    candidates.push(keep);
    instruments.push(p.instrument);
  }
  // The hedge perpetual: fair value 0 (entered at the mark), half a tick of cost each side.
  const perp = o.resolveInstrument(policy.hedgeInstrument);
  const halfTickUsd =
    perp.settlement === "inverse" ? (perp.contractSize * 0.25) / S : perp.contractSize * 0.25;
  candidates.push(
    hedgeCandidate({
      instrument: perp,
      market: view.market,
      scenarios: view.scenarios,
      costUsd: halfTickUsd,
      maxContracts: limits.maxFutureContracts,
    }),
  );
  instruments.push(perp);
  return { candidates, instruments, keepOf, fixed, maxContracts };
}

/** Delta band, CVaR, margin budget (when the book is inside it) and the hard vega band; notes on what was left out. */
function ruleConstraints(o: OptimizerRebalanceInput, bookMarginUsd: number) {
  const { policy, limits, analytics } = o;
  const oc = analytics.optimizer;
  const constraints: {
    -readonly [K in keyof OptimizeConstraints]: OptimizeConstraints[K];
  } = { delta: { min: -policy.deltaBand / 2, max: policy.deltaBand / 2 } };
  const notes: string[] = [];
  if (analytics.maxCvarUsd !== undefined)
    constraints.cvar = {
      alpha: analytics.cvar.confidence,
      maxLossUsd: analytics.maxCvarUsd * oc.cvarTargetFraction,
    };
  if (limits.maxMarginUsd !== undefined) {
    const budget = limits.maxMarginUsd * oc.marginTargetFraction;
    if (bookMarginUsd <= budget) constraints.marginBudgetUsd = budget;
    else
      notes.push(
        `standard margin ${f1(bookMarginUsd)} USD already above the budget: left to CVaR and the pre-trade check`,
      );
  }
  if (oc.vega === "hard")
    constraints.vega = {
      min: policy.vegaTargetPerVolPoint - policy.vegaTolerancePerVolPoint,
      max: policy.vegaTargetPerVolPoint + policy.vegaTolerancePerVolPoint,
    };
  return { constraints, notes };
}

interface OrderLine {
  inst: Instrument;
  qty: number;
  delta: number;
  why: string[];
  held?: number;
}

/**
 * Net order per instrument = new position - held: keep decisions give the kept part of a held
 * position (0 when not traded: closed), other candidates add their net trade.
 */
function orderLines(rc: RuleCandidates, r: OptimizeResult): OrderLine[] {
  const order = new Map<string, OrderLine>();
  const add = (i: number, qty: number, why?: string): OrderLine | undefined => {
    const inst = rc.instruments[i];
    const c = rc.candidates[i];
    if (!inst || !c) return undefined;
    const e = order.get(inst.name) ?? { inst, qty: 0, delta: c.greeks.deltaCoin, why: [] };
    e.qty += qty;
    if (why) e.why.push(why);
    order.set(inst.name, e);
    return e;
  };
  for (const [i, h] of rc.keepOf) {
    const e = add(i, -h);
    if (e) e.held = h;
  }
  for (const t of r.trades) {
    const h = rc.keepOf.get(t.index);
    const why =
      h === undefined
        ? t.explanation
        : `keeps ${t.contracts.toFixed(2)} of the ${h < 0 ? "short" : "long"} ${Math.abs(h)} ${t.name.replace(" (held)", "")}`;
    add(t.index, t.side === "buy" ? t.contracts : -t.contracts, why);
  }
  // Options first, the perpetual (the hedge) last.
  return [...order.values()].sort(
    (x, y) => Number(x.inst.type === "future") - Number(y.inst.type === "future"),
  );
}

/** Order lines rounded to lots (options) or whole contracts (the perpetual), priced, with their reason. */
function proposedOrders(
  o: OptimizerRebalanceInput,
  lines: readonly OrderLine[],
  maxContracts: number,
  head: string,
) {
  const { policy } = o;
  const quotes = new Map(o.view.snapshot.quotes.map((q) => [q.instrument.name, q]));
  const orders: ProposedOrder[] = [];
  for (const e of lines) {
    let c =
      e.inst.type === "future" ? Math.round(Math.abs(e.qty)) : roundLots(Math.abs(e.qty), policy.lotSize);
    if (e.inst.type === "option") c = Math.min(c, maxContracts);
    c = Math.round(c * 1e8) / 1e8;
    if (!(c > 0)) continue;
    const side = e.qty > 0 ? ("buy" as const) : ("sell" as const);
    const q = quotes.get(e.inst.name);
    const limitPrice = e.inst.type === "option" && q ? limitFor(side, q, policy.limitSlippage) : null;
    if (e.inst.type === "option" && limitPrice === null) continue;
    const closes =
      e.held !== undefined
        ? `${e.held < 0 ? "buys back the held short" : "sells the held long"} ${Math.abs(e.held)} (closes it)`
        : "";
    orders.push({
      rule: "optimizer",
      instrument: e.inst.name,
      side,
      quantity: c,
      limitPrice,
      why: `${head}; ${e.why.join("; ") || closes}`,
      deltaChange: (side === "buy" ? 1 : -1) * c * e.delta,
    });
  }
  return orders;
}

const pick = (s: ReturnType<typeof summarizeOptimizeRisk>) => ({
  vega: s.greeks.vegaUsdPerVolPt,
  delta: s.greeks.deltaCoin,
  cvarUsd: s.cvarUsd,
  marginUsd: s.marginUsd,
});

/** The optimizer rule of one tick (see the module comment). Synchronous. */
export function optimizerRebalance(o: OptimizerRebalanceInput): OptimizerRuleResult {
  const { view, policy } = o;
  const oc = o.analytics.optimizer;
  const rc = ruleCandidates(o);
  const book = buildOptimizeBook({ positions: rc.fixed, market: view.market, scenarios: view.scenarios });
  const { constraints, notes } = ruleConstraints(o, book.marginUsd);
  const problem: OptimizeProblem = {
    candidates: rc.candidates,
    book,
    objective: {
      kind: "vega-target",
      targetUsdPerVolPt: policy.vegaTargetPerVolPoint,
      penaltyUsd: oc.vegaPenaltyUsd,
    },
    constraints,
  };
  const r = optimizePortfolio(problem, o.solver);
  // The book before (analytics view, all positions; margin from the configured model).
  const before = {
    vega: view.greeks.vegaUsdPerVolPt,
    delta: view.greeks.deltaUnderlyingCoin,
    cvarUsd: view.cvarUsd,
    marginUsd: view.marginUsd,
  };
  const candidates = rc.candidates.length;
  if (r.status !== "optimal") {
    const diagnosis = r.diagnosis?.text ?? `solver: ${r.solverStatus}`;
    return {
      status: r.status,
      orders: [],
      diagnosis,
      summary: `optimizer ${r.status} (${o.reason})`,
      candidates,
      before,
      after: null,
    };
  }
  const after = pick(r.after);
  const head = `optimizer (${o.reason}): vega ${f1(before.vega)} -> ${f1(after.vega)} USD/vol pt (target ${policy.vegaTargetPerVolPoint}), CVaR ${f1(before.cvarUsd)} -> ${f1(after.cvarUsd)} USD, delta ${before.delta.toFixed(3)} -> ${after.delta.toFixed(3)}${notes.length ? `; ${notes.join("; ")}` : ""}`;
  const orders = proposedOrders(o, orderLines(rc, r), rc.maxContracts, head);
  return { status: r.status, orders, diagnosis: null, summary: head, candidates, before, after };
}
