/**
 * Chain -> optimizer problem. The market is THE chain -> market step every entry point uses
 * (risk/chainMarket.ts chainMarketInputs + chainRiskMarket: normalized chain, forwards per expiry,
 * surface fitted and pinned to the chain's marks), so the optimizer's "before" greeks are the
 * greeks `volfolio risk` reports for the same book and chain. Then the scenario grid and stress
 * library (risk/), candidates and the book (candidates.ts). Pure: the caller loads files.
 */
import { InvalidInputError } from "../errors.js";
import type { Position } from "../instruments/types.js";
import type { ChainSnapshot, MarketSnapshot } from "../market/types.js";
import { type ChainExcludedPosition, chainMarketInputs, chainRiskMarket } from "../risk/chainMarket.js";
import type { RiskMarket } from "../risk/market.js";
import { type Scenario, type ScenarioGridOptions, scenarioGrid } from "../risk/scenario.js";
import { STRESS_LIBRARY } from "../risk/stressLibrary.js";
import { DEFAULT_SURFACE_MODEL, type SurfaceModel } from "../surface/calibrate.js";
import {
  buildOptimizeBook,
  buildOptimizeCandidates,
  type CandidateSet,
  netByInstrument,
  standardMarginUsd,
} from "./candidates.js";
import { portfolioMargin } from "../margin/portfolioMargin.js";
import { sumUsd } from "../risk/account.js";
import type { CandidateFilter, OptimizeProblem } from "./spec.js";
import { basketPositions, type VarianceSwapBasket, varianceSwapBasket } from "./varianceSwapCandidate.js";
import { type VolIndexFutureCandidate, volIndexFutureCandidate } from "./volIndexFutureCandidate.js";

/** The parts of a spec that are not candidate data. */
export type OptimizeSpecCore = Pick<OptimizeProblem, "objective" | "constraints" | "costs" | "lots">;

export interface ChainProblemOptions {
  readonly chain: ChainSnapshot;
  readonly positions: readonly Position[];
  readonly spec: OptimizeSpecCore;
  readonly filter?: CandidateFilter;
  readonly scenarioGrid?: ScenarioGridOptions;
  /** Include the stress library (risk/stressLibrary.ts) as stress scenarios (default true). */
  readonly stress?: boolean;
  readonly surfaceModel?: SurfaceModel;
  /** Add a variance-swap basket candidate "VS-<d>d" per tenor in days (varianceSwapCandidate.ts). */
  readonly varianceSwapTenors?: readonly number[];
  /** Add a DVOL future candidate per expiry (volIndexFutureCandidate.ts). */
  readonly volIndexFutures?: readonly VolIndexFutureRequest[];
}

/** A DVOL future candidate asked for: its expiry (epoch ms UTC) and half-spread in index points. */
export interface VolIndexFutureRequest {
  readonly expiry: number;
  readonly halfSpreadPoints?: number;
}

export interface ChainProblem {
  readonly problem: OptimizeProblem;
  readonly candidateSet: CandidateSet;
  readonly market: RiskMarket;
  readonly snapshot: MarketSnapshot;
  readonly scenarios: Scenario[];
  readonly stressScenarios: Scenario[];
  readonly notes: string[];
  /** Book positions the chain's market cannot value (expired, outside the listed expiries, other
   *  underlying), left out of the problem with the reason (also named in the notes). */
  readonly excluded: ChainExcludedPosition[];
  /** Variance-swap baskets, candidates candidateSet.candidates.length + i of the problem. */
  readonly baskets: readonly VarianceSwapBasket[];
  /** DVOL futures, the candidates after the baskets. */
  readonly volFutures: readonly VolIndexFutureCandidate[];
}

/**
 * Builds an OptimizeProblem for one underlying's chain and a book, valued on the chain's market
 * (chainMarketInputs + chainRiskMarket; a failed fit falls back to the surface through the marks,
 * said in the notes). Throws an InvalidInputError when the chain gives no market (no mark vol).
 */
