/**
 * The agent's optimizer rule: builds an OptimizeProblem (core/optimize) from the tick's analytics
 * and solves it with HiGHS; its trades become ProposedOrders (rule "optimizer").
 *
 * Problem: objective vega-target (policy.vegaTargetPerVolPoint, penalty per USD/vol pt of miss);
 * candidates = the quotes of the vega target expiry with |Black delta| in the configured window,
 * the book's option positions (so it can buy back or sell out of them) and the hedge perpetual;
 * constraints = total delta within +-deltaBand, CVaR over the analytics' CVaR scenarios (the same
 * Merton scenarios the agent reports) <= cvarTargetFraction x maxCvarUsd, margin budget (the
 * optimizer's linear standard-margin proxy) <= marginTargetFraction x maxMarginUsd when the book
 * is inside it, and (vega "hard") total vega within target +- tolerance. Size limits per option:
 * min(policy.maxOrderContracts, limits.maxOptionContracts). The LP is continuous; option trades
 * are rounded to lots and the perpetual to whole contracts afterwards.
 * Positions the roll rule closes this tick are left out of the optimizer's book.
 *
 * Units: USD, vega per vol point, delta in coins (core/optimize/spec.ts).
 */
import type { Instrument, Position } from "../core/instruments/types.js";
import type { CleanQuote } from "../core/market/types.js";
import { buildOptimizeBook, buildOptimizeCandidates } from "../core/optimize/candidates.js";
import { optimizePortfolio } from "../core/optimize/optimize.js";
import type { OptimizeCandidate, OptimizeConstraints, OptimizeProblem } from "../core/optimize/spec.js";
import { summarizeOptimizeRisk } from "../core/optimize/verify.js";
import { expiryBucket, positionGreeks } from "../core/risk/greeks.js";
import { scenarioPnlMatrix } from "../core/risk/grid.js";
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
  /** Optimizer's view before/after: vega USD/vol pt, delta coins, CVaR and margin proxy USD. */
  readonly before: { vega: number; delta: number; cvarUsd: number; marginUsd: number };
  readonly after: { vega: number; delta: number; cvarUsd: number; marginUsd: number } | null;
}

const roundLots = (x: number, lot: number) => Math.round(x / lot) * lot;
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : String(x));

