/**
 * Scenario-grid revaluation on worker threads (piscina). Surfaces are functions and cannot cross
 * a thread boundary, so the market travels as data and each worker rebuilds it:
 *  - `parametric`: the book file's market section (portfolioFile.ts: vol = atmVol + skew k +
 *    curvature k^2 + termSlope sqrt(T), floored at 0.05);
 *  - `chains`: the normalized chains of a chain market (core/risk/chainMarket.ts) with their
 *    surface options; the worker refits each (chainMarketInputFromNormalized is deterministic) and
 *    pins it to the marks with chainRiskMarket, so it values on the very market the caller built.
 * The book is split into contiguous position slices, one task per slice; each worker compiles
 * its slice and returns the slice's portfolio PnL per scenario (USD); the caller sums them.
 *
 * This file is both the pool owner (createRiskPool / parallelPortfolioPnl) and the worker
 * (the default export runs one task).
 */
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import type { Position } from "../core/instruments/types.js";
import type { NormalizedChain } from "../core/market/normalize.js";
import {
  type ChainMarketInputs,
  type ChainMarketOptions,
  chainMarketInputFromNormalized,
  chainRiskMarket,
} from "../core/risk/chainMarket.js";
import { compileBook, scenarioPortfolioPnl } from "../core/risk/grid.js";
import type { RiskMarket } from "../core/risk/market.js";
import type { Scenario } from "../core/risk/scenario.js";
import { type PortfolioMarketData, riskMarketFromPortfolioData } from "./portfolioFile.js";

/** A market as plain data: the book file's parametric section, or a chain market's normalized chains. */
export type RiskMarketData =
  | PortfolioMarketData
  | {
      readonly kind: "chains";
      readonly normalized: readonly NormalizedChain[];
      readonly options: ChainMarketOptions;
    };

/** The data a worker needs to rebuild a chain market from its inputs (see the module comment). */
export function chainMarketData(
  inputs: ChainMarketInputs["inputs"],
  options: ChainMarketOptions,
): RiskMarketData {
  return { kind: "chains", normalized: inputs.map((i) => i.normalized), options };
}

/** Builds the RiskMarket of a market description. */
export function riskMarketFromData(m: RiskMarketData): RiskMarket {
  if (!("kind" in m)) return riskMarketFromPortfolioData(m);
  const inputs = m.normalized.map((n) => {
    const input = chainMarketInputFromNormalized(n, m.options);
    if (!input) throw new RangeError(`worker: the ${n.snapshot.underlying} chain gives no market`);
    return input;
  });
  return chainRiskMarket(inputs, []).market;
}

export interface RiskWorkerTask {
  readonly positions: readonly Position[];
  readonly market: RiskMarketData;
  readonly scenarios: readonly Scenario[];
}

/** Worker entry: portfolio PnL (USD) per scenario of the task's positions. */
export default function riskWorkerTask(task: RiskWorkerTask): Float64Array {
  return scenarioPortfolioPnl(compileBook(task.positions, riskMarketFromData(task.market)), task.scenarios);
}

/** A piscina pool running riskWorkerTask. Close it with `await pool.destroy()`. */
export function createRiskPool(threads: number): Piscina {
  return new Piscina({ filename: fileURLToPath(import.meta.url), minThreads: threads, maxThreads: threads });
}

/** Portfolio PnL per scenario computed on the pool, the book split in `pool.threads` slices. */
export async function parallelPortfolioPnl(
  pool: Piscina,
  task: RiskWorkerTask,
  slices: number,
): Promise<Float64Array> {
  const n = task.positions.length;
  const size = Math.ceil(n / slices);
  const parts: Promise<Float64Array>[] = [];
  for (let s = 0; s < n; s += size)
    parts.push(
      pool.run({
        positions: task.positions.slice(s, s + size),
        market: task.market,
        scenarios: task.scenarios,
      }) as Promise<Float64Array>,
    );
  const out = new Float64Array(task.scenarios.length);
  for (const part of await Promise.all(parts))
    for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + (part[j] as number);
  return out;
}
