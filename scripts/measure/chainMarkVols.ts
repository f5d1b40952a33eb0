/**
 * normalizeChain's mark vols against Deribit's implied_volatility, and the forward policy of
 * market/forwards.ts, over the whole season of daily files (issue 18 item 3, part 2). Files are
 * read with the project's loader (adapters/deribit/files.ts loadDeribitCsvFile).
 *
 * Per currency:
 *  - |markVol - implied_volatility| over all quotes with both; median, p90, p99, max, and the
 *    worst per day (the figures test/core/market/deribitMarkVols.test.ts asserts per day);
 *  - the same difference in price terms against the publication's rounding (markVols.ts), and
 *    over the well-conditioned quotes only;
 *  - what the earlier rule gave (coin converted on the quote's own underlying, solved on the
 *    future / median underlying forward) and what "each quote on its own underlying" would give;
 *  - forwards: how often and how much the dated future's mark, the median venue underlying and
 *    the marks' parity forward differ per expiry snapshot; the spread of the per-strike parity
 *    forwards within an expiry.
 *
 * Run: npx tsx scripts/measure/chainMarkVols.ts [--every N]
 */
import { basename } from "node:path";
import { loadDeribitCsvFile } from "../../src/adapters/deribit/files.js";
import { markParityForward } from "../../src/core/market/forwards.js";
import { normalizeChain } from "../../src/core/market/normalize.js";
import type { ChainSnapshot, OptionQuote } from "../../src/core/market/types.js";
import { impliedVolResult } from "../../src/core/pricing/impliedVol.js";
import { DAILY_DIR, dailyFiles, quantileOf } from "./deribitDaily.js";
import { bookAtMarks, type MarkVolDay, markVolChecks, markVolDay } from "./markVols.js";

function median(xs: number[]): number {
  return quantileOf(xs, 0.5);
}

/** The mark vol by an alternative rule: coin x `convert` in USD, solved on `solve`. */
function altVol(q: OptionQuote, T: number, convert: number, solve: number): number | null {
  if (q.mark === null) return null;
  const r = impliedVolResult({
    price: q.mark * convert,
    forward: solve,
    strike: q.instrument.strike,
    expiry: T,
    kind: q.instrument.kind,
  });
  return r.ok && r.value > 0 ? r.value : null;
}

interface Acc {
  diffs: number[];
  ratios: number[];
  wcDiffs: number[];
  noVol: number;
  oldDiffs: number[];
  ownDiffs: number[];
  oldNoVol: number;
  ownNoVol: number;
  worst: { diff: number; text: string }[];
  worstWc: { diff: number; text: string }[];
  days: { file: string; d: MarkVolDay }[];
  futVsVenue: number[];
  futVsMarks: number[];
  venueVsMarks: number[];
  strikeSpread: number[];
  sources: Map<string, number>;
}
const accs = new Map<string, Acc>();
const accOf = (c: string): Acc => {
  let a = accs.get(c);
  if (!a) {
    a = {
      diffs: [],
      ratios: [],
      wcDiffs: [],
      noVol: 0,
      oldDiffs: [],
      ownDiffs: [],
      oldNoVol: 0,
      ownNoVol: 0,
      worst: [],
      worstWc: [],
      days: [],
      futVsVenue: [],
      futVsMarks: [],
      venueVsMarks: [],
      strikeSpread: [],
      sources: new Map(),
    };
    accs.set(c, a);
  }
  return a;
};
const keep = (list: { diff: number; text: string }[], diff: number, text: () => string) => {
  if (list.length >= 3 && diff <= (list[2] as { diff: number }).diff) return;
  list.push({ diff, text: text() });
  list.sort((x, y) => y.diff - x.diff);
  list.length = Math.min(list.length, 3);
};

