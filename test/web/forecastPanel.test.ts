/**
 * The dashboard's forecast panel: the core walk-forward's forecasts over the last 1,100+ days,
 * the realized next-30-day vol unknown (null) at the end, nothing on a short history.
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/core/math/rng.js";
import { syntheticDailyBars } from "../../src/core/regime/syntheticBars.js";
import { forecastPanel } from "../../src/web/forecastPanel.js";

/** Thirty equal squared log returns (~4e-4 each) summed and square-rooted: rounding only, ~1e-15 of a vol ~0.2-0.4; 1e-12. */
const HAND_VOL_ABS = 1e-12;

/** First forecast day of the panel on 1,150 bars: 50 warm-up days + 730 training days. */
const FIRST = 50 + 730;

/** The bars with closes falling 1% a day over (FIRST - 30, FIRST] and rising 2% a day over (FIRST, FIRST + 30]; every other day's return unchanged (each bar rescaled as a whole). */
function shaped<B extends { open: number; high: number; low: number; close: number }>(
  bars: readonly B[],
): B[] {
  const out: B[] = [];
  let factor = 1;
  for (const [i, b] of bars.entries()) {
    const prev = out[i - 1];
    const before = bars[i - 1];
    if (prev && before) {
      const step =
        i > FIRST - 30 && i <= FIRST ? 0.99 : i > FIRST && i <= FIRST + 30 ? 1.02 : b.close / before.close;
      factor = (prev.close * step) / b.close;
    }
    out.push({
      ...b,
      open: b.open * factor,
      high: b.high * factor,
      low: b.low * factor,
      close: b.close * factor,
    });
  }
  return out;
}

describe("forecast panel", () => {
  const bars = shaped(
    syntheticDailyBars({ days: 1150, start: Date.UTC(2021, 0, 1), spot: 30_000 }, createRng(3)).bars,
  );

  it("plots the walk-forward forecasts of the last days against the realized vol", () => {
    const p = forecastPanel(bars, { rounds: 20 });
    expect(p).not.toBeNull();
    expect(p?.dates.length).toBe(1100 - 730);
    expect(p?.dates[0]).toBe(bars[FIRST]?.date);
    for (const m of ["naive", "har", "garch", "gbdt"] as const) expect(p?.forecastVol[m].length).toBe(370);
    expect(p?.realizedVol.slice(-30).every((x) => x === null)).toBe(true);
    // Hand values from raw numbers: the 30 closes up to the first forecast day t each fall 1%, the
    // 30 after it each rise 2% (see `shaped`). Realized vol is annualized root mean square of the
    // log returns, not demeaned: |ln 0.99| sqrt(365) trailing (the naive forecast) and ln 1.02
    // sqrt(365) next; a demeaned or 29/31-day window would give about 0 or mix in other days.
    expect(Math.abs((p?.realizedVol[0] ?? Number.NaN) - Math.log(1.02) * Math.sqrt(365))).toBeLessThan(
      HAND_VOL_ABS,
    );
    expect(Math.abs((p?.forecastVol.naive[0] ?? Number.NaN) + Math.log(0.99) * Math.sqrt(365))).toBeLessThan(
      HAND_VOL_ABS,
    );
    for (const q of p?.eventProbability ?? []) expect(q >= 0 && q <= 1).toBe(true);
    expect(p?.note).toMatch(/QLIKE\/naive/);
  });

  it("is absent on a history shorter than 1,100 days", () => {
    expect(forecastPanel(bars.slice(0, 1099))).toBeNull();
  });
});
