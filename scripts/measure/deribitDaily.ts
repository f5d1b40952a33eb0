/**
 * The daily Deribit option snapshots of ../shared/data/deribit/daily (233 files, 2025-12-30 to
 * 2026-08-22, BTC and ETH; columns in ../shared/data/README.md) as raw rows, with the columns
 * the project's chain loader drops (delta, time_to_maturity), for the measurements in this folder
 * and the tests that check Deribit's conventions against them.
 *
 * Units as in the files: prices in coin per option on one coin, underlying and index in USD,
 * implied_volatility decimal (0.4773 = 47.73%, printed to 4 decimals: Deribit's mark_iv in
 * percent to 2), times epoch ms UTC (the file's `timestamp` is the collector's, one per file).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import { instrumentFromName } from "../../src/core/instruments/names.js";
import type { OptionContract } from "../../src/core/instruments/types.js";
import { createRng } from "../../src/core/math/rng.js";

/** ../shared/data/deribit/daily, next to the repository. */
export const DAILY_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../shared/data/deribit/daily",
);

/** The daily files (full paths, by name = by date); [] when the folder is absent. */
export function dailyFiles(dir: string = DAILY_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".csv.gz"))
    .sort()
    .map((f) => resolve(dir, f));
}

/** `n` distinct files drawn with a seeded generator (core/math/rng), returned in date order. */
export function seededSample(files: readonly string[], n: number, seed: number): string[] {
  const rng = createRng(seed);
  const pool = [...files];
  const out: string[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0] as string);
  return out.sort();
}

/** One option row of a daily file. */
export interface DeribitRow {
  readonly instrument: OptionContract;
  /** The file's snapshot time, epoch ms UTC. */
  readonly timestamp: number;
  readonly currency: string;
  /** USD price of the future or synthetic forward Deribit reports for the option (`underlying`). */
  readonly underlying: number;
  readonly underlyingName: string;
  /** USD (`index_price`). */
  readonly indexPrice: number;
  /** Coin (`mark_price`), and the number of decimals it was printed with (trailing zeros dropped). */
  readonly markPrice: number;
  readonly markDecimals: number;
  /** Decimal (`implied_volatility`). */
  readonly markIv: number;
  /** Deribit's `delta` (5 decimals). */
  readonly delta: number;
  /** The file's `time_to_maturity`, years. */
  readonly timeToMaturity: number;
}

/** Decimals a number was printed with ("0.00090663" -> 8, "1e-05" -> 5, "3" -> 0). */
export function printedDecimals(s: string): number {
  const m = /^-?\d*(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(s.trim());
  if (!m) return Number.NaN;
  return Math.max(0, (m[1]?.length ?? 0) - Number(m[2] ?? 0));
}

/** Every option row of one daily file (.csv.gz). Throws on a row whose name does not parse. */
export function readDailyRows(path: string): DeribitRow[] {
  const records = parse(gunzipSync(readFileSync(path)), { columns: true, skip_empty_lines: true }) as Record<
    string,
    string
  >[];
  return records.map((r) => {
    const instrument = instrumentFromName(r.instrument_name as string);
    if (instrument.type !== "option") throw new Error(`${path}: ${r.instrument_name} is not an option`);
    return {
      instrument,
      timestamp: Date.parse(r.timestamp as string),
      currency: r.currency as string,
      underlying: Number(r.underlying),
      underlyingName: r.underlying_name as string,
      indexPrice: Number(r.index_price),
      markPrice: Number(r.mark_price),
      markDecimals: printedDecimals(r.mark_price as string),
      markIv: Number(r.implied_volatility),
      delta: Number(r.delta),
      timeToMaturity: Number(r.time_to_maturity),
    };
  });
}

/**
 * The step Deribit's marks are printed to, per currency (the most decimals any row shows: 8 for
 * BTC, 6 for ETH over the season; measured by scripts/measure/deribitMarks.ts).
 */
export const MARK_STEP: Readonly<Record<string, number>> = { BTC: 1e-8, ETH: 1e-6 };

/** `${currency}|${expiry}`: the key of one expiry's rows. */
export const expiryKey = (row: DeribitRow): string => `${row.currency}|${row.instrument.expiry}`;

/**
 * Put-call parity of the coin marks, per strike: C - P = 1 - K/F, so F = K / (1 - (C - P)), for
 * every strike with both a call and a put row. Keyed `${expiryKey}|${strike}`.
 */
export function strikeParityForwards(rows: readonly DeribitRow[]): Map<string, number> {
  const pairs = new Map<string, { c?: number; p?: number; K: number }>();
  for (const r of rows) {
    const key = `${expiryKey(r)}|${r.instrument.strike}`;
    const e = pairs.get(key) ?? { K: r.instrument.strike };
    if (r.instrument.kind === "call") e.c = r.markPrice;
    else e.p = r.markPrice;
    pairs.set(key, e);
  }
  const out = new Map<string, number>();
  for (const [key, { c, p, K }] of pairs)
    if (c !== undefined && p !== undefined && c - p < 1) out.set(key, K / (1 - (c - p)));
  return out;
}

/**
 * The forward Deribit's marks of each expiry are on: the median over the expiry's strikes of
 * strikeParityForwards. Written here on its own (not core's markParityForward), as the
 * reference the measurements compare the core with. Keyed by expiryKey.
 */
export function marksForwards(rows: readonly DeribitRow[]): Map<string, number> {
  const byExpiry = new Map<string, number[]>();
  for (const [key, f] of strikeParityForwards(rows)) {
    const e = key.slice(0, key.lastIndexOf("|"));
    (byExpiry.get(e) ?? byExpiry.set(e, []).get(e)!).push(f);
  }
  return new Map([...byExpiry].map(([e, fs]) => [e, quantileOf(fs, 0.5)]));
}

/** Quantile by the nearest lower order statistic of a copy (0.5 = lower median; 1 = max). */
export function quantileOf(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 1e-9))] as number;
}
