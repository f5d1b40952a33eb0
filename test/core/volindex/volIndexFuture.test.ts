/**
 * DVOL future fair value against references computed here:
 *  - forward variance on a chain whose expiries carry flat vols sigma(T): (sigma2^2 T2 - sigma1^2 T1)
 *    / (T2 - T1) between listed expiries (exact for the log contract at flat vol);
 *  - the convexity adjustment: E[sqrt V] for lognormal V by direct quadrature over the normal
 *    density (not the closed form the module uses), and the second-order term Var(V)/(8 E[V]^1.5)
 *    with Var(V) from the same quadrature;
 *  - fast-check: fair value <= 100 sqrt(forward variance), decreasing in the vol of variance;
 *  - vol of variance and mean reversion estimators on series with known answers.
 */
import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  meanReversionFromIndex,
  sqrtConvexity,
  volIndexFutureValue,
  volOfVarianceFromIndex,
} from "../../../src/core/volindex/volIndexFuture.js";
import { chain, DAY, type Smile, surfaceOf, T0 } from "./syntheticChain.js";

/** Forward variance from the two strips' quadratures vs the exact term smile's total variances: each strip ~1e-5 in variance. */
const FORWARD_VARIANCE_ABS = 2e-5;

/** fairValue is 100 sqrt(forward variance): one sqrt and a product, rounding on ~50. */
const SQRT_DIGITS = 12;

/** E[sqrt V] by the module's quadrature vs the lognormal moment in closed form: quadrature error ~1e-10 on ~1-50 vol points. */
const QUADRATURE_DIGITS = 8;

/** Second-order term Var(V) / (8 E[V]^1.5) from the lognormal moments written here: closed form on both sides, rounding on ~1-50; 8 digits kept (not measured tighter). */
const CLOSED_FORM_DIGITS = 8;
/** Jensen: E[sqrt V] <= sqrt(E V); at zero vol of variance they are equal up to an ulp of ~100 vol points. */
const JENSEN_EPS = 1e-12;

/** Sample std of 100 +-0.05 log changes x 2 sqrt(365): rounding of 100 terms on ~2. */
const SAMPLE_STD_DIGITS = 10;

const DAYS = [10, 40, 70, 100];
const volAt = (T: number) => 0.45 + 0.6 * T; // rising term structure of flat smiles
const termSmile: Smile = (_k, T) => volAt(T) ** 2 * T;

/** E[V^p] for ln V ~ N(ln m - s^2/2, s^2), by the trapezoid rule over +-12 sd. */
function lognormalMoment(m: number, s: number, p: number): number {
  if (s === 0) return m ** p;
  const mu = Math.log(m) - (s * s) / 2;
  const n = 20_000;
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const z = -12 + (24 * i) / n;
    const w = (i === 0 || i === n ? 0.5 : 1) * (24 / n) * (Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI));
    sum += w * Math.exp(p * (mu + s * z));
  }
  return sum;
}

