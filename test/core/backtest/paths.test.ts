import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { calibrateGbm, calibrateMerton } from "../../../src/core/backtest/paths/calibrate.js";
import { simulateGbm } from "../../../src/core/backtest/paths/gbm.js";
import { simulateHeston } from "../../../src/core/backtest/paths/heston.js";
import { mertonKbar, simulateMerton } from "../../../src/core/backtest/paths/merton.js";
import { createRng } from "../../../src/core/math/rng.js";
import { mean, stdev } from "../../../src/core/math/stats.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";
/** Monte Carlo bounds: 4 standard errors (a false failure about 1 in 16,000 seeds; the seeds are fixed). */
const MC_SIGMAS = 4;
/** GBM sample sd of 4000 log returns: +-0.02 around 0.5 is 3.6 standard errors (0.0056). */
const GBM_SD_BAND = 0.02;
/** Merton MLE diffusion vol, averaged over 6 ten-year daily paths: within 0.05 of the truth (was toBeCloseTo(0.5, 1), the same bound; jumps hiding in the diffusion bias it). */
const MERTON_VOL_BAND = 0.05;
/** Heston/Bates MC vs QuantLib: besides sampling (MC_SIGMAS standard errors), the time discretization (100 Euler or 10 QE steps) biases the price by up to ~0.5%. */
const HESTON_STEP_BIAS_REL = 0.005;
/** GBM vol fitted from 7,300 daily returns at 60%: standard error 0.6 / sqrt(2 x 7300) = 0.005; 0.02 is 4 standard errors. */
const GBM_FIT_VOL_BAND = 0.02;
/** Merton diffusion vol (40%) from 20 years of daily prices with ~120 jumps: the jump/diffusion split adds to the 0.003 sampling error; 0.04 (10%) as before (0.36..0.44). */
const MERTON_FIT_VOL_BAND = 0.04;
/** Jump intensity 6/yr over 20 years: standard error sqrt(6 x 20) / 20 = 0.55; the band (6 - 2.5, 6 + 2) as before: 4.5 SE below (small jumps missed), 3.6 SE above. */
const MERTON_LAMBDA_BELOW = 2.5;
const MERTON_LAMBDA_ABOVE = 2;
/** Jump mean -0.12 (sd 0.05, ~120 jumps: se ~0.005): fitted below -0.08 (as before), 8 standard errors of room for the split with the diffusion. */
const MERTON_JUMP_MEAN_BAND = 0.04;
/** Jump intensity averaged over 6 fits: within 2.5 of its standard error (as before; see the comment in the test). */
const LAMBDA_SES = 2.5;
/** Small-jump mean and vol averaged over 6 ten-year paths (~300 jumps of sd 0.08: se ~0.005 each): 0.02 is ~4 standard errors. */
const SMALL_JUMP_BAND = 0.02;
/** BTC's realized vol over its daily history (from 2014): 40%-100% a year, a plausibility range, not a tolerance of a computation. */
const BTC_VOL_MIN = 0.4;
const BTC_VOL_MAX = 1;

const fixture = JSON.parse(
  readFileSync(resolve(__dirname, "../../fixtures/backtest/heston_bates_prices.json"), "utf8"),
) as {
  cases: {
    model: string;
    spot: number;
    strike: number;
    expiry: number;
    price: number;
    v0: number;
    kappa: number;
    theta: number;
    xi: number;
    rho: number;
    lam: number;
    jm: number;
    jv: number;
  }[];
};

/** Monte Carlo call price with its standard error. */
function mcCall(terminal: number[], strike: number): { price: number; se: number } {
  const pay = terminal.map((s) => Math.max(s - strike, 0));
  return { price: mean(pay), se: stdev(pay) / Math.sqrt(pay.length) };
}

