import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { createRng } from "../../../src/core/math/rng.js";
import { fitHmm } from "../../../src/core/regime/hmm.js";
import { syntheticDailyBars } from "../../../src/core/regime/syntheticBars.js";

const START = Date.UTC(2023, 0, 1);
/** The sampling error of a std over n >= 700 draws is ~2.7%: 10% relative is ~4 standard errors. */
const STD_SAMPLING_REL = 0.1;

function std(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

describe("syntheticDailyBars", () => {
  const { bars, regimes } = syntheticDailyBars({ days: 4000, start: START, spot: 100_000 }, createRng(3));
  const returns = bars.map((b, i) =>
    Math.log(b.close / (i === 0 ? 100_000 : (bars[i - 1]?.close as number))),
  );

  it("is deterministic for a seed, dated day by day, with consistent OHLC", () => {
    const again = syntheticDailyBars({ days: 4000, start: START, spot: 100_000 }, createRng(3));
    expect(again.bars).toEqual(bars);
    expect(bars[0]?.date).toBe("2023-01-01");
    expect(bars[31]?.date).toBe("2023-02-01");
    expect(bars[0]?.open).toBe(100_000);
    for (const [i, b] of bars.entries()) {
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      if (i > 0) expect(b.open).toBe(bars[i - 1]?.close);
    }
  });

  it("daily returns have each regime's vol and the regimes persist as configured", () => {
    const calm = returns.filter((_, i) => regimes[i] === 0);
    const stressed = returns.filter((_, i) => regimes[i] === 1);
    // annualised with 365 days
    expect(std(calm) * Math.sqrt(365)).toBeGreaterThan(0.45 * (1 - STD_SAMPLING_REL));
    expect(std(calm) * Math.sqrt(365)).toBeLessThan(0.45 * (1 + STD_SAMPLING_REL));
    expect(std(stressed) * Math.sqrt(365)).toBeGreaterThan(1.0 * (1 - STD_SAMPLING_REL));
    expect(std(stressed) * Math.sqrt(365)).toBeLessThan(1.0 * (1 + STD_SAMPLING_REL));
    // stationary share of the stressed regime (1 - 0.985) / (2 - 0.985 - 0.94) = 0.2
    expect(stressed.length / returns.length).toBeGreaterThan(0.12);
    expect(stressed.length / returns.length).toBeLessThan(0.3);
    let switches = 0;
    for (let i = 1; i < regimes.length; i++) if (regimes[i] !== regimes[i - 1]) switches++;
    // expected switches per day: 2 x 0.8 x 0.015 = 0.024
    expect(switches / regimes.length).toBeGreaterThan(0.015);
    expect(switches / regimes.length).toBeLessThan(0.035);
  });

  it("an HMM fitted to the returns finds the two regimes (Viterbi agrees on > 85% of days)", () => {
    const fit = fitHmm(returns, { states: 2, maxIterations: 300 });
    const hits = fit.viterbi.filter((s, t) => s === regimes[t]).length;
    expect(hits / regimes.length).toBeGreaterThan(0.85);
    expect((fit.params.stdevs[1] as number) / (fit.params.stdevs[0] as number)).toBeGreaterThan(1.7);
  });

  it("rejects bad input naming the field", () => {
    expect(() => syntheticDailyBars({ days: 0, start: START, spot: 1 }, createRng(1))).toThrow(
      InvalidInputError,
    );
    expect(() => syntheticDailyBars({ days: 10, start: START, spot: -1 }, createRng(1))).toThrow(/spot/);
    expect(() =>
      syntheticDailyBars({ days: 10, start: START, spot: 1, stay: [1.2, 0.9] }, createRng(1)),
    ).toThrow(/stay\[0\]/);
  });
});