describe("DVOL future fair value", () => {
  const snap = chain(termSmile, DAYS, 0.02, 0.2, 4);

  it("forward variance between listed expiries = (s2^2 T2 - s1^2 T1)/(T2 - T1) on flat smiles", () => {
    const v = volIndexFutureValue(snap, {
      expiry: T0 + 40 * DAY,
      volOfVariance: 0,
      surface: surfaceOf(termSmile),
    });
    const [t1, t2] = [40 / 365, 70 / 365];
    const ref = (volAt(t2) ** 2 * t2 - volAt(t1) ** 2 * t1) / (t2 - t1);
    expect(v.bracketed).toBe(true);
    expect(Math.abs(v.forwardVariance - ref)).toBeLessThan(FORWARD_VARIANCE_ABS);
    expect(v.fairValue).toBeCloseTo(100 * Math.sqrt(v.forwardVariance), SQRT_DIGITS);
  });

  it("convexity: E[sqrt V] by quadrature; second-order term Var(V)/(8 E[V]^1.5)", () => {
    for (const [m, omega, tau] of [
      [0.25, 1.6, 0.25],
      [0.5, 0.8, 1],
      [0.1, 2.5, 0.1],
    ] as const) {
      const s = omega * Math.sqrt(tau);
      const eSqrt = lognormalMoment(m, s, 0.5);
      const varV = lognormalMoment(m, s, 2) - m * m;
      const adj = sqrtConvexity(m, omega, tau);
      expect(adj.lognormal).toBeCloseTo(100 * (Math.sqrt(m) - eSqrt), QUADRATURE_DIGITS);
      expect(adj.secondOrder).toBeCloseTo((100 * varV) / (8 * m ** 1.5), CLOSED_FORM_DIGITS);
    }
  });

  it("mean reversion shrinks the adjustment: Var(ln V) = omega^2 (1 - e^{-2 kappa tau}) / (2 kappa)", () => {
    const [m, omega, tau, kappa] = [0.25, 1.6, 0.5, 4];
    const s = omega * Math.sqrt((1 - Math.exp(-2 * kappa * tau)) / (2 * kappa));
    expect(sqrtConvexity(m, omega, tau, kappa).lognormal).toBeCloseTo(
      100 * (Math.sqrt(m) - lognormalMoment(m, s, 0.5)),
      QUADRATURE_DIGITS,
    );
    expect(sqrtConvexity(m, omega, tau, kappa).lognormal).toBeLessThan(
      sqrtConvexity(m, omega, tau).lognormal,
    );
  });

  it("fast-check: fair value <= 100 sqrt(forward variance), decreasing in the vol of variance", () => {
    const surface = surfaceOf(termSmile);
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60 }),
        fc.double({ min: 0, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        (days, omega, kappa) => {
          const o = { expiry: T0 + days * DAY, surface, meanReversion: kappa };
          const v = volIndexFutureValue(snap, { ...o, volOfVariance: omega });
          expect(v.fairValue).toBeLessThanOrEqual(100 * Math.sqrt(v.forwardVariance) + JENSEN_EPS);
          expect(v.fairValue).toBeGreaterThan(0);
          const more = volIndexFutureValue(snap, { ...o, volOfVariance: omega + 0.5 });
          expect(more.fairValue).toBeLessThan(v.fairValue);
        },
      ),
      { numRuns: 25, seed: 24 },
    );
  });

  it("bad input throws a typed error naming the field", () => {
    expect(() => volIndexFutureValue(snap, { expiry: T0 - DAY, volOfVariance: 1 })).toThrow(/expiry/);
    expect(() => volIndexFutureValue(snap, { expiry: T0 + DAY, volOfVariance: -1, surface: null })).toThrow(
      /volOfVariance/,
    );
    expect(() => volOfVarianceFromIndex([50, 0, 40])).toThrow(/levels\[1\]/);
  });
});

describe("vol of variance and mean reversion from an index series", () => {
  it("alternating +-x log changes: omega = 2 x sample std x sqrt(365)", () => {
    const x = 0.05;
    const levels = Array.from({ length: 101 }, (_, i) => 50 * Math.exp(i % 2 === 0 ? 0 : x));
    const n = 100;
    const mean = 0; // 50 changes of +x and 50 of -x
    const sd = Math.sqrt(((x - mean) ** 2 * n) / (n - 1));
    expect(volOfVarianceFromIndex(levels)).toBeCloseTo(2 * sd * Math.sqrt(365), SAMPLE_STD_DIGITS);
  });

  it("AR(1) log path with b = 0.98: kappa = -365 ln b within 30%", () => {
    let state = 12345;
    const uniform = () => {
      state = (1103515245 * state + 12345) % 2 ** 31;
      return (state + 0.5) / 2 ** 31;
    };
    const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    const b = 0.98;
    const mu = Math.log(50);
    let x = mu;
    const levels: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      x = mu + b * (x - mu) + 0.04 * normal();
      levels.push(Math.exp(x));
    }
    const kappa = meanReversionFromIndex(levels);
    expect(kappa / (-365 * Math.log(b))).toBeGreaterThan(0.7);
    expect(kappa / (-365 * Math.log(b))).toBeLessThan(1.3);
  });

  const dvolFile = "../shared/data/prices/DVOL_BTC_daily.csv";
  it.skipIf(!existsSync(dvolFile))(
    "BTC DVOL history: vol of variance and mean reversion in a plausible range",
    () => {
      const closes = readFileSync(dvolFile, "utf8")
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => Number(l.split(",")[4]));
      const omega = volOfVarianceFromIndex(closes);
      // DVOL's own daily vol is 40-120% a year; ln V = 2 ln DVOL.
      expect(omega).toBeGreaterThan(0.8);
      expect(omega).toBeLessThan(2.4);
      const kappa = meanReversionFromIndex(closes);
      expect(kappa).toBeGreaterThan(0.5);
      expect(kappa).toBeLessThan(40);
    },
  );
});
