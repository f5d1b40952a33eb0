import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/math/rng.js";
import {
  fitGarch,
  type GarchFit,
  garchForecastVariance,
  garchLogLikelihood,
  garchVolTermStructure,
  simulateGarch,
} from "../../../src/core/regime/garch.js";

/** ML estimates from 6,000 simulated days (seed 42): alpha and beta have standard errors ~0.01-0.02, so 1 digit (|err| < 0.05) is ~3 standard errors. */
const ML_PARAM_DIGITS = 1;

/** alpha + beta is estimated far more tightly than each (their errors are negatively correlated): 0.02 absolute. */
const PERSISTENCE_ABS = 0.02;

/** omega / (1 - persistence) divides by ~0.05: a 0.01 error in persistence moves it ~20%, so 25% relative. */
const LONG_RUN_REL = 0.25;

/** The optimizer stops at its tolerance: the fit's log-likelihood may sit 1e-6 below an exact maximum, never more than that below the truth's. */
const ML_MAX_SLACK = 1e-6;

/** Monte Carlo forecast (40,000 paths in antithetic pairs) vs the module: 4 standard errors of the pair means (false alarm ~6e-5 per horizon). */
const MC_SIGMAS = 4;
/** h = 1 is the fitted state itself (no draw, standard error 0): a sum of 20,000 halves, rounding ~1e-16 relative; 1e-12. */
const MC_ROUNDING_REL = 1e-12;

/** The 3650-day vol averages the whole variance path: the first days' excess (v1 - vbar) / (1 - p) / 3650 is left, below 5e-3 in annual vol. */
const TEN_YEAR_VOL_DIGITS = 2;

/** GJR persistence alpha + gamma/2 + beta from a simulated sample: gamma adds estimation noise, 0.03 absolute. */
const GJR_PERSISTENCE_ABS = 0.03;

const DATA = resolve(__dirname, "../../../../shared/data/prices/BTC-USD_daily.csv");

const gjrTruth = { mu: 0, omega: 2e-5, alpha: 0.04, beta: 0.85, gamma: 0.12 };

/**
 * E[sigma^2_{T+h}], h = 1..H, by simulating the model's own definition from the fitted state:
 * sigma^2_{T+1} = nextVariance, e = sigma z, sigma^2 <- omega + (alpha + gamma 1{e < 0}) e^2 +
 * beta sigma^2 (antithetic pairs z, -z). No closed form: mean and standard error per horizon.
 */
function simulatedForecastVariance(f: GarchFit, H: number, paths: number, normal: () => number) {
  const { omega, alpha, beta, gamma } = f.params;
  const sums = new Array<number>(H).fill(0);
  const squares = new Array<number>(H).fill(0);
  for (let p = 0; p < paths / 2; p++) {
    const zs = Array.from({ length: H }, () => normal());
    const pair = new Array<number>(H).fill(0);
    for (const sign of [1, -1]) {
      let s2 = f.nextVariance;
      for (let h = 0; h < H; h++) {
        pair[h] = (pair[h] ?? 0) + s2 / 2;
        const e = Math.sqrt(s2) * sign * (zs[h] ?? 0);
        s2 = omega + (alpha + (e < 0 ? gamma : 0)) * e * e + beta * s2;
      }
    }
    for (let h = 0; h < H; h++) {
      sums[h] = (sums[h] ?? 0) + (pair[h] ?? 0);
      squares[h] = (squares[h] ?? 0) + (pair[h] ?? 0) ** 2;
    }
  }
  const n = paths / 2;
  return sums.map((sum, h) => {
    const mean = sum / n;
    return { mean, se: Math.sqrt(Math.max((squares[h] ?? 0) / n - mean * mean, 0) / n) };
  });
}

describe("GARCH(1,1) maximum likelihood", () => {
  const truth = { mu: 0.0005, omega: 2e-5, alpha: 0.1, beta: 0.85, gamma: 0 };
  const rng = createRng(42);
  const returns = simulateGarch(truth, 6000, rng.normal);
  const fit = fitGarch(returns);

  it("recovers known parameters from 6,000 simulated days", () => {
    expect(fit.params.alpha).toBeCloseTo(0.1, ML_PARAM_DIGITS);
    expect(fit.params.beta).toBeCloseTo(0.85, ML_PARAM_DIGITS);
    expect(Math.abs(fit.persistence - 0.95)).toBeLessThan(PERSISTENCE_ABS);
    expect(Math.abs(fit.longRunVariance / (2e-5 / 0.05) - 1)).toBeLessThan(LONG_RUN_REL);
  });

  it("the fitted likelihood is at least that of the true parameters (it is a maximum)", () => {
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(garchLogLikelihood(returns, truth) - ML_MAX_SLACK);
  });

  it("forecasts are the model's expected variance: a Monte Carlo of the recursion from the fitted state", () => {
    for (const f of [fit, fitGarch(simulateGarch(gjrTruth, 6000, createRng(9).normal), { model: "gjr" })]) {
      const mc = simulatedForecastVariance(f, 10, 40_000, createRng(77).normal);
      // The test discriminates: the fitted state is away from the long-run level.
      expect(Math.abs(f.nextVariance / f.longRunVariance - 1)).toBeGreaterThan(0.1);
      for (const [i, { mean, se }] of mc.entries())
        expect(Math.abs(garchForecastVariance(f, i + 1) - mean), `${f.model} h=${i + 1}`).toBeLessThan(
          MC_SIGMAS * se + MC_ROUNDING_REL * mean,
        );
    }
    // Ten years average the whole path down to the long-run level.
    const ts = garchVolTermStructure(fit, [1, 30, 3650]);
    expect(ts[2]?.vol).toBeCloseTo(Math.sqrt(fit.longRunVariance * 365), TEN_YEAR_VOL_DIGITS);
  });

  it("GJR recovers a leverage effect", () => {
    const r = simulateGarch(gjrTruth, 6000, createRng(9).normal);
    const gjr = fitGarch(r, { model: "gjr" });
    expect(gjr.params.gamma).toBeGreaterThan(0.05);
    expect(Math.abs(gjr.persistence - (0.04 + 0.06 + 0.85))).toBeLessThan(GJR_PERSISTENCE_ABS);
    expect(gjr.logLikelihood).toBeGreaterThanOrEqual(fitGarch(r).logLikelihood - ML_MAX_SLACK);
  });

  it("rejects short or non-finite input naming the field", () => {
    expect(() => fitGarch([0.1, 0.2])).toThrow(/returns.length/);
    expect(() => fitGarch([...returns.slice(0, 100), Number.NaN])).toThrow(/returns\[100\]/);
  });
});

describe.skipIf(!existsSync(DATA))("GARCH on the real BTC-USD history (../shared/data)", () => {
  it("is stationary, persistent and sees 2020-03 as high variance", () => {
    const rows = readFileSync(DATA, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    const good = rows.filter((r) => Number(r[4]) > 0);
    const closes = good.map((r) => Number(r[4]));
    const dates = good.map((r) => r[0] as string);
    const returns = closes.slice(1).map((c, i) => Math.log(c / (closes[i] as number)));
    const fit = fitGarch(returns);
    expect(fit.persistence).toBeGreaterThan(0.8);
    expect(fit.persistence).toBeLessThan(1);
    const i = dates.indexOf("2020-03-13") - 1; // conditional variance for the day after the crash
    expect(fit.conditionalVariance[i]).toBeGreaterThan(3 * fit.longRunVariance);
  });
});
if (!existsSync(DATA)) console.warn(`skipped: real BTC-USD history not found at ${DATA}`);
