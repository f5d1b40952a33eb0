import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/math/rng.js";
import {
  type OhlcBar,
  REALIZED_VOL_ESTIMATORS,
  realizedVol,
  rollingRealizedVol,
  varianceRiskPremium,
} from "../../../src/core/regime/realizedVol.js";

/** Hand values from 3 bars: a few logs and sums on ~0.1-1, rounding only (~1e-16). */
const HAND_DIGITS = 12;

/** The rolling window and the direct estimate sum the same bars' terms: same operations, rounding on vols ~0.5. */
const SAME_WINDOW_DIGITS = 14;

/** 3 years of daily GBM bars: the estimators' sampling error is ~1/sqrt(2 x 1095) = 2% for close-to-close, 3 standard errors. */
const GBM_VOL_REL = 0.06;

/** Daily bars of a driftless GBM sampled at `steps` points per day (so high/low are realistic). */
function gbmBars(vol: number, days: number, seed: number, steps = 288, drift = 0): OhlcBar[] {
  const rng = createRng(seed);
  const dt = 1 / 365 / steps;
  let price = 50_000;
  const bars: OhlcBar[] = [];
  for (let d = 0; d < days; d++) {
    const open = price;
    let high = price;
    let low = price;
    for (let s = 0; s < steps; s++) {
      price *= Math.exp((drift - 0.5 * vol * vol) * dt + vol * Math.sqrt(dt) * rng.normal());
      high = Math.max(high, price);
      low = Math.min(low, price);
    }
    bars.push({ open, high, low, close: price });
  }
  return bars;
}

describe("realized vol estimators", () => {
  it("hand-computed close-to-close and Parkinson values", () => {
    const bars: OhlcBar[] = [
      { open: 100, high: 102, low: 99, close: 101 },
      { open: 101, high: 104, low: 100, close: 103 },
      { open: 103, high: 103.5, low: 98, close: 99 },
    ];
    const r1 = Math.log(103 / 101);
    const r2 = Math.log(99 / 103);
    const m = (r1 + r2) / 2;
    const ccVar = ((r1 - m) ** 2 + (r2 - m) ** 2) / 1;
    expect(realizedVol(bars, "close-to-close")).toBeCloseTo(Math.sqrt(ccVar * 365), HAND_DIGITS);
    const pk =
      (Math.log(102 / 99) ** 2 + Math.log(104 / 100) ** 2 + Math.log(103.5 / 98) ** 2) / 3 / (4 * Math.LN2);
    expect(realizedVol(bars, "parkinson")).toBeCloseTo(Math.sqrt(pk * 365), HAND_DIGITS);
  });

  it.each(REALIZED_VOL_ESTIMATORS)("%s recovers a GBM's vol within 6%% over 3 years", (estimator) => {
    const bars = gbmBars(0.6, 3 * 365, 7);
    const v = realizedVol(bars, estimator);
    // Discrete sampling biases the range estimators slightly low; 6% covers that and noise.
    expect(Math.abs(v / 0.6 - 1)).toBeLessThan(GBM_VOL_REL);
  });

  it("range estimators are more efficient than close-to-close (smaller spread across seeds)", () => {
    const spread = (estimator: (typeof REALIZED_VOL_ESTIMATORS)[number]) => {
      const xs = Array.from({ length: 12 }, (_, s) => realizedVol(gbmBars(0.5, 30, 100 + s, 96), estimator));
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
    };
    expect(spread("garman-klass")).toBeLessThan(spread("close-to-close"));
    expect(spread("parkinson")).toBeLessThan(spread("close-to-close"));
  });

  it("Rogers-Satchell and Yang-Zhang are drift-independent where Parkinson is not", () => {
    const bars = gbmBars(0.3, 2 * 365, 11, 288, 3.0); // an extreme 300%/year drift
    expect(Math.abs(realizedVol(bars, "rogers-satchell") / 0.3 - 1)).toBeLessThan(GBM_VOL_REL);
    expect(Math.abs(realizedVol(bars, "yang-zhang") / 0.3 - 1)).toBeLessThan(GBM_VOL_REL);
    expect(realizedVol(bars, "parkinson")).toBeGreaterThan(realizedVol(bars, "rogers-satchell"));
  });

  it("rolling windows are null until filled and match the direct estimate", () => {
    const bars = gbmBars(0.5, 40, 3, 48);
    const rolling = rollingRealizedVol(bars, "close-to-close", 10);
    expect(rolling.slice(0, 10).every((x) => x === null)).toBe(true);
    expect(rolling[39]).toBeCloseTo(realizedVol(bars.slice(29, 40), "close-to-close"), SAME_WINDOW_DIGITS);
    const pk = rollingRealizedVol(bars, "parkinson", 10);
    expect(pk[8]).toBeNull();
    expect(pk[9]).toBeCloseTo(realizedVol(bars.slice(0, 10), "parkinson"), SAME_WINDOW_DIGITS);
  });

  it("rejects inconsistent bars naming the bar", () => {
    expect(() => realizedVol([{ open: 1, high: 0.5, low: 0.4, close: 1 }], "parkinson")).toThrow(/bars\[0\]/);
    expect(() => rollingRealizedVol([], "parkinson", 1)).toThrow(/window/);
  });

  it("variance risk premium", () => {
    expect(varianceRiskPremium(0.6, 0.5)).toEqual({ variance: 0.36 - 0.25, volSpread: 0.6 - 0.5 });
  });
});
