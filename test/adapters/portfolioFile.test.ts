import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadPortfolioFile,
  parsePortfolioCsv,
  parsePortfolioJson,
} from "../../src/adapters/portfolioFile.js";
import { portfolioGreeks } from "../../src/core/risk/greeks.js";

const ROOT = resolve(__dirname, "../..");

describe("portfolio file loader", () => {
  it("loads the example book (names parsed, market built) and values it", async () => {
    const f = await loadPortfolioFile(resolve(ROOT, "examples/book.json"));
    expect(f.rejected).toEqual([]);
    expect(f.positions.length).toBe(f.rowsRead);
    expect(f.positions[0]!.instrument).toMatchObject({
      type: "option",
      underlying: "BTC",
      kind: "call",
      strike: 110_000,
      settlement: "inverse",
    });
    expect(f.positions[4]!.instrument).toMatchObject({ settlement: "linear", contractSize: 0.01 });
    expect(f.market!.valuationTime).toBe(Date.UTC(2026, 1, 2, 8));
    const g = portfolioGreeks(f.positions, f.market!);
    expect(Object.keys(g.byUnderlying).sort()).toEqual(["BTC", "ETH"]);
    expect(Number.isFinite(g.totalUsd.vegaUsd)).toBe(true);
  });
  it("CSV: explicit and named rows; bad rows rejected with line and reason (accepted + rejected = read)", () => {
    const f = parsePortfolioCsv(readFileSync(resolve(ROOT, "test/fixtures/risk/book.csv"), "utf8"));
    expect(f.rowsRead).toBe(5);
    expect(f.positions.length + f.rejected.length).toBe(5);
    expect(f.positions.length).toBe(3);
    expect(f.rejected.map((r) => r.row)).toEqual([5, 6]);
    expect(f.rejected[0]!.reason).toMatch(/bad-date/);
    expect(f.rejected[1]!.reason).toMatch(/kind/);
    expect(f.positions[1]!.instrument).toMatchObject({
      underlying: "ETH",
      strike: 3000,
      expiry: Date.UTC(2026, 2, 27, 8),
    });
    expect(f.positions[2]!.instrument).toMatchObject({ type: "future", expiry: null, contractSize: 10 });
  });
  it("JSON: zod reports every problem with its path", () => {
    const f = parsePortfolioJson(
      JSON.stringify({
        positions: [
          { type: "option", underlying: "BTC", kind: "call", strike: -1, expiry: "nope", quantity: "x" },
        ],
      }),
    );
    expect(f.rejected.length).toBe(1);
    expect(f.rejected[0]!.reason).toMatch(/strike/);
    expect(f.rejected[0]!.reason).toMatch(/expiry/);
    expect(f.rejected[0]!.reason).toMatch(/quantity/);
    expect(() => parsePortfolioJson(JSON.stringify({ nope: 1 }))).toThrow(/positions/);
  });
});