export function optimizeProblemFromChain(o: ChainProblemOptions): ChainProblem {
  const built = chainMarketInputs([o.chain], { surfaceModel: o.surfaceModel ?? DEFAULT_SURFACE_MODEL });
  const input = built.inputs[0];
  if (!input)
    throw new InvalidInputError(
      "chain",
      o.chain.underlying,
      `gives no market: ${built.leftOut.map((l) => l.detail).join("; ")}`,
    );
  const valued = chainRiskMarket([input], o.positions);
  const snapshot: MarketSnapshot = input.normalized.snapshot;
  const onMarket = optimizeProblemOnMarket({
    ...o,
    positions: valued.accepted,
    snapshot,
    market: valued.market,
  });
  const notes = [chainNote(o.chain.underlying, input.normalized.counts, input.surfaceSource)];
  if (input.note) notes.push(input.note);
  if (valued.excluded.length > 0)
    notes.push(
      `${valued.excluded.length} book positions the market cannot value left out: ${valued.excluded.map((x) => `${x.position.instrument.name} (${x.reason})`).join(", ")}`,
    );
  return {
    ...onMarket,
    market: valued.market,
    snapshot,
    excluded: valued.excluded,
    notes: [...notes, ...onMarket.notes],
  };
}

/** The optimizer notes' line on the chain: clean quotes of all and the surface model. */
export function chainNote(
  underlying: string,
  counts: { readonly accepted: number; readonly input: number },
  model: string,
): string {
  return `chain ${underlying}: ${counts.accepted} of ${counts.input} quotes clean, surface ${model}${model === "chain-marks" ? "" : " pinned to the chain's marks"}`;
}

export interface MarketProblemOptions {
  /** The chain's clean quotes: the candidates (one underlying). */
  readonly snapshot: MarketSnapshot;
  /** The market that values the book and the candidates (e.g. risk/chainMarket.ts). */
  readonly market: RiskMarket;
  readonly positions: readonly Position[];
  readonly spec: OptimizeSpecCore;
  readonly filter?: CandidateFilter;
  readonly scenarioGrid?: ScenarioGridOptions;
  /** Include the stress library (risk/stressLibrary.ts) as stress scenarios (default true). */
  readonly stress?: boolean;
  /** Variance-swap basket candidates to add, by tenor in days. */
  readonly varianceSwapTenors?: readonly number[];
  /** DVOL future candidates to add. */
  readonly volIndexFutures?: readonly VolIndexFutureRequest[];
}

/** The DVOL future candidates asked for (after the baskets), and a note on each. */
function volFuturesOf(
  o: MarketProblemOptions,
  scenarios: readonly Scenario[],
  stressScenarios: readonly Scenario[],
): { futures: VolIndexFutureCandidate[]; notes: string[] } {
  const futures: VolIndexFutureCandidate[] = [];
  const notes: string[] = [];
  for (const r of o.volIndexFutures ?? []) {
    const f = volIndexFutureCandidate({
      underlying: o.snapshot.underlying,
      expiry: r.expiry,
      market: o.market,
      scenarios,
      ...(stressScenarios.length > 0 ? { stressScenarios } : {}),
      ...(r.halfSpreadPoints !== undefined ? { halfSpreadPoints: r.halfSpreadPoints } : {}),
    });
    futures.push(f);
    const c = f.candidate;
    const omega = o.market.underlyings[o.snapshot.underlying]?.volOfVariance;
    notes.push(
      `DVOL future ${c.name}: fair ${f.fairPoints.toFixed(2)} index pts (${omega ? `convexity at vol-of-variance ${omega}` : "no vol-of-variance on the market: no convexity adjustment, the forward vol (an upper bound)"}), cost ${(c.askUsd ?? 0).toFixed(2)} USD per contract each side, vega ${c.greeks.vegaUsdPerVolPt.toFixed(3)} USD per vol pt; not in the margin figures (the exchange margin engine does not cover vol instruments)`,
    );
  }
  return { futures, notes };
}

