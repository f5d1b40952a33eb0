import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auc, brier, mse, qlike } from "../../../../src/core/regime/forecast/scores.js";
import { leastSquares } from "../../../../src/core/regime/forecast/linearModel.js";

/** A few additions and products of doubles ~1 (and a 3x3 / 2x2 solve of well-conditioned systems): rounding only. */
const ROUNDING = 1e-12;
/** QLIKE by hand: two logs and a few additions on ~1. */
const HAND_DIGITS = 12;
/** Brier score of 4 decimal probabilities: squares and a mean of exact-ish decimals. */
const BRIER_DIGITS = 14;

describe("forecast scores", () => {
  it("QLIKE is 0 for a perfect forecast and x - ln x - 1 otherwise", () => {
    expect(qlike([0.25, 0.5], [0.25, 0.5])).toBe(0);
    // v/f = 2 and 0.5: (2 - ln 2 - 1 + 0.5 - ln 0.5 - 1) / 2 = 0.25.
    expect(qlike([0.5, 0.25], [0.25, 0.5])).toBeCloseTo(0.25, HAND_DIGITS);
    expect(() => qlike([0.1], [0])).toThrow(/forecast\[0\]/);
  });

  it("AUC equals the pairwise count of positives above negatives (ties 1/2)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 })), { minLength: 2, maxLength: 40 }),
        (pairs) => {
          const y = pairs.map(([b]) => (b ? 1 : 0));
          const sc = pairs.map(([, s]) => s);
          let wins = 0;
          let count = 0;
          for (let i = 0; i < y.length; i++)
            for (let j = 0; j < y.length; j++)
              if (y[i] === 1 && y[j] === 0) {
                count++;
                wins += (sc[i] as number) > (sc[j] as number) ? 1 : sc[i] === sc[j] ? 0.5 : 0;
              }
          const a = auc(y, sc);
          if (count === 0) expect(a).toBeNaN();
          else expect(Math.abs(a - wins / count)).toBeLessThan(ROUNDING);
        },
      ),
    );
  });

  it("Brier is the mean squared probability error", () => {
    expect(brier([1, 0, 1, 0], [0.9, 0.1, 0.6, 0.2])).toBeCloseTo(
      (0.01 + 0.01 + 0.16 + 0.04) / 4,
      BRIER_DIGITS,
    );
    expect(mse([1, 2], [2, 4])).toBe(2.5);
  });
});

describe("leastSquares (Householder QR)", () => {
  it("recovers exact coefficients and matches the 2-column closed form", () => {
    const x = [
      [1, 0.5, 2],
      [1, 1.5, -1],
      [1, 2.5, 0.3],
      [1, -0.5, 4],
    ];
    const b = [0.3, -2, 1.25];
    const y = x.map((r) => r.reduce((a, v, j) => a + v * (b[j] as number), 0));
    for (const [j, v] of leastSquares(x, y).entries())
      expect(Math.abs(v - (b[j] as number))).toBeLessThan(ROUNDING);
    // Simple regression y = a + c t, closed form c = cov / var.
    const t = [1, 2, 3, 4, 5];
    const yy = [2.1, 3.9, 6.2, 7.8, 10.1];
    const tm = 3;
    const ym = yy.reduce((a, v) => a + v, 0) / 5;
    const c =
      t.reduce((a, v, i) => a + (v - tm) * ((yy[i] as number) - ym), 0) /
      t.reduce((a, v) => a + (v - tm) ** 2, 0);
    const fit = leastSquares(
      t.map((v) => [1, v]),
      yy,
    );
    expect(Math.abs((fit[1] as number) - c)).toBeLessThan(ROUNDING);
    expect(Math.abs((fit[0] as number) - (ym - c * tm))).toBeLessThan(ROUNDING);
  });
});
