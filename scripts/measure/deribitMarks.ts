/**
 * Deribit's mark convention reproduced on the whole season of daily files (issue 18 item 3):
 * every option row of ../shared/data/deribit/daily is valued through the core (1 contract,
 * markCheck.ts) on four forwards and compared with mark_price; Deribit's `delta` is compared
 * with Black's forward delta and the core's positionGreeks deltaUnderlyingCoin; the file's
 * time_to_maturity with the core's ACT/365.
 * Prints, per currency: figures over all rows of the season, the worst day of each figure that
 * test/core/risk/deribitMarks.test.ts asserts per day, and the worst rows, named.
 *
 * Run: npx tsx scripts/measure/deribitMarks.ts [--every N]   (every N-th file only)
 */
import { basename } from "node:path";
import { DAILY_DIR, dailyFiles, quantileOf, readDailyRows } from "./deribitDaily.js";
import {
  checkDay,
  type DayFigures,
  dayFigures,
  FORWARD_KINDS,
  type ForwardKind,
  type RowChecks,
} from "./markCheck.js";

interface Worst {
  value: number;
  text: string;
}
function keepWorst(list: Worst[], value: number, text: () => string, n = 3): void {
  if (!(value > 0) || (list.length >= n && value <= (list[list.length - 1] as Worst).value)) return;
  list.push({ value, text: text() });
  list.sort((a, b) => b.value - a.value);
  if (list.length > n) list.pop();
}

interface Season {
  rows: number;
  markDecimals: number;
  rel: Record<ForwardKind, number[]>;
  abs: Record<ForwardKind, number[]>;
  ratio: Record<ForwardKind, number[]>;
  shift: Record<ForwardKind, number[]>;
  worstAbs: Record<ForwardKind, Worst[]>;
  worstRatio: Record<ForwardKind, Worst[]>;
  worstRel: Record<ForwardKind, Worst[]>;
  deltaErr: number[];
  deltaShift: number[];
  worstDelta: Worst[];
  days: { file: string; f: DayFigures }[];
}
const perKind = <T>(make: () => T) =>
  Object.fromEntries(FORWARD_KINDS.map((k) => [k, make()])) as Record<ForwardKind, T>;
const seasons = new Map<string, Season>();
const seasonOf = (cur: string): Season => {
  let s = seasons.get(cur);
  if (!s) {
    s = {
      rows: 0,
      markDecimals: 0,
      rel: perKind(() => []),
      abs: perKind(() => []),
      ratio: perKind(() => []),
      shift: perKind(() => []),
      worstAbs: perKind(() => []),
      worstRatio: perKind(() => []),
      worstRel: perKind(() => []),
      deltaErr: [],
      deltaShift: [],
      worstDelta: [],
      days: [],
    };
    seasons.set(cur, s);
  }
  return s;
};

const day = (file: string) => basename(file).slice(25, 40);
function describe(file: string, rc: RowChecks, k: ForwardKind): string {
  const pair = rc.strikePairForward;
  const r = rc.row;
  const c = rc.checks[k];
  const F = rc.forward[k];
  return (
    `${day(file)} ${r.instrument.name} (${(c.timeToExpiry * 365).toFixed(2)} d, k=${Math.log(r.instrument.strike / F).toFixed(3)}): ` +
    `mark ${r.markPrice} vs core ${c.valueCoin.toPrecision(9)} (|err| ${c.absError.toExponential(2)} coin, ` +
    `rel ${c.relError.toExponential(2)}, ${c.ratio.toFixed(1)}x the rounding bound ${c.bound.toExponential(2)}); ` +
    `iv ${r.markIv}, F ${F.toFixed(2)}, row underlying ${r.underlying} (${r.underlyingName}), ` +
    `this strike's marks imply F ${pair === null ? "-" : pair.toFixed(2)}; beyond the bound: ` +
    `a forward ${(c.forwardShift * 1e4).toFixed(2)} bp off, or ${c.timeShiftSec.toFixed(0)} s of decay`
  );
}

