/**
 * The DVOL method against Deribit's published DVOL on real chains: a seeded sample of the daily
 * season (../shared/data/deribit/daily) plus the two days issue 24 names (2026-01-13: missing
 * near-money bids; 2026-02-12: a newly listed weekly), DVOL at each snapshot's time of day.
 * Skipped with a message when the data is absent.
 *
 * Thresholds hold on all 233 days (scripts/measure/dvolSeason.ts, figures in the README):
 *   mean bias  BTC -0.33, ETH -0.28 (Cboe method +1.95 / +2.67); within 1.5 of the aligned DVOL:
 *   84.4% / 85.3% (the issue's 90% is not reached on the daily bars' open-to-close line, whose own
 *   error against DVOL at the instant is 0.45 / 0.63 median; against Deribit's hourly DVOL the
 *   index is within 1.5 on 100% / 99.4% of days, scripts/measure/dvolIntraday.ts);
 *   every day with DVOL's daily range <= 1.9 points within 1.5 (max 1.40 / 1.29);
 *   every day within 1.5 of DVOL's daily low-high range (max 0.05 / 0.06), inside it on
 *   226 / 230 of 231 days.
 * The sample is drawn once with a fixed seed; no threshold or default was chosen on it.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadDvolBars, loadVolIndexSeries } from "../../../src/cli/commands/volindexSeries.js";
import { comparisonStats, outsideDailyRange, type VolIndexDay } from "../../../src/core/volindex/series.js";
import { dailyFiles, seededSample } from "../../../scripts/measure/deribitDaily.js";
import { dvolFile } from "../../../scripts/measure/dvolSeason.js";

const files = dailyFiles();
const have = files.length > 0 && existsSync(dvolFile("BTC")) && existsSync(dvolFile("ETH"));
if (!have)
  console.warn("DVOL season test skipped: ../shared/data/deribit/daily or prices/DVOL_*_daily.csv not found");

const NAMED = ["20260112", "20260113", "20260114", "20260211", "20260212", "20260213"];
/** The tolerance (vol points) for "within" DVOL. */
const TOLERANCE_PTS = 1.5;
/** Distance outside DVOL's daily low-high range: season max 0.05 / 0.06 points, 0.25 allows a quote's worth. */
const RANGE_SLACK_PTS = 0.25;
/** 24 days drawn; a day may lack an index or a DVOL bar (231 of 233 have both). */
const MIN_SAMPLE_DAYS = 22;
/** |mean bias| on the 24-day sample: the 0.5 plus sampling slack (season -0.33 / -0.28). */
const SAMPLE_BIAS_PTS = 0.75;
/** Share within TOLERANCE_PTS on the sample: season 84.4% / 85.3% less sampling slack. */
const SAMPLE_WITHIN_SHARE = 0.7;
/** A calm day: DVOL's daily high - low at most its season median (BTC 1.90, ETH 1.99 points). */
const CALM_RANGE_PTS = 1.9;
/** The Cboe method's season bias is +1.95 / +2.67: it must stay clearly high on the sample. */
const CBOE_MIN_BIAS_PTS = 1;
/** The worst days' DVOL range is 19x / 3.5x its median (10.41 / 6.92 points): clearly busy. */
const BUSY_RANGE_PTS = 6;
/** A named day against the mean of the days before and after: a jump beyond this is an outlier. */
const NEIGHBOUR_PTS = 2.5;
/** 2026-01-13 BTC: the Cboe method's outlier (32.85) and the DVOL method's level (40.14; DVOL 40.10 at 09:21). */
const CBOE_0113_MAX = 35;
const INDEX_0113_MIN = 39.5;
/** The season's worst days (scripts/measure/dvolSeason.ts): BTC 2026-02-05 -10.41, ETH 2026-06-04 +6.18. */
const WORST = ["20260205", "20260604"];

