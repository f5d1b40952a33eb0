import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  loadTardisOptionsChainFile,
  parseTardisOptionsChain,
  streamTardisSnapshots,
} from "../../../src/adapters/tardis/optionsChain.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";

/** Marks written with 12 decimals of a coin from the fixture's mark_iv (2 decimals of a percent, exact in the fixture): the solve recovers it to the marks' rounding. */
const FIXTURE_IV_ABS = 1e-9;

/** Tardis prints mark_iv in percent (57); dividing by 100 rounds once. */
const PERCENT_PARSE_DIGITS = 12;

// Made by scripts/fixtures/tardis_options_chain.py (marks are exact scipy Black-76 prices).
const FIXTURE = resolve(__dirname, "../../fixtures/market/tardis_options_chain.csv");
const T0 = Date.UTC(2026, 0, 10, 9);

describe("Tardis options_chain loader", () => {
  it("keeps the latest update per symbol and reconciles every row", async () => {
    const r = await loadTardisOptionsChainFile(FIXTURE);
    expect(r.rowsRead).toBe(17);
    const accepted = r.chains.reduce((s, c) => s + c.quotes.length, 0);
    expect(accepted + r.superseded + r.rejected.length).toBe(r.rowsRead);
    expect(r.chains.map((c) => [c.underlying, c.quotes.length])).toEqual([
      ["BTC", 10],
      ["ETH", 1],
    ]);
    expect(r.rejected.map((x) => [x.line, x.reason])).toEqual([
      [16, "bad-instrument-name"],
      [17, "name-mismatch"],
    ]);
    const btc = r.chains[0]!;
    // Microseconds -> ms; the +1 h update of the 100000 call is the latest row.
    expect(btc.valuationTime).toBe(T0 + 3_600_000);
    const c95 = btc.quotes.find((q) => q.instrument.name === "BTC-27MAR26-95000-C")!;
    expect(c95.markIv).toBeCloseTo(0.57, PERCENT_PARSE_DIGITS); // percent -> decimal, the newer row
    const p85 = btc.quotes.find((q) => q.instrument.name === "BTC-27MAR26-85000-P")!;
    expect(p85.bid).toBeNull();
    expect(p85.bidIv).toBeNull();
    expect(p85.ask).toBeGreaterThan(0);
    expect(btc.quotes[0]?.instrument.expiry).toBe(Date.UTC(2026, 2, 27, 8));
    expect(btc.indexPrice).toBe(91_500);
  });

  it("builds the snapshot at a given instant; normalizeChain recovers the fixture's mark IVs", async () => {
    const r = await parseTardisOptionsChain(createReadStream(FIXTURE), { at: T0 });
    expect(r.superseded).toBe(4);
    const btc = r.chains.find((c) => c.underlying === "BTC")!;
    expect(btc.valuationTime).toBe(T0);
    const n = normalizeChain(btc);
    expect(n.counts.accepted).toBe(10);
    expect(n.snapshot.forwards).toEqual([
      expect.objectContaining({ forward: 91_500, source: "venue-underlying" }),
    ]);
    for (const q of n.snapshot.quotes) {
      // mark_iv printed to 2 decimals of a percent; marks to 12 decimals of a coin.
      expect(Math.abs((q.markVol as number) - (q.markIv as number))).toBeLessThan(FIXTURE_IV_ABS);
    }
  });

  it("reads gzip and rejects bad fields with a reason, never throws", async () => {
    const text = [
      "exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,open_interest,last_price,bid_price,bid_amount,bid_iv,ask_price,ask_amount,ask_iv,mark_price,mark_iv,underlying_index,underlying_price,delta,gamma,vega,theta,rho",
      "deribit,BTC-27MAR26-90000-C,1768035600000000,,call,90000,1774598400000000,,,0,,,0.05,1,55,0.049,54,BTC-27MAR26,91500,,,,,",
      "deribit,BTC-27MAR26-90000-P,notatime,,put,90000,1774598400000000,,,,,,,,,,,,,,,,,",
      "deribit,BTC-27MAR26-90000-P,1768035600000000,,straddle,90000,1774598400000000,,,,,,,,,,,,,,,,,",
      "deribit,BTC-27MAR26-90000-P,1768035600000000,,put,90000,1774598400000000,,,abc,,,,,,,,,,,,,,",
    ].join("\n");
    const r = await parseTardisOptionsChain(
      Readable.from([gzipSync(text)]).pipe((await import("node:zlib")).createGunzip()),
    );
    expect(r.rowsRead).toBe(4);
    expect(r.rejected.map((x) => x.detail.split(":")[0])).toEqual(["timestamp", "type", "bid_price"]);
    expect(r.chains[0]?.quotes[0]?.bid).toBeNull(); // a zero bid is no bid
  });

  it("streams the chain state at fixed intervals; counts reconcile at the end", async () => {
    const snaps = [];
    for await (const s of streamTardisSnapshots(createReadStream(FIXTURE), { intervalMs: 60_000 }))
      snaps.push(s);
    // T0, then every minute up to the +1 h row (T0 + 60 s ... T0 + 3600 s).
    expect(snaps.length).toBe(61);
    expect(snaps[0]?.at).toBe(T0);
    expect(snaps.at(-1)?.at).toBe(T0 + 3_600_000);
    const first = snaps[0]!;
    expect(first.chains.map((c) => [c.underlying, c.quotes.length])).toEqual([["BTC", 10]]);
    // The older (T0 - 60 s) update of the 90000 call did not replace the T0 row.
    expect(first.chains[0]?.quotes.find((q) => q.instrument.name === "BTC-27MAR26-90000-C")?.timestamp).toBe(
      T0,
    );
    const last = snaps.at(-1)!;
    expect([last.rowsRead, last.rowsApplied, last.rowsRejected]).toEqual([17, 15, 2]);
    expect(last.rowsApplied + last.rowsRejected).toBe(last.rowsRead);
    expect(snaps.reduce((n, s) => n + s.rejected.length, 0)).toBe(2);
    expect(last.chains.map((c) => [c.underlying, c.quotes.length])).toEqual([
      ["BTC", 10],
      ["ETH", 1],
    ]);
    expect(last.chains[0]?.valuationTime).toBe(T0 + 3_600_000);
  });
});
