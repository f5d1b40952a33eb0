/**
 * Book files with variance swaps and DVOL futures (issue 24 item 3): the file format accepts both
 * (by name or explicit fields), refuses bad terms naming the field and the value, carries the
 * market's fixings and vol of variance, and `volfolio risk --book-market --json` reports the sums
 * of the legs valued by core (valuePosition, positionGreeks).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePortfolioCsv, parsePortfolioJson } from "../../src/adapters/portfolioFile.js";
import { positionGreeks } from "../../src/core/risk/greeks.js";
import { resolveFutureEntries } from "../../src/core/risk/valuation.js";
import { captureCli } from "../cli/capture.js";

/** --json prints full doubles; the CLI sums legs in book order as the reference does. */
const SUM_REL = 1e-12;

const FIXINGS = [100_000, 101_000, 98_000, 99_000, 103_000, 100_000].map((price, i) => ({
  time: Date.UTC(2026, 0, 5 + i, 8),
  price,
}));

const BOOK = {
  positions: [
    { instrument: "BTC-9FEB26-100000-C", quantity: -3 },
    {
      type: "varianceSwap",
      underlying: "BTC",
      start: "2026-01-05T08:00:00Z",
      expiry: "2026-02-04T08:00:00Z",
      strikeVol: 0.58,
      contractSize: 2000,
      quantity: 1,
    },
    { instrument: "BTCDVOL-20FEB26", quantity: -300, entryPrice: 61 },
    { instrument: "BTC-VARSWAP-10JAN26-9FEB26-55", quantity: -2 },
  ],
  market: {
    valuationTime: "2026-01-10T08:00:00Z",
    underlyings: {
      BTC: { indexPrice: 100_000, atmVol: 0.6, skew: -0.1, volOfVariance: 1.2, fixings: FIXINGS },
    },
  },
};

