/**
 * Chain -> optimizer problem: clean the chain (market/normalize.ts), fit a surface
 * (surface/calibrate.ts), build the risk market, scenario grid and stress library
 * (risk/), candidates and the book (candidates.ts). Pure: the caller loads files.
 */
import { InvalidInputError } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { normalizeChain } from "../market/normalize.js";
import type { ChainSnapshot, MarketSnapshot } from "../market/types.js";
import { riskMarketFromSnapshots, type RiskMarket } from "../risk/market.js";
import { type Scenario, type ScenarioGridOptions, scenarioGrid } from "../risk/scenario.js";
import { STRESS_LIBRARY } from "../risk/stressLibrary.js";
import { calibrateSurfaceFromQuotes, type SurfaceModel } from "../surface/calibrate.js";
import { buildOptimizeBook, buildOptimizeCandidates, type CandidateSet } from "./candidates.js";
import type { CandidateFilter, OptimizeProblem } from "./spec.js";

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
}

export interface ChainProblem {
  readonly problem: OptimizeProblem;
  readonly candidateSet: CandidateSet;
  readonly market: RiskMarket;
  readonly snapshot: MarketSnapshot;
  readonly scenarios: Scenario[];
  readonly stressScenarios: Scenario[];
  readonly notes: string[];
}

/** Builds an OptimizeProblem for one underlying's chain and a book. */
export function optimizeProblemFromChain(o: ChainProblemOptions): ChainProblem {
  const norm = normalizeChain(o.chain);
  const fit = calibrateSurfaceFromQuotes(norm.snapshot.quotes, { model: o.surfaceModel ?? "svi" });
  if (!fit.fit.ok)
    throw new InvalidInputError("chain", o.chain.underlying, `surface fit failed: ${fit.fit.message}`);
  const snapshot: MarketSnapshot = { ...norm.snapshot, surface: fit.fit.value.surface };
  const market = riskMarketFromSnapshots([snapshot]);
  const onMarket = optimizeProblemOnMarket({ ...o, snapshot, market });
  return {
    ...onMarket,
    market,
    snapshot,
    notes: [chainNote(o.chain.underlying, norm.counts, fit.fit.value.model), ...onMarket.notes],
  };
}

/** The optimizer notes' line on the chain: clean quotes of all and the surface model. */
export function chainNote(
  underlying: string,
  counts: { readonly accepted: number; readonly input: number },
  model: string,
): string {
  return `chain ${underlying}: ${counts.accepted} of ${counts.input} quotes clean, surface ${model}`;
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
}

/**
 * The problem assembly on a given market: scenario grid, stress library, candidates from the
 * snapshot's quotes and the book (positions on other underlyings than the snapshot's are left
 * out, named in the notes), all valued on `market`.
 */
export function optimizeProblemOnMarket(
  o: MarketProblemOptions,
): Pick<ChainProblem, "problem" | "candidateSet" | "scenarios" | "stressScenarios" | "notes"> {
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
  });
  notes.push(
    `${candidateSet.candidates.length} candidates, ${candidateSet.rejected.length} quotes filtered out`,
  );
  const problem: OptimizeProblem = {
    ...o.spec,
    candidates: candidateSet.candidates,
    book: buildOptimizeBook({ positions, market: o.market, scenarios, ...stressOption }),
    scenarioNames: scenarios.map((s) => s.name ?? ""),
    stressNames: stressScenarios.map((s) => s.name ?? ""),
  };
  return { problem, candidateSet, scenarios, stressScenarios, notes };
}
