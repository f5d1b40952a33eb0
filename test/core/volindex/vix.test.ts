/**
 * The VIX method against the Cboe VIX White Paper (2019 edition, "The VIX Index Calculation:
 * Step-by-Step", worked example at 9:46 a.m. with 25- and 32-day SPX options): the published T1,
 * T2 from the project's own year fraction of the example's instants, the published sigma^2 of both
 * terms and VIX 13.69 from the paper's complete quote strips (Appendix 1), the published single
 * contributions; and against exact Black-76 values: the model-free variance of a flat-vol smile is
 * that vol squared.
 *
 * And against Cboe's CURRENT methodology example ("Volatility Index Methodology: Cboe Volatility
 * Index", Appendices 3-5: 2022-09-27 10:45:15 ET, VIX 13.93): the same complete board with that
 * example's minutes and rates gives every published strip row (strike, Q(K), dK; 146 + 122 rows of
 * Appendix 5), the published strip sums, corrections, sigma^2 of both terms and VIX 13.93.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import { timeToExpiry } from "../../../src/core/time.js";
import { interpolateVariance, varianceIndexLevel } from "../../../src/core/volindex/interpolate.js";
import { expiryVariance, type StrikeQuotes } from "../../../src/core/volindex/modelFreeVariance.js";
import {
  METHODOLOGY_2022,
  NEAR_STRIP_2022,
  NEXT_STRIP_2022,
  type StripRow,
} from "./fixtures/vixMethodology2022.js";
import { referenceIndex, referenceVariance } from "../../helpers/cboeVixReference.js";
import { NEAR_TERM_2019, NEXT_TERM_2019, type WhitePaperRow } from "./fixtures/vixWhitePaper2019.js";

// The example's instants (the paper gives times of day and day counts, not a calendar date; any
// date without a clock change gives the same minutes): 9:46 a.m., the near term settles 25 days
// later at 8:30 a.m. (A.M.-settled standard SPX), the next term 32 days later at 3:00 p.m.
// (P.M.-settled weekly), the paper's clock (its minutes 854 + 510 and 854 + 900 say so).
const NOW = Date.UTC(2019, 0, 2, 9, 46);
const NEAR_EXPIRY = Date.UTC(2019, 0, 27, 8, 30);
const NEXT_EXPIRY = Date.UTC(2019, 1, 3, 15, 0);
const T1 = timeToExpiry(NEAR_EXPIRY, NOW);
const T2 = timeToExpiry(NEXT_EXPIRY, NOW);
const T30 = timeToExpiry(NOW + 30 * 86_400_000, NOW);
const R1 = 0.000305;
const R2 = 0.000286;
/** Hand-built strips whose results are exact decimals: only float rounding (digits of toBeCloseTo). */
const EXACT_DIGITS = 12;
/** 1,601 log-spaced strikes over +-8 sd: midpoint-rule error of the strip (~(dK/K)^2 / 24 relative, dK/K ~ 1% of sd x 16) plus the F/K0 correction's residual: 0.1% of vol^2. */
const FLAT_STRIP_REL = 1e-3;
/** Fast implementation vs the plain reference: the same sums in another order, ~40 terms: 1e-12 relative of the variance's parts. */
const REFERENCE_REL = 1e-12;
// The paper prints sigma^2 to 8 decimals, T to 7, VIX to 2: compared at those digits (toFixed).
const quotesOf = (rows: readonly WhitePaperRow[]): StrikeQuotes[] =>
  rows.map(([strike, callBid, callAsk, putBid, putAsk]) => ({ strike, callBid, callAsk, putBid, putAsk }));

