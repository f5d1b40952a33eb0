/**
 * Forecasts that act: the short-vol exposure scale from the walk-forward spike forecast
 * (walkForward.ts, event "30-day realized vol up more than 50% within 7 days", boosted trees),
 * the same monotone rule as the HMM signal (signals.ts shortVolExposureSignal): full exposure at
 * or below `calmProbability`, none at or above `stressProbability`, linear between.
 *
 * Defaults, chosen before any backtest and not tuned on it: the event's base rate on BTC
 * 2016-2024 is about 4% a day, so 10% (2.5x the base rate) is where caution starts and 30% (a
 * spike more likely than not within a month of such days) is where no new short vol is sold.
 *
 * Timing: a day's forecast uses that day's close, so it is known at the end of the UTC day
 * (`knownAt` = day start + 1 day); `forecastScaleAt` gives the last forecast known at or before
 * an instant, never a later one.
 */
import { InvalidInputError } from "../../errors.js";
import { upperBoundBy } from "../../math/search.js";
import { shortVolExposureSignal } from "../signals.js";
import type { ForecastDay } from "./walkForward.js";

export interface ForecastSignalConfig {
  /** Spike probability at or below which short-vol exposure is full. */
  readonly calmProbability: number;
  /** Spike probability at or above which no new short vol is opened. */
  readonly stressProbability: number;
}

export const DEFAULT_FORECAST_SIGNAL: ForecastSignalConfig = {
  calmProbability: 0.1,
  stressProbability: 0.3,
};

export interface ForecastSignalView {
  /** The forecast spike probability in force (NaN before the first forecast). */
  readonly eventProbability: number;
  /** Forecast next-30-day realized vol (boosted trees), decimal annualized (NaN before one). */
  readonly forecastVol: number;
  /** Multiplier in [0, 1] for short-vol exposure. */
  readonly scale: number;
  readonly reason: string;
}

/** One day's forecast as an exposure scale. */
export function forecastSignal(day: ForecastDay, config: ForecastSignalConfig): ForecastSignalView {
  const p = day.event.gbdt;
  if (!(p >= 0 && p <= 1)) throw new InvalidInputError("event.gbdt", p, "must be in [0, 1]");
  const { scale } = shortVolExposureSignal({
    highVolProbability: p,
    calmProbability: config.calmProbability,
    stressProbability: config.stressProbability,
  });
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const reason =
    scale === 1
      ? `spike forecast ${pct(p)} <= ${pct(config.calmProbability)}: full exposure`
      : scale === 0
        ? `spike forecast ${pct(p)} >= ${pct(config.stressProbability)}: no new short vol`
        : `spike forecast ${pct(p)}: exposure scaled to ${(scale * 100).toFixed(0)}%`;
  return { eventProbability: p, forecastVol: Math.sqrt(day.variance.gbdt), scale, reason };
}

/** A forecast scale and the instant it became known (epoch ms). */
export interface ScheduledSignal extends ForecastSignalView {
  readonly knownAt: number;
}

/**
 * The scale schedule of walk-forward forecast days: `dayStart(index)` is the UTC start (epoch
 * ms) of the bar of that index; each forecast is known one day later, at the bar's close.
 */
export function forecastSchedule(
  days: readonly ForecastDay[],
  dayStart: (index: number) => number,
  config: ForecastSignalConfig = DEFAULT_FORECAST_SIGNAL,
): ScheduledSignal[] {
  return days.map((d) => ({ ...forecastSignal(d, config), knownAt: dayStart(d.index) + 86_400_000 }));
}

const NONE: ForecastSignalView = {
  eventProbability: Number.NaN,
  forecastVol: Number.NaN,
  scale: 1,
  reason: "no forecast yet: full exposure",
};

/** The last scheduled signal known at or before `time` (schedule sorted by knownAt). */
export function forecastScaleAt(schedule: readonly ScheduledSignal[], time: number): ForecastSignalView {
  return schedule[upperBoundBy(schedule, time, (s) => s.knownAt) - 1] ?? NONE;
}
