/**
 * A directory of Deribit chain snapshot files (*.csv or *.csv.gz, e.g. the daily history in
 * ../shared/data/deribit/daily) as a series of backtest steps, in time order. Files are read with
 * the Deribit file loader (src/adapters/deribit/files.ts); each chain becomes a step
 * (core/backtest/market.ts backtestStepFromChain: the core market of that chain). Every row and
 * quote is accounted for: rows rejected by the loader; quotes accepted or rejected by the core's
 * quote cleaning (market/normalize.ts normalizeChain, counted by its reasons: the same cleaning
 * the step's market applies); files without the underlying, out of time order, or without a
 * single quote with a mark vol (no market to value a book on), each counted with a reason.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { type BacktestStep, backtestStepFromChain } from "../core/backtest/market.js";
import { normalizeChain } from "../core/market/normalize.js";
import { quoteMarkVol } from "../core/surface/markSurface.js";
import { utcDateRange } from "../core/time.js";
import { loadDeribitCsvFile } from "./deribit/files.js";
import { BadInputFileError, inputFileError } from "./inputFile.js";

export interface BacktestDataResult {
  readonly steps: BacktestStep[];
  readonly files: number;
  readonly rowsRead: number;
  readonly rowsRejected: number;
  readonly quotes: { readonly accepted: number; readonly rejected: Record<string, number> };
  /** Files skipped: no chain for the underlying, not after the previous snapshot, or no mark vol. */
  readonly skippedFiles: {
    readonly file: string;
    readonly reason: "no-underlying" | "out-of-order" | "no-marks";
  }[];
}

/** Date YYYY-MM-DD from a file name containing YYYYMMDD, or null. */
function fileDate(name: string): string | null {
  const m = /(\d{4})(\d{2})(\d{2})T/.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** Loads the snapshots of `dir` (optionally between dates `from`..`to`, inclusive) as steps. */
export async function loadBacktestData(o: {
  readonly dir: string;
  readonly underlying: string;
  readonly from?: string;
  readonly to?: string;
  /** Called after each file with (files done, files in all): loading a season takes seconds. */
  readonly onFile?: (done: number, total: number) => void;
}): Promise<BacktestDataResult> {
  const names = (
    await readdir(o.dir).catch((e) => Promise.reject(inputFileError(e, o.dir, "data directory")))
  )
    .filter((f) => f.endsWith(".csv") || f.endsWith(".csv.gz"))
    .filter((f) => {
      const d = fileDate(f);
      return (!o.from || (d !== null && d >= o.from)) && (!o.to || (d !== null && d <= o.to));
    })
    .sort();
  const steps: BacktestStep[] = [];
  const skippedFiles: { file: string; reason: "no-underlying" | "out-of-order" | "no-marks" }[] = [];
  const rejected: Record<string, number> = {};
  let accepted = 0;
  let rowsRead = 0;
  let rowsRejected = 0;
  for (const [i, f] of names.entries()) {
    if (i > 0) o.onFile?.(i, names.length);
    const r = await loadDeribitCsvFile(join(o.dir, f));
    rowsRead += r.rowsRead;
    rowsRejected += r.rejected.length;
    const chain = r.chains.find((c) => c.underlying === o.underlying);
    if (!chain) {
      skippedFiles.push({ file: f, reason: "no-underlying" });
      continue;
    }
    const last = steps[steps.length - 1];
    if (last && !(chain.valuationTime > last.time)) {
      skippedFiles.push({ file: f, reason: "out-of-order" });
      continue;
    }
    const n = normalizeChain(chain);
    accepted += n.counts.accepted;
    for (const [k, v] of Object.entries(n.counts.byReason)) if (v > 0) rejected[k] = (rejected[k] ?? 0) + v;
    if (!n.snapshot.quotes.some((q) => quoteMarkVol(q) !== null)) {
      skippedFiles.push({ file: f, reason: "no-marks" });
      continue;
    }
    steps.push(backtestStepFromChain(chain));
  }
  o.onFile?.(names.length, names.length);
  return { steps, files: names.length, rowsRead, rowsRejected, quotes: { accepted, rejected }, skippedFiles };
}

export interface BacktestStoreResult {
  readonly steps: BacktestStep[];
  /** Chains of the underlying in the store (between the dates). */
  readonly chains: number;
  /** Quotes in those chains (rows the ingest accepted; its rejects are in `store info`). */
  readonly quotes: number;
  /** Steps whose chain carries a stored perpetual price (the hedge trades at it). */
  readonly perpetualSteps: number;
  /** Stored delivery prices of the underlying (expiries settled at them). */
  readonly deliveryPrices: number;
  readonly skipped: { readonly valuationTime: number; readonly reason: "out-of-order" | "no-marks" }[];
}

/**
 * The stored history of a DuckDB store directory (`volfolio store ingest`) as backtest steps:
 * each chain is the one the file loader gives for its file (historyRead.ts, checked by a test),
 * with the stored perpetual price in its futures (BacktestStep.perpetual: the engine hedges at
 * it) and the stored delivery prices (BacktestStep.deliveryPrice: expiries settle at them).
 * A chain not after the previous one is skipped ("out-of-order"), as is one with no quote with
 * a mark vol ("no-marks": decided by core normalizeChain when no quote carries a venue mark IV).
 */
export async function loadBacktestStore(o: {
  readonly dir: string;
  readonly underlying: string;
  readonly from?: string;
  readonly to?: string;
}): Promise<BacktestStoreResult> {
  const { DuckDbSnapshotStore } = await import("./store/duckdb.js");
  const { historyDeliveryPrices, loadHistoryChains } = await import("./store/historyRead.js");
  const range = utcDateRange(o);
  await stat(o.dir).catch((e) => Promise.reject(inputFileError(e, o.dir, "store directory")));
  // Reading must not create a store: a directory without store.duckdb is not one.
  await stat(join(o.dir, "store.duckdb")).catch(() =>
    Promise.reject(
      new BadInputFileError(o.dir, [
        "not a volfolio store (no store.duckdb): run `volfolio store ingest` first",
      ]),
    ),
  );
  const store = await DuckDbSnapshotStore.open(o.dir);
  try {
    const h = await loadHistoryChains(store, {
      underlying: o.underlying,
      withPerpetual: true,
      ...range,
    });
    const delivery = await historyDeliveryPrices(store, o.underlying);
    const deliveryPrice = delivery.size > 0 ? (e: number) => delivery.get(e) ?? null : undefined;
    const steps: BacktestStep[] = [];
    const skipped: { valuationTime: number; reason: "out-of-order" | "no-marks" }[] = [];
    let quotes = 0;
    let perpetualSteps = 0;
    for (const chain of h.chains) {
      quotes += chain.quotes.length;
      const last = steps[steps.length - 1];
      if (last && !(chain.valuationTime > last.time)) {
        skipped.push({ valuationTime: chain.valuationTime, reason: "out-of-order" });
        continue;
      }
      const venueIv = chain.quotes.some((q) => typeof q.markIv === "number" && q.markIv > 0);
      if (!venueIv && !normalizeChain(chain).snapshot.quotes.some((q) => quoteMarkVol(q) !== null)) {
        skipped.push({ valuationTime: chain.valuationTime, reason: "no-marks" });
        continue;
      }
      const step = backtestStepFromChain(chain, deliveryPrice ? { deliveryPrice } : {});
      if (step.perpetual) perpetualSteps++;
      steps.push(step);
    }
    return {
      steps,
      chains: h.chains.length,
      quotes,
      perpetualSteps,
      deliveryPrices: delivery.size,
      skipped,
    };
  } finally {
    await store.close();
  }
}
