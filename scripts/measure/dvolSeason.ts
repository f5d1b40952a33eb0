/**
 * The project's 30-day index (DVOL method, `core/volindex/dvol.ts`) against Deribit's DVOL over
 * the daily season (../shared/data/deribit/daily, BTC and ETH), DVOL taken at each snapshot's
 * time of day (open + (close - open) x hour/24 of its daily bar: the alignment and the
 * target metric). Prints per currency:
 *  - mean bias, median |diff|, p90, max, share within 1.5 points: DVOL method and plain Cboe method;
 *    calm days (DVOL's daily range at most its median) and busy days apart;
 *  - the same against DVOL's daily low-high range (distance 0 inside): what no time of day can
 *    explain, a bound beside the target, and the target under shifted hours (sensitivity);
 *  - every day further than 1.5 points from the aligned DVOL, with its causes;
 *  - the day-to-day changes of the index that the aligned DVOL does not show, with their causes,
 *    and the two named days (2026-01-13 missing bids, 2026-02-12 new weekly);
 *  - with --sweep, the measured choices one at a time (minDelta, spread cap, minStrikes, edgeDelta,
 *    markFillDelta, forward, price, zero-bid stop, minDays).
 *
 *   npx tsx scripts/measure/dvolSeason.ts [--sweep]      (~80 s, --sweep ~3 min; progress on stderr)
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadDvolBars, loadNormalizedSnapshots } from "../../src/cli/commands/volindexSeries.js";
import type { MarketSnapshot } from "../../src/core/market/types.js";
import { type DvolOptions, DVOL_DEFAULTS } from "../../src/core/volindex/dvol.js";
import {
  comparisonStats,
  type DvolBar,
  outsideDailyRange,
  type VolIndexDay,
  volIndexComparisonSeries,
} from "../../src/core/volindex/series.js";
import { DAILY_DIR, dailyFiles } from "./deribitDaily.js";

export const PRICES_DIR = resolve(DAILY_DIR, "../../prices");
export const dvolFile = (coin: string) => resolve(PRICES_DIR, `DVOL_${coin}_daily.csv`);
export const COINS = ["BTC", "ETH"] as const;
const TOLERANCE = 1.5;

/** Why a day is far from the aligned DVOL, from what the data shows. */
export function dayCause(d: VolIndexDay, bar: DvolBar | undefined, medianRange?: number): string {
  if (d.index === null) return `no index: ${d.error ?? "?"}`;
  const parts: string[] = [];
  if (bar) {
    const range = bar.high - bar.low;
    const busy = medianRange ? ` = ${(range / medianRange).toFixed(1)}x its median` : "";
    const out = outsideDailyRange(d.index, bar);
    parts.push(
      out === 0
        ? `inside DVOL's range that day (${bar.low.toFixed(2)}-${bar.high.toFixed(2)}, ${range.toFixed(2)} points${busy}; open ${bar.open.toFixed(2)}, close ${bar.close.toFixed(2)}): time-of-day alignment`
        : `outside DVOL's daily range ${bar.low.toFixed(2)}-${bar.high.toFixed(2)} by ${Math.abs(out).toFixed(2)}`,
    );
  }
  if (d.nearDays !== null && d.nextDays !== null && d.nextDays - d.nearDays > 21)
    parts.push(
      `interpolation across ${(d.nextDays - d.nearDays).toFixed(0)} days (${d.nearDays.toFixed(1)} / ${d.nextDays.toFixed(1)})`,
    );
  return parts.join("; ");
}

const f2 = (x: number | null | undefined) =>
  x === null || x === undefined ? "   -  " : x.toFixed(2).padStart(6);

function statsLine(label: string, diffs: number[]): string {
  const s = comparisonStats(diffs, TOLERANCE);
  return `${label.padEnd(40)} days ${s.days}  mean ${s.meanBias.toFixed(2).padStart(5)}  median|d| ${s.medianAbs.toFixed(2)}  p90 ${s.p90Abs.toFixed(2)}  max ${s.maxAbs.toFixed(2)}  within ${TOLERANCE}: ${(100 * s.withinShare).toFixed(1)}%`;
}

export interface SeasonData {
  snaps: Map<string, MarketSnapshot[]>;
  bars: Record<string, DvolBar[]>;
}

export async function loadSeason(files: readonly string[], progress = true): Promise<SeasonData> {
  const snaps = await loadNormalizedSnapshots(files, COINS, (done, total) => {
    if (progress && (done % 20 === 0 || done === total))
      process.stderr.write(`  loaded ${done}/${total} chain files\n`);
  });
  const bars: Record<string, DvolBar[]> = {};
  for (const c of COINS) bars[c] = await loadDvolBars(dvolFile(c));
  return { snaps, bars };
}

