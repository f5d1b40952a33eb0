/**
 * Raw SVI with price tails (surface/sviTails.ts), checked against independent references:
 * Black-76 option prices from the pricing module at the served vol (convex and monotone in the
 * strike: no butterfly arbitrage, on strikes far beyond the junctions), finite differences of the
 * served total variance (the analytic w' and w'' of the tails), and the junction's continuity.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import { type SviParams, sviDurrlemanG, sviTotalVariance } from "../../../src/core/surface/svi.js";
import {
  TAIL_MIN_R,
  tailedDerivatives,
  tailedSvi,
  tailedTotalVariance,
  tailsMinR,
} from "../../../src/core/surface/sviTails.js";

/** Undiscounted out-of-the-money Black price at F = 1, T = 1 and total variance w (put below K = 1). */
function otmPrice(k: number, w: number): number {
  const K = Math.exp(k);
  return blackPrice({ forward: 1, strike: K, expiry: 1, vol: Math.sqrt(w), kind: k < 0 ? "put" : "call" });
}

/** Largest decrease of the slope of the OTM price in K along a k-grid (negative: not convex). */
function convexityDefect(ks: readonly number[], w: (k: number) => number): number {
  let worst = 0;
  let prevSlope = Number.NaN;
  for (let i = 0; i + 1 < ks.length; i++) {
    const k0 = ks[i] ?? 0;
    const k1 = ks[i + 1] ?? 0;
    const slope = (otmPrice(k1, w(k1)) - otmPrice(k0, w(k0))) / (Math.exp(k1) - Math.exp(k0));
    if (!Number.isNaN(prevSlope)) worst = Math.min(worst, slope - prevSlope);
    prevSlope = slope;
  }
  return worst;
}

const grid = (a: number, b: number, step: number) =>
  Array.from({ length: Math.round((b - a) / step) + 1 }, (_, i) => a + i * step);

/** Whether raw SVI p is butterfly-free on [lo, hi] (the tails' precondition), on a fine grid. */
const sviFreeOn = (p: SviParams, lo: number, hi: number) =>
  grid(lo, hi, 0.002).every((k) => sviTotalVariance(p, k) > 0 && sviDurrlemanG(p, k) >= 0);

// a steep 15-day smile (the shape that made one raw SVI bend inside its quotes): junctions just past the quotes
const steep: SviParams = { a: -0.1673, b: 0.2024, rho: 0.1248, m: 0.1749, sigma: 0.869 };
const steepWings = { lo: -0.63, hi: 0.56 };

describe("raw SVI with price tails", () => {
  it("is the raw SVI between the junctions and continuous with its slope at them", () => {
    const ts = tailedSvi(steep, steepWings);
    expect(tailsMinR(ts)).toBeGreaterThanOrEqual(TAIL_MIN_R);
    for (const k of grid(-0.6, 0.55, 0.05))
      expect(tailedTotalVariance(ts, k)).toBe(sviTotalVariance(steep, k));
    for (const j of [steepWings.lo, steepWings.hi]) {
      const h = 1e-7;
      const inside = j < 0 ? j + h : j - h;
      const outside = j < 0 ? j - h : j + h;
      // w continuous to O(h), w' continuous: the one-sided slopes agree
      expect(Math.abs(tailedTotalVariance(ts, outside) - tailedTotalVariance(ts, inside))).toBeLessThan(1e-7);
      const dIn = tailedDerivatives(ts, inside).dw;
      const dOut = tailedDerivatives(ts, outside).dw;
      expect(Math.abs(dOut - dIn)).toBeLessThan(1e-6);
    }
  });

  it("tail derivatives agree with central differences of the served total variance", () => {
    const ts = tailedSvi(steep, steepWings);
    const h = 1e-4;
    for (const k of [-5, -2, -1, -0.7, 0.6, 1, 1.5, 3, 8]) {
      const d = tailedDerivatives(ts, k);
      const up = tailedTotalVariance(ts, k + h);
      const dn = tailedTotalVariance(ts, k - h);
      expect(Math.abs(d.dw - (up - dn) / (2 * h))).toBeLessThan(1e-7 * Math.max(1, Math.abs(d.dw)));
      expect(Math.abs(d.d2w - (up - 2 * d.w + dn) / (h * h))).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(d.d2w)),
      );
    }
  });

  it("Black prices at the served vols are convex in the strike far beyond the junctions (|k| <= 6)", () => {
    const ts = tailedSvi(steep, steepWings);
    const w = (k: number) => tailedTotalVariance(ts, k);
    expect(convexityDefect(grid(-6, -0.01, 0.01), w)).toBeGreaterThan(-1e-12);
    expect(convexityDefect(grid(0.01, 6, 0.01), w)).toBeGreaterThan(-1e-12);
  });

  it("control: the check finds the butterfly arbitrage of an unconstrained 15-day SVI continued past its quotes", () => {
    // season chain 2026-05-13 BTC, 15.9-day slice, unconstrained fit: right wing slope ~2, g < 0 beyond k = 1.3
    const p: SviParams = { a: -0.2412, b: 1.0596, rho: 0.8857, m: 1.0053, sigma: 0.5005 };
    const w = (k: number) => sviTotalVariance(p, k);
    expect(convexityDefect(grid(0.01, 3, 0.01), w)).toBeLessThan(-1e-6);
    // its tails from junctions just past the quotes would not decay (R < 1/2): the fit must not keep it
    expect(tailsMinR(tailedSvi(p, { lo: -0.58, hi: 0.36 }))).toBeLessThan(0.5);
  });

  it("Lee's bound: total variance stays bounded in the tails (wing slope <= 2 at |k| = 20..30)", () => {
    const ts = tailedSvi(steep, steepWings);
    for (const sign of [-1, 1]) {
      const slope = (tailedTotalVariance(ts, 30 * sign) - tailedTotalVariance(ts, 20 * sign)) / 10;
      expect(Math.abs(slope)).toBeLessThan(2);
      expect(Number.isFinite(tailedTotalVariance(ts, 60 * sign))).toBe(true);
    }
  });

  it("property: any raw SVI butterfly-free between its junctions, with tails of decay rate >= TAIL_MIN_R, has convex Black prices on |k| <= 4", () => {
    let checked = 0;
    fc.assert(
      fc.property(
        fc.record({
          a: fc.double({ min: 0.001, max: 0.05, noNaN: true }),
          b: fc.double({ min: 0.01, max: 0.4, noNaN: true }),
          rho: fc.double({ min: -0.9, max: 0.9, noNaN: true }),
          m: fc.double({ min: -0.2, max: 0.2, noNaN: true }),
          sigma: fc.double({ min: 0.05, max: 0.5, noNaN: true }),
        }),
        fc.double({ min: 0.05, max: 0.6, noNaN: true }),
        fc.double({ min: 0.05, max: 0.6, noNaN: true }),
        (p, lo, hi) => {
          const ts = tailedSvi(p, { lo: -lo, hi });
          if (!sviFreeOn(p, -lo, hi) || !(tailsMinR(ts) >= TAIL_MIN_R)) return;
          checked++;
          const w = (k: number) => tailedTotalVariance(ts, k);
          expect(convexityDefect(grid(-4, -0.01, 0.01), w)).toBeGreaterThan(-1e-12);
          expect(convexityDefect(grid(0.01, 4, 0.01), w)).toBeGreaterThan(-1e-12);
        },
      ),
      { numRuns: 40, seed: 21 },
    );
    expect(checked).toBeGreaterThan(15);
  });
});
