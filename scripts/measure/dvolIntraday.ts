/**
 * The project's 30-day index (DVOL method) against Deribit's DVOL at the snapshot's instant, read
 * from an HOURLY DVOL history given on the command line (never stored in the project), beside the
 * issue's daily-bar alignment (open + (close - open) x hour/24) on the same days. Also checks the
 * daily bars' clock against the hourly bars (do 24 hourly bars from 00:00 UTC make the daily bar?).
 *
 *   npx tsx scripts/measure/dvolIntraday.ts --btc FILE [--btc FILE2] --eth FILE    (~80 s; progress on stderr)
 *
 * With --sweep, the DVOL method's measured choices one at a time against DVOL at the instant.
 * A flag may repeat: the files are merged by bar start, the first file given wins an hour both hold.
 *
 * FILE formats (what public copies of Deribit's get_volatility_index_data at resolution 3600 look like):
 *  - JSON: [[startMs, open, high, low, close], ...] (the API's `data` array);
 *  - CSV with a header: a time column (timestamp | timestamp_ms | ts | date; epoch ms or ISO UTC, the
 *    bar's START) and open,high,low,close, or only `iv` (the hourly close; decimal or vol points).
 * Hourly bars are labelled by their start (checked below: the 23:00 bar's close is the daily close).
 * DVOL at a snapshot taken inside the bar [t, t + 1 h) is open + (close - open) x (time - t) / 1 h;
 * a close-only file uses the previous bar's close as the open.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { MarketSnapshot } from "../../src/core/market/types.js";
import { HOUR_MS } from "../../src/core/time.js";
import type { DvolOptions } from "../../src/core/volindex/dvol.js";
import {
  type DvolHourBar as HourBar,
  dvolAtInstant,
  hourBarMap,
  parseDvolHourly,
} from "../../src/core/volindex/dvolHourly.js";
import {
  type ComparisonStats,
  comparisonStats,
  type DvolBar,
  type VolIndexDay,
  volIndexComparisonSeries,
} from "../../src/core/volindex/series.js";
import { dailyFiles } from "./deribitDaily.js";
import { COINS, loadSeason } from "./dvolSeason.js";

const TOLERANCE = 1.5;
/** DVOL is published to 0.01: two values equal at that precision differ by less than this. */
const PUBLISHED_PRECISION = 0.006;

/** Hourly bars of a file (JSON or CSV, core `parseDvolHourly`). */
export function loadHourBars(path: string): HourBar[] {
  return parseDvolHourly(readFileSync(path, "utf8"));
}

/** DVOL at `time` inside its hourly bar (core `dvolAtInstant`), or null when not covered. */
const instantAt = (bars: ReadonlyMap<number, HourBar>, time: number): number | null =>
  dvolAtInstant(bars, time)?.value ?? null;

/** Daily bars rebuilt from 24 hourly bars per UTC day (00:00-24:00) vs the daily file. */
function dailyClockCheck(
  hours: readonly HourBar[],
  daily: readonly DvolBar[],
  from: string,
  to: string,
): string {
  const byDay = new Map<string, HourBar[]>();
  for (const h of hours) {
    const d = new Date(h.start).toISOString().slice(0, 10);
    if (d >= from && d <= to) byDay.set(d, [...(byDay.get(d) ?? []), h]);
  }
  let full = 0;
  let closeSame = 0;
  let ohlcSame = 0;
  let closesInside = 0;
  for (const bar of daily) {
    const hs = byDay.get(bar.date);
    const last = hs?.at(-1);
    if (hs?.length !== 24 || last === undefined) continue;
    full++;
    const same = (a: number | null, b: number) => a !== null && Math.abs(a - b) < PUBLISHED_PRECISION;
    if (same(last.close, bar.close)) closeSame++;
    const highs = hs.map((h) => h.high ?? h.close);
    const lows = hs.map((h) => h.low ?? h.close);
    if (
      same(hs[0]?.open ?? null, bar.open) &&
      same(Math.max(...highs), bar.high) &&
      same(Math.min(...lows), bar.low) &&
      same(last.close, bar.close)
    )
      ohlcSame++;
    if (
      hs.every((h) => h.close >= bar.low - PUBLISHED_PRECISION && h.close <= bar.high + PUBLISHED_PRECISION)
    )
      closesInside++;
  }
  return `daily bars vs 24 hourly bars 00:00-24:00 UTC (${from}..${to}): ${full} full days; close = 23:00 bar's close on ${closeSame}; whole OHLC identical on ${ohlcSame}; every hourly close inside the daily low-high on ${closesInside}`;
}

