/**
 * `volfolio regime forecast`: walk-forward volatility forecasts of a daily price history
 * (core/regime/forecast), scored out of sample against the naive forecasts. A forecast that does
 * not beat them is printed as such.
 */
import type { Command } from "commander";
import { dailyMeanFunding, type FundingHistory, loadFundingHistory } from "../../adapters/fundingHistory.js";
import { type DatedBar, loadPriceHistory, type PriceHistory } from "../../adapters/priceHistory.js";
import type { DailyExtras } from "../../core/regime/forecast/features.js";
import { DAY_MS } from "../../core/time.js";
import {
  type ForecastScores,
  scoreForecasts,
  walkForwardForecasts,
} from "../../core/regime/forecast/walkForward.js";
import { CliError, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";
import { progressBar, wantsProgress } from "../progress.js";

type Opts = Record<string, string | boolean | undefined>;

/** Checks that bars are consecutive UTC days (the forecasts count rows as days). */
function checkConsecutive(bars: readonly DatedBar[]): void {
  for (let i = 1; i < bars.length; i++) {
    const gap =
      (Date.parse((bars[i] as DatedBar).date) - Date.parse((bars[i - 1] as DatedBar).date)) / DAY_MS;
    if (gap !== 1)
      throw new CliError(
        `--prices: the forecasts need one bar per day; ${(bars[i - 1] as DatedBar).date} is followed by ${(bars[i] as DatedBar).date}`,
        EXIT_USAGE,
      );
  }
}

function scoreTable(s: ForecastScores): string {
  const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
  const verdict = (q: number, m: number) =>
    !Number.isFinite(q)
      ? ""
      : q < 1 && m < 1
        ? "beats naive (QLIKE and MSE)"
        : q < 1
          ? "beats naive in QLIKE only"
          : m < 1
            ? "beats naive in MSE only"
            : "does NOT beat naive";
  return [
    formatTable(
      s.variance.map((v) => ({
        model: v.model,
        days: v.days,
        QLIKE: f(v.qlike),
        "QLIKE / naive": f(v.qlikeVsNaive, 3),
        "MSE (var)": f(v.mse, 5),
        "MSE / naive": f(v.mseVsNaive, 3),
        verdict: v.model === "naive" ? "baseline" : verdict(v.qlikeVsNaive, v.mseVsNaive),
      })),
    ),
    "",
    `event: 30-day realized vol up more than the threshold within the horizon (base rate ${(s.eventRate * 100).toFixed(1)}% of ${s.days} days)`,
    formatTable(
      s.event.map((e) => ({
        model: e.model,
        AUC: f(e.auc, 3),
        Brier: f(e.brier, 5),
        "Brier skill vs base rate": f(e.brierSkill, 3),
        verdict:
          e.model === "climatology"
            ? "baseline"
            : e.brierSkill > 0
              ? "beats base rate"
              : "does NOT beat base rate",
      })),
    ),
  ].join("\n");
}

export function registerRegimeForecast(regime: Command): void {
  regime
    .command("forecast")
    .description(
      "Walk-forward 30-day volatility and vol-spike forecasts (HAR-RV, GARCH/GJR, boosted trees) scored out of sample",
    )
    .option("--prices <file>", "daily OHLC CSV, one bar per day (Yahoo layout; required)")
    .option("--implied <file>", "daily implied-vol index OHLC CSV in vol points (e.g. DVOL_BTC_daily.csv)")
    .option("--funding <file>", "perpetual funding CSV: timestamp,funding_rate (8-hour rates)")
    .option("--from <date>", "first bar used (YYYY-MM-DD)")
    .option("--to <date>", "last bar used (YYYY-MM-DD)")
    .option("--refit-every <days>", "days between refits", "90")
    .option("--min-training <days>", "days of history before the first forecast", "730")
    .option("--rise <fraction>", "event threshold: relative rise of 30-day realized vol", "0.5")
    .option("--event-horizon <days>", "event window, days", "7")
    .option("--progress", "show progress on stderr even when it is not a terminal")
    .option("--json", "JSON output (scores and the daily forecasts)")
    .addHelpText(
      "after",
      `
Examples:
  volfolio regime forecast --prices ../shared/data/prices/BTC-USD_daily.csv
  volfolio regime forecast --prices ../shared/data/prices/BTC-USD_daily.csv \\
    --implied ../shared/data/prices/DVOL_BTC_daily.csv --funding ../shared/data/prices/funding_BTC-PERPETUAL_deribit_8h.csv`,
    )
    .action(async (_o: Opts, command: Command) => {
      // --prices and --json are also options of `regime`, which commander gives to the parent
      // when they follow the subcommand: read both levels.
      await runRegimeForecast(command.optsWithGlobals() as Opts);
    });
}

interface ForecastInputs {
  readonly history: PriceHistory;
  readonly bars: DatedBar[];
  readonly implied: PriceHistory | null;
  readonly funding: FundingHistory | null;
  readonly extras: DailyExtras[];
}

/** Reads the price, implied-vol and funding files of the options, bars cut to --from/--to. */
async function loadForecastInputs(o: Opts): Promise<ForecastInputs> {
  if (!o.prices) throw new CliError("required option '--prices <file>' not specified", EXIT_USAGE);
  const history = await loadPriceHistory(String(o.prices));
  const from = o.from ? String(o.from) : "0000";
  const to = o.to ? String(o.to) : "9999";
  const bars = history.bars.filter((b) => b.date >= from && b.date <= to);
  checkConsecutive(bars);
  const implied = o.implied ? await loadPriceHistory(String(o.implied)) : null;
  const impliedByDate = new Map(implied?.bars.map((b) => [b.date, b.close / 100]) ?? []);
  const funding = o.funding ? await loadFundingHistory(String(o.funding)) : null;
  const fundingByDate = funding ? dailyMeanFunding(funding.rows) : new Map<string, number>();
  const extras: DailyExtras[] = bars.map((b) => ({
    impliedVol: impliedByDate.get(b.date) ?? Number.NaN,
    funding: fundingByDate.get(b.date) ?? Number.NaN,
  }));
  return { history, bars, implied, funding, extras };
}

/** Rows read / accepted / rejected of each input file. */
function inputCounts(i: ForecastInputs) {
  const counts = (h: { rowsRead: number; rejected: readonly unknown[] }, accepted: number) => ({
    rowsRead: h.rowsRead,
    accepted,
    rejected: h.rejected.length,
  });
  return {
    prices: { ...counts(i.history, i.history.bars.length), used: i.bars.length },
    ...(i.implied ? { implied: counts(i.implied, i.implied.bars.length) } : {}),
    ...(i.funding ? { funding: counts(i.funding, i.funding.rows.length) } : {}),
  };
}

async function runRegimeForecast(o: Opts): Promise<void> {
  const i = await loadForecastInputs(o);
  const { bars } = i;
  const bar = progressBar(wantsProgress(o), "refits");
  let started = false;
  const result = walkForwardForecasts(bars, i.extras, {
    refitEvery: parseNumberOption("refit-every", String(o.refitEvery)),
    minTraining: parseNumberOption("min-training", String(o.minTraining)),
    rise: parseNumberOption("rise", String(o.rise)),
    eventHorizon: parseNumberOption("event-horizon", String(o.eventHorizon)),
    onProgress: (done, total) => {
      if (!started) bar.start(total);
      started = true;
      bar.update(done);
    },
  });
  bar.stop();
  const all = scoreForecasts(result.days);
  const withImplied =
    i.implied && all.variance.some((v) => v.model === "implied" && v.days > 0)
      ? scoreForecasts(result.days, { requireImplied: true })
      : null;
  const first = bars[result.days[0]?.index ?? 0]?.date ?? "";
  const last = bars[bars.length - 1]?.date ?? "";
  const inputs = inputCounts(i);
  output(
    Boolean(o.json),
    {
      inputs,
      options: result.options,
      refits: result.refits,
      firstForecast: first,
      lastBar: last,
      scores: all,
      ...(withImplied ? { scoresWithImplied: withImplied } : {}),
      days: result.days.map((d) => ({ ...d, date: bars[d.index]?.date ?? "" })),
    },
    () =>
      [
        `walk-forward: forecasts from ${first} to ${last}, ${result.refits} refits every ${result.options.refitEvery} days (expanding window); targets known on ${all.days} days`,
        `inputs: ${JSON.stringify(inputs)}`,
        "",
        "next-30-day realized variance (annualized), all days:",
        scoreTable(all),
        ...(withImplied
          ? ["", `days with an implied vol only (${withImplied.days}):`, scoreTable(withImplied)]
          : []),
      ].join("\n"),
  );
}
