/**
 * DVOL future fair value against references computed here:
 *  - forward variance on a chain whose expiries carry flat vols sigma(T): (sigma2^2 T2 - sigma1^2 T1)
 *    / (T2 - T1) between listed expiries (exact for the log contract at flat vol);
 *  - the convexity adjustment: E[sqrt V] for lognormal V by direct quadrature over the normal
 *    density (not the closed form the module uses); the second-order term shown to be the leading
 *    term (its gap to the exact value shrinks as omega^2); with mean reversion, a Monte Carlo of the
 *    Ornstein-Uhlenbeck log variance (Euler steps);
 *  - fast-check: fair value <= 100 sqrt(forward variance), decreasing in the vol of variance;
 *  - vol of variance and mean reversion estimators on series with known answers.
 */
import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/math/rng.js";
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

/** Halving omega divides an O(omega^2) relative gap by 4: the ratio must lie in (3, 5) (higher orders). */
const SECOND_ORDER_RATIO_MIN = 3;

/** Upper end of the 4 +- 1 window. */
const SECOND_ORDER_RATIO_MAX = 5;

/**
 * OU Monte Carlo vs the closed form (vol points on an adjustment of 1.93): 12,000 paths x 100 Euler
 * steps scatter by ~0.03 (measured over 6 seeds: 1.894 to 1.962) and the Euler bias in Var(X)
 * (~kappa dt / 2 = 1% of 1.93 = 0.02) adds to it: 0.1 is ~3 standard deviations.
 */
const OU_MC_VOLPTS = 0.1;
/** Jensen: E[sqrt V] <= sqrt(E V); at zero vol of variance they are equal up to an ulp of ~100 vol points. */
const JENSEN_EPS = 1e-12;

/** Sample std of 100 +-0.05 log changes x 2 sqrt(365): rounding of 100 terms on ~2. */
const SAMPLE_STD_DIGITS = 10;
/**
 * AR(1) slope b = 0.98 from 20,000 daily points: se(b) ~ sqrt((1 - b^2) / n) = 0.0014, i.e. ~7% on
 * kappa = -365 ln b = 7.4; 30% is ~4 standard errors.
 */
const AR1_KAPPA_REL = 0.3;
/** BTC DVOL history: a plausibility range, not a computation's error: DVOL's daily vol is 40-120% a year and ln V = 2 ln DVOL. */
const DVOL_OMEGA_MIN = 0.8;
const DVOL_OMEGA_MAX = 2.4;
/** Mean reversion of ln DVOL (per year): plausibility range, half-lives from ~6 days to ~1.4 years. */
const DVOL_KAPPA_MIN = 0.5;
const DVOL_KAPPA_MAX = 40;

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

  it("convexity: E[sqrt V] by quadrature of the lognormal density", () => {
    for (const [m, omega, tau] of [
      [0.25, 1.6, 0.25],
      [0.5, 0.8, 1],
      [0.1, 2.5, 0.1],
    ] as const) {
      const s = omega * Math.sqrt(tau);
      expect(sqrtConvexity(m, omega, tau).lognormal).toBeCloseTo(
        100 * (Math.sqrt(m) - lognormalMoment(m, s, 0.5)),
        QUADRATURE_DIGITS,
      );
    }
  });

  it("the second-order term is the leading term: (second order / exact) - 1 falls 4x per halving of omega", () => {
    // The Taylor term Var(V)/(8 E[V]^1.5) and the exact adjustment differ at O(s^4): their ratio tends
    // to 1 with an error proportional to s^2 = omega^2 tau (measured, not a formula of the module).
    const [m, tau] = [0.25, 0.5];
    const gap = (omega: number) => {
      const adj = sqrtConvexity(m, omega, tau);
      return adj.secondOrder / (100 * (Math.sqrt(m) - lognormalMoment(m, omega * Math.sqrt(tau), 0.5))) - 1;
    };
    const [g1, g2, g3] = [gap(0.4), gap(0.2), gap(0.1)];
    expect(g1).toBeGreaterThan(0); // Var(V) grows like e^{s^2}: the second-order term overstates
    expect(g1 / g2).toBeGreaterThan(SECOND_ORDER_RATIO_MIN);
    expect(g1 / g2).toBeLessThan(SECOND_ORDER_RATIO_MAX);
    expect(g2 / g3).toBeGreaterThan(SECOND_ORDER_RATIO_MIN);
    expect(g2 / g3).toBeLessThan(SECOND_ORDER_RATIO_MAX);
  });

  it("mean reversion: matches a Monte Carlo of the Ornstein-Uhlenbeck log variance (Euler steps)", () => {
    // d ln V = -kappa (ln V - theta) dt + omega dW, simulated here; V rescaled to E[V] = m by the
    // sample mean, then 100 (sqrt m - E[sqrt V]). No variance formula is used.
    const [m, omega, tau, kappa] = [0.25, 1.6, 0.5, 4];
    const steps = 100;
    const dt = tau / steps;
    const rng = createRng(2507);
    const n = 12_000;
    let half = 0;
    let full = 0;
    for (let p = 0; p < n; p++) {
      let x = 0;
      for (let i = 0; i < steps; i++) x += -kappa * x * dt + omega * Math.sqrt(dt) * rng.normal();
      half += Math.exp(x / 2);
      full += Math.exp(x);
    }
    const mc = 100 * Math.sqrt(m) * (1 - half / n / Math.sqrt(full / n));
    const withReversion = sqrtConvexity(m, omega, tau, kappa).lognormal;
    expect(Math.abs(withReversion - mc)).toBeLessThan(OU_MC_VOLPTS);
    // Without reversion the adjustment is ~4x larger: the bound above discriminates.
    expect(sqrtConvexity(m, omega, tau).lognormal - mc).toBeGreaterThan(10 * OU_MC_VOLPTS);
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
    expect(Math.abs(kappa / (-365 * Math.log(b)) - 1)).toBeLessThan(AR1_KAPPA_REL);
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
      expect(omega).toBeGreaterThan(DVOL_OMEGA_MIN);
      expect(omega).toBeLessThan(DVOL_OMEGA_MAX);
      const kappa = meanReversionFromIndex(closes);
      expect(kappa).toBeGreaterThan(DVOL_KAPPA_MIN);
      expect(kappa).toBeLessThan(DVOL_KAPPA_MAX);
    },
  );
});