const fmt = (label: string, s: ComparisonStats) =>
  `${label.padEnd(44)} days ${s.days}  mean ${s.meanBias.toFixed(2).padStart(5)}  median|d| ${s.medianAbs.toFixed(2)}  p90 ${s.p90Abs.toFixed(2)}  max ${s.maxAbs.toFixed(2)}  within ${TOLERANCE}: ${(100 * s.withinShare).toFixed(1)}%`;

interface Row {
  readonly day: VolIndexDay & { index: number; dvol: number };
  readonly instant: number;
}

/**
 * The snapshot clock against DVOL's: median |index - DVOL| with the snapshot time shifted by whole
 * and half hours. A file timestamp that is off (a wrong zone, a late write) shows as a minimum away
 * from 0; a sharp minimum at 0 says the chain's timestamp and DVOL's clock agree.
 */
function clockShifts(rows: readonly Row[], byStart: ReadonlyMap<number, HourBar>): string {
  const parts = [-2, -1, -0.5, 0, 0.5, 1, 2].map((h) => {
    const diffs = rows.flatMap((r) => {
      const v = instantAt(byStart, r.day.time + h * HOUR_MS);
      return v === null ? [] : [r.day.index - v];
    });
    const s = comparisonStats(diffs, TOLERANCE);
    return `${h > 0 ? "+" : ""}${h} h ${s.medianAbs.toFixed(2)} (${(100 * s.withinShare).toFixed(1)}% of ${s.days})`;
  });
  return `snapshot time shifted (median |d|, within ${TOLERANCE}): ${parts.join(", ")}`;
}

/** Day-to-day changes of the index beyond DVOL's own change at the instants (consecutive covered days). */
function dayToDay(rows: readonly Row[]): string {
  const extras = rows.slice(1).flatMap((r, i) => {
    const prev = rows[i];
    return prev
      ? [{ date: r.day.date, extra: r.day.index - prev.day.index - (r.instant - prev.instant) }]
      : [];
  });
  const big = extras.filter((e) => Math.abs(e.extra) > 3);
  const worst = extras.reduce((m, e) => (Math.abs(e.extra) > Math.abs(m.extra) ? e : m), {
    date: "-",
    extra: 0,
  });
  const pct = (x: number) => extras.filter((e) => Math.abs(e.extra) > x).length;
  return `day-to-day change of the index beyond DVOL's change at the instants: largest ${worst.extra.toFixed(2)} (${worst.date}), over 1 point on ${pct(1)}, over 3 points on ${big.length} of ${extras.length} pairs`;
}

function report(
  coin: string,
  series: readonly VolIndexDay[],
  hours: readonly HourBar[],
  daily: readonly DvolBar[],
) {
  const byStart = hourBarMap(hours);
  const rows: Row[] = series.flatMap((d) => {
    if (d.index === null || d.dvol === null) return [];
    const instant = instantAt(byStart, d.time);
    return instant === null ? [] : [{ day: { ...d, index: d.index, dvol: d.dvol }, instant }];
  });
  const first = series[0]?.date ?? "";
  const last = series[series.length - 1]?.date ?? "";
  console.log(
    `\n== ${coin}: ${rows.length} of ${series.filter((d) => d.diff !== null).length} season days covered by the hourly file ==`,
  );
  console.log(`  ${dailyClockCheck(hours, daily, first, last)}`);
  if (rows.length === 0) return;
  console.log(`  covered ${rows[0]?.day.date} .. ${rows[rows.length - 1]?.day.date}`);
  console.log(
    fmt("  index vs DVOL at the instant (hourly)", comparisonStats(rows.map((r) => r.day.index - r.instant))),
  );
  console.log(
    fmt(
      "  index vs daily-bar alignment (same days)",
      comparisonStats(rows.map((r) => r.day.index - r.day.dvol)),
    ),
  );
  console.log(
    fmt(
      "  daily-bar alignment vs DVOL at the instant",
      comparisonStats(rows.map((r) => r.day.dvol - r.instant)),
    ),
  );
  console.log(`  ${clockShifts(rows, byStart)}`);
  console.log(`  ${dayToDay(rows)}`);
  const misses = rows.filter((r) => Math.abs(r.day.index - r.instant) > TOLERANCE);
  console.log(`  days further than ${TOLERANCE} from DVOL at the instant (${misses.length}), worst first:`);
  console.log("  date       UTC    index  DVOL@t  diff  | daily-aligned diff  near/next days");
  for (const r of misses.sort(
    (a, b) => Math.abs(b.day.index - b.instant) - Math.abs(a.day.index - a.instant),
  ))
    console.log(
      `  ${r.day.date} ${new Date(r.day.time).toISOString().slice(11, 16)} ${r.day.index.toFixed(2).padStart(6)} ${r.instant.toFixed(2).padStart(6)} ${(r.day.index - r.instant).toFixed(2).padStart(6)} | ${r.day.dvol.toFixed(2).padStart(6)} ${(r.day.index - r.day.dvol).toFixed(2).padStart(6)}  ${(r.day.nearDays ?? 0).toFixed(1)}/${(r.day.nextDays ?? 0).toFixed(1)}`,
    );
}

