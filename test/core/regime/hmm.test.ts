import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/math/rng.js";
import {
  fitHmm,
  type HmmParams,
  hmmForwardBackward,
  hmmViterbi,
  simulateHmm,
} from "../../../src/core/regime/hmm.js";
import { shortVolExposureSignal } from "../../../src/core/regime/signals.js";

/** EM on 4,000 simulated days (seed 5): each state's stdev is estimated from ~1,000-3,000 days, standard error ~2-3% of 0.02/0.06; 2 digits (|err| < 0.005). */
const STATE_VOL_DIGITS = 2;

/** Staying probabilities are estimated from ~40-80 regime switches: standard error ~0.01-0.02; 1 digit (|err| < 0.05). */
const TRANSITION_DIGITS = 1;

/** Forward-backward normalizes each row: the sum of 2 probabilities is 1 to an ulp or two. */
const PROBABILITY_SUM_DIGITS = 12;

/** Filtering the first 2,000 days alone repeats the same recursion with the same parameters: identical operations, rounding only. */
const CAUSAL_DIGITS = 12;

/**
 * Brute force over all K^n state paths (3^7 = 2,187 paths of products of 14 factors) vs the scaled
 * recursions: both sum the same positive terms in a different order, so they agree to rounding
 * (measured between 2e-15 and 1e-14 relative); 1e-12 leaves room and is far below any wrong index
 * (a transposed transition or a beta using b at t instead of t + 1 moves the figures by > 1e-3).
 */
const BRUTE_FORCE_REL = 1e-12;

/** The ramp's linearity: three evaluations of an affine map in double differ from exact by a few ulps of 1. */
const RAMP_LINEAR_ABS = 1e-12;

const DATA = resolve(__dirname, "../../../../shared/data/prices/BTC-USD_daily.csv");

describe("Gaussian HMM", () => {
  const truth: HmmParams = {
    initial: [0.5, 0.5],
    transition: [
      [0.98, 0.02],
      [0.05, 0.95],
    ],
    means: [0.001, -0.002],
    stdevs: [0.02, 0.06],
  };
  const sim = simulateHmm(truth, 4000, createRng(5));
  const fit = fitHmm(sim.returns, { states: 2 });

  it("recovers state vols and transition probabilities", () => {
    expect(fit.params.stdevs[0]).toBeCloseTo(0.02, STATE_VOL_DIGITS);
    expect(fit.params.stdevs[1]).toBeCloseTo(0.06, STATE_VOL_DIGITS);
    expect(fit.params.transition[0]?.[0]).toBeCloseTo(0.98, TRANSITION_DIGITS);
    expect(fit.params.transition[1]?.[1]).toBeCloseTo(0.95, TRANSITION_DIGITS);
  });

  it("Viterbi decodes the true states > 90% of the time", () => {
    const hits = fit.viterbi.filter((s, t) => s === sim.states[t]).length;
    expect(hits / sim.states.length).toBeGreaterThan(0.9);
  });

  it("probabilities are distributions and EM does not decrease the likelihood", () => {
    for (const row of [...fit.smoothed, ...fit.filtered]) {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, PROBABILITY_SUM_DIGITS);
    }
    expect(fit.logLikelihood).toBeGreaterThan(hmmForwardBackward(sim.returns, truth).logLikelihood - 5);
  });

  it("filtered probabilities use no future data", () => {
    const cut = 2000;
    const partial = hmmForwardBackward(sim.returns.slice(0, cut), fit.params).filtered;
    expect(partial[cut - 1]?.[1]).toBeCloseTo(fit.filtered[cut - 1]?.[1] as number, CAUSAL_DIGITS);
  });

  it("three states are ordered calm to stressed", () => {
    const fit3 = fitHmm(sim.returns, { states: 3, maxIterations: 200 });
    const s = fit3.params.stdevs;
    expect((s[0] as number) <= (s[1] as number) && (s[1] as number) <= (s[2] as number)).toBe(true);
  });

  it("rejects bad state counts", () => {
    expect(() => fitHmm(sim.returns, { states: 1 })).toThrow(/states/);
  });
});

/**
 * Independent reference for the forward-backward pass: enumerate every state path s_0..s_{n-1},
 * weight it by pi(s_0) b(s_0, x_0) prod A(s_{t-1}, s_t) b(s_t, x_t) (the model's definition), and
 * read the likelihood, the filtered and smoothed marginals, the expected transition counts and the
 * most likely path off the sums. No recursion, no scaling: a different computation of the same law.
 */
