/**
 * The project's 30-day index (DVOL method, `core/volindex/dvol.ts`) against Deribit's DVOL over
 * the daily season (../shared/data/deribit/daily, BTC and ETH), DVOL taken at each snapshot's
 * time of day (open + (close - open) x hour/24 of its daily bar). Prints per currency: mean bias,
 * median |diff|, p90, max, share within 1.5 points, for the DVOL method and the plain Cboe method;
 * the worst days with their causes; the day-to-day changes of the index that DVOL does not show
 * (robustness, issue 24 item 3 / issue 26 item 3) and the two named days (2026-01-13, 2026-02-12);
 * a sweep of the measured choices (minDelta, maxRelativeSpread, minStrikes, edgeDelta).
 *
 *   npx tsx scripts/measure/dvolSeason.ts [--sweep]      (~40 s; progress on stderr)
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type DvolOptions, DVOL_DEFAULTS } from "../../src/core/volindex/dvol.js";
import {
  comparisonStats,
  type DvolBar,
  type VolIndexDay,
  volIndexComparisonSeries,
} from "../../src/core/volindex/series.js";
import { loadDvolBars, loadNormalizedSnapshots } from "../../src/cli/commands/volindexSeries.js";
import type { MarketSnapshot } from "../../src/core/market/types.js";
import { DAILY_DIR, dailyFiles } from "./deribitDaily.js";

export const PRICES_DIR = resolve(DAILY_DIR, "../../prices");
export const dvolFile = (coin: string) => resolve(PRICES_DIR, `DVOL_${coin}_daily.csv`);
export const COINS = ["BTC", "ETH"] as const;

/** Why a day is far from DVOL, from what the data shows. */
export function dayCause(d: VolIndexDay, bar: DvolBar | undefined): string {
  if (d.index === null) return `no index: ${d.error ?? "?"}`;
  const parts: string[] = [];
  if (bar && d.index >= bar.low && d.index <= bar.high)
    parts.push(
      `inside DVOL's range that day (${bar.low.toFixed(2)}-${bar.high.toFixed(2)}): time-of-day alignment`,
    );
  else if (bar)
    parts.push(
      `outside DVOL's daily range ${bar.low.toFixed(2)}-${bar.high.toFixed(2)} by ${(d.index > bar.high ? d.index - bar.high : bar.low - d.index).toFixed(2)}`,
    );
  if (d.nearDays !== null && d.nextDays !== null && d.nextDays - d.nearDays > 21)
    parts.push(
      `interpolation across ${(d.nextDays - d.nearDays).toFixed(0)} days (${d.nearDays.toFixed(1)} / ${d.nextDays.toFixed(1)})`,
    );
  return parts.join("; ");
}

const f2 = (x: number | null | undefined) =>
  x === null || x === undefined ? "   -  " : x.toFixed(2).padStart(6);

