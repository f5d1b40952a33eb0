import { describe, expect, it } from "vitest";
import { drawdownSeries, performanceMetrics } from "../../../src/core/backtest/metrics.js";
import * as pkg from "../../../src/index.js";

/** Drawdowns x / peak - 1 of integer equities: one division and one subtraction, 16 digits. (was 15; tightened, passes at 16). */
const DRAWDOWN_DIGITS = 16;

describe("drawdownSeries", () => {
  it("matches a hand-computed series", () => {
    // peaks: 100, 110, 110, 120, 120, 120, 130
    // drawdowns: 0, 0, 99/110-1 = -0.1, 0, 90/120-1 = -0.25, 95/120-1 = -0.208333..., 0
    const d = drawdownSeries([100, 110, 99, 120, 90, 95, 130]);
    const want = [0, 0, -0.1, 0, -0.25, -5 / 24, 0];
    expect(d.length).toBe(want.length);
    for (const [i, x] of d.entries()) expect(x).toBeCloseTo(want[i] as number, DRAWDOWN_DIGITS);
  });

  it("its minimum is minus performanceMetrics' maxDrawdown", () => {
    const eq = [1000, 1040, 980, 1010, 900, 1100, 1050];
    expect(-Math.min(...drawdownSeries(eq))).toBeCloseTo(performanceMetrics(eq).maxDrawdown, DRAWDOWN_DIGITS);
    expect(-Math.min(...drawdownSeries(eq))).toBeCloseTo(1 - 900 / 1040, DRAWDOWN_DIGITS);
  });

  it("NaN where the running peak is not positive; rejects a non-finite point naming it", () => {
    const d = drawdownSeries([-5, -2, 4, 2]);
    expect(Number.isNaN(d[0])).toBe(true);
    expect(Number.isNaN(d[1])).toBe(true);
    expect(d.slice(2)).toEqual([0, -0.5]);
    expect(() => drawdownSeries([1, Number.NaN])).toThrow(/equity\[1\]/);
    expect(drawdownSeries([])).toEqual([]);
  });

  it("is exported from the package barrel", () => {
    expect(pkg.drawdownSeries).toBe(drawdownSeries);
  });
});