function forwardFigures(chain: ChainSnapshot, a: Acc): void {
  const byExpiry = new Map<number, OptionQuote[]>();
  for (const q of chain.quotes)
    (
      byExpiry.get(q.instrument.expiry) ?? byExpiry.set(q.instrument.expiry, []).get(q.instrument.expiry)!
    ).push(q);
  for (const [expiry, qs] of byExpiry) {
    if (expiry <= chain.valuationTime) continue;
    const venue = median(
      qs.map((q) => q.underlyingPrice).filter((u): u is number => typeof u === "number" && u > 0),
    );
    const fut = chain.futures?.find((f) => f.expiry === expiry)?.mark;
    const marks = markParityForward(qs);
    if (fut !== undefined) a.futVsVenue.push(Math.abs(fut / venue - 1));
    if (marks !== null) {
      if (fut !== undefined) a.futVsMarks.push(Math.abs(fut / marks - 1));
      a.venueVsMarks.push(Math.abs(venue / marks - 1));
      const pairs = new Map<number, { c?: number; p?: number }>();
      for (const q of qs) {
        if (q.mark === null) continue;
        const e = pairs.get(q.instrument.strike) ?? {};
        e[q.instrument.kind === "call" ? "c" : "p"] = q.mark;
        pairs.set(q.instrument.strike, e);
      }
      const fs = [...pairs]
        .filter(([, m]) => m.c !== undefined && m.p !== undefined)
        .map(([K, m]) => K / (1 - ((m.c as number) - (m.p as number))));
      a.strikeSpread.push(Math.max(...fs.map((f) => Math.abs(f / marks - 1))));
    }
  }
}

const args = process.argv.slice(2);
const every = args[0] === "--every" ? Number(args[1]) : 1;
const files = dailyFiles().filter((_, i) => i % every === 0);
if (files.length === 0) {
  console.error(`no daily files in ${DAILY_DIR}`);
  process.exit(1);
}
const books = new Map<
  string,
  { days: number; options: number; otmMaxRel: number; itm: { abs: number; text: string }[] }
>();
let bookExcluded = 0;
for (const file of files) {
  const loaded = await loadDeribitCsvFile(file);
  const book = bookAtMarks(loaded.chains);
  bookExcluded += book.excluded;
  for (const [cur, b] of book.byCurrency) {
    const acc = books.get(cur) ?? { days: 0, options: 0, otmMaxRel: 0, itm: [] };
    acc.days++;
    acc.options += b.options;
    acc.otmMaxRel = Math.max(acc.otmMaxRel, b.otmMaxRel);
    acc.itm.push({ abs: b.itmMaxAbs, text: `${basename(file).slice(25, 33)} ${b.itmWorst}` });
    acc.itm.sort((x, y) => y.abs - x.abs);
    acc.itm.length = Math.min(acc.itm.length, 3);
    books.set(cur, acc);
  }
  for (const chain of loaded.chains) {
    const a = accOf(chain.underlying);
    forwardFigures(chain, a);
    const n = normalizeChain(chain);
    for (const f of n.snapshot.forwards) a.sources.set(f.source, (a.sources.get(f.source) ?? 0) + 1);
    const checks = markVolChecks(n.snapshot.quotes);
    a.days.push({ file: basename(file), d: markVolDay(checks) });
    a.noVol += n.snapshot.quotes.filter((q) => q.markVol === null && q.mark !== null).length;
    for (const c of checks) {
      a.diffs.push(c.diff);
      a.ratios.push(c.ratio);
      if (c.wellConditioned) a.wcDiffs.push(c.diff);
      const q = c.quote;
      const text = () =>
        `${basename(file).slice(25, 40)} ${q.instrument.name} (${(q.timeToExpiry * 365).toFixed(1)} d, k=${q.logMoneyness.toFixed(3)}): ` +
        `markVol ${q.markVol?.toFixed(5)} vs Deribit ${q.markIv} (mark ${q.mark}, forward ${q.forward.toFixed(2)}, ` +
        `row underlying ${q.underlyingPrice}); vegaCoin ${c.vegaCoin.toExponential(2)}: |diff| x vega = ` +
        `${(c.diff * c.vegaCoin).toExponential(2)} coin, ${c.ratio.toFixed(1)}x the rounding bound`;
      keep(a.worst, c.diff, text);
      if (c.wellConditioned) keep(a.worstWc, c.diff, text);
    }
    // The earlier rule and the own-underlying rule, on the same quotes.
    const fut = new Map((chain.futures ?? []).map((f) => [f.expiry, f.mark]));
    for (const q of n.snapshot.quotes) {
      if (q.markIv === null || q.markIv === undefined || q.mark === null) continue;
      const u = q.underlyingPrice ?? q.forward;
      const venue = median(
        chain.quotes
          .filter((x) => x.instrument.expiry === q.instrument.expiry)
          .map((x) => x.underlyingPrice as number),
      );
      const oldF = fut.get(q.instrument.expiry) ?? venue;
      const old = altVol(q, q.timeToExpiry, u, oldF);
      const own = altVol(q, q.timeToExpiry, u, u);
      if (old === null) a.oldNoVol++;
      else a.oldDiffs.push(Math.abs(old - q.markIv));
      if (own === null) a.ownNoVol++;
      else a.ownDiffs.push(Math.abs(own - q.markIv));
    }
  }
}

