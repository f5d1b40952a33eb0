/**
 * The project's 30-day index against Deribit's published DVOL and against realized vol, day by
 * day: DVOL daily bars, DVOL at a snapshot's time of day, the comparison statistics (mean bias,
 * median, p90, share within a tolerance) and the daily series the dashboard plots.
 *
 * Time-of-day alignment (issue 26): DVOL's daily bar has only open and close, so DVOL at a
 * snapshot taken h hours after 00:00 UTC is taken as open + (close - open) x h / 24. On a day
 * DVOL moves a lot intraday this is the main error of the comparison (the bar's high - low range
 * is carried along to say so).
 *
 * Pure: text in, numbers out (the loader that reads files is src/cli/commands/volindexSeries.ts).
 */
import { InvalidInputError } from "../errors.js";
import type { MarketSnapshot } from "../market/types.js";
import { mean } from "../math/stats.js";
import { rollingRealizedVol } from "../regime/realizedVol.js";
import { DAY_MS } from "../time.js";
import { type DvolOptions, dvolIndex } from "./dvol.js";
import { volIndexFromChain } from "./volIndex.js";

/** One daily DVOL bar (UTC day), vol points. */
export interface DvolBar {
  readonly date: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

/** Parses Date,Open,High,Low,Close (the layout of ../shared/data/prices/DVOL_*_daily.csv). */
export function parseDvolCsv(text: string): DvolBar[] {
  const lines = text.trim().split(/\r?\n/);
  const header = (lines[0] ?? "").split(",").map((s) => s.trim().toLowerCase());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new InvalidInputError("header", lines[0], `must have a ${name} column`);
    return i;
  };
  const [d, o, h, l, c] = ["date", "open", "high", "low", "close"].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return lines.slice(1).map((line, i) => {
    const f = line.split(",");
    const bar = {
      date: (f[d] ?? "").trim(),
      open: Number(f[o]),
      high: Number(f[h]),
      low: Number(f[l]),
      close: Number(f[c]),
    };
    if (!/^\d{4}-\d{2}-\d{2}$/.test(bar.date))
      throw new InvalidInputError(`line ${i + 2}.date`, bar.date, "must be YYYY-MM-DD");
    for (const k of ["open", "high", "low", "close"] as const)
      if (!(bar[k] > 0))
        throw new InvalidInputError(
          `line ${i + 2}.${k}`,
          f[{ open: o, high: h, low: l, close: c }[k]],
          "must be a number > 0",
        );
    return bar;
  });
}

/** DVOL at `time` (epoch ms UTC): open + (close - open) x hour-of-day / 24 of its UTC day's bar, or null. */
export function dvolAtTime(
  bars: ReadonlyMap<string, DvolBar>,
  time: number,
): { value: number; bar: DvolBar } | null {
  const date = new Date(time).toISOString().slice(0, 10);
  const bar = bars.get(date);
  if (!bar) return null;
  const h = (time - Date.parse(`${date}T00:00:00Z`)) / 3_600_000;
  return { value: bar.open + ((bar.close - bar.open) * h) / 24, bar };
}

/**
 * Signed distance of `value` from DVOL's daily low-high range (0 inside): the part of index - DVOL
 * no time of day can explain, a bound the open-to-close line cannot give on a day DVOL moved.
 */
export function outsideDailyRange(value: number, bar: DvolBar): number {
  if (value < bar.low) return value - bar.low;
  if (value > bar.high) return value - bar.high;
  return 0;
}

/** Summary of index - DVOL differences (vol points). */
export interface ComparisonStats {
  readonly days: number;
  readonly meanBias: number;
  readonly medianAbs: number;
  readonly p90Abs: number;
  readonly maxAbs: number;
  /** Share of days with |diff| <= tolerance. */
  readonly withinShare: number;
  readonly tolerance: number;
}

/** Mean, median |d|, p90 |d| (nearest rank), max |d| and the share within `tolerance`. */
export function comparisonStats(diffs: readonly number[], tolerance = 1.5): ComparisonStats {
  if (diffs.length === 0) throw new InvalidInputError("diffs.length", 0, "must be > 0");
  const abs = diffs.map(Math.abs).sort((a, b) => a - b);
  const rank = (p: number) => abs[Math.min(abs.length - 1, Math.ceil(p * abs.length) - 1)] as number;
  return {
    days: diffs.length,
    meanBias: mean(diffs),
    medianAbs:
      abs.length % 2
        ? (abs[(abs.length - 1) / 2] as number)
        : ((abs[abs.length / 2 - 1] as number) + (abs[abs.length / 2] as number)) / 2,
    p90Abs: rank(0.9),
    maxAbs: abs[abs.length - 1] as number,
    withinShare: abs.filter((x) => x <= tolerance).length / abs.length,
    tolerance,
  };
}

