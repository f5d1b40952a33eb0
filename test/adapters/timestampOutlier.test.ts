/**
 * A chain's valuation time is robust (issue 18 item 5): a snapshot file's dominant timestamp, never
 * set by one row. A row stamped 2100-01-01 (or an hour after the rest) is rejected as
 * `timestamp-outlier`, counts reconcile with per-reason counts, and `valuationTime` overrides.
 * Also: a chain file without bid/ask columns loads mark-only WITH a warning naming the columns.
 * Small CSV/JSON texts are built here; the real sample (../shared/data) is used when present.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { loadChainFile } from "../../src/adapters/chainFile.js";
import { dominantTimestamp } from "../../src/adapters/csvFields.js";
import { deribitEntriesToChains } from "../../src/adapters/deribit/apiShapes.js";
import { parseDeribitCsv } from "../../src/adapters/deribit/files.js";
import { parseTardisOptionsChain } from "../../src/adapters/tardis/optionsChain.js";
import { normalizeChain } from "../../src/core/market/normalize.js";

const SAMPLE = resolve(__dirname, "../../../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv");
const dir = mkdtempSync(join(tmpdir(), "volfolio-outlier-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.parse("2026-01-10T09:14:09Z");
const HEADER =
  "timestamp,instrument_name,underlying,underlying_name,option_type,strike,expiry_datetime,time_to_maturity,bid_price,ask_price,mark_price,mid_price,futures_price,futures_instrument_name,implied_volatility,delta,vega,open_interest,volume,bid_ask_spread,currency,index_price,volume_usd";

/** One Deribit snapshot CSV row for strike K (call or put), stamped `ts`. */
function row(K: number, kind: "call" | "put", ts = "2026-01-10T09:14:09+00:00", drop: string[] = []): string {
  const cells: Record<string, string> = {
    timestamp: ts,
    instrument_name: `BTC-27MAR26-${K}-${kind === "call" ? "C" : "P"}`,
    underlying: "91491.36",
    underlying_name: "BTC-27MAR26",
    option_type: kind,
    strike: String(K),
    expiry_datetime: "2026-03-27T08:00:00+00:00",
    time_to_maturity: "0.2",
    bid_price: "0.07",
    ask_price: "0.072",
    mark_price: "0.071",
    mid_price: "0.071",
    futures_price: "91491.36",
    futures_instrument_name: "BTC-27MAR26",
    implied_volatility: "0.45",
    delta: "0.5",
    vega: "150",
    open_interest: "100",
    volume: "1",
    bid_ask_spread: "0.002",
    currency: "BTC",
    index_price: "90523.39",
    volume_usd: "0",
  };
  return HEADER.split(",")
    .filter((c) => !drop.includes(c))
    .map((c) => cells[c])
    .join(",");
}
const header = (drop: string[] = []) =>
  HEADER.split(",")
    .filter((c) => !drop.includes(c))
    .join(",");

const countBy = (xs: readonly { reason: string }[]) =>
  xs.reduce<Record<string, number>>((m, x) => {
    m[x.reason] = (m[x.reason] ?? 0) + 1;
    return m;
  }, {});

describe("dominantTimestamp", () => {
  it("is the lower median, an actual row time, and moved by no single row", () => {
    expect(dominantTimestamp([])).toBeNull();
    expect(dominantTimestamp([5])).toBe(5);
    expect(dominantTimestamp([3, 1, 2, 4])).toBe(2);
    expect(dominantTimestamp([T, T, T, Date.UTC(2100, 0, 1)])).toBe(T);
    expect(dominantTimestamp([Date.UTC(2100, 0, 1), T, T + 1000])).toBe(T + 1000);
  });
});