describe("Cboe VIX white paper (2019) worked example", () => {
  it("the project's year fraction of the example's instants is the published T1 = 0.0683486, T2 = 0.0882686", () => {
    expect(T1.toFixed(7)).toBe("0.0683486");
    expect(T2.toFixed(7)).toBe("0.0882686");
    expect(T30 * 365).toBe(30); // the paper's N30 / N365 = 43,200 / 525,600
  });

  it("the complete quote strips (Appendix 1) give the published F, K0, sigma^2 of both terms and VIX 13.69", () => {
    const near = expiryVariance({ quotes: quotesOf(NEAR_TERM_2019), timeToExpiry: T1, rate: R1 });
    const next = expiryVariance({ quotes: quotesOf(NEXT_TERM_2019), timeToExpiry: T2, rate: R2 });
    expect(near.ok && next.ok).toBe(true);
    if (!near.ok || !next.ok) return;
    // Published: F1 = 1962.89996, F2 = 1962.40006 (parity at the 1965 strike), K0 = 1960 for both.
    expect(near.value.forward.toFixed(5)).toBe("1962.89996");
    expect(next.value.forward.toFixed(5)).toBe("1962.40006");
    expect([near.value.parityStrike, near.value.k0, next.value.k0]).toEqual([1965, 1960, 1960]);
    // Published: sigma1^2 = 0.01846292, sigma2^2 = 0.01882101.
    expect(near.value.variance.toFixed(8)).toBe("0.01846292");
    expect(next.value.variance.toFixed(8)).toBe("0.01882101");
    // The strip's ends (Step 1: the 1370 put after two zero bids at 1360/1365; the 2125 call
    // after zero bids at 2120 and beyond 2150/2175).
    expect(near.value.contributions[0]?.strike).toBe(1370);
    expect(near.value.contributions.at(-1)?.strike).toBe(2125);
    expect(varianceIndexLevel(near.value, next.value, T30).toFixed(2)).toBe("13.69");
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
    const r = expiryVariance({ quotes, timeToExpiry: T2, rate: R2, forward: 1962.40006 });
    expect(r.ok && r.value.correction.toFixed(8)).toBe("0.00001699");
  });

  it("interpolating the published sigma^2 values gives VIX 13.69", () => {
    const near = { timeToExpiry: T1, variance: 0.01846292 };
    const next = { timeToExpiry: T2, variance: 0.01882101 };
    expect(varianceIndexLevel(near, next, T30).toFixed(2)).toBe("13.69");
    expect(interpolateVariance(near, next, T30).bracketed).toBe(true);
  });
});

describe("Cboe VIX methodology (current) worked example: VIX 13.93", () => {
  const M = METHODOLOGY_2022;
  // Cboe counts whole minutes to settlement over a 525,600-minute year (Appendix 3).
  const T1_2022 = M.nearMinutes / 525_600;
  const T2_2022 = M.nextMinutes / 525_600;
  /**
   * The published sums are printed to 10 dp: the float sum of 146 (122) products agrees with the
   * printed figure to its last digit, i.e. within half a unit of the 10th decimal.
   */
  const PRINTED_10DP = 0.5e-10;
  /** A mid (bid + ask) / 2 of two-decimal quotes below 30 is off its decimal by ~1 ulp (4e-15). */
  const MID_DIGITS = 13;
  const run = (board: readonly WhitePaperRow[], T: number, rate: number) => {
    const r = expiryVariance({ quotes: quotesOf(board), timeToExpiry: T, rate });
    if (!r.ok) throw new Error(`expected a variance, got ${r.reason}`);
    return r.value;
  };
  const near = run(NEAR_TERM_2019, T1_2022, M.nearRate);
  const next = run(NEXT_TERM_2019, T2_2022, M.nextRate);
  const rowsOf = (v: typeof near): StripRow[] => v.contributions.map((c) => [c.strike, c.mid, c.strikeWidth]);

  it("the published T1 = 0.0656088 and T2 = 0.0855289 are the minute counts over 525,600", () => {
    expect(T1_2022.toFixed(7)).toBe(M.nearTPrinted.toFixed(7));
    expect(T2_2022.toFixed(7)).toBe(M.nextTPrinted.toFixed(7));
  });

  it("every strike, Q(K) and dK of Appendix 5 (146 near-term, 122 next-term rows) comes out of the board", () => {
    for (const [got, published] of [
      [rowsOf(near), NEAR_STRIP_2022],
      [rowsOf(next), NEXT_STRIP_2022],
    ] as const) {
      // Strikes and dK (halves of strike gaps) exactly; Q to float rounding of (bid + ask) / 2.
      expect(got.map(([k, , dk]) => [k, dk])).toEqual(published.map(([k, , dk]) => [k, dk]));
      for (const [i, [, q]] of got.entries())
        expect(q).toBeCloseTo(published[i]?.[1] ?? Number.NaN, MID_DIGITS);
    }
    expect(near.contributions.find((c) => c.strike === M.k0)?.kind).toBe("put-call-average");
  });

  it("gives the published F, K0, strip sums, corrections, sigma^2 and VIX 13.93", () => {
    expect(near.forward.toFixed(5)).toBe(M.nearForward.toFixed(5));
    expect(next.forward.toFixed(5)).toBe(M.nextForward.toFixed(5));
    expect([near.k0, next.k0]).toEqual([M.k0, M.k0]);
    const sum = (v: typeof near) => v.contributions.reduce((s, c) => s + c.contribution, 0);
    expect(Math.abs(sum(near) - M.nearSum)).toBeLessThan(PRINTED_10DP);
    expect(Math.abs(sum(next) - M.nextSum)).toBeLessThan(PRINTED_10DP);
    expect(near.correction.toFixed(8)).toBe(M.nearCorrection.toFixed(8));
    expect(next.correction.toFixed(8)).toBe(M.nextCorrection.toFixed(8));
    expect(near.variance.toFixed(9)).toBe(M.nearVariance.toFixed(9));
    expect(next.variance.toFixed(9)).toBe(M.nextVariance.toFixed(9));
    expect(varianceIndexLevel(near, next, T30).toFixed(2)).toBe(M.vix);
  });
});