/** One day of the comparison series. */
export interface VolIndexDay {
  /** Snapshot time, epoch ms UTC, and its UTC date. */
  readonly time: number;
  readonly date: string;
  readonly underlying: string;
  /** Index (USD) at the snapshot. */
  readonly indexPrice: number;
  /** The project's index, DVOL method, vol points (null: the chain had no two eligible expiries). */
  readonly index: number | null;
  /** The same chain by the plain Cboe method (null when it fails). */
  readonly cboe: number | null;
  /** DVOL at the snapshot's time of day (null: no bar that day). */
  readonly dvol: number | null;
  /** DVOL's daily range high - low that day (the alignment's uncertainty). */
  readonly dvolRange: number | null;
  /** index - dvol. */
  readonly diff: number | null;
  /** Trailing 30-day realized vol of the snapshots' index prices, close to close, vol points. */
  readonly realizedVol30: number | null;
  /** Days to the near and next expiries of the DVOL method, and their strikes in the strip. */
  readonly nearDays: number | null;
  readonly nextDays: number | null;
  readonly strikes: number | null;
  /** Why the index is null. */
  readonly error?: string;
}

/**
 * The daily comparison series: for each normalized chain (one per day, sorted by time), the DVOL
 * method, the Cboe method (on the same cleaned quotes), DVOL at that time of day and the trailing
 * 30-day realized vol of the chains' index prices (close to close over 30 snapshot-to-snapshot
 * returns, core `rollingRealizedVol`; a missing day makes one return span two days).
 */
export function volIndexComparisonSeries(
  snapshots: readonly MarketSnapshot[],
  dvolBars: readonly DvolBar[],
  options: DvolOptions = {},
): VolIndexDay[] {
  const bars = new Map(dvolBars.map((b) => [b.date, b]));
  const sorted = [...snapshots].sort((a, b) => a.valuationTime - b.valuationTime);
  const rv = rollingRealizedVol(
    sorted.map((s) => ({ open: s.indexPrice, high: s.indexPrice, low: s.indexPrice, close: s.indexPrice })),
    "close-to-close",
    30,
  );
  return sorted.map((s, i) => {
    const aligned = dvolAtTime(bars, s.valuationTime);
    let index: number | null = null;
    let cboe: number | null = null;
    let nearDays: number | null = null;
    let nextDays: number | null = null;
    let strikes: number | null = null;
    let error: string | undefined;
    try {
      const r = dvolIndex(s, options);
      if (r.bracketed) {
        index = r.index;
        nearDays = r.near.timeToExpiry * 365;
        nextDays = r.next.timeToExpiry * 365;
        strikes = r.near.contributions.length + r.next.contributions.length;
      } else error = "the eligible expiries do not bracket the target";
    } catch (e) {
      error = (e as Error).message;
    }
    try {
      const c = volIndexFromChain(
        {
          underlying: s.underlying,
          valuationTime: s.valuationTime,
          indexPrice: s.indexPrice,
          quotes: s.quotes,
        },
        { forwards: new Map(s.forwards.map((f) => [f.expiry, f.forward])) },
      );
      cboe = c.bracketed ? c.index : null;
    } catch {
      cboe = null;
    }
    const rvi = rv[i];
    return {
      time: s.valuationTime,
      date: new Date(s.valuationTime).toISOString().slice(0, 10),
      underlying: s.underlying,
      indexPrice: s.indexPrice,
      index,
      cboe,
      dvol: aligned?.value ?? null,
      dvolRange: aligned ? aligned.bar.high - aligned.bar.low : null,
      diff: index !== null && aligned ? index - aligned.value : null,
      realizedVol30: rvi === null || rvi === undefined ? null : 100 * rvi,
      nearDays,
      nextDays,
      strikes,
      ...(error ? { error } : {}),
    };
  });
}

/** Days between two snapshot times (helper for day-to-day change tables). */
export const daysApart = (a: number, b: number): number => (b - a) / DAY_MS;
