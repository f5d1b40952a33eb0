import { describe, expect, it } from "vitest";
import { gbdtPredict, trainGbdt } from "../../../../src/core/regime/forecast/gbdt.js";
import { createRng } from "../../../../src/core/math/rng.js";

/** 200 boosted trees on 600 points: the step at 0.5 is learned to the split grid's resolution and the slope by piecewise constants, out-of-sample RMSE well under 15% of the target's std. */
const RMSE_SHARE_MAX = 0.15;

describe("gradient-boosted trees", () => {
  const rng = createRng(7);
  const x = Array.from({ length: 600 }, () => [rng.uniform(), rng.uniform(), rng.uniform()]);

  it("fits a step-plus-slope regression well out of sample and is deterministic", () => {
    const f = (r: number[]) => ((r[0] as number) > 0.5 ? 2 : 0) + (r[1] as number);
    const model = trainGbdt(x, x.map(f), { loss: "squared", rounds: 200, seed: 3 });
    const test = Array.from({ length: 200 }, () => [rng.uniform(), rng.uniform(), rng.uniform()]);
    const rmse = Math.sqrt(test.reduce((a, r) => a + (gbdtPredict(model, r) - f(r)) ** 2, 0) / test.length);
    const spread = 1.05; // std of f over the unit cube: sqrt(1 + 1/12)
    expect(rmse).toBeLessThan(RMSE_SHARE_MAX * spread);
    const again = trainGbdt(x, x.map(f), { loss: "squared", rounds: 200, seed: 3 });
    expect(gbdtPredict(again, [0.7, 0.2, 0.9])).toBe(gbdtPredict(model, [0.7, 0.2, 0.9]));
  });

  it("gives calibrated-looking probabilities for a logistic event and handles missing features", () => {
    const y = x.map((r) => ((r[2] as number) > 0.7 ? 1 : 0));
    const withMissing = x.map((r, i) => (i % 5 === 0 ? [r[0] as number, Number.NaN, r[2] as number] : r));
    const model = trainGbdt(withMissing, y, { loss: "logistic", rounds: 150 });
    expect(gbdtPredict(model, [0.5, 0.5, 0.95])).toBeGreaterThan(0.8);
    expect(gbdtPredict(model, [0.5, Number.NaN, 0.1])).toBeLessThan(0.2);
    expect(() =>
      trainGbdt(
        x,
        y.map(() => 2),
        { loss: "logistic" },
      ),
    ).toThrow(/y\[0\]/);
  });
});
