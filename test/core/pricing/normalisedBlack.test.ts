import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  lastNormalisedVega,
  logMoneynessForward,
  normalisedBlackOtm,
  normalisedVega,
} from "../../../src/core/pricing/normalisedBlack.js";

/** log F - log K at 1e±300: each log is within ~1 ulp of 690 (1.1e-13) and 600·ln10 is rounded once, so 11 digits (5e-12) keeps a 20x margin (was 10). */
const LOG_SPLIT_DIGITS = 11;

const fixture = JSON.parse(
  readFileSync(resolve(__dirname, "../../fixtures/pricing/pricing_reference.json"), "utf8"),
) as { normalisedBlack: [number, number, number][] };

const EPS = 2 ** -52;

describe("normalised Black function b(x, s) on both sides of every region boundary (mpmath)", () => {
  it(`${fixture.normalisedBlack.length} points`, () => {
    expect(fixture.normalisedBlack.length).toBeGreaterThan(200);
    for (const [x, s, want] of fixture.normalisedBlack) {
      const h = x / s;
      // x and s are exact here; b is exp(-h^2/2)-small, so allow the h^2 conditioning of the
      // exponent on top of 1e-14.
      const tol = 1e-14 + 4 * EPS * (h * h + 0.25 * s * s);
      const got = normalisedBlackOtm(x, s);
      expect(Math.abs(got - want) / want, `b(${x}, ${s})`).toBeLessThan(tol);
    }
  });

  it("writes the normalised vega alongside the value", () => {
    for (const [x, s] of [
      [-0.3, 0.01],
      [-0.3, 1],
      [-30, 1],
      [0, 0.5],
      [-0.01, 3],
    ] as const) {
      normalisedBlackOtm(x, s);
      const v = lastNormalisedVega[0] as number;
      expect(Math.abs(v - normalisedVega(x, s)) / normalisedVega(x, s)).toBeLessThan(4 * EPS);
    }
  });

  it("limits: b(x, 0) = 0, b(x, Infinity) = e^{x/2}", () => {
    expect(normalisedBlackOtm(-1, 0)).toBe(0);
    expect(normalisedBlackOtm(-1, Number.POSITIVE_INFINITY)).toBe(Math.exp(-0.5));
  });

  it("logMoneynessForward keeps relative precision near the money", () => {
    // ln(1 + 2^-40) = 2^-40 - 2^-81 + ...: a plain Math.log(F/K) would lose ~12 digits here.
    const x = logMoneynessForward(1 + 2 ** -40, 1);
    expect(Math.abs(x - (2 ** -40 - 2 ** -81)) / 2 ** -40).toBeLessThan(2 * EPS);
    expect(logMoneynessForward(1e300, 1e-300)).toBeCloseTo(600 * Math.LN10, LOG_SPLIT_DIGITS);
  });
});