describe("book files with vol instruments", () => {
  it("parses both kinds by name and by fields, and the market's fixings and vol of variance", () => {
    const f = parsePortfolioJson(JSON.stringify(BOOK));
    expect(f.rejected).toEqual([]);
    const [, swap, fut, named] = f.positions.map((p) => p.instrument);
    expect(swap).toMatchObject({
      type: "varianceSwap",
      strikeVol: 0.58,
      contractSize: 2000,
      settlement: "linear",
    });
    expect(swap?.name).toBe("BTC-VARSWAP-5JAN26-4FEB26-58");
    expect(fut).toMatchObject({
      type: "volIndexFuture",
      underlying: "BTC",
      expiry: Date.UTC(2026, 1, 20, 8),
    });
    expect(named).toMatchObject({ type: "varianceSwap", strikeVol: 0.55, start: Date.UTC(2026, 0, 10, 8) });
    const um = f.market?.underlyings.BTC;
    expect(um?.indexFixings?.length).toBe(6);
    expect(um?.volOfVariance).toBe(1.2);
  });

  it("refuses bad terms naming the field and the value", () => {
    const bad = parsePortfolioJson(
      JSON.stringify({
        positions: [
          {
            type: "varianceSwap",
            underlying: "BTC",
            start: "2026-01-05T08:00:00Z",
            expiry: "2026-02-04T08:00:00Z",
            strikeVol: 58,
            contractSize: 10,
            quantity: 1,
          },
          {
            type: "varianceSwap",
            underlying: "BTC",
            start: "2026-02-05T08:00:00Z",
            expiry: "2026-02-04T08:00:00Z",
            strikeVol: 0.5,
            contractSize: 10,
            quantity: 1,
          },
          {
            type: "varianceSwap",
            underlying: "BTC",
            start: "2026-01-05T08:00:00Z",
            expiry: "2026-02-04T08:00:00Z",
            strikeVol: 0.5,
            quantity: 1,
          },
          {
            type: "volIndexFuture",
            underlying: "BTC",
            expiry: "2026-02-20T08:00:00Z",
            contractSize: -1,
            quantity: 1,
          },
          { instrument: "BTC-VARSWAP-10JAN26-9FEB26", quantity: 1 },
          { instrument: "BTCDVOL-31FEB26", quantity: 1 },
          { type: "volatility", quantity: 1 },
        ],
      }),
    );
    const reasons = bad.rejected.map((r) => r.reason);
    expect(reasons).toEqual([
      expect.stringMatching(/positions\[0\]\.strikeVol: looks like percent: 0\.58\?.*got 58/),
      expect.stringMatching(/positions\[1\]\.expiry: expiry must be after start/),
      expect.stringMatching(/positions\[2\]\.contractSize: .*got nothing/),
      expect.stringMatching(/positions\[3\]\.contractSize: must be > 0, got -1/),
      expect.stringMatching(/positions\[4\]\.instrument: name must be COIN-VARSWAP-START-EXPIRY-STRIKEPTS/),
      expect.stringMatching(
        /positions\[5\]\.instrument: expiry in "BTCDVOL-31FEB26" must be a date like 27DEC24, got "31FEB26"/,
      ),
      expect.stringMatching(
        /positions\[6\]\.type: expected "option", "future", "varianceSwap" or "volIndexFuture"/,
      ),
    ]);
  });

  it("reads the new kinds from CSV (start, strikeVol, tickSize columns)", () => {
    const csv = [
      "type,underlying,kind,strike,start,expiry,strikeVol,contractSize,tickSize,quantity,entryPrice",
      "varianceSwap,BTC,,,2026-01-05T08:00:00Z,2026-02-04T08:00:00Z,0.5,100,,2,",
      "volIndexFuture,BTC,,,,2026-02-20T08:00:00Z,,5,0.05,-1,48.5",
      "varianceSwap,BTC,,,2026-01-05T08:00:00Z,2026-02-04T08:00:00Z,abc,100,,2,",
    ].join("\n");
    const f = parsePortfolioCsv(csv);
    expect(f.positions.map((p) => p.instrument)).toMatchObject([
      { type: "varianceSwap", strikeVol: 0.5, contractSize: 100 },
      { type: "volIndexFuture", contractSize: 5, tickSize: 0.05 },
    ]);
    expect(f.positions[1]?.entryPrice).toBe(48.5);
    expect(f.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/line 4: strikeVol: expected a number, got "abc"/),
    ]);
  });

  it("volfolio risk --book-market: value, vega and variance vega are the sums of the core legs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "volfolio-volbook-"));
    const path = join(dir, "book.json");
    writeFileSync(path, JSON.stringify(BOOK));
    const run = await captureCli([
      "risk",
      "--book",
      path,
      "--book-market",
      "--json",
      "--spots",
      "-0.1:0.1:3",
      "--vols",
      "-0.05:0.05:3",
    ]);
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.out) as { byUnderlying: Record<string, number>[] };
    const row = out.byUnderlying[0] as Record<string, number>;
    const f = parsePortfolioJson(JSON.stringify(BOOK));
    const market = f.market;
    if (!market) throw new Error("no market");
    let value = 0;
    let vega = 0;
    let varVega = 0;
    for (const p of resolveFutureEntries(f.positions, market)) {
      const g = positionGreeks(p, market);
      value += g.valueUsd;
      vega += g.vegaUsd * 0.01;
      varVega += g.varianceVegaUsd;
    }
    expect(Math.abs((row.valueUsd ?? Number.NaN) - value)).toBeLessThan(SUM_REL * Math.abs(value));
    expect(Math.abs((row.vegaUsdPerVolPt ?? Number.NaN) - vega)).toBeLessThan(SUM_REL * Math.abs(vega));
    expect(Math.abs((row.varianceVegaUsdPerVolPt2 ?? Number.NaN) - varVega)).toBeLessThan(
      SUM_REL * Math.abs(varVega),
    );
  });
});
