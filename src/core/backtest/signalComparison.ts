/**
 * Backtests of one strategy with and without a short-vol signal, on the same market and costs,
 * and their drawdowns in named spike episodes (issue 24 item 2).
 *
 * The market of a daily price history is the synthetic chain (syntheticMarket.ts: inverse
 * options on a Deribit-style expiry calendar, smile around an ATM vol, bid/ask +-1 vol point)
 * driven by the historical path: each step is a day's close (at the end of its UTC day) with its
 * ATM vol. The ATM vol is the implied index (DVOL) where the day has one; before DVOL existed
 * (2021-03-24) a proxy known that day: 1.1 x the RiskMetrics EWMA vol (lambda 0.94) of the
 * closes so far, at least 20% (the synthetic market's default implied-over-realized premium).
 */
import { InvalidInputError } from "../errors.js";
import { mean } from "../math/stats.js";
import { DAY_MS } from "../time.js";
import type { ScheduledSignal } from "../regime/forecast/signal.js";
import type { RegimeTrackerConfig } from "../regime/tracker.js";
import { type BacktestResult, type DailyRecord, runBacktest } from "./engine.js";
import type { BacktestStep } from "./market.js";
import { drawdownSeries } from "./metrics.js";
import { withForecastScaling, withRegimeScaling } from "./regimeScaling.js";
import { baseStrategyRule, type StrategySpec } from "./strategies.js";
import { syntheticStep } from "./syntheticMarket.js";

export interface HistoricalDay {
  /** Start of the UTC day of the bar, epoch ms. */
  readonly dayStart: number;
  /** Close, USD. */
  readonly close: number;
  /** Implied ATM vol known at the close (decimal), NaN when none: the proxy is used. */
  readonly impliedVol: number;
}

const EWMA_LAMBDA = 0.94;
const PROXY_PREMIUM = 1.1;
const PROXY_FLOOR = 0.2;

/**
 * The ATM vol of each day: the implied vol where present, else the EWMA proxy (see above). The
 * EWMA starts at the first 30 returns' mean square, so day t uses closes up to t only.
 */
export function historicalAtmVols(days: readonly HistoricalDay[]): Float64Array {
  const out = new Float64Array(days.length);
  let variance = Number.NaN;
  for (let t = 0; t < days.length; t++) {
    const prev = days[t - 1]?.close;
    const close = days[t]?.close ?? Number.NaN;
    if (!(close > 0)) throw new InvalidInputError(`days[${t}].close`, close, "must be > 0");
    if (prev !== undefined) {
      const r2 = Math.log(close / prev) ** 2;
      variance = Number.isNaN(variance) ? r2 : EWMA_LAMBDA * variance + (1 - EWMA_LAMBDA) * r2;
    }
    const proxy = Number.isNaN(variance)
      ? PROXY_FLOOR
      : Math.max(PROXY_FLOOR, PROXY_PREMIUM * Math.sqrt(variance * 365));
    const implied = days[t]?.impliedVol ?? Number.NaN;
    out[t] = implied > 0 ? implied : proxy;
  }
  return out;
}

/**
 * A power of two near `spot`: the synthetic grid's reference spot (strike spacing), which moves
 * only when the price doubles or halves, so a listed strike mostly stays listed.
 */
function gridSpot(spot: number): number {
  return 2 ** Math.round(Math.log2(spot));
}

/** The steps of a daily history: one per day at its close (dayStart + 1 day). */
export function* historicalPathSteps(
  days: readonly HistoricalDay[],
  underlying = "BTC",
): Generator<BacktestStep> {
  const vols = historicalAtmVols(days);
  for (let t = 0; t < days.length; t++) {
    const d = days[t];
    if (!d) continue;
    const config = { underlying, steps: days.length, seed: 0, spot: gridSpot(d.close) };
    yield syntheticStep(config, d.dayStart + DAY_MS, d.close, vols[t] ?? PROXY_FLOOR);
  }
}