describe("Deribit snapshot CSV: timestamp outliers", () => {
  const strikes = [80000, 85000, 90000, 95000, 100000];
  const good = strikes.flatMap((K) => [row(K, "call"), row(K, "put")]);

  it("a row stamped 2100-01-01 is rejected; the valuation time is the dominant timestamp; counts reconcile", async () => {
    const text = [
      HEADER,
      ...good.slice(0, 3),
      row(105000, "call", "2100-01-01T00:00:00+00:00"), // line 5
      ...good.slice(3),
      row(110000, "put", "not a time"), // line 13: an invalid field, a different reason
    ].join("\n");
    const r = await parseDeribitCsv(Readable.from([text]));
    expect(r.rowsRead).toBe(12);
    const accepted = r.chains.reduce((s, c) => s + c.quotes.length, 0);
    expect(accepted).toBe(10);
    expect(accepted + r.rejected.length).toBe(r.rowsRead);
    expect(countBy(r.rejected)).toEqual({ "timestamp-outlier": 1, "invalid-field": 1 });
    const outlier = r.rejected.find((x) => x.reason === "timestamp-outlier")!;
    expect(outlier.line).toBe(5);
    expect(outlier.row.instrument_name).toBe("BTC-27MAR26-105000-C");
    expect(outlier.detail).toContain("2100-01-01T00:00:00.000Z");
    expect(outlier.detail).toContain("dominant timestamp 2026-01-10T09:14:09.000Z");
    expect(r.rejected.map((x) => x.line)).toEqual([5, 13]); // in file order
    expect(r.dominantTime).toBe(T);
    const chain = r.chains[0]!;
    expect(chain.valuationTime).toBe(T);
    // The chain is usable: nothing is expired or stale at the dominant time.
    const n = normalizeChain(chain);
    expect(n.counts.byReason.expired ?? 0).toBe(0);
    expect(n.counts.byReason.stale ?? 0).toBe(0);
  });

  it("a row one hour newer than the rest is an outlier; rows within 10 minutes are not", async () => {
    const text = [
      HEADER,
      ...good.slice(0, 6),
      row(105000, "call", "2026-01-10T10:14:09+00:00"), // +1 h
      row(105000, "put", "2026-01-10T09:23:09+00:00"), // +9 min: same snapshot
      row(110000, "call", "2026-01-10T09:05:09+00:00"), // -9 min
      ...good.slice(6),
    ].join("\n");
    const r = await parseDeribitCsv(Readable.from([text]));
    expect(r.rejected.map((x) => [x.line, x.reason])).toEqual([[8, "timestamp-outlier"]]);
    expect(r.rejected[0]!.detail).toMatch(
      /is 60 min after the file's dominant timestamp 2026-01-10T09:14:09\.000Z \(tolerance 10 min\)/,
    );
    expect(r.chains[0]!.quotes).toHaveLength(12);
    expect(r.chains[0]!.valuationTime).toBe(T);
  });

  it("valuationTime overrides the chain's time; outliers are still judged against the dominant timestamp", async () => {
    const text = [HEADER, ...good, row(105000, "call", "2100-01-01T00:00:00+00:00")].join("\n");
    const at = Date.UTC(2026, 0, 10, 10);
    const r = await parseDeribitCsv(Readable.from([text]), { valuationTime: at });
    expect(r.chains[0]!.valuationTime).toBe(at);
    expect(r.dominantTime).toBe(T);
    expect(countBy(r.rejected)).toEqual({ "timestamp-outlier": 1 });
  });

  it("the futures quote comes from in-time rows only", async () => {
    const text = [HEADER, row(105000, "call", "2100-01-01T00:00:00+00:00"), ...good].join("\n");
    const r = await parseDeribitCsv(Readable.from([text]));
    expect(r.chains[0]!.futures?.map((f) => [f.name, f.timestamp])).toEqual([["BTC-27MAR26", T]]);
  });

  it.skipIf(!existsSync(SAMPLE))(
    "the real sample (../shared/data) with one BTC row moved to 2100: 631 BTC quotes at 09:14:09.905Z, none expired",
    async () => {
      const lines = readFileSync(SAMPLE, "utf8").trimEnd().split("\n");
      const [, first] = lines;
      expect(first?.startsWith("2026-01-10T09:14:09.905825+00:00,BTC-")).toBe(true);
      lines[1] = (first as string).replace(/^2026-01-10T09:14:09\.905825/, "2100-01-01T00:00:00");
      const p = join(dir, "sample_outlier.csv");
      writeFileSync(p, `${lines.join("\n")}\n`);
      const r = await loadChainFile(p);
      expect(r.rowsRead).toBe(1300);
      expect(r.rejected.map((x) => [x.where, x.reason])).toEqual([["line 2", "timestamp-outlier"]]);
      expect(r.chains.map((c) => [c.underlying, c.quotes.length])).toEqual([
        ["BTC", 631],
        ["ETH", 668],
      ]);
      const t = Date.parse("2026-01-10T09:14:09.905Z");
      for (const c of r.chains) expect(c.valuationTime).toBe(t);
      const n = normalizeChain(r.chains[0]!);
      expect(n.counts.byReason.expired ?? 0).toBe(0);
      expect(n.counts.accepted).toBeGreaterThan(600);
    },
  );
});