describe("path models", () => {
  it("GBM: terminal log-price mean and variance match (mu - s^2/2) T and s^2 T; same seed, same path", () => {
    const rng = createRng(1);
    const x: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const p = simulateGbm({ spot: 100, horizon: 1, steps: 10, drift: 0.1, vol: 0.5 }, rng);
      x.push(Math.log((p.prices[10] as number) / 100));
    }
    // (mu - s^2/2) T = -0.025; the standard error of the mean of 4000 draws is 0.5 / sqrt(4000).
    expect(Math.abs(mean(x) - (0.1 - 0.125))).toBeLessThan(MC_SIGMAS * (0.5 / Math.sqrt(4000)));
    // The sample sd's standard error is 0.5 / sqrt(2 x 4000) = 0.0056: +-0.02 is 3.6 of them.
    expect(stdev(x)).toBeGreaterThan(0.5 - GBM_SD_BAND);
    expect(stdev(x)).toBeLessThan(0.5 + GBM_SD_BAND);
    const a = simulateGbm({ spot: 100, horizon: 1, steps: 5, drift: 0, vol: 0.5 }, createRng(3));
    const b = simulateGbm({ spot: 100, horizon: 1, steps: 5, drift: 0, vol: 0.5 }, createRng(3));
    expect(Array.from(a.prices)).toEqual(Array.from(b.prices));
  });

  it("Merton: MC call matches Merton's (1976) series formula within 4 standard errors", () => {
    const p = { drift: 0, vol: 0.4, jumpIntensity: 2, jumpMean: -0.1, jumpVol: 0.15 };
    const T = 0.5;
    const S = 100;
    const K = 100;
    const k = mertonKbar(p);
    const lp = p.jumpIntensity * (1 + k);
    let ref = 0;
    let w = Math.exp(-lp * T);
    for (let n = 0; n < 60; n++) {
      if (n > 0) w *= (lp * T) / n;
      const vn = Math.sqrt(p.vol ** 2 + (n * p.jumpVol ** 2) / T);
      const rn = -p.jumpIntensity * k + (n * Math.log(1 + k)) / T;
      ref +=
        w *
        blackPrice({
          forward: S * Math.exp(rn * T),
          strike: K,
          expiry: T,
          vol: vn,
          kind: "call",
          discount: Math.exp(-rn * T),
        });
    }
    const rng = createRng(5);
    const term: number[] = [];
    for (let i = 0; i < 40_000; i++)
      term.push(simulateMerton({ spot: S, horizon: T, steps: 1, ...p }, rng).prices[1] as number);
    const mc = mcCall(term, K);
    expect(Math.abs(mc.price - ref)).toBeLessThan(MC_SIGMAS * mc.se);
    expect(Math.abs(mean(term) - S)).toBeLessThan(MC_SIGMAS * (stdev(term) / Math.sqrt(term.length)));
  });

  for (const c of fixture.cases) {
    it(`${c.model} K=${c.strike}: MC (full-truncation Euler) matches QuantLib within 4 SE + 0.5% bias`, () => {
      const rng = createRng(17);
      const term: number[] = [];
      for (let i = 0; i < 12_000; i++) {
        const path = simulateHeston(
          {
            spot: c.spot,
            horizon: c.expiry,
            steps: 100,
            drift: 0,
            v0: c.v0,
            kappa: c.kappa,
            theta: c.theta,
            xi: c.xi,
            rho: c.rho,
            jumpIntensity: c.lam,
            jumpMean: c.jm,
            jumpVol: c.jv,
          },
          rng,
        );
        term.push(path.prices[100] as number);
      }
      const mc = mcCall(term, c.strike);
      expect(Math.abs(mc.price - c.price)).toBeLessThan(MC_SIGMAS * mc.se + HESTON_STEP_BIAS_REL * c.price);
    });
  }

  for (const c of fixture.cases) {
    it(`${c.model} K=${c.strike}: MC with Andersen QE and only 10 steps matches QuantLib within 4 SE + 0.5%`, () => {
      const rng = createRng(23);
      const term: number[] = [];
      for (let i = 0; i < 12_000; i++) {
        const path = simulateHeston(
          {
            spot: c.spot,
            horizon: c.expiry,
            steps: 10,
            drift: 0,
            v0: c.v0,
            kappa: c.kappa,
            theta: c.theta,
            xi: c.xi,
            rho: c.rho,
            jumpIntensity: c.lam,
            jumpMean: c.jm,
            jumpVol: c.jv,
            scheme: "qe",
          },
          rng,
        );
        term.push(path.prices[10] as number);
      }
      const mc = mcCall(term, c.strike);
      expect(Math.abs(mc.price - c.price)).toBeLessThan(MC_SIGMAS * mc.se + HESTON_STEP_BIAS_REL * c.price);
    });
  }

  it("rejects a bad correlation naming the field", () => {
    expect(() =>
      simulateHeston(
        { spot: 1, horizon: 1, steps: 1, drift: 0, v0: 0.1, kappa: 1, theta: 0.1, xi: 0.1, rho: 2 },
        createRng(1),
      ),
    ).toThrow(/rho/);
  });
});