export async function optimizerRebalance(o: {
  readonly view: AnalyticsView;
  readonly positions: readonly Position[];
  /** Instruments the roll rule closes this tick (left out). */
  readonly rolling: ReadonlySet<string>;
  readonly policy: PolicyConfig;
  readonly limits: PreTradeLimits;
  readonly analytics: AgentAnalyticsConfig;
  readonly resolveInstrument: (name: string) => Instrument;
  readonly reason: string;
}): Promise<OptimizerRuleResult> {
  const { view, policy, limits, analytics } = o;
  const oc = analytics.optimizer;
  const market = view.market;
  const S = view.snapshot.indexPrice;
  const kept = o.positions.filter((p) => !o.rolling.has(p.instrument.name));
  const held = new Map(kept.filter((p) => p.instrument.type === "option").map((p) => [p.instrument.name, p]));
  const target = vegaTargetExpiry(
    {
      underlying: view.snapshot.underlying,
      valuationTime: view.snapshot.valuationTime,
      indexPrice: S,
      quotes: view.snapshot.quotes,
    },
    policy,
  );
  const maxContracts = Math.min(policy.maxOrderContracts, limits.maxOptionContracts);
  const fresh: CleanQuote[] = [];
  const heldQuotes: CleanQuote[] = [];
  for (const q of view.snapshot.quotes) {
    if (held.has(q.instrument.name)) heldQuotes.push(q);
    else if (q.instrument.expiry === target) fresh.push(q);
  }
  const snap = (quotes: CleanQuote[]) => ({ ...view.snapshot, quotes });
  const a = buildOptimizeCandidates({
    snapshot: snap(fresh),
    market,
    scenarios: view.scenarios,
    filter: { minAbsDelta: oc.minAbsDelta, maxAbsDelta: oc.maxAbsDelta, maxContracts },
  });
  const b = buildOptimizeCandidates({
    snapshot: snap(heldQuotes),
    market,
    scenarios: view.scenarios,
    filter: { maxContracts },
  });
  const candidates: OptimizeCandidate[] = [...a.candidates, ...b.candidates];
  const instruments: Instrument[] = [...a.instruments, ...b.instruments];
  // The hedge perpetual: fair value 0 (entered at the mark), half a tick of cost each side.
  const perp = o.resolveInstrument(policy.hedgeInstrument);
  const perpPos: Position = { instrument: perp, quantity: 1 };
  const pg = positionGreeks(perpPos, market);
  const halfTickUsd =
    perp.settlement === "inverse" ? (perp.contractSize * 0.25) / S : perp.contractSize * 0.25;
  candidates.push({
    name: perp.name,
    bucket: expiryBucket(perp.expiry, market.valuationTime),
    bidUsd: -halfTickUsd,
    askUsd: halfTickUsd,
    fairUsd: 0,
    greeks: {
      deltaCoin: pg.deltaUnderlyingCoin,
      cashGammaUsd: 0,
      vegaUsdPerVolPt: 0,
      thetaUsdPerDay: 0,
    },
    maxBuy: limits.maxFutureContracts,
    maxSell: limits.maxFutureContracts,
    marginShortUsd: 0,
    scenarioPnlUsd: scenarioPnlMatrix({
      positions: [perpPos],
      market,
      scenarios: view.scenarios,
    })[0] as Float64Array,
  });
  instruments.push(perp);
  const book = buildOptimizeBook({ positions: kept, market, scenarios: view.scenarios });
  const constraints: {
    -readonly [K in keyof OptimizeConstraints]: OptimizeConstraints[K];
  } = { delta: { min: -policy.deltaBand, max: policy.deltaBand } };
  const notes: string[] = [];
  if (analytics.maxCvarUsd !== undefined)
    constraints.cvar = {
      alpha: analytics.cvar.confidence,
      maxLossUsd: analytics.maxCvarUsd * oc.cvarTargetFraction,
    };
  if (limits.maxMarginUsd !== undefined) {
    const budget = limits.maxMarginUsd * oc.marginTargetFraction;
    if (book.marginUsd <= budget) constraints.marginBudgetUsd = budget;
    else
      notes.push(
        `margin proxy ${f1(book.marginUsd)} USD already above the budget: left to CVaR and the pre-trade check`,
      );
  }
  if (oc.vega === "hard")
    constraints.vega = {
      min: policy.vegaTargetPerVolPoint - policy.vegaTolerancePerVolPoint,
      max: policy.vegaTargetPerVolPoint + policy.vegaTolerancePerVolPoint,
    };
  const problem: OptimizeProblem = {
    candidates,
    book,
    objective: {
      kind: "vega-target",
      targetUsdPerVolPt: policy.vegaTargetPerVolPoint,
      penaltyUsd: oc.vegaPenaltyUsd,
    },
    constraints,
  };
  const r = await optimizePortfolio(problem);
  const pick = (s: ReturnType<typeof summarizeOptimizeRisk>) => ({
    vega: s.greeks.vegaUsdPerVolPt,
    delta: s.greeks.deltaCoin,
    cvarUsd: s.cvarUsd,
    marginUsd: s.marginUsd,
  });
  const before = pick(r.before);
  if (r.status !== "optimal") {
    return {
      status: r.status,
      orders: [],
      diagnosis: r.diagnosis?.text ?? `solver: ${r.solverStatus}`,
      summary: `optimizer ${r.status} (${o.reason})`,
      candidates: candidates.length,
      before,
      after: null,
    };
  }
  // Net contracts per instrument, rounded to lots (options) / whole contracts (perpetual).
  const net = new Map<number, number>();
  const why = new Map<number, string>();
  for (const t of r.trades) {
    net.set(t.index, (net.get(t.index) ?? 0) + (t.side === "buy" ? t.contracts : -t.contracts));
    why.set(t.index, t.explanation);
  }
  const rounded: { index: number; side: "buy" | "sell"; contracts: number }[] = [];
  for (const [index, q] of net) {
    const inst = instruments[index] as Instrument;
    let c = inst.type === "future" ? Math.round(Math.abs(q)) : roundLots(Math.abs(q), policy.lotSize);
    if (inst.type === "option") c = Math.min(c, maxContracts);
    c = Math.round(c * 1e8) / 1e8;
    if (c > 0) rounded.push({ index, side: q > 0 ? "buy" : "sell", contracts: c });
  }
  const after = pick(summarizeOptimizeRisk(problem, rounded));
  const head = `optimizer (${o.reason}): vega ${f1(before.vega)} -> ${f1(after.vega)} USD/vol pt (target ${policy.vegaTargetPerVolPoint}), CVaR ${f1(before.cvarUsd)} -> ${f1(after.cvarUsd)} USD, delta ${before.delta.toFixed(3)} -> ${after.delta.toFixed(3)}${notes.length ? `; ${notes.join("; ")}` : ""}`;
  const quotes = new Map(view.snapshot.quotes.map((q) => [q.instrument.name, q]));
  const orders: ProposedOrder[] = [];
  // Options first, the perpetual (the hedge) last.
  rounded.sort(
    (x, y) =>
      Number(instruments[x.index]?.type === "future") - Number(instruments[y.index]?.type === "future"),
  );
  for (const t of rounded) {
    const inst = instruments[t.index] as Instrument;
    const c = candidates[t.index] as OptimizeCandidate;
    const q = quotes.get(inst.name);
    const limitPrice = inst.type === "option" && q ? limitFor(t.side, q, policy.limitSlippage) : null;
    if (inst.type === "option" && limitPrice === null) continue;
    orders.push({
      rule: "optimizer",
      instrument: inst.name,
      side: t.side,
      quantity: t.contracts,
      limitPrice,
      why: `${head}; ${why.get(t.index) ?? ""}`,
      deltaChange: (t.side === "buy" ? 1 : -1) * t.contracts * c.greeks.deltaCoin,
    });
  }
  return {
    status: r.status,
    orders,
    diagnosis: null,
    summary: head,
    candidates: candidates.length,
    before,
    after,
  };
}
