/**
 * The online forecast tracker (for the agent) gives, day by day, the same forecasts as the batch
 * walk-forward: same refit schedule, fits and features, data up to each day only.
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../../../../src/core/math/rng.js";
import { ForecastTracker } from "../../../../src/core/regime/forecast/online.js";
import { walkForwardForecasts } from "../../../../src/core/regime/forecast/walkForward.js";
import { syntheticDailyBars } from "../../../../src/core/regime/syntheticBars.js";

describe("ForecastTracker", () => {
  it("equals the batch walk-forward on every forecast day, with unknown targets", () => {
    const bars = syntheticDailyBars(
      { days: 640, start: Date.UTC(2021, 0, 1), spot: 40_000 },
      createRng(21),
    ).bars;
    const options = { minTraining: 400, refitEvery: 90, rounds: 20 };
    const batch = walkForwardForecasts(bars, undefined, options);
    const tracker = new ForecastTracker(options);
    const online = bars.map((b) => tracker.addDay(b));
    expect(online.slice(0, 400).every((d) => d === null)).toBe(true);
    expect(batch.days.length).toBe(240);
    for (const d of batch.days) {
      const o = online[d.index];
      expect(o?.variance).toEqual(d.variance);
      expect(o?.event).toEqual(d.event);
      expect(o?.realizedVariance).toBeNaN();
    }
    expect(tracker.days).toBe(640);
  });
});
