/**
 * Independent checks of a fitted surface, shared by the season measurement
 * (scripts/measure/surfaceArbitrage.ts) and its test (test/core/surface/arbFree.test.ts), so the
 * figures the thresholds were set on and the test's own check are one computation. They read the
 * surface only through the public VolSurface interface and share no code with
 * src/core/surface/arbitrage.ts.
 */
import type { CleanQuote } from "../../src/core/market/types.js";
import { blackPrice } from "../../src/core/pricing/black76.js";
import type { VolSurface } from "../../src/core/surface/types.js";

/** A fit's surface and the quotes per slice it was fitted to (as SurfaceFit has them). */
export interface FittedSlices {
  readonly surface: VolSurface;
  readonly data: readonly {
    readonly expiry: number;
    readonly quotes: readonly {
      readonly k: number;
      readonly name?: string;
      readonly bidVol: number | null;
      readonly askVol: number | null;
    }[];
  }[];
}

/** A k-interval [lo, hi]. */
export interface KRange {
  readonly lo: number;
  readonly hi: number;
}

/**
 * The k-range each fitted expiry serves (issue 21): its quoted range widened to at least
 * |k| <= minHalfWidth on each side. Written here from the quotes, not imported from the library.
 */
export function quotedRanges(fit: FittedSlices, minHalfWidth = 1.5): KRange[] {
  return fit.data.map((s) => ({
    lo: Math.min(-minHalfWidth, ...s.quotes.map((q) => q.k)),
    hi: Math.max(minHalfWidth, ...s.quotes.map((q) => q.k)),
  }));
}

/** The grid points (step 0.01, multiples of 0.01) of [lo, hi], both ends included. */
function kGrid(r: KRange): number[] {
  const ks: number[] = [];
  for (let j = Math.ceil(r.lo / 0.01 - 1e-9); j * 0.01 <= r.hi + 1e-9; j++) ks.push(j * 0.01);
  if ((ks[0] ?? Number.POSITIVE_INFINITY) > r.lo + 1e-12) ks.unshift(r.lo);
  if ((ks[ks.length - 1] ?? Number.NEGATIVE_INFINITY) < r.hi - 1e-12) ks.push(r.hi);
  return ks;
}

/**
 * Static-arbitrage points on k-grids (step 0.01): butterfly where the Gatheral-Jacquier (2014,
 * eq. 2.1) density factor g(k) < -1e-6 by central differences (h = 1e-3) at each expiry on its
 * range; calendar where total variance decreases from an expiry to the midpoint to the next, on the
 * union of the two ranges; and the largest far-wing slope of total variance (Lee's bound: <= 2).
 * `ranges`: one per expiry, or a half-width for |k| <= halfWidth at every expiry.
 */
export function arbitragePoints(
  surface: VolSurface,
  expiries: readonly number[],
  ranges: readonly KRange[] | number,
) {
  const h = 1e-3;
  const rangeAt = (i: number): KRange =>
    typeof ranges === "number" ? { lo: -ranges, hi: ranges } : (ranges[i] ?? { lo: 0, hi: 0 });
  let butterfly = 0;
  expiries.forEach((T, i) => {
    for (const k of kGrid(rangeAt(i))) {
      const w = surface.totalVariance(k, T);
      const up = surface.totalVariance(k + h, T);
      const dn = surface.totalVariance(k - h, T);
      const d1 = (up - dn) / (2 * h);
      const d2 = (up - 2 * w + dn) / (h * h);
      const g = w > 0 ? (1 - (k * d1) / (2 * w)) ** 2 - ((d1 * d1) / 4) * (1 / w + 1 / 4) + d2 / 2 : -1;
      if (!(g >= -1e-6)) butterfly++;
    }
  });
  let calendar = 0;
  for (let i = 0; i + 1 < expiries.length; i++) {
    const a = expiries[i] ?? 0;
    const b = expiries[i + 1] ?? 0;
    const ra = rangeAt(i);
    const rb = rangeAt(i + 1);
    for (const k of kGrid({ lo: Math.min(ra.lo, rb.lo), hi: Math.max(ra.hi, rb.hi) })) {
      const [w0, w1, w2] = [a, 0.5 * (a + b), b].map((T) => surface.totalVariance(k, T));
      if (w0 === undefined || w1 === undefined || w2 === undefined) continue;
      if (w1 < w0 - 1e-10 || w2 < w1 - 1e-10) calendar++;
    }
  }
  let maxWingSlope = 0;
  for (const T of expiries) {
    maxWingSlope = Math.max(
      maxWingSlope,
      surface.totalVariance(30, T) - surface.totalVariance(20, T),
      surface.totalVariance(-30, T) - surface.totalVariance(-20, T),
    );
  }
  return { butterfly, calendar, maxWingSlope: maxWingSlope / 10 };
}