/** Days with an index and a DVOL bar: index - aligned DVOL. */
const withDiff = (series: readonly VolIndexDay[]) =>
  series.filter((d): d is VolIndexDay & { diff: number; index: number; dvol: number } => d.diff !== null);

/** DVOL at the snapshot's hour shifted by `hours` on its own daily bar (alignment sensitivity). */
function shiftedDiff(d: VolIndexDay & { index: number }, bar: DvolBar, hours: number): number {
  const h = (d.time - Date.parse(`${d.date}T00:00:00Z`)) / 3_600_000 + hours;
  return d.index - (bar.open + ((bar.close - bar.open) * Math.min(24, Math.max(0, h))) / 24);
}

function printSummary(series: readonly VolIndexDay[], bars: ReadonlyMap<string, DvolBar>): number {
  const both = withDiff(series);
  console.log(
    statsLine(
      "DVOL method (default), aligned DVOL",
      both.map((d) => d.diff),
    ),
  );
  const cboe = series.filter((d) => d.cboe !== null && d.dvol !== null);
  console.log(
    statsLine(
      "Cboe method (same cleaned quotes)",
      cboe.map((d) => (d.cboe ?? 0) - (d.dvol ?? 0)),
    ),
  );
  const ranges = both.map((d) => d.dvolRange ?? 0).sort((a, b) => a - b);
  const medRange = ranges[Math.floor(ranges.length / 2)] ?? 0;
  const calm = both.filter((d) => (d.dvolRange ?? 0) <= medRange);
  const busy = both.filter((d) => (d.dvolRange ?? 0) > medRange);
  console.log(
    statsLine(
      `  calm days (DVOL range <= ${medRange.toFixed(2)})`,
      calm.map((d) => d.diff),
    ),
  );
  console.log(
    statsLine(
      "  busy days",
      busy.map((d) => d.diff),
    ),
  );
  const inRange = both.flatMap((d) => {
    const b = bars.get(d.date);
    return b ? [outsideDailyRange(d.index, b)] : [];
  });
  console.log(statsLine("DVOL method vs DVOL's daily low-high range", inRange));
  console.log(
    `  index inside DVOL's daily low-high range on ${inRange.filter((x) => x === 0).length} of ${inRange.length} days`,
  );
  const shifts = [-3, -2, -1, 1, 2, 3].map((h) => {
    const diffs = both.flatMap((d) => {
      const b = bars.get(d.date);
      return b ? [shiftedDiff(d, b, h)] : [];
    });
    return `${h > 0 ? "+" : ""}${h} h ${(100 * comparisonStats(diffs, TOLERANCE).withinShare).toFixed(1)}%`;
  });
  console.log(
    `  within ${TOLERANCE} with the hour of day shifted (sensitivity, not the target): ${shifts.join(", ")}`,
  );
  for (const d of series.filter((x) => x.index === null)) console.log(`  no index on ${d.date}: ${d.error}`);
  return medRange;
}

function printMisses(series: readonly VolIndexDay[], bars: ReadonlyMap<string, DvolBar>, medRange: number) {
  const misses = withDiff(series)
    .filter((d) => Math.abs(d.diff) > TOLERANCE)
    .sort((a, b) => Math.abs(b.diff) - Math.abs(a.diff));
  console.log(`\n  days further than ${TOLERANCE} from the aligned DVOL (${misses.length}), worst first:`);
  console.log("  date       UTC    index   cboe   DVOL   diff  near/next days  strikes  cause");
  for (const d of misses)
    console.log(
      `  ${d.date} ${new Date(d.time).toISOString().slice(11, 16)} ${f2(d.index)} ${f2(d.cboe)} ${f2(d.dvol)} ${f2(d.diff)}  ${f2(d.nearDays)}/${f2(d.nextDays)}  ${String(d.strikes).padStart(5)}  ${dayCause(d, bars.get(d.date), medRange)}`,
    );
}

function printJumps(series: readonly VolIndexDay[], bars: ReadonlyMap<string, DvolBar>, medRange: number) {
  console.log("\n  day-to-day changes DVOL does not show (|change of index - change of DVOL| > 3 points):");
  let maxJump = 0;
  let count = 0;
  for (const [i, b] of series.entries()) {
    const a = series[i - 1];
    if (!a || a.index === null || b.index === null || a.dvol === null || b.dvol === null) continue;
    const extra = b.index - a.index - (b.dvol - a.dvol);
    maxJump = Math.max(maxJump, Math.abs(extra));
    if (Math.abs(extra) <= 3) continue;
    count++;
    console.log(
      `  ${a.date} -> ${b.date}: index ${f2(a.index)} -> ${f2(b.index)}, DVOL ${f2(a.dvol)} -> ${f2(b.dvol)}, extra ${f2(extra)}; near/next ${f2(b.nearDays)}/${f2(b.nextDays)}; ${a.date}: ${dayCause(a, bars.get(a.date), medRange)}; ${b.date}: ${dayCause(b, bars.get(b.date), medRange)}`,
    );
  }
  if (count === 0) console.log("  none");
  console.log(`  largest |change of index - change of DVOL|: ${maxJump.toFixed(2)}`);
}

