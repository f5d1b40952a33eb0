/**
 * Market data bench.
 *  1. One full chain: the real sample (../shared/data, else a synthetic BTC+ETH chain written to a
 *     temp CSV): rows/s of bare csv-parse (baseline), of the Deribit loader (csv-parse + zod +
 *     instrument parsing), and quotes/s of normalizeChain (forwards + 4 implied-vol solves per
 *     quote); ratios against the baseline and against a bare impliedVol solve.
 *  2. A 1-million-row snapshot history: synthetic chains from a seeded Bates series written to a
 *     temp CSV, then streamed one snapshot at a time (streamDeribitCsvSnapshots + normalizeChain);
 *     rows/s against bare csv-parse of the same file, peak RSS and heap growth sampled at every
 *     snapshot (memory must stay bounded: about one snapshot, not the file).
 */
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse";
import {
  DERIBIT_CSV_COLUMNS,
  formatDeribitCsvRows,
  loadDeribitCsvFile,
  streamDeribitCsvSnapshots,
} from "../src/adapters/deribit/files.js";
import { normalizeChain } from "../src/core/market/normalize.js";
import { syntheticChain } from "../src/core/market/synthetic.js";
import { syntheticSeries } from "../src/core/market/syntheticSeries.js";
import type { ChainSnapshot } from "../src/core/market/types.js";
import { impliedVol } from "../src/core/pricing/impliedVol.js";
import { fmt, header, measure, SAMPLE_CHAIN, timeOnce } from "./harness.js";

async function bareParse(path: string): Promise<number> {
  let n = 0;
  const parser = createReadStream(path).pipe(parse({ columns: true, skip_empty_lines: true, trim: true }));
  for await (const _ of parser) n++;
  return n;
}

async function writeCsv(path: string, chains: Iterable<ChainSnapshot>): Promise<number> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r()));
  await write(`${DERIBIT_CSV_COLUMNS.join(",")}\n`);
  let rows = 0;
  for (const c of chains) {
    const lines = formatDeribitCsvRows(c);
    rows += lines.length;
    await write(`${lines.join("\n")}\n`);
  }
  await new Promise<void>((r) => out.end(() => r()));
  return rows;
}