const args = process.argv.slice(2);
const every = args[0] === "--every" ? Number(args[1]) : 1;
const files = dailyFiles().filter((_, i) => i % every === 0);
if (files.length === 0) {
  console.error(`no daily files in ${DAILY_DIR}`);
  process.exit(1);
}

for (const file of files) {
  const rows = readDailyRows(file);
  const checks = checkDay(rows);
  for (const rc of checks) {
    const s = seasonOf(rc.row.currency);
    s.rows++;
    s.markDecimals = Math.max(s.markDecimals, rc.row.markDecimals);
    for (const k of FORWARD_KINDS) {
      const c = rc.checks[k];
      if (Number.isFinite(c.relError)) s.rel[k].push(c.relError);
      s.abs[k].push(c.absError);
      s.ratio[k].push(c.ratio);
      s.shift[k].push(c.forwardShift);
      keepWorst(s.worstAbs[k], c.absError, () => describe(file, rc, k));
      keepWorst(s.worstRatio[k], c.ratio, () => describe(file, rc, k));
      if (Number.isFinite(c.relError)) keepWorst(s.worstRel[k], c.relError, () => describe(file, rc, k));
    }
    s.deltaErr.push(rc.deltaError);
    s.deltaShift.push(rc.deltaForwardShift);
    keepWorst(
      s.worstDelta,
      rc.deltaError,
      () =>
        `${day(file)} ${rc.row.instrument.name} (${(rc.checks["row-underlying"].timeToExpiry * 365).toFixed(2)} d): ` +
        `Deribit ${rc.row.delta} vs Black ${rc.checks["row-underlying"].blackDelta.toFixed(5)} ` +
        `(iv ${rc.row.markIv}, F ${rc.row.underlying}, this row's index ${rc.row.indexPrice})`,
    );
  }
  for (const [cur, f] of dayFigures(checks)) seasonOf(cur).days.push({ file: basename(file), f });
}

const e = (x: number) => x.toExponential(2);
const pct = (xs: number[], f: (x: number) => boolean) =>
  `${((100 * xs.filter(f).length) / xs.length).toFixed(1)}%`;
function worstDay(days: Season["days"], f: (d: DayFigures) => number, lowest = false): string {
  const d = days.reduce((w, x) => ((lowest ? f(x.f) < f(w.f) : f(x.f) > f(w.f)) ? x : w));
  const v = f(d.f);
  return `${Math.abs(v) < 1e-2 ? e(v) : v.toFixed(3)} (${d.file.slice(25, 33)})`;
}