export interface Episode {
  readonly name: string;
  /** Inclusive UTC dates YYYY-MM-DD. */
  readonly from: string;
  readonly to: string;
}

/** The spike episodes of issue 24 on the BTC history. */
export const BTC_SPIKE_EPISODES: readonly Episode[] = [
  { name: "March 2020", from: "2020-02-20", to: "2020-04-15" },
  { name: "May 2021", from: "2021-05-01", to: "2021-06-30" },
  { name: "June 2022", from: "2022-05-25", to: "2022-07-15" },
  { name: "November 2022", from: "2022-11-01", to: "2022-12-15" },
];

export interface EpisodeDrawdown {
  readonly name: string;
  /** Largest peak-to-trough fall of the equity inside the episode (fraction >= 0; peak inside). */
  readonly maxDrawdown: number;
  /** Equity change over the episode (fraction). */
  readonly change: number;
  readonly days: number;
}

/** Drawdown of `equity(record)` inside each episode (records whose time falls in it). */
export function episodeDrawdowns(
  daily: readonly DailyRecord[],
  episodes: readonly Episode[],
  equity: (r: DailyRecord) => number,
): EpisodeDrawdown[] {
  return episodes.map((e) => {
    const from = Date.parse(`${e.from}T00:00:00Z`);
    const to = Date.parse(`${e.to}T00:00:00Z`) + DAY_MS;
    if (!(from < to)) throw new InvalidInputError("episode.from", e.from, `must be before ${e.to}`);
    const values = daily.filter((r) => r.time >= from && r.time < to).map(equity);
    if (values.length === 0) return { name: e.name, maxDrawdown: Number.NaN, change: Number.NaN, days: 0 };
    const dd = drawdownSeries(values).filter((x) => Number.isFinite(x));
    const first = values[0] ?? Number.NaN;
    const last = values[values.length - 1] ?? Number.NaN;
    return {
      name: e.name,
      maxDrawdown: dd.length > 0 ? -Math.min(...dd) : Number.NaN,
      change: last / first - 1,
      days: values.length,
    };
  });
}

export const SIGNALS = ["none", "hmm", "forecast"] as const;
export type SignalName = (typeof SIGNALS)[number];

export interface SignalRun {
  readonly signal: SignalName;
  readonly result: BacktestResult;
  /** Mean short-vol scale over the decisions, and the share of decisions scaled below 1. */
  readonly meanScale: number;
  readonly reducedShare: number;
  readonly episodes: readonly EpisodeDrawdown[];
}

/**
 * Runs `spec` three times on the same steps and costs: unscaled, scaled by the HMM regime
 * tracker (`hmm`, counted in steps), scaled by the forecast schedule.
 */
export function compareSignals(o: {
  readonly spec: StrategySpec;
  readonly steps: () => Iterable<BacktestStep>;
  readonly hmm: RegimeTrackerConfig;
  readonly schedule: readonly ScheduledSignal[];
  readonly episodes: readonly Episode[];
  readonly equity: (r: DailyRecord) => number;
  readonly onRun?: (signal: SignalName) => void;
}): SignalRun[] {
  return SIGNALS.map((signal) => {
    o.onRun?.(signal);
    const base = baseStrategyRule(o.spec);
    const scaled =
      signal === "hmm"
        ? withRegimeScaling(base, o.hmm)
        : signal === "forecast"
          ? withForecastScaling(base, o.schedule)
          : null;
    const result = runBacktest({
      strategy: o.spec,
      steps: o.steps(),
      rule: scaled ?? base,
      recordTrades: false,
    });
    const scales = scaled ? scaled.signals.map((s) => s.scale) : [1];
    return {
      signal,
      result,
      meanScale: scales.length > 0 ? mean(scales) : 0,
      reducedShare: scales.filter((s) => s < 1).length / Math.max(scales.length, 1),
      episodes: episodeDrawdowns(result.daily, o.episodes, o.equity),
    };
  });
}
