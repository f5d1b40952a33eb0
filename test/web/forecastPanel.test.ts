/**
 * The dashboard's forecast panel: the core walk-forward's forecasts over the last 1,100+ days,
 * the realized next-30-day vol unknown (null) at the end, nothing on a short history.
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/core/math/rng.js";
import { syntheticDailyBars } from "../../src/core/regime/syntheticBars.js";
import { forecastPanel } from "../../src/web/forecastPanel.js";

/** The panel and these loops sum the same 30 squared daily log returns (vol ~0.5): only the summation order and sqrt rounding differ (~1e-16), 12 digits leave ample room. */
const SUM_ORDER_DIGITS = 12;

describe("forecast panel", () => {
  const bars = syntheticDailyBars(
    { days: 1150, start: Date.UTC(2021, 0, 1), spot: 30_000 },
    createRng(3),
  ).bars;

  it("plots the walk-forward forecasts of the last days against the realized vol", () => {
    const p = forecastPanel(bars, { rounds: 20 });
    expect(p).not.toBeNull();
    expect(p?.dates.length).toBe(1100 - 730);
    expect(p?.dates[0]).toBe(bars[50 + 730]?.date);
    for (const m of ["naive", "har", "garch", "gbdt"] as const) expect(p?.forecastVol[m].length).toBe(370);
    expect(p?.realizedVol.slice(-30).every((x) => x === null)).toBe(true);
    // Realized next-30-day vol of the first forecast day, from the closes (365 x mean r^2).
    const t = 50 + 730;
    let sum = 0;
    for (let k = t + 1; k <= t + 30; k++)
      sum += Math.log((bars[k]?.close ?? 1) / (bars[k - 1]?.close ?? 1)) ** 2;
    expect(p?.realizedVol[0]).toBeCloseTo(Math.sqrt((365 * sum) / 30), SUM_ORDER_DIGITS);
    // The naive forecast is the trailing 30-day realized vol.
    let past = 0;
    for (let k = t - 29; k <= t; k++)
      past += Math.log((bars[k]?.close ?? 1) / (bars[k - 1]?.close ?? 1)) ** 2;
    expect(p?.forecastVol.naive[0]).toBeCloseTo(Math.sqrt((365 * past) / 30), SUM_ORDER_DIGITS);
    for (const q of p?.eventProbability ?? []) expect(q >= 0 && q <= 1).toBe(true);
    expect(p?.note).toMatch(/QLIKE\/naive/);
  });

  it("is absent on a history shorter than 1,100 days", () => {
    expect(forecastPanel(bars.slice(0, 1099))).toBeNull();
  });
});
