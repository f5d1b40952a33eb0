import { describe, expect, it } from "vitest";
import { mean, quantile, stdev, sum, variance } from "../../../src/core/math/stats.js";

/** Named tolerance (issue 25 item 5): a few roundings of O(1) hand values (compensated sums, one division). */
const ROUNDING_TOL = 1e-14;

describe("stats", () => {
  it("compensated sum recovers what naive summation loses", () => {
    const xs = [1e16, 1, -1e16, 1];
    expect(sum(xs)).toBe(2);
    expect(xs.reduce((a, b) => a + b, 0)).not.toBe(2);
  });
  it("mean, variance and stdev match hand values", () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(Math.abs(variance([1, 2, 3, 4]) - 5 / 3)).toBeLessThan(ROUNDING_TOL);
    expect(Math.abs(stdev([2, 4, 4, 4, 5, 5, 7, 9]) - Math.sqrt(32 / 7))).toBeLessThan(ROUNDING_TOL);
  });
  it("quantile is type 7 (numpy default)", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 1, 5], 0)).toBe(1);
    expect(quantile([10, 1, 5], 1)).toBe(10);
    expect(Math.abs(quantile([1, 2, 3, 4, 5], 0.1) - 1.4)).toBeLessThan(ROUNDING_TOL);
  });
  it("propagates NaN instead of skipping it", () => {
    expect(mean([1, Number.NaN])).toBeNaN();
  });
  it("rejects empty input with a typed error naming the field", () => {
    expect(() => mean([])).toThrow(/values/);
    expect(() => quantile([1], 2)).toThrow(/p must be in/);
  });
});
