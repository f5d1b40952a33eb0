/**
 * Issue 24 item 2: short-vol strategies with no signal, the HMM regime scale and the walk-forward
 * forecast scale, on the same data and costs, with the drawdowns in the spike episodes.
 *
 * 1. BTC history 2014-09 to 2024-03 (../shared/data/prices: daily closes, DVOL where it exists,
 *    Deribit funding): the walk-forward forecasts of `volfolio regime forecast` (refit every 90
 *    days, expanding window) give the spike-probability scale known at each day's close; the
 *    market is the synthetic chain driven by the historical path (core/backtest/signalComparison.ts).
 *    Backtests from the first forecast day (2016-09) to the end.
 * 2. The 2026 daily chain season (../shared/data/deribit/daily, real BTC chains): the same
 *    forecast, walk-forward over the daily closes up to each day (BTC-USD_daily.csv, then
 *    BTC-USD_daily_2024-2026.csv, then the chains' index price for days after 2026-03-30 and for
 *    the 6 days the Binance file lacks), on the real chains; episodes around the season's three
 *    largest daily index moves.
 *
 *   npx tsx scripts/measure/compareSignals.ts [--json FILE]      (several minutes; progress on stderr)
 */
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadBacktestData } from "../../src/adapters/backtestData.js";
import { dailyMeanFunding, loadFundingHistory } from "../../src/adapters/fundingHistory.js";
import { type DatedBar, loadPriceHistory } from "../../src/adapters/priceHistory.js";
import type { BacktestStep } from "../../src/core/backtest/market.js";
import {
  BTC_SPIKE_EPISODES,
  compareSignals,
  type Episode,
  type HistoricalDay,
  historicalPathSteps,
  type SignalRun,
} from "../../src/core/backtest/signalComparison.js";
import type { StrategySpec } from "../../src/core/backtest/strategies.js";
import type { DailyExtras } from "../../src/core/regime/forecast/features.js";
import { forecastSchedule, type ScheduledSignal } from "../../src/core/regime/forecast/signal.js";
import { walkForwardForecasts } from "../../src/core/regime/forecast/walkForward.js";
import type { RegimeTrackerConfig } from "../../src/core/regime/tracker.js";
import { DAY_MS } from "../../src/core/time.js";
import { DAILY_DIR } from "./deribitDaily.js";
import { seasonBars } from "./seasonBars.js";

const PRICES = resolve(DAILY_DIR, "../../prices");
const file = (name: string) => resolve(PRICES, name);
const COSTS = { feeRate: 0.0003, slippageBps: 5 };

/** Short-vol strategies compared (weekly 25-delta, as option vaults sell them). */
const SPECS: readonly { spec: StrategySpec; currency: "USD" | "coin" }[] = [
  {
    spec: {
      name: "cash-secured put 25d weekly",
      type: "cash-secured-put",
      params: { usd: 100_000, targetDelta: 0.25, tenorDays: 7 },
      costs: COSTS,
    },
    currency: "USD",
  },
  {
    spec: {
      name: "covered call 25d weekly",
      type: "covered-call",
      params: { coins: 1, targetDelta: 0.25, tenorDays: 7 },
      costs: COSTS,
    },
    currency: "coin",
  },
];

/** The HMM regime tracker on daily steps: one year of returns, refit weekly, acting after 60 days. */
const DAILY_HMM: RegimeTrackerConfig = {
  states: 2,
  window: 365,
  minReturns: 60,
  refitEveryTicks: 7,
  calmProbability: 0.3,
  stressProbability: 0.8,
  minVolRatio: 1.5,
};

const dayStartOf = (date: string) => Date.parse(`${date}T00:00:00Z`);
const dateOf = (t: number) => new Date(t).toISOString().slice(0, 10);

function progress(label: string): (done: number, total: number) => void {
  return (done, total) =>
    process.stderr.write(`\r${label}: ${done}/${total}   ${done === total ? "\n" : ""}`);
}

async function extrasFor(bars: readonly DatedBar[]): Promise<DailyExtras[]> {
  const dvol = await loadPriceHistory(file("DVOL_BTC_daily.csv"));
  const implied = new Map(dvol.bars.map((b) => [b.date, b.close / 100]));
  const funding = dailyMeanFunding(
    (await loadFundingHistory(file("funding_BTC-PERPETUAL_deribit_8h.csv"))).rows,
  );
  return bars.map((b) => ({
    impliedVol: implied.get(b.date) ?? Number.NaN,
    funding: funding.get(b.date) ?? Number.NaN,
  }));
}

/** Walk-forward forecasts of `bars` as a scale schedule (and the index of the first forecast). */
async function schedule(bars: readonly DatedBar[], label: string) {
  const result = walkForwardForecasts(bars, await extrasFor(bars), { onProgress: progress(label) });
  const days = forecastSchedule(result.days, (i) => dayStartOf(bars[i]?.date ?? ""));
  return { days, first: result.days[0]?.index ?? 0 };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "n/a");

