import { describe, expect, it } from "vitest";
import { forwardAtExpiry } from "../../../src/core/risk/market.js";
import { flatSurface } from "../../../src/core/surface/types.js";

/** Log-linear forward interpolation: an exp and a log of exact-ish ratios on ~100, a few ulps (1.4e-14 each). */
const FORWARD_INTERP_DIGITS = 12;
/** Extrapolation four years out: the carry rate's rounding is multiplied by T = 4. */
const FORWARD_EXTRAP_DIGITS = 10;

const T0 = Date.UTC(2026, 0, 1);
const Y = 365 * 86_400_000;

describe("forwardAtExpiry", () => {
  const m = {
    indexPrice: 100,
    forwards: [
      { expiry: T0 + Y, forward: 110 },
      { expiry: T0 + 2 * Y, forward: 115 },
    ],
    surface: flatSurface(0.5),
  };
  it("listed expiries exactly; perpetual and past = index", () => {
    expect(forwardAtExpiry(m, T0, T0 + Y)).toBe(110);
    expect(forwardAtExpiry(m, T0, null)).toBe(100);
    expect(forwardAtExpiry(m, T0, T0 - 1)).toBe(100);
  });
  it("constant carry before the first listed expiry: S (F/S)^(T/T1)", () => {
    expect(forwardAtExpiry(m, T0, T0 + Y / 2)).toBeCloseTo(100 * Math.sqrt(1.1), FORWARD_INTERP_DIGITS);
  });
  it("log-linear between listed expiries and last carry rate beyond", () => {
    expect(forwardAtExpiry(m, T0, T0 + 1.5 * Y)).toBeCloseTo(
      100 * Math.exp((Math.log(1.1) + Math.log(1.15)) / 2),
      FORWARD_INTERP_DIGITS,
    );
    expect(forwardAtExpiry(m, T0, T0 + 4 * Y)).toBeCloseTo(100 * 1.15 ** 2, FORWARD_EXTRAP_DIGITS);
  });
});
