import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { blackGreeks } from "../../../src/core/pricing/black76.js";
import { impliedVol } from "../../../src/core/pricing/impliedVol.js";

/** QuantLib 1.29 values (scripts/fixtures/pricing_quantlib.py). */
const fixture = JSON.parse(
  readFileSync(resolve(__dirname, "../../fixtures/pricing/pricing_quantlib.json"), "utf8"),
) as {
  cases: {
    forward: number;
    strike: number;
    expiry: number;
    vol: number;
    kind: "call" | "put";
    discount: number;
    price: number;
    deltaForward: number;
    gammaForward: number;
    vega: number;
    impliedStdDev: number | null;
  }[];
};

/**
 * QuantLib evaluates F N(d1) - K N(d2) directly: out of the money at 3 std devs that loses
 * about 3 digits, hence the looser price tolerance (our own accuracy is tested against mpmath).
 */
const QL_PRICE_TOL = 2e-11;
const QL_GREEK_TOL = 2e-12;
const QL_IV_TOL = 1e-11;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("cross-check with QuantLib (blackFormula, BlackCalculator, blackFormulaImpliedStdDev)", () => {
  it(`${fixture.cases.length} cases: price, forward delta, gamma, vega`, () => {
    expect(fixture.cases.length).toBeGreaterThan(200);
    for (const c of fixture.cases) {
      const g = blackGreeks(c);
      const tag = JSON.stringify(c);
      expect(rel(g.price, c.price), tag).toBeLessThan(QL_PRICE_TOL);
      expect(rel(g.delta, c.deltaForward), tag).toBeLessThan(QL_GREEK_TOL);
      expect(rel(g.gamma, c.gammaForward), tag).toBeLessThan(QL_GREEK_TOL);
      expect(rel(g.vega, c.vega), tag).toBeLessThan(QL_GREEK_TOL);
    }
  });

  it("implied std dev agrees with QuantLib's solver on QuantLib's prices", () => {
    const solved = fixture.cases.filter((c) => c.impliedStdDev !== null);
    expect(solved.length).toBe(fixture.cases.length);
    for (const c of solved) {
      const stdDev = impliedVol(c) * Math.sqrt(c.expiry);
      expect(rel(stdDev, c.impliedStdDev as number), JSON.stringify(c)).toBeLessThan(QL_IV_TOL);
    }
  });
});
