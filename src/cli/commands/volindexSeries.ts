/**
 * The vol-index comparison series from files: the daily chain snapshots (e.g.
 * ../shared/data/deribit/daily/*.csv.gz, several underlyings per file) and Deribit's DVOL daily
 * bars (../shared/data/prices/DVOL_<COIN>_daily.csv) -> per underlying, one row per day: the
 * project's index (DVOL method), the Cboe method, DVOL at the snapshot's time of day and the
 * trailing 30-day realized vol (core `volIndexComparisonSeries`).
 *
 * For the dashboard's vol-index panel and `scripts/measure/dvolSeason.ts`:
 *   const series = await loadVolIndexSeries({ chainFiles, dvolFiles: { BTC: ".../DVOL_BTC_daily.csv" } });
 *   series.BTC -> VolIndexDay[] sorted by time.
 * Every chain goes through normalizeChain (the one market model) once.
 */
import { readFile } from "node:fs/promises";
import { loadChainFile } from "../../adapters/chainFile.js";
import { normalizeChain } from "../../core/market/normalize.js";
import type { MarketSnapshot } from "../../core/market/types.js";
import type { DvolOptions } from "../../core/volindex/dvol.js";
import {
  type DvolBar,
  parseDvolCsv,
  type VolIndexDay,
  volIndexComparisonSeries,
} from "../../core/volindex/series.js";

export interface VolIndexSeriesInput {
  /** Chain files, any order (one snapshot per file and underlying). */
  readonly chainFiles: readonly string[];
  /** DVOL daily CSV per underlying ("BTC" -> path); an underlying without one gets dvol null. */
  readonly dvolFiles: Readonly<Record<string, string>>;
  /** Only these underlyings (default: those with a DVOL file). */
  readonly underlyings?: readonly string[];
  readonly dvolOptions?: DvolOptions;
  /** Called after each chain file (done, total, file). */
  readonly onProgress?: (done: number, total: number, file: string) => void;
}

/** Normalized snapshots of the chain files, by underlying. */
export async function loadNormalizedSnapshots(
  chainFiles: readonly string[],
  underlyings: readonly string[],
  onProgress?: (done: number, total: number, file: string) => void,
): Promise<Map<string, MarketSnapshot[]>> {
  const out = new Map<string, MarketSnapshot[]>(underlyings.map((u) => [u, []]));
  let done = 0;
  for (const file of chainFiles) {
    const loaded = await loadChainFile(file);
    for (const chain of loaded.chains) {
      const list = out.get(chain.underlying);
      if (list) list.push(normalizeChain(chain).snapshot);
    }
    onProgress?.(++done, chainFiles.length, file);
  }
  return out;
}

/** Reads a DVOL daily CSV (Date,Open,High,Low,Close). */
export async function loadDvolBars(path: string): Promise<DvolBar[]> {
  return parseDvolCsv(await readFile(path, "utf8"));
}

/** The daily series per underlying: project index (DVOL method), Cboe, DVOL, 30-day realized vol. */
export async function loadVolIndexSeries(input: VolIndexSeriesInput): Promise<Record<string, VolIndexDay[]>> {
  const underlyings = input.underlyings ?? Object.keys(input.dvolFiles);
  const snaps = await loadNormalizedSnapshots(input.chainFiles, underlyings, input.onProgress);
  const out: Record<string, VolIndexDay[]> = {};
  for (const u of underlyings) {
    const path = input.dvolFiles[u];
    const bars = path ? await loadDvolBars(path) : [];
    out[u] = volIndexComparisonSeries(snaps.get(u) ?? [], bars, input.dvolOptions);
  }
  return out;
}