describe("the plain reference (test/helpers/cboeVixReference.ts) and the fast implementation", () => {
  const T30_2022 = 43_200 / 525_600;
  it("the reference itself reproduces both published examples: 13.69 (2019) and 13.93 (current)", () => {
    const at = (board: readonly WhitePaperRow[], T: number, rate: number) => {
      const v = referenceVariance(quotesOf(board), T, { rate });
      if (!v) throw new Error("no strip");
      return { T, variance: v.variance };
    };
    const near19 = at(NEAR_TERM_2019, T1, R1);
    const next19 = at(NEXT_TERM_2019, T2, R2);
    expect(near19.variance.toFixed(8)).toBe("0.01846292");
    expect(next19.variance.toFixed(8)).toBe("0.01882101");
    expect(referenceIndex([near19, next19], T30).toFixed(2)).toBe("13.69");
    const M = METHODOLOGY_2022;
    const near22 = at(NEAR_TERM_2019, M.nearMinutes / 525_600, M.nearRate);
    const next22 = at(NEXT_TERM_2019, M.nextMinutes / 525_600, M.nextRate);
    expect(near22.variance.toFixed(9)).toBe(M.nearVariance.toFixed(9));
    expect(next22.variance.toFixed(9)).toBe(M.nextVariance.toFixed(9));
    expect(referenceIndex([near22, next22], T30_2022).toFixed(2)).toBe(M.vix);
  });

  it("fast-check: expiryVariance equals the reference on random boards (zero and missing bids, gaps, rates)", () => {
    const quote = fc.option(fc.integer({ min: 0, max: 400 }), { nil: null, freq: 6 });
    const row = fc.record({
      callBid: quote,
      callSpread: fc.integer({ min: 0, max: 30 }),
      putBid: quote,
      putSpread: fc.integer({ min: 0, max: 30 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 50, max: 400 }), { minLength: 3, maxLength: 40 }),
        fc.array(row, { minLength: 40, maxLength: 40 }),
        fc.double({ min: 1 / 365, max: 1, noNaN: true }),
        fc.double({ min: -0.02, max: 0.08, noNaN: true }),
        (strikeSteps, rows, T, rate) => {
          const quotes: StrikeQuotes[] = strikeSteps.map((k, i) => {
            const r = rows[i] ?? { callBid: null, callSpread: 0, putBid: null, putSpread: 0 };
            const ask = (bid: number | null, spread: number) => (bid === null ? null : (bid + spread) / 20);
            return {
              strike: k * 25,
              callBid: r.callBid === null ? null : r.callBid / 20,
              callAsk: ask(r.callBid, r.callSpread),
              putBid: r.putBid === null ? null : r.putBid / 20,
              putAsk: ask(r.putBid, r.putSpread),
            };
          });
          const fast = expiryVariance({ quotes, timeToExpiry: T, rate });
          const ref = referenceVariance(quotes, T, { rate });
          expect(fast.ok).toBe(ref !== null);
          if (!fast.ok || ref === null) return;
          expect(fast.value.k0).toBe(ref.k0);
          expect(Math.abs(fast.value.forward - ref.forward)).toBeLessThanOrEqual(REFERENCE_REL * ref.forward);
          expect(Math.abs(fast.value.variance - ref.variance)).toBeLessThanOrEqual(
            REFERENCE_REL * (Math.abs(ref.variance) + Math.abs(fast.value.correction)),
          );
        },
      ),
      { numRuns: 300, seed: 2510 },
    );
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
    expect(r.value.forward).toBeCloseTo(100.5, EXACT_DIGITS);
    expect(r.value.contributions.map((c) => c.strike)).toEqual([95, 100, 105, 115]);
    expect(r.value.contributions[1]?.kind).toBe("put-call-average");
    expect(r.value.contributions[1]?.mid).toBeCloseTo(2.75, EXACT_DIGITS);
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
          return Math.abs(r.value.variance / (vol * vol) - 1) < FLAT_STRIP_REL;
        },
      ),
      { numRuns: 40, examples: [[1.4181624264308177, 0.9999999999999989]] },
    );
  });
});
