import { createReadStream, existsSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { describe, expect, it } from "vitest";
import { loadChainFile } from "../../../src/adapters/chainFile.js";
import {
  DERIBIT_CSV_COLUMNS,
  formatDeribitCsvRows,
  parseDeribitCsv,
  streamDeribitCsvSnapshots,
} from "../../../src/adapters/deribit/files.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import { syntheticChain } from "../../../src/core/market/synthetic.js";

/** Mid vol of the same quote, solved from a chain read through two loaders: the inputs are identical, so the solves agree to the solver's last ulps. */
const SAME_SOLVE_DIGITS = 12;

const DAILY = resolve(__dirname, "../../../../shared/data/deribit/daily");
const T0 = Date.UTC(2026, 0, 10, 9);

describe("Deribit CSV writer and per-snapshot streaming", () => {
  const btc = syntheticChain({ underlying: "BTC", valuationTime: T0, seed: 9 });
  const eth = syntheticChain({ underlying: "ETH", valuationTime: T0, seed: 10 });
  const later = syntheticChain({ underlying: "BTC", valuationTime: T0 + 3_600_000, seed: 11 });

  it("round-trips a synthetic chain through the CSV format", async () => {
    const text = [DERIBIT_CSV_COLUMNS.join(","), ...formatDeribitCsvRows(btc)].join("\n");
    const r = await parseDeribitCsv(Readable.from([text]));
    expect(r.rejected).toEqual([]);
    const back = r.chains[0]!;
    expect(back.quotes.length).toBe(btc.quotes.length);
    expect(back.valuationTime).toBe(T0);
    for (let i = 0; i < btc.quotes.length; i += 37) {
      const a = btc.quotes[i]!;
      const b = back.quotes[i]!;
      expect([b.instrument, b.bid, b.ask, b.mark, b.markIv, b.underlyingPrice]).toEqual([
        a.instrument,
        a.bid,
        a.ask,
        a.mark,
        a.markIv,
        a.underlyingPrice,
      ]);
    }
    // Same cleaned vols either way.
    const n1 = normalizeChain(btc);
    const n2 = normalizeChain(back);
    expect(n2.counts).toEqual(n1.counts);
    expect(n2.snapshot.quotes[5]?.midVol).toBeCloseTo(
      n1.snapshot.quotes[5]?.midVol as number,
      SAME_SOLVE_DIGITS,
    );
  });

  it("yields one snapshot per timestamp group with global line numbers", async () => {
    const bad = formatDeribitCsvRows(later).slice(0, 3);
    bad[1] = (bad[1] as string).replace(/,call,|,put,/, ",straddle,");
    const text = [
      DERIBIT_CSV_COLUMNS.join(","),
      ...formatDeribitCsvRows(btc),
      ...formatDeribitCsvRows(eth),
      ...bad,
    ].join("\n");
    const snaps = [];
    for await (const s of streamDeribitCsvSnapshots(Readable.from([text]))) snaps.push(s);
    expect(snaps.map((s) => [s.rowsRead, s.chains.map((c) => c.underlying)])).toEqual([
      [btc.quotes.length + eth.quotes.length, ["BTC", "ETH"]],
      [3, ["BTC"]],
    ]);
    expect(snaps[1]?.rejected.map((r) => r.line)).toEqual([btc.quotes.length + eth.quotes.length + 3]);
  });
});

const files = existsSync(DAILY) ? readdirSync(DAILY).filter((f) => f.endsWith(".csv.gz")) : [];
if (files.length === 0) console.warn(`skipping daily-file tests: no ${DAILY}/*.csv.gz (../shared/data)`);
describe.skipIf(files.length === 0)("real daily Deribit snapshots (.csv.gz, ../shared/data)", () => {
  it("first, middle and last files: detected as gzip Deribit CSV, counts reconcile end to end", async () => {
    const pick = [files[0], files[Math.floor(files.length / 2)], files[files.length - 1]] as string[];
    for (const f of pick) {
      const path = resolve(DAILY, f);
      const r = await loadChainFile(path);
      expect([r.format, r.gzip]).toEqual(["deribit-csv", true]);
      const quotes = r.chains.reduce((s, c) => s + c.quotes.length, 0);
      expect(quotes + r.rejected.length).toBe(r.rowsRead);
      expect(r.chains.map((c) => c.underlying)).toEqual(["BTC", "ETH"]);
      for (const c of r.chains) {
        const n = normalizeChain(c);
        expect(n.counts.accepted + n.counts.rejected).toBe(c.quotes.length);
        expect(n.counts.accepted / c.quotes.length).toBeGreaterThan(0.9);
      }
      // The streaming path sees the same rows.
      let streamed = 0;
      for await (const s of streamDeribitCsvSnapshots(createReadStream(path).pipe(createGunzip())))
        streamed += s.rowsRead;
      expect(streamed).toBe(r.rowsRead);
    }
  });
});