function report(title: string, runs: readonly SignalRun[], currency: "USD" | "coin"): string[] {
  const lines = [title];
  for (const r of runs) {
    const m = currency === "USD" ? r.result.metricsUsd : r.result.metricsCoin;
    const eps = r.episodes.map((e) => `${e.name} ${pct(e.maxDrawdown)} (${pct(e.change)})`).join("; ");
    lines.push(
      `  ${r.signal.padEnd(8)} return ${pct(m?.totalReturn ?? Number.NaN).padStart(8)}  maxDD ${pct(m?.maxDrawdown ?? Number.NaN).padStart(6)}  Sharpe ${(m?.sharpe ?? Number.NaN).toFixed(2).padStart(5)}  trades ${String(r.result.tradeCount).padStart(4)}  mean scale ${r.meanScale.toFixed(2)} (scaled down ${pct(r.reducedShare)} of days)`,
      `           episode maxDD (change): ${eps}`,
    );
  }
  return lines;
}

function runAll(
  steps: () => Iterable<BacktestStep>,
  sched: readonly ScheduledSignal[],
  episodes: readonly Episode[],
  label: string,
) {
  return SPECS.map(({ spec, currency }) => {
    const runs = compareSignals({
      spec,
      steps,
      hmm: DAILY_HMM,
      schedule: sched,
      episodes,
      equity: (r) => (currency === "USD" ? r.equityUsd : r.equityCoin),
      onRun: (s) => process.stderr.write(`${label}: ${spec.name}, signal ${s}\n`),
    });
    return { spec: spec.name ?? spec.type, currency, runs };
  });
}

async function history() {
  const bars = (await loadPriceHistory(file("BTC-USD_daily.csv"))).bars;
  const { days: sched, first } = await schedule(bars, "BTC 2014-2024 walk-forward refits");
  const implied = await extrasFor(bars);
  const days: HistoricalDay[] = bars.map((b, i) => ({
    dayStart: dayStartOf(b.date),
    close: b.close,
    impliedVol: implied[i]?.impliedVol ?? Number.NaN,
  }));
  // From the first forecast day; the ATM-vol proxy's EWMA is warmed on the days before.
  const steps = () => dropFirst(historicalPathSteps(days), first);
  return {
    from: bars[first]?.date,
    to: bars.at(-1)?.date,
    results: runAll(steps, sched, BTC_SPIKE_EPISODES, "history"),
  };
}

function* dropFirst<T>(it: Iterable<T>, n: number): Generator<T> {
  let i = 0;
  for (const x of it) if (i++ >= n) yield x;
}

/** Windows around the season's three largest daily index moves (3 days before to 10 after). */
function seasonEpisodes(steps: readonly BacktestStep[]): Episode[] {
  const moves = steps
    .slice(1)
    .map((s, i) => ({ time: s.time, move: Math.log(s.indexPrice / (steps[i]?.indexPrice ?? 1)) }));
  moves.sort((a, b) => Math.abs(b.move) - Math.abs(a.move));
  const chosen: { time: number; move: number }[] = [];
  for (const m of moves) {
    if (chosen.length === 3) break;
    if (chosen.every((c) => Math.abs(c.time - m.time) > 14 * DAY_MS)) chosen.push(m);
  }
  return chosen
    .sort((a, b) => a.time - b.time)
    .map((c) => ({
      name: `${dateOf(c.time)} (${(c.move * 100).toFixed(1)}%)`,
      from: dateOf(c.time - 3 * DAY_MS),
      to: dateOf(c.time + 10 * DAY_MS),
    }));
}

async function season() {
  const data = await loadBacktestData({
    dir: DAILY_DIR,
    underlying: "BTC",
    onFile: progress("loading season chains"),
  });
  const steps = data.steps;
  const { bars, fromChains } = await seasonBars(steps);
  const { days: sched } = await schedule(bars, "season walk-forward refits");
  const episodes = seasonEpisodes(steps);
  return {
    from: dateOf(steps[0]?.time ?? 0),
    to: dateOf(steps.at(-1)?.time ?? 0),
    steps: steps.length,
    barsFromChains: fromChains,
    episodes,
    results: runAll(() => steps, sched, episodes, "season"),
  };
}

async function main(): Promise<void> {
  if (!existsSync(file("BTC-USD_daily.csv")) || !existsSync(DAILY_DIR)) {
    console.log("no ../shared/data: nothing to measure");
    return;
  }
  const jsonAt = process.argv.indexOf("--json");
  const h = await history();
  const s = await season();
  const lines = [
    `BTC history ${h.from} to ${h.to}, synthetic chain on the historical path (DVOL or EWMA-proxy ATM vol), costs ${JSON.stringify(COSTS)}`,
    ...h.results.flatMap((r) => report(`${r.spec} (equity in ${r.currency})`, r.runs, r.currency)),
    "",
    `2026 season ${s.from} to ${s.to}: ${s.steps} real BTC chains (${s.barsFromChains} forecast bars from chain index prices)`,
    ...s.results.flatMap((r) => report(`${r.spec} (equity in ${r.currency})`, r.runs, r.currency)),
  ];
  console.log(lines.join("\n"));
  if (jsonAt > 0) {
    const strip = (x: { runs: readonly SignalRun[] }) =>
      x.runs.map((r) => ({
        signal: r.signal,
        meanScale: r.meanScale,
        reducedShare: r.reducedShare,
        episodes: r.episodes,
        metricsUsd: r.result.metricsUsd,
        metricsCoin: r.result.metricsCoin,
        trades: r.result.tradeCount,
      }));
    const out = {
      history: h.results.map((r) => ({ spec: r.spec, runs: strip(r) })),
      season: { ...s, results: s.results.map((r) => ({ spec: r.spec, runs: strip(r) })) },
    };
    writeFileSync(String(process.argv[jsonAt + 1]), JSON.stringify(out, null, 1));
  }
}

await main();