function statsLine(label: string, diffs: number[]): string {
  const s = comparisonStats(diffs);
  return `${label.padEnd(34)} days ${s.days}  mean ${s.meanBias.toFixed(2).padStart(5)}  median|d| ${s.medianAbs.toFixed(2)}  p90 ${s.p90Abs.toFixed(2)}  max ${s.maxAbs.toFixed(2)}  within 1.5: ${(100 * s.withinShare).toFixed(1)}%`;
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

async function main() {
  const files = dailyFiles();
  if (files.length === 0 || !existsSync(dvolFile("BTC"))) {
    console.log(`no data: ${DAILY_DIR} or ${dvolFile("BTC")} absent`);
    return;
  }
  const sweep = process.argv.includes("--sweep");
  console.error(`loading ${files.length} daily files ...`);
  const { snaps, bars } = await loadSeason(files);
  console.log(`DVOL method defaults: ${JSON.stringify(DVOL_DEFAULTS)}`);
  for (const coin of COINS) {
    const barMap = new Map(bars[coin]?.map((b) => [b.date, b]));
    const series = volIndexComparisonSeries(snaps.get(coin) ?? [], bars[coin] ?? []);
    const withBoth = series.filter((d) => d.diff !== null);
    console.log(
      `\n== ${coin}: ${series.length} snapshots, ${withBoth.length} with an index and a DVOL bar ==`,
    );
    console.log(
      statsLine(
        "DVOL method (default)",
        withBoth.map((d) => d.diff as number),
      ),
    );
    const cb = series
      .filter((d) => d.cboe !== null && d.dvol !== null)
      .map((d) => (d.cboe as number) - (d.dvol as number));
    console.log(statsLine("Cboe method (same cleaned quotes)", cb));
    const ranges = withBoth.map((d) => d.dvolRange as number).sort((a, b) => a - b);
    const medRange = ranges[Math.floor(ranges.length / 2)] as number;
    const calm = withBoth.filter((d) => (d.dvolRange as number) <= medRange);
    const busy = withBoth.filter((d) => (d.dvolRange as number) > medRange);
    console.log(
      statsLine(
        `  calm days (DVOL range <= ${medRange.toFixed(2)})`,
        calm.map((d) => d.diff as number),
      ),
    );
    console.log(
      statsLine(
        "  busy days",
        busy.map((d) => d.diff as number),
      ),
    );
    const inside = withBoth.filter((d) => {
      const b = barMap.get(d.date);
      return b && (d.index as number) >= b.low && (d.index as number) <= b.high;
    }).length;
    console.log(`  index inside DVOL's daily low-high range on ${inside} of ${withBoth.length} days`);
    const missing = series.filter((d) => d.index === null);
    for (const d of missing) console.log(`  no index on ${d.date}: ${d.error}`);

    console.log("\n  worst days (index - DVOL):");
    console.log("  date        index   cboe   DVOL   diff  near/next days  strikes  cause");
    for (const d of [...withBoth]
      .sort((a, b) => Math.abs(b.diff as number) - Math.abs(a.diff as number))
      .slice(0, 10))
      console.log(
        `  ${d.date} ${f2(d.index)} ${f2(d.cboe)} ${f2(d.dvol)} ${f2(d.diff)}  ${f2(d.nearDays)}/${f2(d.nextDays)}  ${String(d.strikes).padStart(5)}  ${dayCause(d, barMap.get(d.date))}`,
      );

    console.log("\n  day-to-day changes DVOL does not show (|change of index - change of DVOL| > 3 points):");
    const jumps: string[] = [];
    let maxJump = 0;
    for (let i = 1; i < series.length; i++) {
      const a = series[i - 1] as VolIndexDay;
      const b = series[i] as VolIndexDay;
      if (a.index === null || b.index === null || a.dvol === null || b.dvol === null) continue;
      const extra = b.index - a.index - (b.dvol - a.dvol);
      maxJump = Math.max(maxJump, Math.abs(extra));
      if (Math.abs(extra) > 3)
        jumps.push(
          `  ${a.date} -> ${b.date}: index ${f2(a.index)} -> ${f2(b.index)}, DVOL ${f2(a.dvol)} -> ${f2(b.dvol)}, extra ${f2(extra)}; near/next ${f2(b.nearDays)}/${f2(b.nextDays)}; ${dayCause(b, barMap.get(b.date))}`,
        );
    }
    console.log(jumps.length ? jumps.join("\n") : "  none");
    console.log(`  largest |change of index - change of DVOL|: ${maxJump.toFixed(2)}`);

    console.log("\n  named days (issue 24 item 3):");
    for (const date of ["2026-01-12", "2026-01-13", "2026-01-14", "2026-02-11", "2026-02-12", "2026-02-13"]) {
      const d = series.find((x) => x.date === date);
      if (d)
        console.log(
          `  ${date} index ${f2(d.index)} cboe ${f2(d.cboe)} DVOL ${f2(d.dvol)} near/next ${f2(d.nearDays)}/${f2(d.nextDays)} strikes ${d.strikes}`,
        );
    }

    const noFill = volIndexComparisonSeries(snaps.get(coin) ?? [], bars[coin] ?? [], { markFillDelta: 1 });
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

    if (sweep) {
      console.log("\n  sweep of the measured choices (one changed from the defaults):");
      const variants: [string, DvolOptions][] = [
        ...[0, 0.02, 0.03, 0.04, 0.045, 0.05, 0.06].map(
          (v) => [`minDelta ${v}`, { minDelta: v }] as [string, DvolOptions],
        ),
        ...[0.1, 0.2, 0.3, 0.5, 1, 10].map(
          (v) => [`maxRelativeSpread ${v}`, { maxRelativeSpread: v }] as [string, DvolOptions],
        ),
        ...[2, 4, 8, 12].map((v) => [`minStrikes ${v}`, { minStrikes: v }] as [string, DvolOptions]),
        ...[0.1, 0.15, 0.25, 0.49].map((v) => [`edgeDelta ${v}`, { edgeDelta: v }] as [string, DvolOptions]),
        ...[0.1, 0.15, 0.3, 1].map(
          (v) => [`markFillDelta ${v}`, { markFillDelta: v }] as [string, DvolOptions],
        ),
      ];
      for (const [label, opts] of variants) {
        const s = volIndexComparisonSeries(snaps.get(coin) ?? [], bars[coin] ?? [], opts).filter(
          (d) => d.diff !== null,
        );
        console.log(
          `  ${statsLine(
            label,
            s.map((d) => d.diff as number),
          )}`,
        );
      }
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
