/**
 * Deribit's conventions reproduced on real data (issue 18): option rows of ../shared/data's
 * daily Deribit files valued through the core's valuePosition / positionGreeks (a 1-contract
 * position on a market holding only the row: index = index_price, the expiry's forward, the mark
 * IV everywhere, valuation time = the file's timestamp; scripts/measure/markCheck.ts) against
 * Deribit's own columns: mark_price and delta are the references.
 *
 * Thresholds hold on EVERY one of the 233 days (scripts/measure/deribitMarks.ts prints each
 * figure's worst day over the season, quoted next to each threshold); the test runs them on 20
 * days drawn with a seeded generator.
 *
 * Why not a median relative error of 1e-6: implied_volatility is published to 4 decimals, so a
 * value computed from it misses the mark by up to vega x 5e-5 even when the convention is exact:
 * ~1e-4 relative near the money (season median 4.1e-5 BTC, 4.4e-5 ETH on the marks' forward).
 * The sharp test is the error measured in units of that rounding bound (`ratio`).
 */
import { basename } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DAILY_DIR, dailyFiles, readDailyRows, seededSample } from "../../../scripts/measure/deribitDaily.js";
import { checkDay, type DayFigures, dayFigures, type RowChecks } from "../../../scripts/measure/markCheck.js";
import { bookAtMarks } from "../../../scripts/measure/markVols.js";
import { loadDeribitCsvFile } from "../../../src/adapters/deribit/files.js";

/** Season thresholds (233 days, BTC and ETH; measured figures in the comments beside each check). */
/** Deribit's delta column (-0.67054, 5 decimals) vs Black's forward delta at the row's underlying. */
const ROW_DELTA_ABS = 3e-5;
/** Marks on the parity forward, median relative error per day: worst day 8.2e-5. */
const MARKS_MEDIAN_REL = 1e-4;
/** Median error in units of the IV-rounding bound: worst day 0.820. */
const MARKS_MEDIAN_RATIO = 0.9;
/** Share of rows within the rounding bound: worst day 59% (ETH marked ~100 s after the file's time). */
const MARKS_WITHIN_SHARE = 0.55;
/** Largest mark error in coin: worst day 1.06e-3 (ETH). */
const MARKS_MAX_ABS = 1.2e-3;
/** On the row's own underlying column: median worst day 2.0e-3, largest 4.6e-3, forward shift 27 bp. */
const ROW_MEDIAN_REL = 2.5e-3;
const ROW_MAX_ABS = 5e-3;
const ROW_MAX_SHIFT = 30e-4;
/** The file's time_to_maturity implies 365.25-day years to its printed digits. */
const DAY_COUNT_ABS = 1e-4;
/** Core delta vs Black's forward delta: the same formula through two paths, a few ulps. */
const SAME_DELTA_ABS = 1e-12;
/** Black vs Deribit's delta column (captured row by row as the index moves): worst day median 1.14e-3, max 0.050; >= 7 days: 9.8e-4, 0.014. */
const DELTA_MEDIAN_ABS = 1.5e-3;
const DELTA_MAX_ABS = 0.06;
const DELTA_MEDIAN_WEEK_ABS = 1.2e-3;
const DELTA_MAX_WEEK_ABS = 0.02;
/** Book at the marks: OTM max |value/mark - 1| 2.3e-14 (the marks' own vol, exact solve); ITM max 1.06e-3 coin (strikes marked at another forward). */
const OTM_BOOK_REL = 1e-13;
const ITM_BOOK_ABS = 1.2e-3;

/** The file prints the IV in percent (39.36); dividing by 100 rounds once. */
const PERCENT_PARSE_DIGITS = 12;

const files = dailyFiles();
if (files.length === 0)
  console.warn(`skipping Deribit mark-convention tests: no daily files in ${DAILY_DIR} (../shared/data)`);

