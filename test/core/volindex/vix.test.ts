/**
 * The VIX method against the Cboe VIX White Paper (2019 edition, "The VIX Index Calculation:
 * Step-by-Step", worked example at 9:46 a.m. ET with 25- and 32-day SPX options), and against
 * exact Black-76 values: the model-free variance of a flat-vol smile is that vol squared.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import { interpolateVariance, varianceIndexLevel } from "../../../src/core/volindex/interpolate.js";
import { expiryVariance, type StrikeQuotes } from "../../../src/core/volindex/modelFreeVariance.js";

// Published figures of the white paper's example.
const MINUTES_PER_YEAR = 525_600;
const T1 = (854 + 510 + 34_560) / MINUTES_PER_YEAR; // published 0.0683486
const T2 = (854 + 900 + 44_640) / MINUTES_PER_YEAR; // published 0.0882686
const T30 = 43_200 / MINUTES_PER_YEAR;
const R1 = 0.000305;

describe("Cboe VIX white paper (2019) worked example", () => {
  it("time to expiration in minutes matches the published T1 and T2 to 7 decimals", () => {
    expect(T1.toFixed(7)).toBe("0.0683486");
    expect(T2.toFixed(7)).toBe("0.0882686");
  });

  it("the lowest-strike put contributes the published 0.0000005328 and F/K0 correction is 0.00003203", () => {
    // A strip whose lowest put is the 1370 (dK = 1375 - 1370 = 5, Q = 0.20), as in the paper.
    const quotes: StrikeQuotes[] = [
      { strike: 1370, callBid: null, callAsk: null, putBid: 0.15, putAsk: 0.25 },
      { strike: 1375, callBid: null, callAsk: null, putBid: 0.1, putAsk: 0.3 },
      { strike: 1960, callBid: 30, callAsk: 31, putBid: 27, putAsk: 28 },
      { strike: 1965, callBid: 27, callAsk: 28, putBid: 29, putAsk: 30 },
    ];
    const r = expiryVariance({ quotes, timeToExpiry: T1, rate: R1, forward: 1962.89996 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.k0).toBe(1960);
    const lowest = r.value.contributions[0];
    expect(lowest?.strike).toBe(1370);
    expect(lowest?.strikeWidth).toBe(5);
    expect(lowest?.contribution.toFixed(10)).toBe("0.0000005328");
    expect(r.value.correction.toFixed(8)).toBe("0.00003203");
  });

  it("next-term correction is the published 0.00001699", () => {
    const quotes: StrikeQuotes[] = [
      { strike: 1955, callBid: null, callAsk: null, putBid: 20, putAsk: 21 },
      { strike: 1960, callBid: 30, callAsk: 31, putBid: 27, putAsk: 28 },
      { strike: 1965, callBid: 27, callAsk: 28, putBid: 29, putAsk: 30 },
    ];
    const r = expiryVariance({ quotes, timeToExpiry: T2, rate: 0.000286, forward: 1962.40006 });
    expect(r.ok && r.value.correction.toFixed(8)).toBe("0.00001699");
  });

  it("interpolating the published sigma^2 values gives VIX 13.69", () => {
    const near = { timeToExpiry: T1, variance: 0.01846292 };
    const next = { timeToExpiry: T2, variance: 0.01882101 };
    expect(varianceIndexLevel(near, next, T30).toFixed(2)).toBe("13.69");
    expect(interpolateVariance(near, next, T30).bracketed).toBe(true);
  });
});

describe("strip selection rules", () => {
  it("stops after two consecutive zero bids and averages put and call at K0", () => {
    const quotes: StrikeQuotes[] = [
      { strike: 80, callBid: null, callAsk: null, putBid: 0.05, putAsk: 0.1 }, // beyond two zero bids: excluded
      { strike: 85, callBid: null, callAsk: null, putBid: 0, putAsk: 0.1 },
      { strike: 90, callBid: null, callAsk: null, putBid: 0, putAsk: 0.1 },
      { strike: 95, callBid: null, callAsk: null, putBid: 0.5, putAsk: 0.7 },
      { strike: 100, callBid: 2.9, callAsk: 3.1, putBid: 2.4, putAsk: 2.6 },
      { strike: 105, callBid: 0.9, callAsk: 1.1, putBid: 5, putAsk: 5.4 },
      { strike: 110, callBid: 0, callAsk: 0.2, putBid: null, putAsk: null }, // zero bid: skipped
      { strike: 115, callBid: 0.1, callAsk: 0.2, putBid: null, putAsk: null }, // single zero: still used
    ];
    const r = expiryVariance({ quotes, timeToExpiry: 0.1 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // Parity pair at 100: F = 100 + (3.0 - 2.5) = 100.5, K0 = 100.
    expect(r.value.parityStrike).toBe(100);
    expect(r.value.forward).toBeCloseTo(100.5, 12);
    expect(r.value.contributions.map((c) => c.strike)).toEqual([95, 100, 105, 115]);
    expect(r.value.contributions[1]?.kind).toBe("put-call-average");
    expect(r.value.contributions[1]?.mid).toBeCloseTo(2.75, 12);
    // dK: ends one-sided, inner ones centred on the strip's neighbours.
    expect(r.value.contributions.map((c) => c.strikeWidth)).toEqual([5, 5, 7.5, 10]);
    expect(r.value.excluded).toBe(4);
  });

  it("returns reasons instead of numbers for unusable expiries", () => {
    const r = expiryVariance({
      quotes: [{ strike: 100, callBid: 1, callAsk: 2, putBid: 1, putAsk: 2 }],
      timeToExpiry: 0.1,
    });
    expect(r).toMatchObject({ ok: false, reason: "too-few-strikes" });
    expect(() => expiryVariance({ quotes: [], timeToExpiry: -1 })).toThrow(/timeToExpiry/);
  });
});

describe("model-free variance equals the Black variance of a flat smile", () => {
  const strip = (forward: number, vol: number, T: number): StrikeQuotes[] => {
    const out: StrikeQuotes[] = [];
    // Log-spaced strikes over +-8 standard deviations (ΔK/K constant, as listed strikes are
    // roughly in the wings): a uniform grid would need millions of strikes at sigma*sqrt(T) ~ 1.4.
    const sd = vol * Math.sqrt(T);
    const n = 1600;
    for (let i = 0; i <= n; i++) {
      const k = forward * Math.exp(-8 * sd + (16 * sd * i) / n);
      const c = blackPrice({ forward, strike: k, expiry: T, vol, kind: "call" });
      const p = blackPrice({ forward, strike: k, expiry: T, vol, kind: "put" });
      out.push({ strike: k, callBid: c, callAsk: c, putBid: p, putAsk: p });
    }
    return out;
  };

  it("recovers vol^2 to 0.1% for crypto-like vols and expiries", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.2, max: 1.5, noNaN: true }),
        fc.double({ min: 3 / 365, max: 1, noNaN: true }),
        (vol, T) => {
          const r = expiryVariance({ quotes: strip(50_000, vol, T), timeToExpiry: T });
          if (!r.ok) return false;
          return Math.abs(r.value.variance / (vol * vol) - 1) < 1e-3;
        },
      ),
      { numRuns: 40, examples: [[1.4181624264308177, 0.9999999999999989]] },
    );
  });
});
