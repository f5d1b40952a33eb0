/**
 * DVOL at an instant from hourly bars (core/volindex/dvolHourly.ts): the formats public copies of
 * Deribit's get_volatility_index_data (resolution 3600) come in, the linear position inside the
 * bar, the open taken from the previous close for close-only files, and typed errors.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HOUR_MS } from "../../../src/core/time.js";
import {
  dvolAtInstant,
  hourBarMap,
  isHourlyDvolText,
  parseDvolHourly,
} from "../../../src/core/volindex/dvolHourly.js";

/** One interpolation step on values ~50: float rounding only. */
const LINEAR_DIGITS = 12;
const T = Date.UTC(2026, 1, 28, 9, 0, 0);

describe("DVOL from hourly bars", () => {
  it("reads the API's JSON rows and interpolates open -> close inside the bar", () => {
    const bars = parseDvolHourly(JSON.stringify([[T, 75.12, 75.53, 75.12, 75.33]]));
    const at = dvolAtInstant(hourBarMap(bars), T + 0.32 * HOUR_MS);
    // Written here: 75.12 + (75.33 - 75.12) x 0.32.
    expect(at?.value).toBeCloseTo(75.12 + 0.21 * 0.32, LINEAR_DIGITS);
    expect(dvolAtInstant(hourBarMap(bars), T + HOUR_MS)).toBeNull();
    expect(dvolAtInstant(hourBarMap(bars), T - 1)).toBeNull();
  });

  it("reads CSV with epoch ms, seconds or ISO times; an iv column in decimals becomes vol points", () => {
    const ms = parseDvolHourly(`timestamp_ms,open,high,low,close\n${T},50,52,49,51\n`);
    const s = parseDvolHourly(`ts,open,high,low,close\n${T / 1000},50,52,49,51\n`);
    const iso = parseDvolHourly(
      "timestamp,iv\n2026-02-28 08:00:00+00:00,0.5\n2026-02-28 09:00:00+00:00,0.51\n",
    );
    expect(ms[0]?.start).toBe(T);
    expect(s[0]?.start).toBe(T);
    expect(iso.map((b) => b.start)).toEqual([T - HOUR_MS, T]);
    expect(iso[1]?.close).toBeCloseTo(51, LINEAR_DIGITS);
    // Close-only: the 09:00 bar opens at the 08:00 bar's close; the first bar has no open.
    expect(iso[1]?.open).toBeCloseTo(50, LINEAR_DIGITS);
    expect(iso[0]?.open).toBeNull();
    expect(dvolAtInstant(hourBarMap(iso), T - HOUR_MS / 2)).toBeNull();
    expect(dvolAtInstant(hourBarMap(iso), T + HOUR_MS / 2)?.value).toBeCloseTo(50.5, LINEAR_DIGITS);
  });

  it("at the bar's start it is the open, and it stays between open and close (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 10, max: 200, noNaN: true }),
        fc.double({ min: 10, max: 200, noNaN: true }),
        fc.integer({ min: 0, max: HOUR_MS - 1 }),
        (open, close, dt) => {
          const m = hourBarMap([{ start: T, open, high: null, low: null, close }]);
          const v = dvolAtInstant(m, T + dt)?.value ?? Number.NaN;
          return (
            dvolAtInstant(m, T)?.value === open && v >= Math.min(open, close) && v <= Math.max(open, close)
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("tells hourly files from the daily Date,Open,High,Low,Close file", () => {
    expect(isHourlyDvolText("Date,Open,High,Low,Close\n2026-02-28,71.23,75.53,69.84,72.38\n")).toBe(false);
    expect(isHourlyDvolText(`timestamp_ms,open,high,low,close\n${T},50,52,49,51\n`)).toBe(true);
    expect(isHourlyDvolText("[[0, 1, 1, 1, 1]]")).toBe(true);
  });

  it("bad input is a typed error naming the line and the field", () => {
    expect(() => parseDvolHourly("when,open,high,low,close\n1,2,3,4,5\n")).toThrow(/time column/);
    expect(() => parseDvolHourly(`timestamp_ms,open,high,low,close\n${T},50,52,49,-1\n`)).toThrow(
      /line 2\.close/,
    );
    expect(() => parseDvolHourly(`timestamp_ms,open,high,low,close\nyesterday,50,52,49,51\n`)).toThrow(
      /line 2\.time/,
    );
    expect(() => parseDvolHourly("[[1, 2, 3]]")).toThrow(/row 0/);
  });
});
