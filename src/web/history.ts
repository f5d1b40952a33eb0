/**
 * The dashboard's History tab from a directory of daily Deribit chain files
 * (../shared/data/deribit/daily; `volfolio demo --history DIR`), read with the existing loader
 * (adapters/deribit/files.ts) until the DuckDB store lands. Per day, on the SVI surface the demo's
 * surface tab fits (core calibrateSurfaceFromQuotes on normalizeChain's clean quotes):
 * - ATM vol (k = 0, forward ATM) at fixed tenors 7/30/60/90/180 days: the surface's own time
 *   interpolation, linear in total variance at fixed k between the listed expiries (core
 *   surface/interpolate.ts); a tenor beyond the longest listed expiry is null (not extrapolated);
 * - 25-delta risk reversal and butterfly at the same tenors (core smileSummary: forward deltas at
 *   the strike's own vol; RR = vol(25C) - vol(25P), BF = (vol(25C) + vol(25P)) / 2 - ATM);
 * - the day's surface for the date picker: per listed expiry the vols at 10/25-delta puts, the
 *   50-delta call, 25/10-delta calls (desks' delta-space smile; core deltaStrikeLogMoneyness) and
 *   the fit over the quoted log-moneyness range.
 * The vol index against realized vol is core volIndexComparisonSeries (the project's index by
 * DVOL's method, the trailing 30-snapshot realized vol of the index, and Deribit's DVOL when its
 * daily file is there). The IV-vs-RV cone: realized vol (close to close, annualized sqrt(365)) over
 * rolling windows of each tenor on the underlying's daily prices of the two years before the last
 * stored day (extended by the stored snapshots' index after the price files end), its
 * 10/25/50/75/90th percentiles, against the last day's implied ATM term structure. The realized
 * vol beside the index is core's trailing 30-snapshot figure: it needs consecutive stored days
 * (null on a sampled history).
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadDeribitCsvFile } from "../adapters/deribit/files.js";
import { loadPriceHistory } from "../adapters/priceHistory.js";
import { normalizeChain } from "../core/market/normalize.js";
import type { MarketSnapshot } from "../core/market/types.js";
import { quantile } from "../core/math/stats.js";
import type { OhlcBar } from "../core/regime/realizedVol.js";
import { rollingRealizedVol } from "../core/regime/realizedVol.js";
import { linspace } from "../core/risk/scenario.js";
import { calibrateSurfaceFromQuotes } from "../core/surface/calibrate.js";
import { deltaStrikeLogMoneyness, smileSummary } from "../core/surface/queries.js";
import { parseDvolCsv, volIndexComparisonSeries } from "../core/volindex/series.js";
import { DAY_MS, YEAR_MS } from "../core/time.js";

export const HISTORY_TENORS_DAYS = [7, 30, 60, 90, 180] as const;

/** Delta-space points of a smile, as desks quote them (forward deltas). */
export const DELTA_POINTS = [
  { label: "10P", delta: -0.1, kind: "put" },
  { label: "25P", delta: -0.25, kind: "put" },
  { label: "50C", delta: 0.5, kind: "call" },
  { label: "25C", delta: 0.25, kind: "call" },
  { label: "10C", delta: 0.1, kind: "call" },
] as const;

export interface HistoryDay {
  readonly date: string;
  readonly time: string;
  readonly indexUsd: number;
  /** ATM vol by tenor (days as the key), decimal; null beyond the longest expiry or no fit. */
  readonly atm: Record<string, number | null>;
  readonly rr25: Record<string, number | null>;
  readonly bf25: Record<string, number | null>;
  /** The day's surface, for the date picker. */
  readonly surface: {
    expiry: string;
    days: number;
    forwardUsd: number;
    /** Vol at k = 0 (forward ATM) of this listed expiry. */
    atmVol: number;
    /** Vol at each DELTA_POINTS entry (null: no such strike within +-20 sd). */
    deltaVols: (number | null)[];
    fit: { k: number; vol: number }[];
  }[];
  /** Why the day has no surface (fit failed). */
  readonly error?: string;
}

export interface HistorySection {
  readonly underlying: string;
  readonly source: string;
  readonly tenors: readonly number[];
  readonly deltaLabels: readonly string[];
  readonly days: HistoryDay[];
  /** The project's 30-day index, realized vol 30 and DVOL by day, vol points. */
  readonly volIndex: {
    date: string;
    index: number | null;
    realizedVol30: number | null;
    dvol: number | null;
  }[];
  readonly dvolSource: string | null;
  /** IV-vs-RV cone: realized vol percentiles by tenor and the last day's implied ATM vol. */
  readonly cone: {
    source: string;
    from: string;
    to: string;
    rows: {
      days: number;
      p10: number;
      p25: number;
      p50: number;
      p75: number;
      p90: number;
      latest: number | null;
      impliedAtm: number | null;
    }[];
  } | null;
  /** Files skipped with the reason (no chain of the underlying, unreadable). */
  readonly skipped: { file: string; reason: string }[];
}

