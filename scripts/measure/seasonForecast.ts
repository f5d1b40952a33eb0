/**
 * Issue 24 item 1, the 2026 daily chain season: next-30-day realized variance forecasts scored
 * walk-forward on the features only the season has (core/regime/forecast/season.ts: the
 * project's 30-day index and ATM term points minus realized, term slope and inversion, 25-delta
 * risk reversal, funding, basis), against the naive, EWMA, implied and the long-history models
 * (HAR, GARCH, boosted trees of `volfolio regime forecast`, walk-forward over 2014-2026) on the
 * same days; and the spike event on the same days. The season is short (233 chains; ~200 days
 * with a known 30-day target, overlapping): the scores are indicative, not significant.
 *
 *   npx tsx scripts/measure/seasonForecast.ts [--json FILE]     (several minutes; progress on stderr)
 */
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { dailyMeanFunding, fundingBefore, loadFundingHistory } from "../../src/adapters/fundingHistory.js";
import { loadPriceHistory } from "../../src/adapters/priceHistory.js";
import { loadDvolBars, loadNormalizedSnapshots } from "../../src/cli/commands/volindexSeries.js";
import type { MarketSnapshot } from "../../src/core/market/types.js";
import { dailySeries } from "../../src/core/regime/forecast/features.js";
import {
  type ChainDay,
  type SeasonForecastDay,
  scoreSeason,
  scoreSeasonEvent,
  seasonChainForecasts,
  seasonTargets,
} from "../../src/core/regime/forecast/season.js";
import { type ForecastDay, walkForwardForecasts } from "../../src/core/regime/forecast/walkForward.js";
import { volIndexComparisonSeries } from "../../src/core/volindex/series.js";
import { historyDay } from "../../src/web/history.js";
import { DAILY_DIR, dailyFiles } from "./deribitDaily.js";
import { seasonBars } from "./seasonBars.js";

const PRICES = resolve(DAILY_DIR, "../../prices");
const dateOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const progress = (label: string) => (done: number, total: number) =>
  process.stderr.write(`\r${label}: ${done}/${total}   ${done === total ? "\n" : ""}`);

/** Annualized log basis of the forward nearest 30 days over the index. */
function basis30(s: MarketSnapshot): number {
  let best: { T: number; F: number } | null = null;
  for (const f of s.forwards)
    if (
      f.timeToExpiry > 2 / 365 &&
      (!best || Math.abs(f.timeToExpiry - 30 / 365) < Math.abs(best.T - 30 / 365))
    )
      best = { T: f.timeToExpiry, F: f.forward };
  return best ? Math.log(best.F / s.indexPrice) / best.T : Number.NaN;
}

async function chainDays(
  snaps: readonly MarketSnapshot[],
  indexOf: Map<string, number>,
): Promise<ChainDay[]> {
  const dvol = await loadDvolBars(resolve(PRICES, "DVOL_BTC_daily.csv"));
  const vi = volIndexComparisonSeries(snaps, dvol);
  // The snapshot (~09:30 UTC) sees the last three 8-hour windows that ENDED before it (the file
  // stamps a window at its end): a date's mean would include the 08:00-16:00 window (look-ahead).
  const funding = fundingBefore(
    (await loadFundingHistory(resolve(PRICES, "funding_BTC-PERPETUAL_deribit_8h.csv"))).rows,
  );
  const out: ChainDay[] = [];
  for (const [i, s] of snaps.entries()) {
    progress("surfaces")(i + 1, snaps.length);
    const date = dateOf(s.valuationTime);
    const index = indexOf.get(date);
    if (index === undefined) continue;
    const h = historyDay(s).day;
    const num = (x: number | null | undefined) => (x === null || x === undefined ? Number.NaN : x);
    out.push({
      index,
      volIndex: num(vi[i]?.index) / 100,
      atm7: num(h.atm["7"]),
      atm30: num(h.atm["30"]),
      atm90: num(h.atm["90"]),
      rr25: num(h.rr25["30"]),
      funding: funding(s.valuationTime),
      basis: basis30(s),
    });
  }
  return out;
}