function bruteForce(x: readonly number[], p: HmmParams) {
  const K = p.initial.length;
  const n = x.length;
  const dens = (v: number, k: number) => {
    const sd = p.stdevs[k] ?? Number.NaN;
    const z = (v - (p.means[k] ?? Number.NaN)) / sd;
    return Math.exp(-0.5 * z * z) / (sd * Math.sqrt(2 * Math.PI));
  };
  const trans = (i: number, j: number) => p.transition[i]?.[j] ?? Number.NaN;
  const zeros = (rows: number, cols: number) =>
    Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  // prefix[t][k] = P(x_0..x_t, s_t = k): summed over the paths, counted once per distinct prefix.
  const prefix = zeros(n, K);
  const marginal = zeros(n, K);
  const counts = zeros(K, K);
  let total = 0;
  let best = { weight: -1, path: [] as number[] };
  for (let code = 0; code < K ** n; code++) {
    const path = Array.from({ length: n }, (_, t) => Math.floor(code / K ** t) % K);
    let w = 1;
    for (const [t, k] of path.entries()) {
      w *=
        (t === 0 ? (p.initial[k] ?? Number.NaN) : trans(path[t - 1] ?? 0, k)) * dens(x[t] ?? Number.NaN, k);
      // Each prefix (s_0..s_t) is reached by K^(n-1-t) full paths; count it on the one whose tail is all 0.
      if (path.slice(t + 1).every((s) => s === 0))
        (prefix[t] as number[])[k] = ((prefix[t] as number[])[k] ?? 0) + w;
    }
    total += w;
    for (const [t, k] of path.entries())
      (marginal[t] as number[])[k] = ((marginal[t] as number[])[k] ?? 0) + w;
    for (let t = 1; t < n; t++) {
      const row = counts[path[t - 1] ?? 0] as number[];
      row[path[t] ?? 0] = (row[path[t] ?? 0] ?? 0) + w;
    }
    if (w > best.weight) best = { weight: w, path };
  }
  const normalize = (row: number[]) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / s);
  };
  return {
    logLikelihood: Math.log(total),
    filtered: prefix.map(normalize),
    smoothed: marginal.map((r) => r.map((v) => v / total)),
    xi: counts.map((r) => r.map((v) => v / total)),
    viterbi: best.path,
  };
}

describe("forward-backward against brute force over all state paths", () => {
  const three: HmmParams = {
    initial: [0.5, 0.3, 0.2],
    transition: [
      [0.8, 0.15, 0.05],
      [0.2, 0.7, 0.1],
      [0.1, 0.3, 0.6],
    ],
    means: [0.002, 0, -0.01],
    stdevs: [0.01, 0.03, 0.08],
  };
  const x = [0.004, -0.05, 0.02, -0.12, 0.01, 0.003, -0.02];
  const want = bruteForce(x, three);
  const got = hmmForwardBackward(x, three);
  const close = (a: number, b: number) => Math.abs(a - b) <= BRUTE_FORCE_REL * Math.max(Math.abs(b), 1e-3);

  it("log-likelihood, filtered and smoothed probabilities, expected transitions", () => {
    expect(
      close(got.logLikelihood, want.logLikelihood),
      `${got.logLikelihood} vs ${want.logLikelihood}`,
    ).toBe(true);
    for (const [name, g, w] of [
      ["filtered", got.filtered, want.filtered],
      ["smoothed", got.smoothed, want.smoothed],
      ["xi", got.xi, want.xi],
    ] as const)
      for (const [t, row] of w.entries())
        for (const [k, v] of row.entries())
          expect(close(g[t]?.[k] ?? Number.NaN, v), `${name}[${t}][${k}]`).toBe(true);
  });

  it("Viterbi returns the path of largest joint probability", () => {
    expect(hmmViterbi(x, three)).toEqual(want.viterbi);
    // The example is not trivial: the best path visits all three states.
    expect(new Set(want.viterbi).size).toBe(3);
  });
});

describe("short-vol signal", () => {
  const scale = (p: number) => shortVolExposureSignal({ highVolProbability: p }).scale;
  it("is 1 when calm, 0 when stressed, linear between, 0 with a negative premium", () => {
    // Documented defaults: full exposure at and below P = 0.3, none at and above 0.8.
    for (const p of [0, 0.1, 0.3]) expect(scale(p)).toBe(1);
    for (const p of [0.8, 0.9, 1]) expect(scale(p)).toBe(0);
    // Continuous at both kinks, and affine between them (the midpoint of any two inner points maps
    // to the mean of their images), strictly decreasing: a property of the ramp, not its formula.
    expect(1 - scale(0.3 + 1e-9)).toBeLessThan(1e-6);
    expect(scale(0.8 - 1e-9)).toBeLessThan(1e-6);
    fc.assert(
      fc.property(
        fc.double({ min: 0.3, max: 0.8, noNaN: true }),
        fc.double({ min: 0.3, max: 0.8, noNaN: true }),
        (a, b) => {
          const mid = scale((a + b) / 2);
          expect(Math.abs(mid - (scale(a) + scale(b)) / 2)).toBeLessThan(RAMP_LINEAR_ABS);
          if (a < b) expect(scale(a)).toBeGreaterThan(scale(b));
        },
      ),
    );
    expect(shortVolExposureSignal({ highVolProbability: 0.1, varianceRiskPremium: -0.01 }).scale).toBe(0);
    expect(() => shortVolExposureSignal({ highVolProbability: 2 })).toThrow(/highVolProbability/);
  });
});

describe.skipIf(!existsSync(DATA))("HMM on the real BTC-USD history (../shared/data)", () => {
  it("puts the March 2020 crash in the high-vol regime", () => {
    const rows = readFileSync(DATA, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    const good = rows.filter((r) => Number(r[4]) > 0);
    const closes = good.map((r) => Number(r[4]));
    const dates = good.map((r) => r[0] as string);
    const returns = closes.slice(1).map((c, i) => Math.log(c / (closes[i] as number)));
    const fit = fitHmm(returns, { states: 2 });
    const i = dates.indexOf("2020-03-12") - 1;
    expect(fit.smoothed[i]?.[1]).toBeGreaterThan(0.9);
    expect(fit.params.stdevs[1] as number).toBeGreaterThan(1.5 * (fit.params.stdevs[0] as number));
  });
});