/**
 * Vertical-spread points: k-grid points (step 0.01) of each expiry's range where an out-of-the-money
 * option's price moves towards the money's value as the strike moves away from it (a call whose
 * price rises with the strike for k > 0, a put whose price rises as the strike falls for k < 0),
 * beyond 1e-9 relative. Static arbitrage (a vertical spread with a negative price) that g >= 0 on a
 * finite range does not exclude: with F = 1 and the undiscounted Black price at the sampled vol.
 */
export function verticalSpreadPoints(
  surface: VolSurface,
  expiries: readonly number[],
  ranges: readonly KRange[],
): number {
  let points = 0;
  expiries.forEach((T, i) => {
    const r = ranges[i] ?? { lo: 0, hi: 0 };
    for (const side of [1, -1]) {
      let prev = Number.NaN;
      for (let j = 1; side > 0 ? j * 0.01 <= r.hi + 1e-9 : -j * 0.01 >= r.lo - 1e-9; j++) {
        const k = side * j * 0.01;
        const price = blackPrice({
          forward: 1,
          strike: Math.exp(k),
          expiry: T,
          vol: Math.sqrt(Math.max(surface.totalVariance(k, T), 0) / T),
          kind: side > 0 ? "call" : "put",
        });
        if (price > prev * (1 + 1e-9)) points++;
        prev = price;
      }
    }
  });
  return points;
}

/**
 * Fit quality against the quotes: the share of two-sided quotes whose fitted vol lies within
 * [bid vol - 0.1 pt, ask vol + 0.1 pt], and the vega-weighted RMSE of the fit against each quote's
 * mark vol, in vol points (vega of a unit-forward option at the mark; NaN without any mark); and
 * for expiries under 2 days (few quotes, shifting timestamps: judged by the band, not the mid) the
 * RMS distance of the fitted vol to [bid vol, ask vol] over their quotes, vol points (0 inside).
 */
export function fitFigures(fit: FittedSlices, quotes: readonly CleanQuote[]) {
  const marks = new Map(quotes.map((q) => [q.instrument.name, q.markVol]));
  let two = 0;
  let inside = 0;
  let sw = 0;
  let se = 0;
  let shortN = 0;
  let shortSs = 0;
  for (const s of fit.data) {
    for (const q of s.quotes) {
      const v = fit.surface.impliedVol(q.k, s.expiry);
      if (s.expiry < 2 / 365) {
        const d =
          (q.bidVol !== null && v < q.bidVol ? q.bidVol - v : 0) +
          (q.askVol !== null && v > q.askVol ? v - q.askVol : 0);
        shortN++;
        shortSs += d * d;
      }
      if (q.bidVol !== null && q.askVol !== null) {
        two++;
        if (v >= q.bidVol - 0.001 && v <= q.askVol + 0.001) inside++;
      }
      const mark = q.name ? marks.get(q.name) : null;
      if (mark) {
        const sd = mark * Math.sqrt(s.expiry);
        const d1 = -q.k / sd + sd / 2;
        const vega = Math.exp((-d1 * d1) / 2) * Math.sqrt(s.expiry);
        sw += vega;
        se += vega * (v - mark) ** 2;
      }
    }
  }
  return {
    insideBand: two > 0 ? inside / two : 1,
    twoSided: two,
    vegaRmsePts: 100 * Math.sqrt(se / sw),
    shortBandRmsPts: shortN > 0 ? 100 * Math.sqrt(shortSs / shortN) : 0,
  };
}
