/**
 * Parameter sweeps as data: a base strategy, a grid of values for dotted parameter paths
 * ("params.targetDelta", "hedge.band", "costs.slippageBps") and a list of seeds for the
 * synthetic market. `expandSweep` lists the jobs in a fixed order (grid keys in the given order,
 * last key fastest, then seeds), and `runSweepJob` is a pure function of one job, so any
 * executor (serial, worker threads, a BullMQ queue over machines) gives identical results.
 * The `optimizer` strategy sweeps too: its jobs need the LP solver, loaded once per executor
 * (thread or process) at the edge and passed in (`jobNeedsLpSolver` says which jobs do).
 */
import { InvalidInputError } from "../errors.js";
import { mean } from "../math/stats.js";
import type { LpSolver } from "../optimize/lpSolver.js";
import { runBacktest } from "./engine.js";
import type { StrategySpec } from "./strategies.js";
import { type SyntheticMarketConfig, syntheticSteps } from "./syntheticMarket.js";

export interface SweepSpec {
  readonly base: StrategySpec;
  /** Dotted path -> values to try. */
  readonly grid: Readonly<Record<string, readonly (number | string | boolean)[]>>;
  /** Synthetic market settings; the seed comes from `seeds`. */
  readonly market: Omit<SyntheticMarketConfig, "seed">;
  readonly seeds: readonly number[];
}

export interface SweepJob {
  /** Position in the expanded list (0-based). */
  readonly id: number;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly seed: number;
  readonly strategy: StrategySpec;
  readonly market: SyntheticMarketConfig;
}

/** Summary of one job; NaN ratios are null so results survive JSON unchanged. */
export interface SweepJobResult {
  readonly id: number;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly seed: number;
  readonly finalEquityUsd: number;
  readonly finalEquityCoin: number;
  readonly totalReturnUsd: number | null;
  readonly totalReturnCoin: number | null;
  readonly annualVolUsd: number | null;
  readonly sharpeUsd: number | null;
  readonly sortinoUsd: number | null;
  readonly maxDrawdownUsd: number | null;
  readonly calmarUsd: number | null;
  readonly cvar95Usd: number | null;
  readonly costsUsd: number;
  readonly turnover: number | null;
  readonly trades: number;
  readonly rejections: number;
}

/** Returns a copy of `obj` with the dotted `path` set to `value` (creating objects as needed). */
export function setDottedPath<T>(obj: T, path: string, value: unknown): T {
  const parts = path.split(".");
  if (parts.some((p) => p === "" || p === "__proto__" || p === "constructor" || p === "prototype"))
    throw new InvalidInputError("grid key", path, "must be a dotted path of plain names");
  const root: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i] as string;
    const next = cur[k];
    const copy = next && typeof next === "object" ? { ...(next as Record<string, unknown>) } : {};
    cur[k] = copy;
    cur = copy;
  }
  cur[parts[parts.length - 1] as string] = value;
  return root as T;
}

/** All jobs of a sweep, in a fixed order. */
export function expandSweep(spec: SweepSpec): SweepJob[] {
  const keys = Object.keys(spec.grid);
  for (const k of keys) {
    const vals = spec.grid[k] ?? [];
    if (vals.length === 0) throw new InvalidInputError(`grid.${k}`, vals, "must list at least one value");
  }
  if (spec.seeds.length === 0)
    throw new InvalidInputError("seeds", spec.seeds, "must list at least one seed");
  let combos: Record<string, number | string | boolean>[] = [{}];
  for (const k of keys) {
    const next: Record<string, number | string | boolean>[] = [];
    for (const c of combos) for (const v of spec.grid[k] ?? []) next.push({ ...c, [k]: v });
    combos = next;
  }
  const jobs: SweepJob[] = [];
  for (const params of combos) {
    let strategy = spec.base;
    for (const [k, v] of Object.entries(params)) strategy = setDottedPath(strategy, k, v);
    for (const seed of spec.seeds)
      jobs.push({ id: jobs.length, params, seed, strategy, market: { ...spec.market, seed } });
  }
  return jobs;
}