function printNamedDays(
  series: readonly VolIndexDay[],
  snaps: readonly MarketSnapshot[],
  bars: readonly DvolBar[],
) {
  console.log("\n  named days (issue 24 item 3, issue 26 item 3):");
  for (const date of ["2026-01-12", "2026-01-13", "2026-01-14", "2026-02-11", "2026-02-12", "2026-02-13"]) {
    const d = series.find((x) => x.date === date);
    if (d)
      console.log(
        `  ${date} index ${f2(d.index)} cboe ${f2(d.cboe)} DVOL ${f2(d.dvol)} near/next ${f2(d.nearDays)}/${f2(d.nextDays)} strikes ${d.strikes}`,
      );
  }
  const noFill = volIndexComparisonSeries(snaps, bars, { markFillDelta: 1 });
  const moved = series
    .map((d, i) => ({ d, without: noFill[i]?.index ?? null }))
    .filter(
      ({ d, without }) =>
        (d.index === null) !== (without === null) ||
        (d.index !== null && without !== null && Math.abs(d.index - without) > 0.1),
    );
  console.log(
    `\n  near-the-money mark fill (rule 9) changes ${moved.length} day(s) by more than 0.1 point:${moved.map(({ d, without }) => ` ${d.date} ${without === null ? "no index" : f2(without)} -> ${f2(d.index)}`).join(";")}`,
  );
}

const SWEEP: [string, DvolOptions][] = [
  ...[0, 0.02, 0.03, 0.04, 0.045, 0.05, 0.06].map((v): [string, DvolOptions] => [
    `minDelta ${v}`,
    { minDelta: v },
  ]),
  ...[0.1, 0.2, 0.3, 0.5, 1, 10].map((v): [string, DvolOptions] => [
    `maxRelativeSpread ${v}`,
    { maxRelativeSpread: v },
  ]),
  ...[2, 4, 8, 12].map((v): [string, DvolOptions] => [`minStrikes ${v}`, { minStrikes: v }]),
  ...[0.1, 0.15, 0.25, 0.49].map((v): [string, DvolOptions] => [`edgeDelta ${v}`, { edgeDelta: v }]),
  ...[0.1, 0.15, 0.3, 1].map((v): [string, DvolOptions] => [`markFillDelta ${v}`, { markFillDelta: v }]),
  ["forward chain (market model)", { forward: "chain" }],
  ["price mark", { price: "mark" }],
  ["zeroBidStop", { zeroBidStop: true }],
  ...[0, 3, 7].map((v): [string, DvolOptions] => [`minDays ${v}`, { minDays: v }]),
];

function printSweep(snaps: readonly MarketSnapshot[], bars: readonly DvolBar[]) {
  console.log("\n  sweep of the measured choices (one changed from the defaults):");
  for (const [label, opts] of SWEEP)
    console.log(
      `  ${statsLine(
        label,
        withDiff(volIndexComparisonSeries(snaps, bars, opts)).map((d) => d.diff),
      )}`,
    );
}

async function main() {
  const files = dailyFiles();
  if (files.length === 0 || !existsSync(dvolFile("BTC"))) {
    console.log(`no data: ${DAILY_DIR} or ${dvolFile("BTC")} absent`);
    return;
  }
  console.error(`loading ${files.length} daily files ...`);
  const { snaps, bars } = await loadSeason(files);
  console.log(`DVOL method defaults: ${JSON.stringify(DVOL_DEFAULTS)}`);
  for (const coin of COINS) {
    const coinSnaps = snaps.get(coin) ?? [];
    const coinBars = bars[coin] ?? [];
    const barMap = new Map(coinBars.map((b) => [b.date, b]));
    const series = volIndexComparisonSeries(coinSnaps, coinBars);
    console.log(
      `\n== ${coin}: ${series.length} snapshots, ${withDiff(series).length} with an index and a DVOL bar ==`,
    );
    const medRange = printSummary(series, barMap);
    printMisses(series, barMap, medRange);
    printJumps(series, barMap, medRange);
    printNamedDays(series, coinSnaps, coinBars);
    if (process.argv.includes("--sweep")) printSweep(coinSnaps, coinBars);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
