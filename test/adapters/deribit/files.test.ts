import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadDeribitCsvFile, parseDeribitCsv } from "../../../src/adapters/deribit/files.js";

const DATA = resolve(__dirname, "../../../../shared/data/deribit");
const SAMPLE = resolve(DATA, "sample_BTC_ETH_chain_20260110T091409Z.csv");
const HEADER =
  "timestamp,instrument_name,underlying,underlying_name,option_type,strike,expiry_datetime,time_to_maturity,bid_price,ask_price,mark_price,mid_price,futures_price,futures_instrument_name,implied_volatility,delta,vega,open_interest,volume,bid_ask_spread,currency,index_price,volume_usd";
const row = (over: Partial<Record<string, string>>) => {
  const base: Record<string, string> = {
    timestamp: "2026-01-10T09:14:09+00:00",
    instrument_name: "BTC-27MAR26-90000-C",
    underlying: "91491.36",
    underlying_name: "BTC-27MAR26",
    option_type: "call",
    strike: "90000.0",
    expiry_datetime: "2026-03-27T08:00:00+00:00",
    time_to_maturity: "0.2",
    bid_price: "0.07",
    ask_price: "0.072",
    mark_price: "0.071",
    mid_price: "0.071",
    futures_price: "91491.36",
    futures_instrument_name: "BTC-27MAR26",
    implied_volatility: "0.45",
    delta: "0.55",
    vega: "150",
    open_interest: "100",
    volume: "1",
    bid_ask_spread: "0.002",
    currency: "BTC",
    index_price: "90523.39",
    volume_usd: "0",
  };
  return HEADER.split(",")
    .map((c) => over[c] ?? base[c])
    .join(",");
};

describe("Deribit CSV loader", () => {
  it("accepts good rows, rejects bad ones with line and reason, and reconciles counts", async () => {
    const text = [
      HEADER,
      row({}),
      row({
        instrument_name: "BTC-27MAR26-95000-P",
        option_type: "put",
        strike: "95000",
        bid_price: "",
        ask_price: "0",
      }),
      row({ instrument_name: "BTC-31FEB26-90000-C" }),
      row({ strike: "85000" }),
      row({ index_price: "" }),
      row({ mark_price: "abc" }),
    ].join("\n");
    const r = await parseDeribitCsv(Readable.from([text]));
    expect(r.rowsRead).toBe(6);
    expect(r.chains).toHaveLength(1);
    const chain = r.chains[0]!;
    expect(chain.quotes.length + r.rejected.length).toBe(r.rowsRead);
    expect(r.rejected.map((x) => [x.line, x.reason])).toEqual([
      [4, "bad-instrument-name"],
      [5, "name-mismatch"],
      [6, "missing-index"],
      [7, "invalid-field"],
    ]);
    expect(r.rejected[3]?.detail).toMatch(/mark_price: not a number: "abc"/);
    // Empty and zero sides are missing, not prices of 0.
    expect(chain.quotes[1]).toMatchObject({ bid: null, ask: null, mark: 0.071 });
    expect(chain.quotes[0]).toMatchObject({ bid: 0.07, ask: 0.072, markIv: 0.45, underlyingPrice: 91491.36 });
    expect(chain.futures).toEqual([
      {
        name: "BTC-27MAR26",
        underlying: "BTC",
        expiry: Date.UTC(2026, 2, 27, 8),
        timestamp: Date.parse("2026-01-10T09:14:09Z"),
        mark: 91491.36,
      },
    ]);
  });

  it.skipIf(!existsSync(SAMPLE))(
    "loads the real BTC/ETH sample chain (../shared/data): 632 BTC + 668 ETH rows",
    async () => {
      const r = await loadDeribitCsvFile(SAMPLE);
      expect(r.rowsRead).toBe(1300);
      expect(r.chains.map((c) => [c.underlying, c.quotes.length])).toEqual([
        ["BTC", 632],
        ["ETH", 668],
      ]);
      expect(r.rejected).toHaveLength(0);
      // The chain's index is the median of the file's printed index_price column: one of its values, exact.
      expect(r.chains[0]?.indexPrice).toBe(90523.39);
    },
  );
});
if (!existsSync(SAMPLE)) console.warn(`skipped: Deribit sample chain not found at ${SAMPLE}`);