const fileDate = (name: string) => {
  const m = /(\d{4})(\d{2})(\d{2})T/.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
};

/** One day's figures from its clean snapshot. */
export function historyDay(snap: MarketSnapshot): { day: HistoryDay } {
  const base = {
    date: new Date(snap.valuationTime).toISOString().slice(0, 10),
    time: new Date(snap.valuationTime).toISOString(),
    indexUsd: snap.indexPrice,
  };
  // The default (arbitrage-free) model, as every other refit (issue 21 item 6).
  const res = calibrateSurfaceFromQuotes(snap.quotes);
  if (!res.fit.ok) {
    const none = Object.fromEntries(HISTORY_TENORS_DAYS.map((d) => [String(d), null]));
    return { day: { ...base, atm: none, rr25: none, bf25: none, surface: [], error: res.fit.message } };
  }
  const f = res.fit.value;
  const last = Math.max(...f.slices.map((s) => s.expiry));
  const atm: Record<string, number | null> = {};
  const rr25: Record<string, number | null> = {};
  const bf25: Record<string, number | null> = {};
  for (const d of HISTORY_TENORS_DAYS) {
    const T = d / 365;
    if (T > last + 1e-12) {
      atm[d] = rr25[d] = bf25[d] = null;
      continue;
    }
    const s = smileSummary(f.surface, T);
    atm[d] = s.atmVol;
    rr25[d] = Number.isFinite(s.riskReversal25) ? s.riskReversal25 : null;
    bf25[d] = Number.isFinite(s.butterfly25) ? s.butterfly25 : null;
  }
  const surface = f.slices.map((s, i) => {
    const smile = f.surface.smileAt(s.expiry);
    const vol = (k: number) => Math.sqrt(Math.max(smile.totalVariance(k), 0) / s.expiry);
    const ks = (f.data[i]?.quotes ?? []).map((q) => q.k);
    const lo = ks.length ? Math.min(...ks) : -0.3;
    const hi = ks.length ? Math.max(...ks) : 0.3;
    return {
      expiry: new Date(s.expiryTime ?? snap.valuationTime + s.expiry * YEAR_MS).toISOString(),
      days: s.expiry * 365,
      forwardUsd: s.forward,
      atmVol: vol(0),
      deltaVols: DELTA_POINTS.map((p) => {
        const k = deltaStrikeLogMoneyness(smile, p.delta, p.kind);
        return Number.isFinite(k) ? vol(k) : null;
      }),
      fit: linspace(lo, hi, 21).map((k) => ({ k, vol: vol(k) })),
    };
  });
  return { day: { ...base, atm, rr25, bf25, surface } };
}

/** All daily chain files of the directory, or `maxDays` of them evenly spaced ending at the last. */
async function historyFiles(dir: string, maxDays: number | undefined): Promise<string[]> {
  const names = (await readdir(dir))
    .filter((f) => (f.endsWith(".csv") || f.endsWith(".csv.gz")) && fileDate(f) !== null)
    .sort();
  if (maxDays === undefined || names.length <= maxDays) return names;
  const n = names.length;
  const m = Math.max(1, maxDays);
  return [
    ...new Set(
      Array.from({ length: m }, (_, i) => Math.round(n - 1 - ((m - 1 - i) * (n - 1)) / Math.max(m - 1, 1))),
    ),
  ].flatMap((i) => names[i] ?? []);
}

/** Each file's day of the underlying (its clean snapshot and figures); unreadable files listed with the reason. */
async function historyDays(
  dir: string,
  names: readonly string[],
  underlying: string,
  onFile: ((done: number, total: number) => void) | undefined,
) {
  const days: HistoryDay[] = [];
  const snaps: MarketSnapshot[] = [];
  const skipped: { file: string; reason: string }[] = [];
  for (const [i, f] of names.entries()) {
    onFile?.(i, names.length);
    try {
      const r = await loadDeribitCsvFile(join(dir, f));
      const chain = r.chains.find((c) => c.underlying === underlying);
      if (!chain) {
        skipped.push({ file: f, reason: `no ${underlying} chain` });
        continue;
      }
      const snap = normalizeChain(chain).snapshot;
      snaps.push(snap);
      days.push(historyDay(snap).day);
    } catch (e) {
      skipped.push({ file: f, reason: (e as Error).message.split("\n")[0] ?? "unreadable" });
    }
  }
  onFile?.(names.length, names.length);
  return { days, snaps, skipped };
}

