import { describe, expect, it } from "vitest";
import { garchJumpPath } from "../../../src/core/market/paths.js";

/** Sample lag-1 autocorrelation of squared GARCH shocks: fat fourth moments make its standard error several times 1/sqrt(N); 1 digit = 0.05 absolute. */
const ACF_DIGITS = 1;
/** Sample variance of the shocks vs longRunVol^2 dt: +-7% covers the slow GARCH mixing over the path. */
const VARIANCE_BAND = 0.07;
/** Lag-1 autocorrelation of squared iid shocks over 50,000 steps: sd ~ 1/sqrt(N) = 0.0045; 0.02 is ~4.5 sd. */
const IID_ACF_ABS = 0.02;
/** Mean log jump over ~400 jumps: standard error ~ jump sd / 20; 1 digit = 0.05 absolute. */
const JUMP_MEAN_DIGITS = 1;
/** Jump count over 100 years at 4 a year: Poisson(400), sd 20; 3 sd. */
const POISSON_SIGMAS = 3;
/** E[S_T] = S_0 over 4,000 paths: within 4 standard errors. */
const MC_MEAN_SIGMAS = 4;

const DAY = 1 / 365;

/** Diffusive innovations e_t recovered from the path (log return minus drift and jumps). */
function innovations(p: ReturnType<typeof garchJumpPath>, dt: number, lambdaKbarDt: number): number[] {
  const jump = new Map(p.jumps.map((j) => [j.step, j.logJump]));
  const out: number[] = [];
  for (let t = 0; t < p.vols.length; t++) {
    const h = (p.vols[t] as number) ** 2 * dt;
    out.push(
      Math.log((p.prices[t + 1] as number) / (p.prices[t] as number)) +
        0.5 * h +
        lambdaKbarDt -
        (jump.get(t) ?? 0),
    );
  }
  return out;
}

function acf1(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    den += ((xs[i] as number) - m) ** 2;
    if (i > 0) num += ((xs[i] as number) - m) * ((xs[i - 1] as number) - m);
  }
  return num / den;
}

describe("garchJumpPath", () => {
  it("is deterministic for a seed and validates its input", () => {
    const a = garchJumpPath({ spot: 90_000, steps: 100, stepYears: DAY, seed: 4 });
    expect(garchJumpPath({ spot: 90_000, steps: 100, stepYears: DAY, seed: 4 })).toEqual(a);
    expect(garchJumpPath({ spot: 90_000, steps: 100, stepYears: DAY, seed: 5 }).prices).not.toEqual(a.prices);
    expect(() =>
      garchJumpPath({ spot: 1, steps: 10, stepYears: DAY, seed: 1, alpha: 0.2, beta: 0.8 }),
    ).toThrow(/alpha \+ beta/);
    expect(() => garchJumpPath({ spot: -1, steps: 10, stepYears: DAY, seed: 1 })).toThrow(/spot/);
  });

  it("clusters volatility: squared innovations have the GARCH(1,1) lag-1 autocorrelation (Bollerslev 1988)", () => {
    const alpha = 0.08;
    const beta = 0.85;
    const p = garchJumpPath({
      spot: 100,
      steps: 200_000,
      stepYears: DAY,
      seed: 11,
      alpha,
      beta,
      jumpsPerYear: 0,
      longRunVol: 0.6,
    });
    const e = innovations(p, DAY, 0);
    // rho_1 = alpha (1 - alpha beta - beta^2) / (1 - 2 alpha beta - beta^2) for normal shocks.
    const rho1 = (alpha * (1 - alpha * beta - beta * beta)) / (1 - 2 * alpha * beta - beta * beta);
    expect(acf1(e.map((x) => x * x))).toBeCloseTo(rho1, ACF_DIGITS);
    // Unconditional variance longRunVol^2 dt.
    const v = e.reduce((s, x) => s + x * x, 0) / e.length;
    expect(v / (0.36 * DAY)).toBeGreaterThan(1 - VARIANCE_BAND);
    expect(v / (0.36 * DAY)).toBeLessThan(1 + VARIANCE_BAND);
    // Without ARCH (alpha = 0, beta = 0) there is no clustering.
    const flat = garchJumpPath({
      spot: 100,
      steps: 50_000,
      stepYears: DAY,
      seed: 12,
      alpha: 0,
      beta: 0,
      jumpsPerYear: 0,
    });
    expect(Math.abs(acf1(innovations(flat, DAY, 0).map((x) => x * x)))).toBeLessThan(IID_ACF_ABS);
  });

  it("jumps arrive at the Poisson rate and the price is a martingale", () => {
    const years = 100;
    const p = garchJumpPath({ spot: 100, steps: years * 365, stepYears: DAY, seed: 21, jumpsPerYear: 4 });
    expect(Math.abs(p.jumps.length - 400)).toBeLessThan(POISSON_SIGMAS * Math.sqrt(400));
    const meanJump = p.jumps.reduce((s, j) => s + j.logJump, 0) / p.jumps.length;
    expect(meanJump).toBeCloseTo(-0.04, JUMP_MEAN_DIGITS);
    // E[S_T] = S_0 over 4000 paths of 30 days: within 4 standard errors.
    const finals: number[] = [];
    for (let s = 0; s < 4000; s++) {
      const q = garchJumpPath({ spot: 100, steps: 30, stepYears: DAY, seed: 1000 + s, jumpsPerYear: 20 });
      finals.push(q.prices[30] as number);
    }
    const m = finals.reduce((a, b) => a + b, 0) / finals.length;
    const sd = Math.sqrt(finals.reduce((a, b) => a + (b - m) ** 2, 0) / (finals.length - 1));
    expect(Math.abs(m - 100)).toBeLessThan((MC_MEAN_SIGMAS * sd) / Math.sqrt(finals.length));
  });
});
