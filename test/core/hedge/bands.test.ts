import { describe, expect, it } from "vitest";
import { whalleyWilmottHalfWidth, zakamoulineHalfWidth } from "../../../src/core/hedge/bands.js";

/** Band widths are powers and products of exact-ish decimals, each operation rounded once (1.1e-16): 1e-14 relative leaves ~50x room (the bare 12 digits allowed ~1e-11 relative on 0.07). */
const POWER_REL = 1e-14;
const rel = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);

describe("no-trade bands", () => {
  it("Whalley-Wilmott matches the formula by hand and scales as cost^(1/3), gamma^(2/3)", () => {
    // (3 * 0.001 * 50000 * (2e-5)^2 / (2 * 1e-4))^(1/3) = (6e-8 / 2e-4)^(1/3) = (3e-4)^(1/3)
    const h = whalleyWilmottHalfWidth({ costRate: 0.001, riskAversion: 1e-4, spot: 50_000, gamma: 2e-5 });
    expect(rel(h, 3e-4 ** (1 / 3))).toBeLessThanOrEqual(POWER_REL);
    const h8 = whalleyWilmottHalfWidth({ costRate: 0.008, riskAversion: 1e-4, spot: 50_000, gamma: 2e-5 });
    expect(rel(h8 / h, 2)).toBeLessThanOrEqual(POWER_REL);
    const g8 = whalleyWilmottHalfWidth({ costRate: 0.001, riskAversion: 1e-4, spot: 50_000, gamma: 16e-5 });
    expect(rel(g8 / h, 4)).toBeLessThanOrEqual(POWER_REL);
    expect(whalleyWilmottHalfWidth({ costRate: 0, riskAversion: 1e-4, spot: 50_000, gamma: 2e-5 })).toBe(0);
  });
  it("Zakamouline H0 + H1 matches the formula by hand", () => {
    const o = {
      costRate: 0.001,
      riskAversion: 1e-4,
      spot: 50_000,
      gamma: 2e-5,
      vol: 0.5,
      timeToExpiry: 0.25,
    };
    const h0 = 0.001 / (1e-4 * 50_000 * 0.25 * 0.25);
    const h1 = 1.12 * 0.001 ** 0.31 * 0.25 ** 0.05 * (1 / 0.5) ** 0.25 * Math.sqrt(2e-5 / 1e-4);
    expect(rel(zakamoulineHalfWidth(o), h0 + h1)).toBeLessThanOrEqual(POWER_REL);
    expect(() => zakamoulineHalfWidth({ ...o, riskAversion: 0 })).toThrow(/riskAversion/);
  });
});