/** The baskets of `tenors` on the market (after the single options), and a note on each. */
function basketsOf(
  o: MarketProblemOptions,
  scenarios: readonly Scenario[],
  stressScenarios: readonly Scenario[],
): { baskets: VarianceSwapBasket[]; notes: string[] } {
  const baskets: VarianceSwapBasket[] = [];
  const notes: string[] = [];
  for (const tenorDays of o.varianceSwapTenors ?? []) {
    const b = varianceSwapBasket({
      snapshot: o.snapshot,
      market: o.market,
      scenarios,
      ...(stressScenarios.length > 0 ? { stressScenarios } : {}),
      tenorDays,
      ...(o.spec.costs?.feePerContractUsd ? { feePerContractUsd: o.spec.costs.feePerContractUsd } : {}),
    });
    if ("issue" in b) {
      notes.push(`variance swap VS-${tenorDays}d not available: ${b.issue}`);
      continue;
    }
    baskets.push(b);
    const d = ((b.expiry - o.market.valuationTime) / 86_400_000).toFixed(1);
    notes.push(
      `variance swap ${b.candidate.name}: strip of ${b.legs.length} options expiring in ${d} days (strip strike ${b.strikeVolPoints.toFixed(2)} vol pts); 1 unit = 1 USD per variance point, vega ${b.candidate.greeks.vegaUsdPerVolPt.toFixed(1)} USD per vol pt`,
    );
  }
  return { baskets, notes };
}

/**
 * The problem assembly on a given market: scenario grid, stress library, candidates from the
 * snapshot's quotes and the book (positions on other underlyings than the snapshot's are left
 * out, named in the notes), all valued on `market`.
 */
export function optimizeProblemOnMarket(
  o: MarketProblemOptions,
): Pick<
  ChainProblem,
  "problem" | "candidateSet" | "scenarios" | "stressScenarios" | "notes" | "baskets" | "volFutures"
> {
  const u = o.snapshot.underlying;
  const scenarios = scenarioGrid(o.scenarioGrid ?? {});
  const stressScenarios =
    o.stress === false ? [] : STRESS_LIBRARY.map((e) => ({ ...e.scenario, name: e.id }));
  const stressOption = stressScenarios.length > 0 ? { stressScenarios } : {};
  const positions = o.positions.filter((p) => p.instrument.underlying === u);
  const other = o.positions.filter((p) => p.instrument.underlying !== u);
  const notes: string[] = [];
  if (other.length > 0)
    notes.push(
      `${other.length} book positions on other underlyings left out (the candidates are ${u} quotes): ${other.map((p) => p.instrument.name).join(", ")}`,
    );
  const candidateSet = buildOptimizeCandidates({
    snapshot: o.snapshot,
    market: o.market,
    scenarios,
    ...stressOption,
    ...(o.filter ? { filter: o.filter } : {}),
    positions,
  });
  notes.push(
    `${candidateSet.candidates.length} candidates, ${candidateSet.rejected.length} quotes filtered out`,
  );
  const { baskets, notes: basketNotes } = basketsOf(o, scenarios, stressScenarios);
  const { futures, notes: futureNotes } = volFuturesOf(o, scenarios, stressScenarios);
  notes.push(...basketNotes, ...futureNotes);
  const singles = candidateSet.instruments.length;
  // The book after the trades: single options by instrument, baskets expanded into their legs.
  const afterTrades = (net: Float64Array): Position[] => {
    const after: Position[] = [...positions];
    net.forEach((q, i) => {
      const instrument = candidateSet.instruments[i];
      if (q !== 0 && instrument) after.push({ instrument, quantity: q });
      const b = i >= singles ? baskets[i - singles] : undefined;
      if (b) after.push(...basketPositions(b, q));
    });
    return after;
  };
  const problem: OptimizeProblem = {
    ...o.spec,
    // DVOL futures (last) are left out of afterTrades: the exchange margin engine refuses them.
    candidates: [
      ...candidateSet.candidates,
      ...baskets.map((b) => b.candidate),
      ...futures.map((f) => f.candidate),
    ],
    book: buildOptimizeBook({ positions, market: o.market, scenarios, ...stressOption }),
    // The engine's margin of the netted book after the trades (what `volfolio margin` reports).
    marginOfBook: (net) => {
      const after = afterTrades(net);
      return after.length > 0 ? standardMarginUsd(after, o.market) : 0;
    },
    portfolioMarginOfBook: (net) => {
      const after = netByInstrument(afterTrades(net));
      if (after.length === 0) return 0;
      const by: Record<string, number> = {};
      for (const [c, m] of Object.entries(portfolioMargin(after, o.market).byCurrency)) by[c] = m.initial;
      return sumUsd(by, o.market).totalUsd;
    },
    scenarioNames: scenarios.map((s) => s.name ?? ""),
    stressNames: stressScenarios.map((s) => s.name ?? ""),
  };
  return { problem, candidateSet, scenarios, stressScenarios, notes, baskets, volFutures: futures };
}
