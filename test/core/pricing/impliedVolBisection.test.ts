import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blackGreeks, blackPrice } from "../../../src/core/pricing/black76.js";
import { impliedVol } from "../../../src/core/pricing/impliedVol.js";
import { bisectionImpliedVol } from "../../helpers/bisectionImpliedVol.js";

/**
 * Two solvers of the same equation agree to the price's own resolution: a relative price error of
 * a few ulps moves the vol by (price / vega) x ulps. PRICE_ULPS covers the rounding of the Black
 * formula itself (~4 ulps in the OTM region sampled) on both sides, with a margin.
 */
const PRICE_ULPS = 32 * 2 ** -52;
/** Absolute floor: bisection stops on adjacent doubles of vol (~2e-16 at vol 1). */
const VOL_FLOOR = 1e-14;

const cases = fc.record({
  forward: fc.double({ min: 100, max: 200_000, noNaN: true }),
  /** ln(K/F): the quoted range of crypto chains and beyond. */
  logMoneyness: fc.double({ min: -2, max: 2, noNaN: true }),
  /** Years: 1 hour to 3 years. */
  expiry: fc.double({ min: 1 / 8760, max: 3, noNaN: true }),
  vol: fc.double({ min: 0.05, max: 3, noNaN: true }),
  otm: fc.boolean(),
});

describe("impliedVol vs a 30-line bisection reference (test/helpers/bisectionImpliedVol.ts)", () => {
  it("agrees on random options where the price is representable (OTM and ITM, 1 h to 3 y)", () => {
    let compared = 0;
    fc.assert(
      fc.property(cases, (c) => {
        const strike = c.forward * Math.exp(c.logMoneyness);
        const callIsOtm = strike >= c.forward;
        const kind = c.otm === callIsOtm ? "call" : "put";
        const o = { forward: c.forward, strike, expiry: c.expiry, vol: c.vol, kind } as const;
        const price = blackPrice(o);
        const timeValue = price - Math.max(0, kind === "call" ? c.forward - strike : strike - c.forward);
        // Bisection (and any double solver) cannot resolve a vol whose time value is lost in rounding.
        if (!(timeValue > 1e-9 * price) || price < 1e-280) return;
        const reference = bisectionImpliedVol(price, c.forward, strike, c.expiry, kind);
        if (!Number.isFinite(reference)) return;
        compared++;
        const vega = blackGreeks({ ...o, vol: reference }).vega;
        const tolerance = VOL_FLOOR + (PRICE_ULPS * price) / vega;
        expect(
          Math.abs(impliedVol({ price, forward: c.forward, strike, expiry: c.expiry, kind }) - reference),
        ).toBeLessThanOrEqual(tolerance);
      }),
      { numRuns: 2000, seed: 20261207 },
    );
    // The filter must leave most draws compared, or the property says little.
    expect(compared).toBeGreaterThan(1500);
  });
});
