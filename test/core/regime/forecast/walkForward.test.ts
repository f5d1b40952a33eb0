/**
 * Walk-forward volatility forecasts (issue 24 item 1): no look-ahead (truncating the future
 * changes no forecast), and on a regime-switching market with persistent volatility the HAR
 * and GARCH forecasts beat the random-walk (naive) forecast out of sample, as they should.
 */
import { describe, expect, it } from "vitest";
import { scoreForecasts, walkForwardForecasts } from "../../../../src/core/regime/forecast/walkForward.js";
import { createRng } from "../../../../src/core/math/rng.js";
import { syntheticDailyBars } from "../../../../src/core/regime/syntheticBars.js";

const market = syntheticDailyBars({ days: 1300, start: Date.UTC(2020, 0, 1), spot: 30_000 }, createRng(11));
const bars = market.bars;
const options = { minTraining: 500, refitEvery: 120, rounds: 40 };

describe("walk-forward forecasts", () => {
  const full = walkForwardForecasts(bars, undefined, options);

  it("never looks ahead: forecasts on a truncated history equal the full run's, day by day", () => {
    const cut = walkForwardForecasts(bars.slice(0, 1000), undefined, options);
    expect(cut.days.length).toBe(1000 - 500);
    for (const d of cut.days) {
      const same = full.days.find((f) => f.index === d.index);
      expect(same?.variance).toEqual(d.variance);
      expect(same?.event).toEqual(d.event);
    }
  });

  it("HAR and GARCH beat the naive forecast in QLIKE on a persistent-volatility market", () => {
    const scores = scoreForecasts(full.days);
    const by = Object.fromEntries(scores.variance.map((v) => [v.model, v]));
    expect(scores.days).toBeGreaterThan(700);
    expect(by.har?.qlikeVsNaive).toBeLessThan(1);
    expect(by.garch?.qlikeVsNaive).toBeLessThan(1);
    expect(by.implied?.days).toBe(0); // no implied series given
    for (const e of scores.event) expect(e.brier).toBeGreaterThanOrEqual(0);
  });

  it("rejects a history too short for the warm-up and training", () => {
    expect(() => walkForwardForecasts(bars.slice(0, 400), undefined, options)).toThrow(/bars.length/);
  });
});
