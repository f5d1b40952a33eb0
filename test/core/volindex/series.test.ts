/**
 * The comparison helpers (core/volindex/series.ts) against hand computations: DVOL bars parsed,
 * DVOL at a time of day, the summary statistics, and the series' realized vol against a
 * close-to-close computation written here.
 */
import { describe, expect, it } from "vitest";
import { syntheticChain } from "../../../src/core/market/synthetic.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import {
  comparisonStats,
  dvolAtTime,
  outsideDailyRange,
  parseDvolCsv,
  volIndexComparisonSeries,
} from "../../../src/core/volindex/series.js";

/** Hand values from decimal inputs (DVOL prints 2 decimals, the interpolation adds a product and a division): float rounding only on ~1-50. */
const HAND_DIGITS = 12;

/** 40.7385625 is exact in decimal; the code's 40.13 + 1.56 x h / 24 rounds each step on ~40: ~1e-14, 10 digits kept from the original (tightening to 12 would hold). */
const INTERPOLATED_DVOL_DIGITS = 10;

/** Sample variance of 30 tiny log returns (~1e-3) by two passes here vs the code's compensated mean: relative ~1e-13, on ~10-100 vol points. */
const REALIZED_VOL_DIGITS = 9;

const CSV =
  "Date,Open,High,Low,Close\n2026-01-13,40.1300,42.2900,40.1000,41.6900\n2026-01-14,41.6900,41.7600,40.7500,40.8100\n";

describe("DVOL bars", () => {
  it("parses the daily file and aligns to the time of day: open + (close - open) x h/24", () => {
    const bars = parseDvolCsv(CSV);
    expect(bars).toHaveLength(2);
    expect(bars[0]).toEqual({ date: "2026-01-13", open: 40.13, high: 42.29, low: 40.1, close: 41.69 });
    const map = new Map(bars.map((b) => [b.date, b]));
    // 09:21:45 UTC = 9.3625 h: 40.13 + 1.56 x 9.3625 / 24 = 40.13 + 0.6085625 = 40.7385625.
    const t = Date.UTC(2026, 0, 13, 9, 21, 45);
    expect(dvolAtTime(map, t)?.value).toBeCloseTo(40.7385625, INTERPOLATED_DVOL_DIGITS);
    expect(dvolAtTime(map, Date.UTC(2026, 0, 14))?.value).toBe(41.69);
    expect(dvolAtTime(map, Date.UTC(2026, 0, 15, 12))).toBeNull();
  });

  it("distance to DVOL's daily range: 0 inside, signed distance to the nearer end outside", () => {
    const [bar] = parseDvolCsv(CSV);
    if (!bar) throw new Error("no bar");
    expect([40.1, 41, 42.29].map((v) => outsideDailyRange(v, bar))).toEqual([0, 0, 0]);
    expect(outsideDailyRange(39.1, bar)).toBeCloseTo(-1, HAND_DIGITS); // 1 point below the low 40.10
    expect(outsideDailyRange(43.79, bar)).toBeCloseTo(1.5, HAND_DIGITS); // 1.5 above the high 42.29
  });

  it("names the field and value of a bad line", () => {
    expect(() => parseDvolCsv("Date,Open,High,Low,Close\n2026-01-13,40,42,x,41\n")).toThrow(
      /line 2\.low.*"x"/,
    );
    expect(() => parseDvolCsv("Day,Open,High,Low,Close\n")).toThrow(/date column/);
    expect(() => parseDvolCsv("Date,Open,High,Low,Close\n13/01/2026,40,42,39,41\n")).toThrow(/line 2\.date/);
  });
});

describe("comparisonStats", () => {
  it("mean, median |d|, p90 (nearest rank), max and share within 1.5 by hand", () => {
    const s = comparisonStats([1, -2, 3, 0.5, -0.25]);
    expect(s.meanBias).toBeCloseTo(0.45, HAND_DIGITS);
    expect(s.medianAbs).toBe(1); // |d| sorted: 0.25 0.5 1 2 3
    expect(s.p90Abs).toBe(3); // rank ceil(0.9 x 5) = 5
    expect(s.maxAbs).toBe(3);
    expect(s.withinShare).toBeCloseTo(3 / 5, HAND_DIGITS);
    expect(comparisonStats([1, -3]).medianAbs).toBe(2);
    expect(() => comparisonStats([])).toThrow(/diffs.length/);
  });
});

describe("volIndexComparisonSeries", () => {
  it("one row per snapshot: DVOL method, Cboe method, DVOL at that time, trailing 30-day realized vol", () => {
    const day = 86_400_000;
    const t0 = Date.UTC(2026, 0, 1, 9);
    const snaps = Array.from(
      { length: 33 },
      (_, i) =>
        normalizeChain(
          syntheticChain({
            underlying: "BTC",
            valuationTime: t0 + i * day,
            seed: 100 + i,
            spot: 90_000 * Math.exp(0.02 * Math.sin(i)),
          }),
        ).snapshot,
    );
    const bars = snaps.map((s) => ({
      date: new Date(s.valuationTime).toISOString().slice(0, 10),
      open: 50,
      high: 55,
      low: 45,
      close: 54,
    }));
    const rows = volIndexComparisonSeries(snaps, bars);
    expect(rows).toHaveLength(33);
    for (const r of rows) {
      expect(r.index).toBeGreaterThan(20);
      expect(r.cboe).toBeGreaterThan(r.index as number); // the full strip: above the floored one
      expect(r.dvol).toBeCloseTo(50 + (4 * 9) / 24, HAND_DIGITS);
      expect(r.diff).toBeCloseTo((r.index as number) - (r.dvol as number), HAND_DIGITS);
      expect(r.dvolRange).toBe(10);
    }
    // Realized vol: null before 31 prices; then close to close over the last 30 log returns,
    // sample variance, x 365 (written here).
    expect(rows[29]?.realizedVol30).toBeNull();
    const px = snaps.map((s) => s.indexPrice);
    const r = px.slice(3).map((p, i) => Math.log(p / (px[i + 2] as number)));
    const m = r.reduce((a, b) => a + b, 0) / r.length;
    const v = r.reduce((a, b) => a + (b - m) ** 2, 0) / (r.length - 1);
    expect(rows[32]?.realizedVol30).toBeCloseTo(100 * Math.sqrt(v * 365), REALIZED_VOL_DIGITS);
  });
});
