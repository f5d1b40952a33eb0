import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/math/rng.js";
import { fitHmm, type HmmParams, hmmForwardBackward, simulateHmm } from "../../../src/core/regime/hmm.js";
import { shortVolExposureSignal } from "../../../src/core/regime/signals.js";

/** EM on 4,000 simulated days (seed 5): each state's stdev is estimated from ~1,000-3,000 days, standard error ~2-3% of 0.02/0.06; 2 digits (|err| < 0.005). */
const STATE_VOL_DIGITS = 2;

/** Staying probabilities are estimated from ~40-80 regime switches: standard error ~0.01-0.02; 1 digit (|err| < 0.05). */
const TRANSITION_DIGITS = 1;

/** Forward-backward normalizes each row: the sum of 2 probabilities is 1 to an ulp or two. */
const PROBABILITY_SUM_DIGITS = 12;

/** Filtering the first 2,000 days alone repeats the same recursion with the same parameters: identical operations, rounding only. */
const CAUSAL_DIGITS = 12;

/** Linear ramp between 0.1 and 0.9 at 0.55: (0.9 - 0.55) / 0.8 rounds once. */
const LINEAR_SCALE_DIGITS = 12;

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

describe("short-vol signal", () => {
  it("is 1 when calm, 0 when stressed, linear between, 0 with a negative premium", () => {
    expect(shortVolExposureSignal({ highVolProbability: 0.1 }).scale).toBe(1);
    expect(shortVolExposureSignal({ highVolProbability: 0.9 }).scale).toBe(0);
    expect(shortVolExposureSignal({ highVolProbability: 0.55 }).scale).toBeCloseTo(0.5, LINEAR_SCALE_DIGITS);
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