const SWEEP: [string, DvolOptions][] = [
  ["defaults", {}],
  ...[0.1, 0.15, 0.2, 0.3, 0.49].map((v): [string, DvolOptions] => [`edgeDelta ${v}`, { edgeDelta: v }]),
  ...[4, 6, 10, 12].map((v): [string, DvolOptions] => [`minStrikes ${v}`, { minStrikes: v }]),
  ...[0.03, 0.04, 0.045, 0.0475, 0.0525, 0.055, 0.06].map((v): [string, DvolOptions] => [
    `minDelta ${v}`,
    { minDelta: v },
  ]),
  [
    "first choices (minDelta 0.045, minStrikes 10, edgeDelta 0.15)",
    { minDelta: 0.045, minStrikes: 10, edgeDelta: 0.15 },
  ],
  ...[0.3, 10].map((v): [string, DvolOptions] => [`maxRelativeSpread ${v}`, { maxRelativeSpread: v }]),
  ["markFillDelta 1 (no fill)", { markFillDelta: 1 }],
  ["forward chain", { forward: "chain" }],
  ["price mark", { price: "mark" }],
  ["zeroBidStop", { zeroBidStop: true }],
];

/** The measured choices one at a time: index - DVOL at the instant on the covered days. */
function sweep(snaps: readonly MarketSnapshot[], daily: readonly DvolBar[], hours: readonly HourBar[]) {
  const byStart = hourBarMap(hours);
  console.log("  sweep against DVOL at the instant (one choice changed from the defaults):");
  for (const [label, opts] of SWEEP) {
    const diffs = volIndexComparisonSeries(snaps, daily, opts).flatMap((d) => {
      const v = d.index === null || d.dvol === null ? null : instantAt(byStart, d.time);
      return v === null || d.index === null ? [] : [d.index - v];
    });
    if (diffs.length > 0) console.log(fmt(`    ${label}`, comparisonStats(diffs)));
  }
}

/** Every value of a repeatable flag, as absolute paths. */
function argPaths(flag: string): string[] {
  return process.argv.flatMap((a, i) => {
    const v = process.argv[i + 1];
    return a === flag && v ? [resolve(v)] : [];
  });
}

/** Hourly bars of several files merged by start (the first file wins an hour both hold). */
function mergedHourBars(paths: readonly string[]): HourBar[] {
  const byStart = new Map<number, HourBar>();
  for (const p of paths) for (const b of loadHourBars(p)) if (!byStart.has(b.start)) byStart.set(b.start, b);
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

async function main() {
  const paths: Record<string, string[]> = { BTC: argPaths("--btc"), ETH: argPaths("--eth") };
  if (paths.BTC?.length === 0 && paths.ETH?.length === 0) {
    console.log("usage: npx tsx scripts/measure/dvolIntraday.ts --btc HOURLY_FILE --eth HOURLY_FILE");
    return;
  }
  const files = dailyFiles();
  if (files.length === 0) {
    console.log("no data: ../shared/data/deribit/daily absent");
    return;
  }
  const { snaps, bars } = await loadSeason(files);
  for (const coin of COINS) {
    const coinPaths = paths[coin] ?? [];
    if (coinPaths.length === 0) continue;
    const daily = bars[coin] ?? [];
    const coinSnaps = snaps.get(coin) ?? [];
    const hours = mergedHourBars(coinPaths);
    report(coin, volIndexComparisonSeries(coinSnaps, daily), hours, daily);
    if (process.argv.includes("--sweep")) sweep(coinSnaps, daily, hours);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
