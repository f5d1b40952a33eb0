/**
 * Book files are validated strictly (issue 18 item 5, "bad input is an error, never a number"):
 * nothing is coerced, every rejection names the field, the position index (JSON, 0-based) or the
 * CSV line, and the offending value; the market section refuses implausible values with a hint.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BadInputFileError } from "../../src/adapters/inputFile.js";
import {
  assertCleanBook,
  BookFileError,
  loadPortfolioFile,
  parsePortfolioCsv,
  parsePortfolioJson,
} from "../../src/adapters/portfolioFile.js";
import { describeError, EXIT_USAGE } from "../../src/cli/io.js";

const dir = mkdtempSync(join(tmpdir(), "volfolio-strict-book-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CALL = "BTC-27MAR26-90000-C";
const market = (btc: Record<string, unknown>) => ({
  valuationTime: "2026-02-02T08:00:00Z",
  underlyings: { BTC: { indexPrice: 100_000, atmVol: 0.5, ...btc } },
});

/** The thrown error of `f` (fails the test when nothing is thrown). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error, none was thrown");
}

describe("JSON books: numbers must be JSON numbers", () => {
  it.each([
    ["true", true],
    ["null", null],
    ['""', ""],
    ['"5"', "5"],
    ['"abc"', "abc"],
    ["an object", { n: 1 }],
  ])("quantity %s is rejected naming positions[i].quantity and the value", (shown, bad) => {
    const f = parsePortfolioJson(
      JSON.stringify({
        positions: [
          { instrument: CALL, quantity: 1 },
          { instrument: CALL, quantity: 2 },
          { instrument: CALL, quantity: 3 },
          { instrument: CALL, quantity: bad },
        ],
      }),
    );
    expect(f.rowsRead).toBe(4);
    expect(f.positions.map((p) => p.quantity)).toEqual([1, 2, 3]);
    expect(f.positions.length + f.rejected.length).toBe(f.rowsRead);
    expect(f.rejected).toHaveLength(1);
    expect(f.rejected[0]!.row).toBe(3);
    const reason = f.rejected[0]!.reason;
    expect(reason).toContain("positions[3].quantity");
    expect(reason).toContain("expected a number");
    expect(reason).toContain(`got ${typeof bad === "object" && bad !== null ? JSON.stringify(bad) : shown}`);
  });

  it("a missing quantity, a string entryPrice and explicit-field errors each name field, index and value", () => {
    const f = parsePortfolioJson(
      JSON.stringify({
        positions: [
          { instrument: CALL },
          { instrument: CALL, quantity: -1, entryPrice: "0.05" },
          {
            type: "option",
            underlying: "BTC",
            kind: "call",
            strike: "90000",
            expiry: "2026-03-27T08:00:00Z",
            quantity: 1,
          },
          { type: "future", underlying: "BTC", quantity: 1, expiry: 1774598400 },
          { type: "swap", quantity: 1 },
          7,
        ],
      }),
    );
    expect(f.positions).toHaveLength(0);
    expect(f.rejected.map((r) => r.row)).toEqual([0, 1, 2, 3, 4, 5]);
    const [missing, entry, strike, seconds, type, notObject] = f.rejected.map((r) => r.reason);
    expect(missing).toBe("positions[0].quantity: expected a number, got nothing");
    expect(entry).toBe('positions[1].entryPrice: expected a number, got "0.05"');
    expect(strike).toBe('positions[2].strike: expected a number, got "90000"');
    expect(seconds).toMatch(/^positions\[3\]\.expiry: looks like epoch SECONDS.*got 1774598400$/);
    expect(type).toBe(
      'positions[4].type: expected "option", "future", "varianceSwap" or "volIndexFuture" (or an "instrument" name), got "swap"',
    );
    expect(notObject).toBe("positions[5]: expected an object, got 7");
  });

  it("a zero quantity is a legal flat leg: accepted and kept", () => {
    const f = parsePortfolioJson(
      JSON.stringify({
        positions: [
          { instrument: CALL, quantity: 0 },
          { instrument: "BTC-PERPETUAL", quantity: 10 },
        ],
      }),
    );
    expect(f.rejected).toEqual([]);
    expect(f.positions.map((p) => [p.instrument.name, p.quantity])).toEqual([
      [CALL, 0],
      ["BTC-PERPETUAL", 10],
    ]);
  });

  it("assertCleanBook lists every bad row in one BookFileError that the CLI maps to exit 2", () => {
    const f = parsePortfolioJson(
      JSON.stringify({
        positions: [
          { instrument: CALL, quantity: true },
          { instrument: CALL, quantity: 1 },
          { instrument: "BTC-32MAR26-1-C", quantity: 1 },
        ],
      }),
    );
    const e = thrown(() => assertCleanBook(f, "my-book.json"));
    expect(e).toBeInstanceOf(BookFileError);
    expect(e).toBeInstanceOf(BadInputFileError);
    expect(e.message).toBe(
      'book my-book.json: 2 bad rows: positions[0].quantity: expected a number, got true; positions[2].instrument: bad-date: "32MAR26" in "BTC-32MAR26-1-C" is not a date like 27DEC24, got "BTC-32MAR26-1-C"',
    );
    expect((e as BookFileError).problems).toHaveLength(2);
    expect(describeError(e)).toEqual({ message: e.message, exitCode: EXIT_USAGE });
    // A clean book passes.
    expect(() => assertCleanBook(parsePortfolioJson('{"positions": []}'), "empty.json")).not.toThrow();
  });

  it("a malformed file throws a BookFileError naming the path and the problem", async () => {
    const p = join(dir, "broken.json");
    writeFileSync(p, '{"positions": [');
    await expect(loadPortfolioFile(p)).rejects.toThrow(BookFileError);
    await expect(loadPortfolioFile(p)).rejects.toThrow(`book ${p}: not valid JSON`);
    const q = join(dir, "nopositions.json");
    writeFileSync(q, '{"position": []}');
    await expect(loadPortfolioFile(q)).rejects.toThrow(
      `book ${q}: positions: expected an array of positions, got nothing`,
    );
  });
});

describe("the market section: plausibility guards", () => {
  const load = (m: unknown, cash?: unknown) =>
    thrown(() =>
      parsePortfolioJson(JSON.stringify({ positions: [], market: m, ...(cash ? { cash } : {}) }), "b.json"),
    );

  it("atmVol 50 is refused with the percent hint (vols are decimal)", () => {
    const e = load(market({ atmVol: 50 }));
    expect(e).toBeInstanceOf(BookFileError);
    expect(e.message).toContain("market.underlyings.BTC.atmVol");
    expect(e.message).toContain("looks like percent: 0.50?");
    expect(e.message).toContain("got 50");
    expect(load(market({ atmVol: 65 })).message).toContain("looks like percent: 0.65?");
    // 5 (500%) is the largest plausible vol; 0 and negatives are refused.
    expect(() =>
      parsePortfolioJson(JSON.stringify({ positions: [], market: market({ atmVol: 5 }) })),
    ).not.toThrow();
    expect(load(market({ atmVol: 0 })).message).toContain(
      "market.underlyings.BTC.atmVol: must be > 0, got 0",
    );
  });

  it.each([
    [{ indexPrice: 0 }, "market.underlyings.BTC.indexPrice: must be > 0, got 0"],
    [{ indexPrice: -100_000 }, "market.underlyings.BTC.indexPrice: must be > 0, got -100000"],
    [{ indexPrice: "100000" }, 'market.underlyings.BTC.indexPrice: expected a number, got "100000"'],
    [
      { forwards: [{ expiry: "2026-03-27T08:00:00Z", forward: -1 }] },
      "market.underlyings.BTC.forwards[0].forward: must be > 0, got -1",
    ],
    [{ skew: null }, "market.underlyings.BTC.skew: expected a number, got null"],
  ])("%j is refused: %s", (over, message) => {
    expect(load(market(over)).message).toContain(message);
  });

  it("underlying and cash names must look like coins; every problem is listed", () => {
    const e = load(
      {
        valuationTime: "2026-02-02T08:00:00Z",
        underlyings: {
          btc: { indexPrice: 100_000, atmVol: 0.5 },
          "BTC-USD": { indexPrice: 100_000, atmVol: 0.5 },
          ETH: { indexPrice: 3500, atmVol: 60 },
        },
      },
      { BTC: "1.5" },
    ) as BookFileError;
    expect(e.problems).toHaveLength(4);
    expect(e.message).toContain('market.underlyings.btc: expected a coin name like "BTC"');
    expect(e.message).toContain('got "btc"');
    expect(e.message).toContain('market.underlyings["BTC-USD"]');
    expect(e.message).toContain("market.underlyings.ETH.atmVol: looks like percent: 0.60?");
    expect(e.message).toContain('cash.BTC: expected a number, got "1.5"');
  });

  it("a position on an underlying the market section lacks is NOT a loader error (the CLI reports it)", () => {
    const f = parsePortfolioJson(
      JSON.stringify({
        positions: [
          { instrument: CALL, quantity: 1 },
          { instrument: "SOL_USDC-27MAR26-200-C", quantity: 3 },
        ],
        market: market({}),
      }),
    );
    expect(f.rejected).toEqual([]);
    expect(f.positions.map((p) => p.instrument.underlying)).toEqual(["BTC", "SOL"]);
    expect(Object.keys(f.market!.underlyings)).toEqual(["BTC"]);
  });
});

describe("CSV books", () => {
  it("instrument,quantity,entryPrice works (entryPrice optional per row)", async () => {
    const p = join(dir, "book.csv");
    writeFileSync(
      p,
      [
        "instrument,quantity,entryPrice",
        "BTC-27MAR26-110000-C,-10,0.03",
        "ETH-27MAR26-3000-P,-40,",
        "BTC-PERPETUAL,20000,98000",
        "BTC-26JUN26,0,",
        "",
      ].join("\n"),
    );
    const f = await loadPortfolioFile(p);
    expect(f.rejected).toEqual([]);
    expect(f.rowsRead).toBe(4);
    expect(f.positions.map((x) => [x.instrument.name, x.quantity, x.entryPrice])).toEqual([
      ["BTC-27MAR26-110000-C", -10, 0.03],
      ["ETH-27MAR26-3000-P", -40, undefined],
      ["BTC-PERPETUAL", 20000, 98000],
      ["BTC-26JUN26", 0, undefined],
    ]);
    expect(f.positions[0]!.instrument).toMatchObject({ type: "option", strike: 110_000, kind: "call" });
    // instrument,quantity alone works too.
    const g = parsePortfolioCsv("instrument,quantity\nBTC-27MAR26-90000-P,8\n");
    expect(g.positions.map((x) => [x.instrument.name, x.quantity])).toEqual([["BTC-27MAR26-90000-P", 8]]);
  });

  it('"", "abc", "1e400" in a numeric column are rejected naming the line, field and value', () => {
    const f = parsePortfolioCsv(
      [
        "instrument,quantity,entryPrice",
        "BTC-27MAR26-90000-C,1,0.05", // line 2: fine
        "BTC-27MAR26-90000-C,,0.05", // line 3: empty quantity
        "BTC-27MAR26-90000-C,abc,", // line 4
        "", // line 5: blank (skipped, but lines keep counting)
        "BTC-27MAR26-90000-C,1e400,", // line 6: overflows to Infinity
        "BTC-27MAR26-90000-C,2,cheap", // line 7
        "BTC-27MAR26-90000-C,0x10,", // line 8: not a decimal number
      ].join("\n"),
    );
    expect(f.rowsRead).toBe(6);
    expect(f.positions.length + f.rejected.length).toBe(f.rowsRead);
    expect(f.positions).toHaveLength(1);
    expect(f.rejected).toEqual([
      { row: 3, reason: 'line 3: quantity: expected a number, got ""' },
      { row: 4, reason: 'line 4: quantity: expected a number, got "abc"' },
      { row: 6, reason: 'line 6: quantity: expected a number, got "1e400"' },
      { row: 7, reason: 'line 7: entryPrice: expected a number, got "cheap"' },
      { row: 8, reason: 'line 8: quantity: expected a number, got "0x10"' },
    ]);
    const e = thrown(() => assertCleanBook(f, "b.csv"));
    expect(e.message).toMatch(/^book b\.csv: 5 bad rows: line 3: quantity: expected a number, got ""; /);
  });

  it("explicit-field CSV rows: strict numbers, a blank future expiry is a perpetual", () => {
    const f = parsePortfolioCsv(
      [
        "type,underlying,kind,strike,expiry,quantity",
        "option,ETH,put,3000,2026-03-27T08:00:00Z,-40",
        "future,BTC,,,,5",
        "option,ETH,put,3k,2026-03-27T08:00:00Z,1",
        "option,eth,put,3000,2026-03-27T08:00:00Z,1",
      ].join("\n"),
    );
    expect(f.positions.map((x) => x.instrument)).toEqual([
      expect.objectContaining({
        type: "option",
        underlying: "ETH",
        strike: 3000,
        expiry: Date.UTC(2026, 2, 27, 8),
      }),
      expect.objectContaining({ type: "future", underlying: "BTC", expiry: null, contractSize: 10 }),
    ]);
    expect(f.rejected.map((r) => r.reason)).toEqual([
      'line 4: strike: expected a number, got "3k"',
      'line 5: underlying: expected a coin name like "BTC" (A-Z, then 1 to 9 of A-Z or 0-9), got "eth"',
    ]);
  });

  it("a bad header is one BookFileError naming the columns", () => {
    const e = thrown(() => parsePortfolioCsv("instrument,qty\nBTC-PERPETUAL,1\n", "b.csv"));
    expect(e).toBeInstanceOf(BookFileError);
    expect(e.message).toContain('unknown column "qty"');
    expect(e.message).toContain("no quantity column");
    expect(thrown(() => parsePortfolioCsv("", "e.csv")).message).toBe(
      "book e.csv: empty CSV: expected a header row",
    );
  });
});
