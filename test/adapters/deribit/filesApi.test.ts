import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { detectChainFormat, loadChainFile } from "../../../src/adapters/chainFile.js";
import {
  deribitEntriesToChains,
  deribitPayloadEntries,
  deribitTickerSchema,
} from "../../../src/adapters/deribit/apiShapes.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";

/** The files API prints IVs in percent (43.2, 63.1); dividing by 100 rounds once, within an ulp (1.1e-16). */
const PERCENT_PARSE_DIGITS = 15;

const TS = Date.UTC(2026, 0, 10, 9, 14, 9);
// Values from the real 2026-01-10 sample row BTC-27MAR26 (mark_iv in PERCENT as the API sends it).
const summary = (name: string, over: Record<string, unknown> = {}) => ({
  instrument_name: name,
  creation_timestamp: TS,
  mark_price: 0.0735,
  mark_iv: 43.2,
  bid_price: 0.072,
  ask_price: 0.075,
  mid_price: 0.0735,
  underlying_price: 91_650.5,
  underlying_index: "BTC-27MAR26",
  estimated_delivery_price: 90_523.32,
  open_interest: 101.3,
  volume: 12,
  base_currency: "BTC",
  quote_currency: "BTC",
  interest_rate: 0,
  price_change: null,
  ...over,
});

describe("Deribit API payloads", () => {
  it("converts get_book_summary_by_currency (percent IV, null sides, futures) into chains; counts reconcile", () => {
    const payload = {
      jsonrpc: "2.0",
      id: 7,
      usIn: 1,
      usOut: 2,
      result: [
        summary("BTC-27MAR26-90000-C"),
        summary("BTC-27MAR26-90000-P", { bid_price: null, mid_price: null, mark_price: 0.054 }),
        summary("BTC-27MAR26", { mark_price: 91_650.5, mark_iv: undefined }),
        summary("BTC-PERPETUAL", { mark_price: 90_540 }),
        summary("BTC-27MAR26-ABC-C"),
        summary("BTC-27MAR26-95000-C", { mark_iv: "43.2" }),
      ],
    };
    const entries = deribitPayloadEntries(payload);
    expect(entries).toHaveLength(6);
    const r = deribitEntriesToChains(entries);
    expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([
      [4, "bad-instrument-name"],
      [5, "invalid-payload"],
    ]);
    const opts = r.chains.reduce((s, c) => s + c.quotes.length, 0);
    expect(opts + r.futuresRead + r.rejected.length).toBe(r.entriesRead);
    const btc = r.chains[0]!;
    expect(btc.indexPrice).toBe(90_523.32);
    expect(btc.quotes[0]?.markIv).toBeCloseTo(0.432, PERCENT_PARSE_DIGITS);
    expect(btc.quotes[1]?.bid).toBeNull();
    expect(btc.futures?.map((f) => [f.name, f.expiry])).toEqual([
      ["BTC-27MAR26", Date.UTC(2026, 2, 27, 8)],
      ["BTC-PERPETUAL", null],
    ]);
    const n = normalizeChain(btc);
    expect(n.snapshot.forwards[0]).toMatchObject({ forward: 91_650.5, source: "future" });
    expect(n.counts.accepted + n.counts.rejected).toBe(btc.quotes.length);
  });

  it("reads ticker results (best_bid_price 0 = no bid, bid/ask IVs, greeks) and subscription notifications", () => {
    const ticker = {
      instrument_name: "ETH-27MAR26-3200-P",
      timestamp: TS,
      state: "open",
      mark_price: 0.0812,
      mark_iv: 61.5,
      bid_iv: 0,
      ask_iv: 63.1,
      best_bid_price: 0,
      best_bid_amount: 0,
      best_ask_price: 0.084,
      best_ask_amount: 25,
      index_price: 3_101.2,
      underlying_price: 3_120.4,
      underlying_index: "ETH-27MAR26",
      open_interest: 812,
      greeks: { delta: -0.48, gamma: 0.0004, vega: 6.1, theta: -2.2, rho: -1.1 },
      stats: { volume: 3, high: null, low: null, price_change: null },
    };
    expect(deribitTickerSchema.safeParse(ticker).success).toBe(true);
    const note = {
      jsonrpc: "2.0",
      method: "subscription",
      params: { channel: "ticker.ETH-27MAR26-3200-P.100ms", data: ticker },
    };
    const r = deribitEntriesToChains(
      deribitPayloadEntries([note, { result: { ...ticker, instrument_name: "ETH-27MAR26-3400-C" } }]),
    );
    expect(r.rejected).toEqual([]);
    const q = r.chains[0]!.quotes[0]!;
    expect(q.bid).toBeNull();
    expect(q.bidIv).toBeNull();
    expect(q.askIv).toBeCloseTo(0.631, PERCENT_PARSE_DIGITS);
    expect(q.askSize).toBe(25);
    expect(r.chains[0]!.indexPrice).toBe(3_101.2);
  });
});

describe("chain file format detection", () => {
  const dir = mkdtempSync(join(tmpdir(), "volfolio-chainfile-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("detects by content, including gzip whatever the name", async () => {
    expect(detectChainFormat("timestamp,instrument_name,underlying,implied_volatility\n")).toBe(
      "deribit-csv",
    );
    expect(detectChainFormat("exchange,symbol,timestamp,type,strike_price,expiration\n")).toBe("tardis-csv");
    expect(detectChainFormat('  {"result": []}')).toBe("deribit-json");
    expect(detectChainFormat("a,b,c\n")).toBeNull();

    const tardis = resolve(__dirname, "../../fixtures/market/tardis_options_chain.csv");
    const t = await loadChainFile(tardis);
    expect(t.format).toBe("tardis-csv");
    expect(t.chains.reduce((s, c) => s + c.quotes.length, 0) + t.superseded + t.rejected.length).toBe(
      t.rowsRead,
    );

    const json = join(dir, "book.data");
    writeFileSync(json, gzipSync(JSON.stringify({ result: [summary("BTC-27MAR26-90000-C")] })));
    const j = await loadChainFile(json);
    expect([j.format, j.gzip, j.rowsRead, j.chains[0]?.quotes.length]).toEqual(["deribit-json", true, 1, 1]);

    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "a,b,c\n1,2,3\n");
    await expect(loadChainFile(bad)).rejects.toThrow(/unknown chain file format/);
  });
});