const e = (x: number) => x.toExponential(2);
const stats = (xs: number[]) =>
  `median ${e(quantileOf(xs, 0.5))}, p90 ${e(quantileOf(xs, 0.9))}, p99 ${e(quantileOf(xs, 0.99))}, max ${e(quantileOf(xs, 1))}`;
const bp = (xs: number[]) =>
  `${xs.length} expiry snapshots: differ (> 1e-6) in ${((100 * xs.filter((x) => x > 1e-6).length) / xs.length).toFixed(0)}%, ` +
  `median ${(quantileOf(xs, 0.5) * 1e4).toFixed(3)} bp, p90 ${(quantileOf(xs, 0.9) * 1e4).toFixed(2)} bp, max ${(quantileOf(xs, 1) * 1e4).toFixed(2)} bp`;
function worstDay(days: Acc["days"], f: (d: MarkVolDay) => number, lowest = false): string {
  const w = days.reduce((x, y) => ((lowest ? f(y.d) < f(x.d) : f(y.d) > f(x.d)) ? y : x));
  return `${e(f(w.d))} (${w.file.slice(25, 33)})`;
}
console.log(
  `normalizeChain mark vols vs Deribit's implied_volatility: ${files.length} daily files in ${DAILY_DIR}`,
);
for (const [cur, a] of [...accs].sort()) {
  console.log(`\n== ${cur}: ${a.diffs.length} quotes with a mark vol (${a.noVol} marks without one)`);
  console.log(`|markVol - implied_volatility|: ${stats(a.diffs)}`);
  console.log(
    `  in price terms: median ${quantileOf(a.ratios, 0.5).toFixed(3)}x the rounding bound, p90 ${quantileOf(a.ratios, 0.9).toFixed(2)}x; ` +
      `within it ${((100 * a.ratios.filter((r) => r <= 1).length) / a.ratios.length).toFixed(1)}%`,
  );
  console.log(`  well-conditioned quotes (${a.wcDiffs.length}): ${stats(a.wcDiffs)}`);
  console.log(
    `  worst day: median ${worstDay(a.days, (d) => d.medDiff)}, p90 ${worstDay(a.days, (d) => d.p90Diff)}, ` +
      `median ratio ${worstDay(a.days, (d) => d.medRatio)}, within-bound share ${worstDay(a.days, (d) => d.within, true)}, ` +
      `well-conditioned p99 ${worstDay(a.days, (d) => d.p99DiffWellConditioned)}, max ${worstDay(a.days, (d) => d.maxDiffWellConditioned)}`,
  );
  for (const w of a.worst) console.log(`  worst: ${w.text}`);
  for (const w of a.worstWc) console.log(`  worst well-conditioned: ${w.text}`);
  console.log(
    `earlier rule (coin x own underlying, solved on future / median underlying): ${stats(a.oldDiffs)}; no vol ${a.oldNoVol}`,
  );
  console.log(
    `each quote on its own underlying (converted and solved): ${stats(a.ownDiffs)}; no vol ${a.ownNoVol}`,
  );
  console.log(
    `chainForwards sources: ${[...a.sources].map(([k, v]) => `${k} ${v}`).join(", ")} (expiry snapshots)`,
  );
  console.log(`forwards, future mark vs median venue underlying: ${bp(a.futVsVenue)}`);
  console.log(`forwards, future mark vs marks' parity forward: ${bp(a.futVsMarks)}`);
  console.log(`forwards, median venue underlying vs marks' parity forward: ${bp(a.venueVsMarks)}`);
  console.log(`marks' parity: largest strike's departure from the expiry's median: ${bp(a.strikeSpread)}`);
}
console.log(
  `\nA book of every quoted option valued by chainBookMarket (surface through the marks) vs the marks (${bookExcluded} positions left out):`,
);
for (const [cur, b] of [...books].sort()) {
  console.log(
    `${cur}: ${b.options} options on ${b.days} days; out of the money: max |value/mark - 1| ${b.otmMaxRel.toExponential(2)}; ` +
      `in the money (valued at the strike's out-of-the-money mark vol), worst days: ${b.itm.map((x) => `${x.abs.toExponential(2)} coin (${x.text})`).join("; ")}`,
  );
}
