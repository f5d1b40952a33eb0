import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/math/rng.js";
import { simulateHmm } from "../../../src/core/regime/hmm.js";
import { realizedVol } from "../../../src/core/regime/realizedVol.js";
import { regimeReport } from "../../../src/core/regime/report.js";

describe("regime report", () => {
  // Calm then stressed: 600 calm days, then 60 days at 4x the vol.
  const rng = createRng(21);
  const calm = simulateHmm(
    {
      initial: [1, 0],
      transition: [
        [1, 0],
        [0, 1],
      ],
      means: [0, 0],
      stdevs: [0.02, 0.08],
    },
    600,
    rng,
  );
  const storm = simulateHmm(
    {
      initial: [0, 1],
      transition: [
        [1, 0],
        [0, 1],
      ],
      means: [0, 0],
      stdevs: [0.02, 0.08],
    },
    60,
    rng,
  );
  const returns = [...calm.returns, ...storm.returns];
  let close = 100;
  const bars = returns.map((r, i) => {
    const open = close;
    close = open * Math.exp(r);
    const date = new Date(Date.UTC(2022, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    return { date, open, close, high: Math.max(open, close), low: Math.min(open, close) };
  });

  it("flags the stressed regime at the end and cuts short-vol exposure", () => {
    const report = regimeReport(bars, { window: 30 });
    expect(report.hmm.highVolProbability).toBeGreaterThan(0.9);
    expect(report.signal.scale).toBe(0);
    expect(report.realizedVol["close-to-close"]).toBeCloseTo(
      realizedVol(bars.slice(-31), "close-to-close"),
      14,
    );
    expect(report.series).toHaveLength(bars.length - 1);
    expect(report.series[100]?.highVolProbability).toBeLessThan(0.2);
  });

  it("computes the variance risk premium from the given implied vol", () => {
    const report = regimeReport(bars, { impliedVol: 2 });
    const rv = report.realizedVol["close-to-close"];
    expect(report.varianceRiskPremium?.variance).toBeCloseTo(4 - rv * rv, 12);
  });

  it("refuses too short a history, naming the field", () => {
    expect(() => regimeReport(bars.slice(0, 50))).toThrow(/bars.length/);
  });
});
