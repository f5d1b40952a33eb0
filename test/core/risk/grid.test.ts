import { describe, expect, it } from "vitest";
import { applyScenario, scenarioGrid, type Scenario } from "../../../src/core/risk/scenario.js";
import { compileBook, scenarioPnlMatrix, scenarioPortfolioPnl } from "../../../src/core/risk/grid.js";
import { resolveFutureEntries, valuePosition } from "../../../src/core/risk/valuation.js";
import { DAY, E1, market, sampleBook, smileSurface } from "./fixtures.js";

/** Compiled grid vs full revaluation per leg: the same formulas with constants hoisted; rounding on values up to ~1e5 USD (floor 1e4 USD). */
const GRID_REL = 1e-9;

/** Portfolio P&L vs the sum of the matrix rows: the same position P&Ls summed in another order, rounding on ~1e5 USD. */
const COLUMN_SUM_DIGITS = 6;
/** Zero scenario: each leg revalued on the unchanged market minus its value, exactly 0 up to rounding on ~1e5 USD. */
const ZERO_PNL_ABS = 1e-8;
/** An expired put settles at intrinsic 3 x 10,000 USD: exact integers. */
const INTRINSIC_DIGITS = 9;

const REL = 1e-9;

function direct(scenario: Scenario, mkt = market(smileSurface())) {
  const book = resolveFutureEntries(sampleBook(), mkt);
  const shifted = applyScenario(mkt, scenario);
  return book.map((p) => valuePosition(p, shifted).valueUsd - valuePosition(p, mkt).valueUsd);
}

describe("scenario grid = direct repricing through applyScenario", () => {
  const mkt = market(smileSurface());
  const scenarios: Scenario[] = [
    ...scenarioGrid({ spotShifts: [-0.3, 0, 0.2], volShifts: [-0.1, 0, 0.15] }),
    ...scenarioGrid({ spotShifts: [-0.25, 0.1], volShifts: [0.05], surfaceDynamics: "sticky-moneyness" }),
    { spotShift: -0.2, volShift: 0.1, skewTwist: 0.2, termTwist: 0.05, timeRollDays: 7 },
    { spotShift: 0.15, volShift: -0.05, timeRollDays: 40, surfaceDynamics: "sticky-moneyness" },
    { spotShift: -0.1, spotShiftByUnderlying: { ETH: -0.3 }, volShift: 0.2 },
  ];
  it("matches every position-scenario", () => {
    const M = scenarioPnlMatrix({ positions: sampleBook(), market: mkt, scenarios });
    scenarios.forEach((s, j) => {
      const d = direct(s, mkt);
      d.forEach((x, i) => {
        expect(Math.abs((M[i] as Float64Array)[j]! - x)).toBeLessThanOrEqual(REL * (Math.abs(x) + 1e4));
      });
    });
  });
  it("portfolio PnL is the column sum", () => {
    const M = scenarioPnlMatrix({ positions: sampleBook(), market: mkt, scenarios });
    const pnl = scenarioPortfolioPnl(compileBook(sampleBook(), mkt), scenarios);
    scenarios.forEach((_s, j) => {
      const colSum = M.reduce((a, r) => a + r[j]!, 0);
      expect(pnl[j]).toBeCloseTo(colSum, COLUMN_SUM_DIGITS);
    });
  });
  it("zero scenario gives zero PnL; expired legs settle at intrinsic", () => {
    const M = scenarioPnlMatrix({
      positions: sampleBook(),
      market: mkt,
      scenarios: [{ spotShift: 0, volShift: 0 }],
    });
    for (const r of M) expect(Math.abs(r[0]!)).toBeLessThan(ZERO_PNL_ABS);
    const shifted = applyScenario(mkt, { spotShift: -0.2, volShift: 0, timeRollDays: 31 });
    expect(shifted.valuationTime).toBeGreaterThan(E1);
    const put = sampleBook()[1]!;
    const v = valuePosition(put, shifted);
    expect(v.settled).toBe(true);
    expect(v.valueUsd).toBeCloseTo(3 * (90_000 - 80_000), INTRINSIC_DIGITS);
    expect(shifted.underlyings.BTC!.forwards.length).toBe(1);
    expect(DAY).toBe(86_400_000);
  });
  it("default grid is 21 x 11", () => {
    expect(scenarioGrid().length).toBe(231);
  });
});

describe("time roll with unlisted expiries (forward re-interpolated)", () => {
  it("grid equals applyScenario + valuePosition for an option between listed expiries", async () => {
    const { opt } = await import("./fixtures.js");
    const mkt = market(smileSurface());
    const mid = E1 + 20 * DAY;
    const book = [
      { instrument: opt({ strike: 98_000, kind: "put", expiry: mid }), quantity: -4 },
      { instrument: opt({ strike: 105_000, kind: "call", expiry: E1 + 75 * DAY }), quantity: 2 },
    ];
    const scenarios: Scenario[] = [
      { spotShift: -0.1, volShift: 0.05, timeRollDays: 10 },
      { spotShift: 0.1, volShift: -0.05, timeRollDays: 35, surfaceDynamics: "sticky-moneyness" },
      { spotShift: 0.05, volShift: 0, timeRollDays: 45, skewTwist: 0.2 },
    ];
    const M = scenarioPnlMatrix({ positions: book, market: mkt, scenarios });
    scenarios.forEach((s, j) => {
      const shifted = applyScenario(mkt, s);
      book.forEach((p, i) => {
        const x = valuePosition(p, shifted).valueUsd - valuePosition(p, mkt).valueUsd;
        expect(Math.abs(M[i]![j]! - x)).toBeLessThanOrEqual(GRID_REL * (Math.abs(x) + 1e4));
      });
    });
  });
});

describe("property: grid = direct repricing for random scenarios (fast-check)", () => {
  it("holds for random spot/vol/skew/term/roll/dynamics", async () => {
    const fc = await import("fast-check");
    const mkt = market(smileSurface());
    const book = sampleBook();
    fc.assert(
      fc.property(
        fc.double({ min: -0.8, max: 1.5, noNaN: true }),
        fc.double({ min: -0.4, max: 0.8, noNaN: true }),
        fc.double({ min: -0.5, max: 0.5, noNaN: true }),
        fc.double({ min: -0.2, max: 0.2, noNaN: true }),
        fc.integer({ min: 0, max: 120 }),
        fc.boolean(),
        (spotShift, volShift, skewTwist, termTwist, timeRollDays, sticky) => {
          const s: Scenario = {
            spotShift,
            volShift,
            skewTwist,
            termTwist,
            timeRollDays,
            surfaceDynamics: sticky ? "sticky-strike" : "sticky-moneyness",
          };
          const M = scenarioPnlMatrix({ positions: book, market: mkt, scenarios: [s] });
          const d = direct(s, mkt);
          return d.every((x, i) => Math.abs(M[i]![0]! - x) <= 1e-9 * (Math.abs(x) + 1e4));
        },
      ),
      { numRuns: 200, seed: 5 },
    );
  });
});