function combine(
  days: readonly ChainDay[],
  long: Map<number, ForecastDay>,
  ridge: Map<number, number>,
  s: ReturnType<typeof dailySeries>,
): (SeasonForecastDay & { event: Record<string, number> })[] {
  return days.map((d) => {
    const l = long.get(d.index);
    const v = l?.variance;
    return {
      index: d.index,
      variance: {
        naive: v?.naive ?? Number.NaN,
        ewma: v?.ewma ?? Number.NaN,
        dvol: v?.implied ?? Number.NaN,
        volIndex: d.volIndex > 0 ? d.volIndex ** 2 : Number.NaN,
        har: v?.har ?? Number.NaN,
        garch: v?.garch ?? Number.NaN,
        gbdtLong: v?.gbdt ?? Number.NaN,
        chainRidge: ridge.get(d.index) ?? Number.NaN,
      },
      event: {
        climatology: l?.event.climatology ?? Number.NaN,
        hmm: l?.event.hmm ?? Number.NaN,
        gbdtLong: l?.event.gbdt ?? Number.NaN,
      },
      ...seasonTargets(s, d.index),
    };
  });
}

async function main(): Promise<void> {
  if (!existsSync(DAILY_DIR)) {
    console.log("no ../shared/data/deribit/daily: nothing to measure");
    return;
  }
  const snaps = (await loadNormalizedSnapshots(dailyFiles(), ["BTC"], progress("chains"))).get("BTC") ?? [];
  const { bars, fromChains } = await seasonBars(
    snaps.map((x) => ({ time: x.valuationTime, indexPrice: x.indexPrice })),
  );
  const indexOf = new Map(bars.map((b, i) => [b.date, i]));
  const dvol = new Map(
    (await loadPriceHistory(resolve(PRICES, "DVOL_BTC_daily.csv"))).bars.map((b) => [b.date, b.close / 100]),
  );
  const funding = dailyMeanFunding(
    (await loadFundingHistory(resolve(PRICES, "funding_BTC-PERPETUAL_deribit_8h.csv"))).rows,
  );
  const extras = bars.map((b) => ({
    impliedVol: dvol.get(b.date) ?? Number.NaN,
    funding: funding.get(b.date) ?? Number.NaN,
  }));
  const wf = walkForwardForecasts(bars, extras, { onProgress: progress("long-history refits") });
  const long = new Map(wf.days.map((d) => [d.index, d]));
  const s = dailySeries(bars, extras);
  const days = await chainDays(snaps, indexOf);
  const ridge = seasonChainForecasts(s, days, { refitEvery: 10, minRows: 40 });
  const combined = combine(days, long, ridge, s);
  const models = ["naive", "ewma", "dvol", "volIndex", "har", "garch", "gbdtLong", "chainRidge"];
  const scores = scoreSeason(combined, models);
  const known = combined.filter(
    (d) => Number.isFinite(d.eventOutcome) && Number.isFinite(d.variance.chainRidge ?? Number.NaN),
  );
  const events = ["climatology", "hmm", "gbdtLong"].map((m) => ({
    model: m,
    ...scoreSeasonEvent(
      known.map((d) => d.eventOutcome),
      known.map((d) => d.event[m] ?? Number.NaN),
    ),
  }));
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  console.log(
    [
      `2026 season: ${snaps.length} BTC chains ${dateOf(snaps[0]?.valuationTime ?? 0)} to ${dateOf(snaps.at(-1)?.valuationTime ?? 0)}; ${days.length} chain days on the daily bars (${fromChains} bars from chain index prices); chain ridge first forecast after 40 training rows, refit every 10 days`,
      "model        days  QLIKE/naive  MSE/naive",
      ...scores.map(
        (x) =>
          `${x.model.padEnd(12)} ${String(x.days).padStart(4)}  ${f(x.qlikeVsNaive).padStart(11)}  ${f(x.mseVsNaive).padStart(9)}`,
      ),
      `event (30-day RV up > 50% within 7 days) on ${known.length} days:`,
      ...events.map((e) => `${e.model.padEnd(12)} events ${e.events}  AUC ${f(e.auc)}  Brier ${f(e.brier)}`),
    ].join("\n"),
  );
  const jsonAt = process.argv.indexOf("--json");
  if (jsonAt > 0)
    writeFileSync(
      String(process.argv[jsonAt + 1]),
      JSON.stringify(
        { scores, events, days: combined.map((d) => ({ ...d, date: bars[d.index]?.date })) },
        null,
        1,
      ),
    );
}

await main();