console.log(`Deribit marks through the core: ${files.length} daily files in ${DAILY_DIR}`);
for (const [cur, s] of [...seasons].sort()) {
  console.log(`\n== ${cur}: ${s.rows} live option rows on ${s.days.length} days`);
  console.log(`mark_price printed to at most ${s.markDecimals} decimals`);
  console.log(
    `time_to_maturity = (expiry - timestamp) / D days with D in ${worstDay(s.days, (d) => d.dayCount.min, true)} .. ${worstDay(s.days, (d) => d.dayCount.max)} (the core: ACT/365)`,
  );
  for (const k of FORWARD_KINDS) {
    console.log(`-- forward: ${k}`);
    console.log(
      `  relative error: median ${e(quantileOf(s.rel[k], 0.5))}, p90 ${e(quantileOf(s.rel[k], 0.9))}, p99 ${e(quantileOf(s.rel[k], 0.99))}, max ${e(quantileOf(s.rel[k], 1))}`,
    );
    console.log(
      `  absolute error (coin): median ${e(quantileOf(s.abs[k], 0.5))}, p99 ${e(quantileOf(s.abs[k], 0.99))}, max ${e(quantileOf(s.abs[k], 1))}`,
    );
    console.log(
      `  error / rounding bound: median ${quantileOf(s.ratio[k], 0.5).toFixed(3)}, p90 ${quantileOf(s.ratio[k], 0.9).toFixed(2)}, ` +
        `p99 ${quantileOf(s.ratio[k], 0.99).toFixed(1)}; within the bound ${pct(s.ratio[k], (x) => x <= 1)}`,
    );
    console.log(
      `  forward move explaining the error beyond the bound: p99 ${(quantileOf(s.shift[k], 0.99) * 1e4).toFixed(2)} bp, max ${(quantileOf(s.shift[k], 1) * 1e4).toFixed(2)} bp`,
    );
    const b = (d: DayFigures) => d.byForward[k];
    console.log(
      `  worst day: median rel ${worstDay(s.days, (d) => b(d).medRel)}, median ratio ${worstDay(s.days, (d) => b(d).medRatio)}, ` +
        `within-bound share ${worstDay(s.days, (d) => b(d).within, true)}, max |err| ${worstDay(s.days, (d) => b(d).maxAbs)} coin, ` +
        `max forward move ${worstDay(s.days, (d) => b(d).maxShift * 1e4)} bp`,
    );
    for (const w of s.worstAbs[k]) console.log(`  worst |err|: ${w.text}`);
    for (const w of s.worstRatio[k]) console.log(`  worst ratio: ${w.text}`);
    for (const w of s.worstRel[k]) console.log(`  worst rel: ${w.text}`);
  }
  const timed = s.days.map((d) => d.f.markTimeSecMed).filter((x) => Number.isFinite(x));
  console.log(
    `marks' own time (near-the-money rows <= 7 days: when the core's value decays to the mark), daily median, seconds after the file's timestamp: ` +
      `median ${quantileOf(timed, 0.5).toFixed(0)}, p10 ${quantileOf(timed, 0.1).toFixed(0)}, p90 ${quantileOf(timed, 0.9).toFixed(0)}`,
  );
  const better = s.days.filter(
    (d) => d.f.byForward["marks-forward"].medRatio < d.f.byForward["ttm-column"].medRatio,
  ).length;
  console.log(
    `ACT/365 closer to the marks than the file's time_to_maturity (median ratio) on ${better} of ${s.days.length} days`,
  );
  console.log("-- delta (row's underlying, mark IV)");
  console.log(
    `  |Black forward delta - Deribit delta|: median ${e(quantileOf(s.deltaErr, 0.5))}, p90 ${e(quantileOf(s.deltaErr, 0.9))}, ` +
      `p99 ${e(quantileOf(s.deltaErr, 0.99))}, max ${e(quantileOf(s.deltaErr, 1))}; ` +
      `as a forward move (beyond 5e-6): median ${(quantileOf(s.deltaShift, 0.5) * 1e4).toFixed(2)} bp, p99 ${(quantileOf(s.deltaShift, 0.99) * 1e4).toFixed(1)} bp`,
  );
  console.log(
    `  worst day: median ${worstDay(s.days, (d) => d.delta.med)}, max ${worstDay(s.days, (d) => d.delta.max)}; ` +
      `>= 7 days to expiry: median ${worstDay(s.days, (d) => d.delta.medWeek)}, max ${worstDay(s.days, (d) => d.delta.maxWeek)}`,
  );
  console.log(
    `  Deribit's own |delta_call - delta_put - 1| (Black: 0), daily median: ${worstDay(s.days, (d) => d.deltaParityMed, true)} .. ${worstDay(s.days, (d) => d.deltaParityMed)}; ` +
      `our median / theirs, worst day: ${worstDay(s.days, (d) => d.delta.med / d.deltaParityMed)}`,
  );
  console.log(
    `  |core deltaUnderlyingCoin - Black delta|: max ${worstDay(s.days, (d) => d.coreVsBlackDeltaMax)}`,
  );
  for (const w of s.worstDelta) console.log(`  worst delta: ${w.text}`);
}
