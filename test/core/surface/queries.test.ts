import { describe, expect, it } from "vitest";
import { inverseNormCdf } from "../../../src/core/math/normal.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import { sviSurface } from "../../../src/core/surface/interpolate.js";
import {
  deltaStrikeLogMoneyness,
  smileSummary,
  surfaceAtmVol,
  surfaceLogMoneynessDensity,
  surfaceStrikeDensity,
  surfaceTermStructure,
} from "../../../src/core/surface/queries.js";
import { sviTotalVariance } from "../../../src/core/surface/svi.js";

const flatSvi = (vol: number, T: number) => ({
  expiry: T,
  params: { a: vol * vol * T, b: 0, rho: 0, m: 0, sigma: 0.1 },
});
const skew = { a: 0.02, b: 0.12, rho: -0.4, m: 0.03, sigma: 0.2 };

/** ATM vol read straight off the SVI (sqrt(w / T)): a few ulps of 0.6; measured 0. */
const EXACT_VOL_DIGITS = 14;
/** Flat smile: the 25-delta vols are 0.6 wherever the root-finder stops, so RR and BF are float rounding; measured 0. */
const FLAT_RR_BF_DIGITS = 12;
/** 25-delta strikes from the delta root-finder vs the closed form s^2/2 -+ s N^-1(0.25): tightened from 10 to 11
 * (5e-12); measured 1.6e-14 (~300x margin: the solver converges to rounding here). */
const DELTA_STRIKE_DIGITS = 11;
/** Central-difference forward delta, h = 1e-4 on F = 100: truncation h^2 x Black's third derivative (~1e-10) plus
 * rounding eps x price / h (~1e-11); tightened from 6 to 8 (5e-9); measured 8.3e-12 (~600x margin). */
const FD_DELTA_DIGITS = 8;
/** Mass and mean of the density by a dk = 1e-3 rectangle sum on [-6, 6] (smooth, negligible tails beyond): tightened
 * from 4 to 5 (5e-6); measured 1.9e-8 (mass) and 3.3e-11 (mean), ~270x margin. */
const RIEMANN_DIGITS = 5;
/** Density vs the Breeden-Litzenberger second difference of call prices, h = 0.05 on K = 70-140: truncation
 * h^2/12 x d^4C/dK^4 plus rounding eps x C / h^2 (~1e-12); 5e-7; measured worst 3.1e-8 (16x, truncation-bound). */
const BREEDEN_LITZENBERGER_DIGITS = 6;

describe("surface queries", () => {
  it("flat surface: ATM vol, zero RR and BF, 25-delta strikes in closed form k = s^2/2 -+ s N^-1(0.25)", () => {
    const s = sviSurface([flatSvi(0.6, 0.5)]);
    const sum = smileSummary(s, 0.5);
    expect(sum.atmVol).toBeCloseTo(0.6, EXACT_VOL_DIGITS);
    expect(sum.riskReversal25).toBeCloseTo(0, FLAT_RR_BF_DIGITS);
    expect(sum.butterfly25).toBeCloseTo(0, FLAT_RR_BF_DIGITS);
    const sd = 0.6 * Math.sqrt(0.5);
    const z = inverseNormCdf(0.25);
    expect(sum.call25LogMoneyness).toBeCloseTo(0.5 * sd * sd - sd * z, DELTA_STRIKE_DIGITS);
    expect(sum.put25LogMoneyness).toBeCloseTo(0.5 * sd * sd + sd * z, DELTA_STRIKE_DIGITS);
  });

  it("negative-skew smile: the 25d put vol exceeds the call vol (RR < 0), BF > 0, and the strikes have the stated deltas", () => {
    const s = sviSurface([{ expiry: 1, params: skew }]);
    const sum = smileSummary(s, 1);
    expect(sum.riskReversal25).toBeLessThan(0);
    expect(sum.butterfly25).toBeGreaterThan(0);
    // the call strike's Black forward delta at its own vol is 0.25 (finite difference of the Black price)
    const F = 100;
    const K = F * Math.exp(sum.call25LogMoneyness);
    const h = 1e-4;
    const delta =
      (blackPrice({ forward: F + h, strike: K, expiry: 1, vol: sum.call25Vol, kind: "call" }) -
        blackPrice({ forward: F - h, strike: K, expiry: 1, vol: sum.call25Vol, kind: "call" })) /
      (2 * h);
    expect(delta).toBeCloseTo(0.25, FD_DELTA_DIGITS);
    expect(surfaceAtmVol(s, 1)).toBeCloseTo(Math.sqrt(sviTotalVariance(skew, 0)), EXACT_VOL_DIGITS);
  });

  it("term structure lists the node expiries by default", () => {
    const s = sviSurface([flatSvi(0.5, 0.1), flatSvi(0.6, 0.5)]);
    const ts = surfaceTermStructure(s);
    expect(ts.map((x) => x.expiry)).toEqual([0.1, 0.5]);
    expect(ts[1]?.atmVol).toBeCloseTo(0.6, EXACT_VOL_DIGITS);
    expect(surfaceTermStructure(s, [0.3])[0]?.atmVol).toBeGreaterThan(0.5);
  });

  it("density integrates to 1, has mean forward (martingale) and matches Breeden-Litzenberger d2C/dK2", () => {
    const T = 1;
    const s = sviSurface([{ expiry: T, params: skew }]);
    let mass = 0;
    let mean = 0;
    const dk = 1e-3;
    for (let k = -6; k <= 6; k += dk) {
      const p = surfaceLogMoneynessDensity(s, k, T);
      expect(p).toBeGreaterThanOrEqual(0);
      mass += p * dk;
      mean += Math.exp(k) * p * dk;
    }
    expect(mass).toBeCloseTo(1, RIEMANN_DIGITS);
    expect(mean).toBeCloseTo(1, RIEMANN_DIGITS);
    const F = 100;
    const call = (K: number) =>
      blackPrice({ forward: F, strike: K, expiry: T, vol: s.impliedVol(Math.log(K / F), T), kind: "call" });
    for (const K of [70, 90, 100, 115, 140]) {
      const h = 0.05;
      const bl = (call(K + h) - 2 * call(K) + call(K - h)) / (h * h);
      expect(surfaceStrikeDensity(s, { strike: K, forward: F, timeToExpiry: T })).toBeCloseTo(
        bl,
        BREEDEN_LITZENBERGER_DIGITS,
      );
    }
  });

  it("rejects bad deltas", () => {
    const s = sviSurface([flatSvi(0.6, 0.5)]);
    expect(() => deltaStrikeLogMoneyness(s.smileAt(0.5), 1.2, "call")).toThrow(/delta/);
    expect(() => deltaStrikeLogMoneyness(s.smileAt(0.5), 0.25, "put")).toThrow(/delta/);
  });
});
