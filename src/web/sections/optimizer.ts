/**
 * The demo's optimizer section: the proposal on the risk sections' market (pure once the spec and
 * the LP solver are loaded) and the efficient frontier of the same problem.
 */
import type { Position } from "../../core/instruments/types.js";
import type { ChainSnapshot } from "../../core/market/types.js";
import { chainNote, type OptimizeSpecCore, optimizeProblemOnMarket } from "../../core/optimize/fromChain.js";
import { efficientFrontier } from "../../core/optimize/frontier.js";
import type { LpSolver } from "../../core/optimize/lpSolver.js";
import { optimizePortfolio } from "../../core/optimize/optimize.js";
import type { CandidateFilter, OptimizeProblem } from "../../core/optimize/spec.js";
import type { ScenarioGridOptions } from "../../core/risk/scenario.js";
import { describeChains, type ValuedBook, valueBookOnChains } from "../bookMarket.js";
import type { DemoReport, OptimizerFrontier } from "../report.js";

type OptimizerSection = NonNullable<DemoReport["optimizer"]>;

export interface OptimizerRequest {
  readonly chain: ChainSnapshot;
  readonly riskBook: ValuedBook | undefined;
  /** The book file's positions (used when the risk sections are not on the chain). */
  readonly positions: readonly Position[];
  readonly spec: OptimizeSpecCore;
  readonly filter: CandidateFilter;
  readonly scenarioGrid?: ScenarioGridOptions;
  readonly stress: boolean;
  readonly surfaceModel: string;
}

/** The valued book the optimizer starts from: the risk sections' when it is on this chain. */
function optimizerBook(o: OptimizerRequest): { v: ValuedBook; onRiskMarket: boolean } {
  const u = o.chain.underlying;
  const onChain = o.riskBook && o.riskBook.source !== "book-market" ? o.riskBook : undefined;
  if (onChain?.inputs.some((i) => i.normalized.snapshot.underlying === u))
    return { v: onChain, onRiskMarket: true };
  const v = valueBookOnChains({
    source: "chain",
    label: describeChains([o.chain]),
    positions: o.riskBook ? o.positions : [],
    chains: [o.chain],
  });
  return { v, onRiskMarket: false };
}

/** The notes saying which market book and candidates were valued on and what was left out. */
function marketNotes(o: OptimizerRequest, v: ValuedBook, onRiskMarket: boolean, what: string, model: string) {
  const u = o.chain.underlying;
  const notes: string[] = [];
  if (onRiskMarket)
    notes.push(
      `book and candidates valued on the risk sections' market: ${what}; "before" is the greeks section's ${u} book`,
    );
  else
    notes.push(
      o.riskBook
        ? `book and candidates valued on ${what}, not on the book file's market section that the risk sections use (--book-market): it does not price the chain's quotes`
        : `no book could be valued (see the greeks section): empty book, candidates valued on ${what}`,
    );
  if (o.surfaceModel !== model)
    notes.push(`spec surfaceModel ${o.surfaceModel} not used: the demo's market is the ${model} fit`);
  if (v.settled.length > 0)
    notes.push(
      `${v.settled.length} book legs expired before the market's time, settled and left out: ${v.settled.map((x) => x.position.instrument.name).join(", ")}`,
    );
  if (v.excluded.length > 0)
    notes.push(
      `${v.excluded.length} book positions the market cannot value left out: ${v.excluded.map((x) => `${x.instrument} (${x.reason})`).join(", ")}`,
    );
  return notes;
}

/**
 * The demo optimizer's problem, valued on the risk sections' market: the book and every candidate
 * go through the same market as the greeks, scenario, stress and margin sections (web/bookMarket.ts
 * on core/risk/chainMarket.ts: chain index and forwards, options at their chain mark vols via the
 * fitted surface pinned to the marks), so the optimizer's "before" greeks are the greeks
 * section's figures of the chain's underlying and "after" is the book plus the chosen trades on
 * that same market. A candidate's fair value is then Black-76 at its mark vol (its chain mark),
 * so trading costs are measured from the mark. Expired legs (settled) and positions the market
 * cannot value are left out as in the book section; positions on other underlyings are left out
 * (the candidates are one chain's quotes). All are named in the notes. With --book-market the
 * risk sections use the book file's own market, which does not price the chain's quotes: book and
 * candidates are then valued on the loaded chain by the same shared step and the notes say so.
 */
export function optimizerOnRiskMarket(o: OptimizerRequest): { problem: OptimizeProblem; notes: string[] } {
  const u = o.chain.underlying;
  const { v, onRiskMarket } = optimizerBook(o);
  const input = v.inputs.find((i) => i.normalized.snapshot.underlying === u);
  if (!input) throw new Error(`no ${u} market (${v.notes.join("; ")})`);
  const { snapshot } = input.normalized;
  const model = input.surfaceSource;
  const what = `the ${u} chain (index ${snapshot.indexPrice}, chain forwards, options at their mark vols via the fitted ${model} surface pinned to the marks)`;
  const notes = [
    chainNote(u, input.normalized.counts, model),
    ...marketNotes(o, v, onRiskMarket, what, model),
  ];
  const built = optimizeProblemOnMarket({
    snapshot,
    market: v.market,
    positions: v.positions,
    spec: o.spec,
    filter: o.filter,
    ...(o.scenarioGrid ? { scenarioGrid: o.scenarioGrid } : {}),
    stress: o.stress,
  });
  return { problem: built.problem, notes: [...notes, ...built.notes] };
}

/** The optimizer section of a solved problem (frontier filled in later, see frontierSection). */
export function optimizerSection(
  problem: OptimizeProblem,
  solver: LpSolver,
  notes: readonly string[],
): OptimizerSection {
  const r = optimizePortfolio(problem, solver);
  const flat = (s: typeof r.before) => ({
    ...s.greeks,
    cvarUsd: s.cvarUsd,
    worstStressLossUsd: s.worstStressLossUsd,
    marginUsd: s.marginUsd,
  });
  return {
    status: r.status,
    objectiveUsd: r.objectiveUsd,
    trades: r.trades.map((t) => ({
      instrument: t.name,
      contracts: t.side === "sell" ? -t.contracts : t.contracts,
      limitPriceUsd: t.limitPriceUsd,
      edgeUsd: t.edgeUsd,
      explanation: t.explanation,
    })),
    before: flat(r.before),
    after: flat(r.after),
    notes: [...notes, ...r.notes, ...(r.diagnosis ? [`infeasible: ${r.diagnosis.text}`] : [])],
    frontier: null,
  };
}

/** The efficient frontier (objective against the CVaR limit) of the problem; null when it has no point. */
export function frontierSection(
  problem: OptimizeProblem,
  solver: LpSolver,
  points: number,
): OptimizerFrontier | null {
  const fr = efficientFrontier(problem, solver, { points });
  if (fr.points.length === 0) return null;
  return {
    alpha: fr.alpha,
    objectiveKind: fr.objectiveKind,
    minCvarUsd: fr.minCvarUsd,
    unconstrainedCvarUsd: fr.unconstrainedCvarUsd,
    points: fr.points.map((q) => ({
      cvarLimitUsd: q.cvarLimitUsd,
      cvarUsd: q.cvarUsd,
      objectiveUsd: q.objectiveUsd,
      vegaUsdPerVolPt: q.vegaUsdPerVolPt,
      thetaUsdPerDay: q.thetaUsdPerDay,
      trades: q.trades,
      status: q.status,
    })),
  };
}