/**
 * Daily bars of the two years up to the last stored day: the price files (later files win a
 * date), and the stored snapshots' index (one a day, ~08:30 UTC) on days after the files end.
 */
async function coneBars(priceFiles: readonly string[], days: readonly HistoryDay[], lastDate: string) {
  const byDate = new Map<string, OhlcBar & { date: string }>();
  for (const f of priceFiles) for (const b of (await loadPriceHistory(f)).bars) byDate.set(b.date, b);
  for (const d of days)
    if (!byDate.has(d.date))
      byDate.set(d.date, {
        date: d.date,
        open: d.indexUsd,
        high: d.indexUsd,
        low: d.indexUsd,
        close: d.indexUsd,
      });
  const from = new Date(Date.parse(lastDate) - 730 * DAY_MS).toISOString().slice(0, 10);
  return [...byDate.values()]
    .filter((b) => b.date >= from && b.date <= lastDate)
    .sort((a, b) => a.date.localeCompare(b.date));
}

/** The realized-vol cone by tenor (percentiles of the rolling close-to-close vol) beside the last day's implied ATM. */
async function volCone(
  priceFiles: readonly string[],
  days: readonly HistoryDay[],
): Promise<HistorySection["cone"]> {
  const lastDay = days.at(-1);
  if (!lastDay || priceFiles.length === 0) return null;
  const bars = await coneBars(priceFiles, days, lastDay.date);
  const rows = HISTORY_TENORS_DAYS.filter((d) => bars.length > d + 1).map((d) => {
    const rv = rollingRealizedVol(bars, "close-to-close", d, { periodsPerYear: 365 });
    const xs = rv.filter((x): x is number => x !== null && Number.isFinite(x));
    const at = (q: number) => (xs.length > 0 ? quantile(xs, q) : Number.NaN); // type 7, as before
    return {
      days: d,
      p10: at(0.1),
      p25: at(0.25),
      p50: at(0.5),
      p75: at(0.75),
      p90: at(0.9),
      latest: rv.at(-1) ?? null,
      impliedAtm: lastDay.atm[d] ?? null,
    };
  });
  return {
    source: priceFiles.map((f) => f.split("/").pop()).join(" + "),
    from: bars[0]?.date ?? "",
    to: bars.at(-1)?.date ?? "",
    rows,
  };
}

/**
 * Reads the daily files of `dir` for `underlying` (all, or `maxDays` evenly spaced ending at the
 * last) and builds the History section. `onFile(done, total)` reports progress.
 */
export async function loadHistorySection(o: {
  readonly dir: string;
  readonly underlying: string;
  readonly maxDays?: number;
  /** Daily price CSVs of the underlying (oldest first) for the cone. */
  readonly priceFiles?: readonly string[];
  /** Deribit DVOL daily CSV (../shared/data/prices/DVOL_<U>_daily.csv). */
  readonly dvolFile?: string;
  readonly onFile?: (done: number, total: number) => void;
}): Promise<HistorySection> {
  const names = await historyFiles(o.dir, o.maxDays);
  const { days, snaps, skipped } = await historyDays(o.dir, names, o.underlying, o.onFile);
  const dvolBars =
    o.dvolFile && existsSync(o.dvolFile) ? parseDvolCsv(await readFile(o.dvolFile, "utf8")) : [];
  const vi = volIndexComparisonSeries(snaps, dvolBars).map((d) => ({
    date: d.date,
    index: d.index,
    realizedVol30: d.realizedVol30,
    dvol: d.dvol,
  }));
  const cone = await volCone(o.priceFiles ?? [], days);
  return {
    underlying: o.underlying,
    source: `${days.length} daily ${o.underlying} chains in ${o.dir}${o.maxDays !== undefined ? ` (at most ${o.maxDays} days, evenly spaced)` : ""}: ${days[0]?.date ?? "-"} to ${days.at(-1)?.date ?? "-"}`,
    tenors: HISTORY_TENORS_DAYS,
    deltaLabels: DELTA_POINTS.map((p) => p.label),
    days,
    volIndex: vi,
    dvolSource: dvolBars.length > 0 ? (o.dvolFile ?? null) : null,
    cone,
    skipped,
  };
}

/** The DVOL daily file of an underlying in ../shared/data/prices, if there. */
export function dvolFileFor(repoRoot: string, underlying: string): string | undefined {
  const f = resolve(repoRoot, `../shared/data/prices/DVOL_${underlying}_daily.csv`);
  return existsSync(f) ? f : undefined;
}