function best<T>(
  runs: number,
  f: () => Promise<{ ms: number; value: T }>,
): Promise<{ ms: number; value: T }> {
  return (async () => {
    let b: { ms: number; value: T } | null = null;
    for (let i = 0; i < runs; i++) {
      const r = await f();
      if (b === null || r.ms < b.ms) b = r;
    }
    return b as { ms: number; value: T };
  })();
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "volfolio-market-bench-"));
  try {
    header("market: one full chain (load + normalize)");
    let file = SAMPLE_CHAIN;
    if (!existsSync(SAMPLE_CHAIN)) {
      file = join(dir, "synthetic_chain.csv");
      const t = Date.UTC(2026, 0, 10, 9);
      await writeCsv(file, [
        syntheticChain({ underlying: "BTC", valuationTime: t, seed: 1 }),
        syntheticChain({ underlying: "ETH", valuationTime: t, seed: 2 }),
      ]);
      console.log(`(real sample not found at ${SAMPLE_CHAIN}; using a synthetic chain)`);
    }
    const bare = await best(5, () => timeOnce(() => bareParse(file)));
    const rows = bare.value;
    const loaded = await best(5, () => timeOnce(() => loadDeribitCsvFile(file)));
    const chains = loaded.value.chains;
    const quotes = chains.reduce((s, c) => s + c.quotes.length, 0);
    const norm = await best(5, () => timeOnce(() => chains.map((c) => normalizeChain(c))));
    const bareRate = rows / (bare.ms / 1e3);
    const loadRate = rows / (loaded.ms / 1e3);
    const normRate = quotes / (norm.ms / 1e3);
    const iv = measure(
      (i) =>
        impliedVol({
          price: 2000 + (i % 100),
          forward: 91_000,
          strike: 95_000,
          expiry: 0.2,
          kind: "call",
        }),
      { batch: 5000 },
    );
    console.log(`file ${file.split("/").pop()}: ${rows} rows, ${quotes} quotes accepted by the loader`);
    console.log(`bare csv-parse (baseline)        ${fmt(bareRate)} rows/s`);
    console.log(
      `Deribit loader (zod, names)      ${fmt(loadRate)} rows/s = ${fmt(loadRate / bareRate)}x baseline`,
    );
    console.log(
      `normalizeChain (4 IV solves/q)   ${fmt(normRate)} quotes/s = ${fmt(normRate / bareRate)}x baseline; ${fmt(
        (normRate * 4) / iv.opsPerSecond,
      )}x of 4 bare impliedVol solves (${fmt(iv.opsPerSecond)} solves/s)`,
    );
    console.log(`load + normalize, whole chain    ${fmt(loaded.ms + norm.ms)} ms`);

    header("market: 1-million-row snapshot history, streamed");
    const target = 1_000_000;
    const histPath = join(dir, "history.csv");
    const start = Date.UTC(2026, 0, 10, 9);
    const btc = syntheticSeries({ underlying: "BTC", start, steps: 500, stepMs: 3_600_000, seed: 5 });
    const eth = syntheticSeries({ underlying: "ETH", start, steps: 500, stepMs: 3_600_000, seed: 6 });
    function* history(): Generator<ChainSnapshot> {
      let n = 0;
      for (let i = 0; i <= 500 && n < target; i++) {
        for (const s of [btc, eth]) {
          const c = s.chainAt(i);
          const take = c.quotes.slice(0, target - n);
          n += take.length;
          yield { ...c, quotes: take };
          if (n >= target) return;
        }
      }
    }
    const gen = await timeOnce(() => writeCsv(histPath, history()));
    const mb = statSync(histPath).size / 2 ** 20;
    console.log(`generated ${gen.value} rows (${fmt(mb)} MiB) in ${fmt(gen.ms / 1e3)} s`);
    const bareHist = await timeOnce(() => bareParse(histPath));
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    let peakRss = rss0;
    let peakHeap = heap0;
    let snapshots = 0;
    let accepted = 0;
    let rejected = 0;
    let rowsRead = 0;
    const streamed = await timeOnce(async () => {
      for await (const snap of streamDeribitCsvSnapshots(createReadStream(histPath))) {
        rowsRead += snap.rowsRead;
        rejected += snap.rejected.length;
        for (const c of snap.chains) {
          const n = normalizeChain(c, { maxQuoteAgeMs: Number.POSITIVE_INFINITY });
          accepted += n.counts.accepted;
          rejected += n.counts.rejected;
        }
        snapshots++;
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
      }
    });
    const bareHistRate = bareHist.value / (bareHist.ms / 1e3);
    const streamRate = rowsRead / (streamed.ms / 1e3);
    console.log(
      `streamed ${rowsRead} rows in ${snapshots} snapshots: ${accepted} accepted + ${rejected} rejected = ${accepted + rejected}`,
    );
    console.log(`bare csv-parse (baseline)         ${fmt(bareHistRate)} rows/s`);
    console.log(
      `stream + load + normalize         ${fmt(streamRate)} rows/s = ${fmt(streamRate / bareHistRate)}x baseline (${fmt(streamed.ms / 1e3)} s)`,
    );
    console.log(
      `memory: peak RSS ${fmt(peakRss / 2 ** 20)} MiB (start ${fmt(rss0 / 2 ** 20)} MiB, +${fmt((peakRss - rss0) / 2 ** 20)} MiB), peak heap growth +${fmt((peakHeap - heap0) / 2 ** 20)} MiB, file ${fmt(mb)} MiB -> growth/file = ${fmt((peakRss - rss0) / 2 ** 20 / mb)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
