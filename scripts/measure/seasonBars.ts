/**
 * Consecutive daily BTC bars from 2014-09-17 to the end of the daily chain season, for the
 * walk-forward forecasts of scripts/measure/compareSignals.ts and seasonForecast.ts:
 * BTC-USD_daily.csv, then BTC-USD_daily_2024-2026.csv (to 2026-03-30), then for the days those
 * files lack (after 2026-03-30, and the 6 missing days of 2026) the next morning's chain index
 * price (~09:00 UTC) as the day's close, with open = the previous close (close-only bars).
 */
import { resolve } from "node:path";
import { type DatedBar, loadPriceHistory } from "../../src/adapters/priceHistory.js";
import type { BacktestStep } from "../../src/core/backtest/market.js";
import { DAY_MS } from "../../src/core/time.js";
import { DAILY_DIR } from "./deribitDaily.js";

const PRICES = resolve(DAILY_DIR, "../../prices");
const dayStartOf = (date: string) => Date.parse(`${date}T00:00:00Z`);
const dateOf = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Daily bars to the end of the season: the two BTC files, then the chains' index (close-only). */
export async function seasonBars(
  steps: readonly Pick<BacktestStep, "time" | "indexPrice">[],
): Promise<{ bars: DatedBar[]; fromChains: number }> {
  const byDate = new Map<string, DatedBar>();
  for (const f of ["BTC-USD_daily.csv", "BTC-USD_daily_2024-2026.csv"])
    for (const b of (await loadPriceHistory(resolve(PRICES, f))).bars) byDate.set(b.date, b);
  // A snapshot at ~09:00 UTC stands for the previous day's close when the files lack that day.
  const chainClose = new Map(steps.map((s) => [dateOf(s.time - DAY_MS), s.indexPrice]));
  const last = dateOf((steps.at(-1)?.time ?? 0) - DAY_MS);
  const bars: DatedBar[] = [];
  let fromChains = 0;
  for (let t = dayStartOf("2014-09-17"); dateOf(t) <= last; t += DAY_MS) {
    const date = dateOf(t);
    const prev = bars.at(-1);
    const known = byDate.get(date);
    const close = known ? known.close : (chainClose.get(date) ?? prev?.close ?? Number.NaN);
    if (known) bars.push(known);
    else {
      fromChains++;
      const open = prev?.close ?? close;
      bars.push({ date, open, high: Math.max(open, close), low: Math.min(open, close), close, volume: null });
    }
  }
  return { bars, fromChains };
}