describe("calibration", () => {
  it("recovers GBM and Merton parameters from simulated daily prices", () => {
    const g = simulateGbm({ spot: 100, horizon: 20, steps: 7300, drift: 0.2, vol: 0.6 }, createRng(2));
    const cg = calibrateGbm(g.prices);
    expect(Math.abs(cg.vol - 0.6)).toBeLessThan(GBM_FIT_VOL_BAND);
    const truth = { drift: 0.1, vol: 0.4, jumpIntensity: 6, jumpMean: -0.12, jumpVol: 0.05 };
    const m = simulateMerton({ spot: 100, horizon: 20, steps: 7300, ...truth }, createRng(4));
    const cm = calibrateMerton(m.prices);
    expect(cm.jumpCount + 0).toBeGreaterThan(0);
    expect(Math.abs(cm.vol - truth.vol)).toBeLessThan(MERTON_FIT_VOL_BAND);
    expect(cm.jumpIntensity).toBeGreaterThan(truth.jumpIntensity - MERTON_LAMBDA_BELOW);
    expect(cm.jumpIntensity).toBeLessThan(truth.jumpIntensity + MERTON_LAMBDA_ABOVE);
    expect(cm.jumpMean).toBeLessThan(truth.jumpMean + MERTON_JUMP_MEAN_BAND);
    expect(cm.observations).toBe(7300);
  });

  // Issue 24 item 5: the threshold moments fitted lambda 5 as about 1.9 when jumps are small next
  // to the daily diffusion (N(-5%, 8%) jumps at 50% vol: most hide inside 4 robust sds). The
  // likelihood fit must be unbiased: averaged over seeded 10-year daily paths, each parameter
  // is within ~2.5 standard errors of the truth (se of lambda-hat ~ sqrt(lambda T)/T per path).
  it("recovers small-jump Merton parameters without the threshold method's bias (6 seeded paths)", () => {
    const truth = { drift: 0, vol: 0.5, jumpIntensity: 5, jumpMean: -0.05, jumpVol: 0.08 };
    const fits = [1, 2, 3, 4, 5, 6].map((seed) =>
      calibrateMerton(
        simulateMerton({ spot: 100, horizon: 10, steps: 3650, ...truth }, createRng(seed)).prices,
      ),
    );
    const avg = (f: (c: (typeof fits)[number]) => number) => fits.reduce((a, c) => a + f(c), 0) / fits.length;
    const lambdaSe = Math.sqrt(truth.jumpIntensity * 10) / 10 / Math.sqrt(fits.length);
    expect(Math.abs(avg((c) => c.jumpIntensity) - truth.jumpIntensity)).toBeLessThan(LAMBDA_SES * lambdaSe);
    expect(Math.abs(avg((c) => c.vol) - truth.vol)).toBeLessThan(MERTON_VOL_BAND);
    expect(Math.abs(avg((c) => c.jumpMean) - truth.jumpMean)).toBeLessThan(SMALL_JUMP_BAND);
    expect(Math.abs(avg((c) => c.jumpVol) - truth.jumpVol)).toBeLessThan(SMALL_JUMP_BAND);
    for (const c of fits) expect(c.method).toBe("mle");
  });

  const file = resolve(__dirname, "../../../..", "shared/data/prices/BTC-USD_daily.csv");
  describe.skipIf(!existsSync(file))("on BTC-USD daily closes", () => {
    if (!existsSync(file)) console.warn(`skipped: ${file} not found`);
    it("gives a plausible BTC vol (40%-100%) and some jumps", () => {
      const closes = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => Number(l.split(",")[4]))
        .filter((x) => x > 0);
      const g = calibrateGbm(closes);
      expect(g.vol).toBeGreaterThan(BTC_VOL_MIN);
      expect(g.vol).toBeLessThan(BTC_VOL_MAX);
      const m = calibrateMerton(closes);
      expect(m.jumpCount).toBeGreaterThan(0);
      expect(m.vol).toBeLessThan(g.vol);
    });
  });
});