const fin = (x: number | undefined | null): number | null =>
  typeof x === "number" && Number.isFinite(x) ? x : null;

/** Whether a job solves LPs (the `optimizer` strategy): its executor must pass an LpSolver. */
export function jobNeedsLpSolver(job: SweepJob): boolean {
  return job.strategy.type === "optimizer";
}

/** Runs one sweep job (pure, deterministic). `lpSolver`: required for `optimizer` jobs. */
export function runSweepJob(job: SweepJob, lpSolver?: LpSolver): SweepJobResult {
  const strategy = job.strategy;
  if (strategy.type === "optimizer" && !lpSolver)
    throw new InvalidInputError(
      "lpSolver",
      "undefined",
      `is required by sweep job ${job.id} (optimizer strategy)`,
    );
  const steps = syntheticSteps(job.market);
  const r = runBacktest({ strategy, steps, recordTrades: false, ...(lpSolver ? { lpSolver } : {}) });
  const m = r.metricsUsd;
  return {
    id: job.id,
    params: job.params,
    seed: job.seed,
    finalEquityUsd: r.finalEquityUsd,
    finalEquityCoin: r.finalEquityCoin,
    totalReturnUsd: fin(m?.totalReturn),
    totalReturnCoin: fin(r.metricsCoin?.totalReturn),
    annualVolUsd: fin(m?.annualVol),
    sharpeUsd: fin(m?.sharpe),
    sortinoUsd: fin(m?.sortino),
    maxDrawdownUsd: fin(m?.maxDrawdown),
    calmarUsd: fin(m?.calmar),
    cvar95Usd: fin(m?.cvar95),
    costsUsd: r.costs.totalUsd,
    turnover: fin(r.turnover),
    trades: r.tradeCount,
    rejections: r.rejections.length,
  };
}

/** One parameter combination summarised over its seeds. */
export interface SweepComboSummary {
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly seeds: number;
  /** Means over seeds (null values skipped and counted in `missing`). */
  readonly meanTotalReturnUsd: number | null;
  readonly meanTotalReturnCoin: number | null;
  readonly meanSharpeUsd: number | null;
  readonly worstMaxDrawdownUsd: number | null;
  readonly meanCvar95Usd: number | null;
  readonly meanCostsUsd: number;
  /** Number of null (undefined ratio) values left out of the means above. */
  readonly missing: number;
}

/** Groups job results by parameter combination (in first-seen order) and averages over seeds. */
export function summarizeSweep(results: readonly SweepJobResult[]): SweepComboSummary[] {
  const groups = new Map<string, SweepJobResult[]>();
  for (const r of results) {
    const k = JSON.stringify(r.params);
    const g = groups.get(k) ?? [];
    g.push(r);
    groups.set(k, g);
  }
  const out: SweepComboSummary[] = [];
  for (const g of groups.values()) {
    let missing = 0;
    const avg = (f: (r: SweepJobResult) => number | null): number | null => {
      const xs: number[] = [];
      for (const r of g) {
        const v = f(r);
        if (v === null) missing++;
        else xs.push(v);
      }
      return xs.length > 0 ? mean(xs) : null;
    };
    const dds = g.map((r) => r.maxDrawdownUsd).filter((x): x is number => x !== null);
    out.push({
      params: (g[0] as SweepJobResult).params,
      seeds: g.length,
      meanTotalReturnUsd: avg((r) => r.totalReturnUsd),
      meanTotalReturnCoin: avg((r) => r.totalReturnCoin),
      meanSharpeUsd: avg((r) => r.sharpeUsd),
      worstMaxDrawdownUsd: dds.length ? Math.max(...dds) : null,
      meanCvar95Usd: avg((r) => r.cvar95Usd),
      meanCostsUsd: mean(g.map((r) => r.costsUsd)),
      missing,
    });
  }
  return out;
}