describe.skipIf(files.length === 0)(
  "Deribit marks through the core, 20 seeded days of the daily files",
  () => {
    const sample = seededSample(files, 20, 18);
    const days: { file: string; checks: RowChecks[]; figures: Map<string, DayFigures> }[] = [];
    beforeAll(() => {
      for (const f of sample) {
        const checks = checkDay(readDailyRows(f));
        days.push({ file: basename(f), checks, figures: dayFigures(checks) });
      }
    });
    /** Every (day, currency) figure, named for the failure message. */
    const each = (f: (d: DayFigures) => number) =>
      days.flatMap(({ file, figures }) =>
        [...figures].map(([cur, d]) => ({ where: `${file.slice(25, 33)} ${cur}`, value: f(d) })),
      );
    const worst = (xs: { where: string; value: number }[], lowest = false) =>
      xs.reduce((w, x) => ((lowest ? x.value < w.value : x.value > w.value) ? x : w));

    it("samples 20 days with both currencies", () => {
      expect(days).toHaveLength(20);
      for (const d of days) expect([...d.figures.keys()].sort()).toEqual(["BTC", "ETH"]);
    });

    it("a named row: BTC-27FEB26-98000-P on 2026-01-10 is its mark at Deribit's IV on the marks' forward", () => {
      const file = files.find((f) => basename(f).includes("20260110T"));
      expect(file).toBeDefined();
      const checks = checkDay(readDailyRows(file as string));
      const put = checks.find((c) => c.row.instrument.name === "BTC-27FEB26-98000-P") as RowChecks;
      // From the file: mark_price 0.10455476 BTC, implied_volatility 0.3936, underlying 91086.78.
      expect(put.row.markPrice).toBe(0.10455476);
      expect(put.row.markIv).toBeCloseTo(0.3936, PERCENT_PARSE_DIGITS);
      const c = put.checks["marks-forward"];
      expect(Math.abs(c.valueCoin - 0.10455476)).toBeLessThanOrEqual(c.bound);
      // Deribit's delta column says -0.67054; Black's forward delta at the row's underlying agrees to 3e-5.
      expect(put.row.delta).toBe(-0.67054);
      expect(Math.abs(put.checks["row-underlying"].coreDelta - -0.67054)).toBeLessThan(ROW_DELTA_ABS);
    });

    it("on the forward the expiry's marks imply (parity), every day's marks are reproduced to the IV's rounding", () => {
      // Season worst day: median relative error 8.2e-5 (BTC 2026-04-20), 7.9e-5 (ETH 2026-05-18).
      expect(worst(each((d) => d.byForward["marks-forward"].medRel)).value).toBeLessThan(MARKS_MEDIAN_REL);
      // Median error in units of the rounding bound (vegaCoin x 5e-5 + half a printed step): worst
      // day 0.667 (BTC 2026-04-20), 0.820 (ETH 2026-08-22).
      expect(worst(each((d) => d.byForward["marks-forward"].medRatio)).value).toBeLessThan(
        MARKS_MEDIAN_RATIO,
      );
      // Share of rows within the bound: worst day 72% (BTC 2026-04-20), 59% (ETH 2026-08-22); the
      // rest are marks of one expiry Deribit computed at another instant (the strike's own call/put
      // pair implies another forward, up to 5-7 bp) and ETH's short expiries, marked ~100 s after
      // the file's timestamp (ETH rows were fetched after BTC's).
      expect(
        worst(
          each((d) => d.byForward["marks-forward"].within),
          true,
        ).value,
      ).toBeGreaterThan(MARKS_WITHIN_SHARE);
      // Largest error in coin: worst day 8.2e-4 BTC (2026-07-07), 1.06e-3 ETH (2026-02-03).
      expect(worst(each((d) => d.byForward["marks-forward"].maxAbs)).value).toBeLessThan(MARKS_MAX_ABS);
    });

    it("on the row's own underlying column the misses are that column's capture offset (up to 27 bp)", () => {
      // Season worst day: median relative error 2.0e-3 (BTC 2026-06-05), 1.25e-3 (ETH 2026-08-21);
      // largest error 4.6e-3 ETH (ETH-26JUN26-15000-P, 2026-02-03); the forward move that explains
      // every row's excess over the rounding bound is at most 9.5 bp (BTC), 27 bp (ETH 2026-02-03).
      expect(worst(each((d) => d.byForward["row-underlying"].medRel)).value).toBeLessThan(ROW_MEDIAN_REL);
      expect(worst(each((d) => d.byForward["row-underlying"].maxAbs)).value).toBeLessThan(ROW_MAX_ABS);
      expect(worst(each((d) => d.byForward["row-underlying"].maxShift)).value).toBeLessThan(ROW_MAX_SHIFT);
    });

    it("time to expiry is ACT/365 from the file's timestamp, not the file's time_to_maturity (365.25-day years)", () => {
      for (const x of [...each((d) => d.dayCount.min), ...each((d) => d.dayCount.max)])
        expect(Math.abs(x.value - 365.25), x.where).toBeLessThan(DAY_COUNT_ABS);
      // On every day of the season the marks sit closer to ACT/365 (within-bound share 92% BTC, 80%
      // ETH) than to the column's 365.25-day year (3% BTC, 21% ETH).
      for (const { file, figures } of days)
        for (const [cur, d] of figures)
          expect(d.byForward["marks-forward"].medRatio, `${file} ${cur}`).toBeLessThan(
            d.byForward["ttm-column"].medRatio,
          );
    });

    it("the core's delta of an inverse option is Black's forward delta, Deribit's `delta` to its capture noise", () => {
      for (const x of each((d) => d.coreVsBlackDeltaMax))
        expect(x.value, x.where).toBeLessThan(SAME_DELTA_ABS);
      // |Black delta - Deribit delta| at the row's underlying and mark IV. Season: median 1.2e-4 BTC,
      // 1.0e-4 ETH; Deribit's own |delta_call - delta_put - 1| (0 for Black) has daily medians up to
      // 1.1e-3: the column is captured row by row as the index moves. Worst day: median 1.14e-3
      // (BTC 2026-03-04); max 0.050 (BTC-22JUN26-64500-P, 0.84 days, 2026-06-21, whose row's index
      // 64083.53 is 20 bp below its underlying 64212.74); with >= 7 days: median 9.8e-4, max 0.014.
      expect(worst(each((d) => d.delta.med)).value).toBeLessThan(DELTA_MEDIAN_ABS);
      expect(worst(each((d) => d.delta.max)).value).toBeLessThan(DELTA_MAX_ABS);
      expect(worst(each((d) => d.delta.medWeek)).value).toBeLessThan(DELTA_MEDIAN_WEEK_ABS);
      expect(worst(each((d) => d.delta.maxWeek)).value).toBeLessThan(DELTA_MAX_WEEK_ABS);
    });

    it("a book of every quoted option, valued on the chain market, is worth each option's mark", async () => {
      // The chain -> market step of every entry point (chainBookMarket: loader -> normalizeChain
      // -> surface through the marks -> RiskMarket), then valuePosition. Season (233 days,
      // scripts/measure/chainMarkVols.ts): out-of-the-money options max |value/mark - 1| 2.3e-14;
      // in-the-money ones, valued at their strike's out-of-the-money mark vol, max 8.2e-4 BTC /
      // 1.06e-3 ETH coin: strikes whose call/put marks imply another forward than the expiry's.
      for (const f of sample) {
        const { chains } = await loadDeribitCsvFile(f);
        const { byCurrency, excluded } = bookAtMarks(chains);
        expect(excluded).toBe(0);
        for (const [cur, b] of byCurrency) {
          const where = `${basename(f).slice(25, 33)} ${cur}`;
          expect(b.options, where).toBeGreaterThan(300);
          expect(b.otmMaxRel, where).toBeLessThan(OTM_BOOK_REL);
          expect(b.itmMaxAbs, `${where} ${b.itmWorst}`).toBeLessThan(ITM_BOOK_ABS);
        }
      }
    });
  },
);
