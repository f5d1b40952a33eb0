import { describe, expect, it } from "vitest";
import { whalleyWilmottHalfWidth } from "../../../src/core/hedge/bands.js";
import { type HedgeState, hedgeTrade, validateHedgePolicy } from "../../../src/core/hedge/policies.js";

/** A trade that is one subtraction of two inexact decimals (e.g. 0.25 - 0.1): within 2 ulp of the result. */
const SUBTRACTION_DIGITS = 15;
/** h - 2 with h ~ 0.1 recomputed identically: one rounding of a number near 2 (ulp 4.4e-16). */
const NEAR_TWO_DIGITS = 14;

const state = (o: Partial<HedgeState>): HedgeState => ({
  now: 0,
  lastHedgeTime: Number.NEGATIVE_INFINITY,
  netDelta: 0,
  gamma: 1e-5,
  spot: 50_000,
  vol: 0.6,
  timeToExpiry: 0.1,
  costRate: 0.0006,
  ...o,
});

describe("hedge policies", () => {
  it("none never trades; interval trades to neutral once the interval has passed", () => {
    expect(hedgeTrade({ policy: "none" }, state({ netDelta: 5 }))).toBe(0);
    const p = { policy: "interval", intervalHours: 4 } as const;
    expect(hedgeTrade(p, state({ netDelta: 0.3, now: 3 * 3_600_000, lastHedgeTime: 0 }))).toBe(0);
    expect(hedgeTrade(p, state({ netDelta: 0.3, now: 4 * 3_600_000, lastHedgeTime: 0 }))).toBe(-0.3);
  });
  it("delta band re-hedges to centre or edge only outside the band", () => {
    expect(hedgeTrade({ policy: "delta-band", band: 0.1 }, state({ netDelta: 0.09 }))).toBe(0);
    expect(hedgeTrade({ policy: "delta-band", band: 0.1 }, state({ netDelta: 0.25 }))).toBe(-0.25);
    expect(
      hedgeTrade({ policy: "delta-band", band: 0.1, rehedgeTo: "edge" }, state({ netDelta: -0.25 })),
    ).toBeCloseTo(0.15, SUBTRACTION_DIGITS);
  });
  it("utility bands trade back to the band edge", () => {
    const s = state({ netDelta: 2 });
    const h = whalleyWilmottHalfWidth({ costRate: 0.0006, riskAversion: 1e-3, spot: 50_000, gamma: 1e-5 });
    expect(hedgeTrade({ policy: "whalley-wilmott", riskAversion: 1e-3 }, s)).toBeCloseTo(
      h - 2,
      NEAR_TWO_DIGITS,
    );
  });
  it("rejects bad parameters naming the field", () => {
    expect(() => validateHedgePolicy({ policy: "interval", intervalHours: 0 })).toThrow(/intervalHours/);
    expect(() => validateHedgePolicy({ policy: "delta-band", band: -1 })).toThrow(/band/);
  });
});