describe.skipIf(!have)("DVOL method vs Deribit's DVOL on real chains", () => {
  let series: Record<string, VolIndexDay[]> = {};
  const bars: Record<string, Map<string, Awaited<ReturnType<typeof loadDvolBars>>[number]>> = {};
  const sample = seededSample(files, 24, 2026);
  const named = files.filter((f) => [...NAMED, ...WORST].some((d) => f.includes(`_${d}T`)));

  it("loads the seeded sample and the named days", async () => {
    series = await loadVolIndexSeries({
      chainFiles: [...new Set([...sample, ...named])],
      dvolFiles: { BTC: dvolFile("BTC"), ETH: dvolFile("ETH") },
    });
    for (const coin of ["BTC", "ETH"])
      bars[coin] = new Map((await loadDvolBars(dvolFile(coin))).map((b) => [b.date, b]));
    expect(named).toHaveLength(NAMED.length + WORST.length);
    expect(series.BTC?.length).toBe(new Set([...sample, ...named]).size);
  }, 120_000);

  for (const coin of ["BTC", "ETH"]) {
    it(`${coin}: bias, share within 1.5 points, calm days, DVOL's daily range (seeded sample)`, () => {
      const days = (series[coin] ?? []).filter((d) =>
        sample.some((f) => f.includes(d.date.replaceAll("-", ""))),
      );
      const both = days.filter((d) => d.diff !== null);
      expect(both.length).toBeGreaterThanOrEqual(MIN_SAMPLE_DAYS);
      const s = comparisonStats(both.map((d) => d.diff as number));
      expect(Math.abs(s.meanBias)).toBeLessThanOrEqual(SAMPLE_BIAS_PTS);
      expect(s.withinShare).toBeGreaterThanOrEqual(SAMPLE_WITHIN_SHARE);
      for (const d of both.filter((x) => (x.dvolRange as number) <= CALM_RANGE_PTS))
        expect(Math.abs(d.diff as number), `${coin} ${d.date}`).toBeLessThanOrEqual(TOLERANCE_PTS);
      // What no time of day can explain: the distance to DVOL's traded range that day.
      for (const d of both) {
        const bar = bars[coin]?.get(d.date);
        expect(bar, `${coin} ${d.date} bar`).toBeDefined();
        if (bar)
          expect(
            Math.abs(outsideDailyRange(d.index as number, bar)),
            `${coin} ${d.date}`,
          ).toBeLessThanOrEqual(RANGE_SLACK_PTS);
      }
      // The plain Cboe method on the same cleaned quotes reads systematically high (issue 26).
      const cboe = comparisonStats(
        both.filter((d) => d.cboe !== null).map((d) => (d.cboe as number) - (d.dvol as number)),
      );
      expect(cboe.meanBias).toBeGreaterThan(CBOE_MIN_BIAS_PTS);
    });
  }

  it("the worst days are days DVOL moved intraday: the index lies inside DVOL's daily low-high range", async () => {
    // minDiff: well inside the season's misses on those days (-10.41 BTC, +6.18 ETH).
    for (const [coin, date, minDiff] of [
      ["BTC", "2026-02-05", 8],
      ["ETH", "2026-06-04", 5],
    ] as const) {
      const d = series[coin]?.find((x) => x.date === date) as VolIndexDay;
      const bar = (await loadDvolBars(dvolFile(coin))).find((b) => b.date === date);
      expect(Math.abs(d.diff as number)).toBeGreaterThan(minDiff);
      expect(d.index as number).toBeGreaterThanOrEqual(bar?.low as number);
      expect(d.index as number).toBeLessThanOrEqual(bar?.high as number);
      expect(d.dvolRange as number).toBeGreaterThan(BUSY_RANGE_PTS);
    }
  });

  it("regression 2026-01-13 (missing near-money bids) and 2026-02-12 (new weekly): no outlier", () => {
    for (const coin of ["BTC", "ETH"]) {
      const s = series[coin] ?? [];
      const at = (date: string) => s.find((d) => d.date === date) as VolIndexDay;
      for (const [prev, day, next] of [
        ["2026-01-12", "2026-01-13", "2026-01-14"],
        ["2026-02-11", "2026-02-12", "2026-02-13"],
      ] as const) {
        const d = at(day);
        expect(d.index, `${coin} ${day}`).not.toBeNull();
        // Against DVOL's traded range that day, not the open-to-close line: on 2026-02-12 BTC DVOL
        // fell from 55.1 to 53.0 between 09:00 and 10:00 (hourly bars; 53.67 at 09:40, the index
        // 53.11) while its daily bar opened and closed at 55.3.
        const bar = bars[coin]?.get(day);
        expect(bar, `${coin} ${day} bar`).toBeDefined();
        if (bar)
          expect(
            Math.abs(outsideDailyRange(d.index as number, bar)),
            `${coin} ${day} vs DVOL's range`,
          ).toBeLessThanOrEqual(RANGE_SLACK_PTS);
        const neighbours = ((at(prev).index as number) + (at(next).index as number)) / 2;
        expect(
          Math.abs((d.index as number) - neighbours),
          `${coin} ${day} vs neighbours`,
        ).toBeLessThanOrEqual(NEIGHBOUR_PTS);
      }
    }
    // The Cboe method's outlier that day (issue 24: 32.85 between 43.60 and 43.04).
    const btc13 = series.BTC?.find((d) => d.date === "2026-01-13");
    expect(btc13?.cboe).toBeLessThan(CBOE_0113_MAX);
    expect(btc13?.index).toBeGreaterThan(INDEX_0113_MIN);
  });
});