describe("chain files without bid/ask columns say so", () => {
  it("Deribit CSV: mark-only quotes and a warning naming the missing columns", async () => {
    const drop = ["bid_price", "ask_price"];
    const text = [header(drop), row(90000, "call", undefined, drop), row(90000, "put", undefined, drop)].join(
      "\n",
    );
    const r = await parseDeribitCsv(Readable.from([text]));
    expect(r.rejected).toEqual([]);
    expect(r.chains[0]!.quotes.map((q) => [q.bid, q.ask, q.mark])).toEqual([
      [null, null, 0.071],
      [null, null, 0.071],
    ]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain("no bid_price, ask_price columns");
    expect(r.warnings[0]).toContain("MARK-ONLY");
    // One missing column is named alone.
    const one = await parseDeribitCsv(
      Readable.from([[header(["ask_price"]), row(90000, "call", undefined, ["ask_price"])].join("\n")]),
    );
    expect(one.warnings[0]).toContain("no ask_price column:");
    // A complete file has no warning.
    const ok = await parseDeribitCsv(Readable.from([[HEADER, row(90000, "call")].join("\n")]));
    expect(ok.warnings).toEqual([]);
  });

  it("loadChainFile passes the warning on (and names the file)", async () => {
    const drop = ["bid_price", "ask_price"];
    const p = join(dir, "markonly.csv");
    writeFileSync(p, [header(drop), row(90000, "call", undefined, drop)].join("\n"));
    const r = await loadChainFile(p);
    expect(r.warnings).toEqual([expect.stringContaining(`${p} has no bid_price, ask_price columns`)]);
  });
});

describe("Deribit API JSON: timestamp outliers", () => {
  const entry = (name: string, ts: number, over: Record<string, unknown> = {}) => ({
    instrument_name: name,
    creation_timestamp: ts,
    mark_price: 0.0735,
    mark_iv: 43.2,
    bid_price: 0.072,
    ask_price: 0.075,
    underlying_price: 91_650.5,
    underlying_index: "BTC-27MAR26",
    estimated_delivery_price: 90_523.32,
    ...over,
  });

  it("an entry far from the payload's dominant timestamp is rejected (options and futures); time = dominant", () => {
    const entries = [
      entry("BTC-27MAR26-90000-C", T),
      entry("BTC-27MAR26-90000-P", T + 2000),
      entry("BTC-27MAR26-95000-C", Date.UTC(2100, 0, 1)),
      entry("BTC-27MAR26", T + 3_600_000, { mark_price: 91_650.5, mark_iv: undefined }),
      entry("BTC-PERPETUAL", T, { mark_price: 90_540, mark_iv: undefined }),
    ];
    const r = deribitEntriesToChains(entries);
    expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([
      [2, "timestamp-outlier"],
      [3, "timestamp-outlier"],
    ]);
    const opts = r.chains.reduce((s, c) => s + c.quotes.length, 0);
    expect(opts + r.futuresRead + r.rejected.length).toBe(r.entriesRead);
    // The lower median of T, T, T + 2 s (and the two outliers): an actual entry time.
    expect(r.dominantTime).toBe(T + 2000);
    expect(r.chains[0]!.valuationTime).toBe(T + 2000);
    expect(r.chains[0]!.futures?.map((f) => f.name)).toEqual(["BTC-PERPETUAL"]);
    const at = T + 60_000;
    expect(deribitEntriesToChains(entries, { valuationTime: at }).chains[0]!.valuationTime).toBe(at);
  });

  it("entries without any bid/ask field are mark-only with a warning", () => {
    const bare = { ...entry("BTC-27MAR26-90000-C", T) } as Record<string, unknown>;
    delete bare.bid_price;
    delete bare.ask_price;
    const r = deribitEntriesToChains([bare]);
    expect(r.chains[0]!.quotes[0]).toMatchObject({ bid: null, ask: null, mark: 0.0735 });
    expect(r.warnings).toEqual([
      expect.stringContaining("bid_price/best_bid_price, ask_price/best_ask_price fields"),
    ]);
  });
});

describe("Tardis options_chain: timestamp outliers", () => {
  const TH =
    "exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,open_interest,last_price,bid_price,bid_amount,bid_iv,ask_price,ask_amount,ask_iv,mark_price,mark_iv,underlying_index,underlying_price,delta,gamma,vega,theta,rho";
  const EXP = "1774598400000000"; // 2026-03-27T08:00Z in microseconds
  const us = (ms: number) => String(ms * 1000);
  const t0 = Date.UTC(2026, 0, 10, 9);
  const trow = (K: number, kind: "call" | "put", ts: number, local: number | null, mark = "0.05") =>
    `deribit,BTC-27MAR26-${K}-${kind === "call" ? "C" : "P"},${us(ts)},${local === null ? "" : us(local)},${kind},${K},${EXP},,,0.049,1,54,0.051,1,56,${mark},55,BTC-27MAR26,91500,,,,,`;

  it("timestamp far from its own local_timestamp -> timestamp-outlier; the valuation time is the latest valid update", async () => {
    const text = [
      TH,
      trow(90000, "call", t0, t0 + 2),
      trow(90000, "put", t0 + 60_000, t0 + 60_002),
      trow(95000, "call", Date.UTC(2100, 0, 1), t0 + 120_000), // exchange clock garbage: line 4
      trow(95000, "put", t0 + 3_600_000, t0 + 3_600_001), // a genuine update an hour later
    ].join("\n");
    const r = await parseTardisOptionsChain(Readable.from([text]));
    expect(r.rejected.map((x) => [x.line, x.reason])).toEqual([[4, "timestamp-outlier"]]);
    expect(r.rejected[0]!.detail).toMatch(
      /^timestamp 2100-01-01T00:00:00\.000Z is \d+\.\d min after its local_timestamp 2026-01-10T09:02:00\.000Z/,
    );
    const accepted = r.chains.reduce((s, c) => s + c.quotes.length, 0);
    expect(accepted + r.superseded + r.rejected.length).toBe(r.rowsRead);
    expect(r.chains[0]!.valuationTime).toBe(t0 + 3_600_000);
  });

  it("without local_timestamp, a row more than a day from the file's dominant time is an outlier and its symbol keeps its valid update", async () => {
    const text = [
      TH,
      trow(90000, "call", t0, null, "0.05"),
      trow(90000, "call", Date.UTC(2100, 0, 1), null, "0.99"), // line 3: poisons the symbol's latest
      trow(90000, "call", t0 + 30_000, null, "0.06"), // line 4: the real latest update
      trow(90000, "put", t0, null),
      trow(95000, "call", t0 + 10_000, null),
    ].join("\n");
    const r = await parseTardisOptionsChain(Readable.from([text]));
    expect(r.rowsRead).toBe(5);
    expect(r.rejected.map((x) => [x.line, x.reason])).toEqual([[3, "timestamp-outlier"]]);
    const quotes = r.chains[0]!.quotes;
    expect(quotes).toHaveLength(3);
    expect(quotes.length + r.superseded + r.rejected.length).toBe(r.rowsRead);
    const c90 = quotes.find((q) => q.instrument.name === "BTC-27MAR26-90000-C")!;
    expect([c90.timestamp, c90.mark]).toEqual([t0 + 30_000, 0.06]);
    expect(r.chains[0]!.valuationTime).toBe(t0 + 30_000);
    const at = t0 + 3_600_000;
    expect(
      (await parseTardisOptionsChain(Readable.from([text]), { valuationTime: at })).chains[0]!.valuationTime,
    ).toBe(at);
  });

  it("a Tardis file without bid/ask columns: mark-only with a warning", async () => {
    const cols = TH.split(",");
    const keep = cols.map((c, i) => (c === "bid_price" || c === "ask_price" ? -1 : i)).filter((i) => i >= 0);
    const pick = (line: string) => {
      const cells = line.split(",");
      return keep.map((i) => cells[i]).join(",");
    };
    const text = [pick(TH), pick(trow(90000, "call", t0, t0))].join("\n");
    const r = await parseTardisOptionsChain(Readable.from([text]));
    expect(r.chains[0]!.quotes[0]).toMatchObject({ bid: null, ask: null, mark: 0.05 });
    expect(r.warnings).toEqual([expect.stringContaining("no bid_price, ask_price columns")]);
  });
});
