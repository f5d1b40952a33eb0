/**
 * Walk-forward (expanding window) evaluation of 30-day volatility forecasts and of a vol-spike
 * event forecast. At each refit date T (every `refitEvery` days from the first forecast day) every
 * model is fitted on data up to T only: a training row t enters only when its target is known by
 * T (t + 30 <= T for the variance, t + 7 <= T for the event). Forecasts for the days of
 * [T, T + refitEvery) use those fits and each day's own data. Nothing after a day changes its
 * forecast (tested by truncating the series).
 *
 * Models for the next-30-day realized variance (annualized):
 * - naive: the trailing 30-day realized variance (random walk);
 * - ewma: RiskMetrics (lambda 0.94) daily variance, held flat;
 * - implied: the implied vol squared (e.g. DVOL), where the series has it;
 * - har: HAR-RV (Corsi 2009, "A simple approximate long-memory model of realized volatility",
 *   J. Financial Econometrics 7) with daily/weekly/monthly components of 1, 7 and 30 days
 *   (crypto trades every day), fitted directly at the 30-day horizon by OLS;
 * - garch, gjr: GARCH(1,1) and GJR-GARCH(1,1) (core/regime/garch.ts), the mean of the variance
 *   forecasts over the next 30 days;
 * - gbdt: gradient-boosted trees (gbdt.ts) on the desk's features (features.ts), target the log
 *   ratio of future to trailing variance, lognormal bias-corrected.
 * Event "30-day realized vol rises by more than `rise` within 7 days": the training base rate
 * (climatology), the HMM high-vol state probability, and a logistic gbdt.
 */
import { InvalidInputError } from "../../errors.js";
import { mean } from "../../math/stats.js";
import type { OhlcBar } from "../realizedVol.js";
import { type DailyExtras, dailySeries, FEATURE_WARMUP } from "./features.js";
import { auc, brier, mse, qlike } from "./scores.js";
import {
  dayFeatures,
  ewmaVariances,
  fitSegmentModels,
  forecastDay,
  type ResolvedOptions,
  resolveOptions,
  segmentFilters,
  trainingSets,
} from "./segment.js";

import {
  EVENT_MODELS,
  type EventModel,
  type ForecastDay,
  VARIANCE_MODELS,
  type VarianceModel,
  type WalkForwardOptions,
} from "./types.js";

export {
  EVENT_MODELS,
  type EventModel,
  type ForecastDay,
  VARIANCE_MODELS,
  type VarianceModel,
  type WalkForwardOptions,
} from "./types.js";

export interface WalkForwardResult {
  readonly days: readonly ForecastDay[];
  readonly refits: number;
  readonly options: ResolvedOptions;
}

/** Runs the walk-forward over daily bars (oldest first) with optional implied vol and funding. */
export function walkForwardForecasts(
  bars: readonly OhlcBar[],
  extras: readonly DailyExtras[] | undefined,
  options: WalkForwardOptions = {},
): WalkForwardResult {
  const o = resolveOptions(options);
  const s = dailySeries(bars, extras);
  const n = bars.length;
  const first = Math.max(FEATURE_WARMUP, o.minTraining);
  if (n <= first + 1)
    throw new InvalidInputError("bars.length", n, `must exceed ${first + 1} (warm-up and minimum training)`);
  const ewma = ewmaVariances(s);
  const refitDates: number[] = [];
  for (let T = first; T < n; T += o.refitEvery) refitDates.push(T);
  const days: ForecastDay[] = [];
  const rows: number[][] = new Array(n);
  refitDates.forEach((T, k) => {
    const segmentEnd = Math.min(n - 1, T + o.refitEvery - 1);
    const filters = segmentFilters(s, T, segmentEnd);
    // Each day's row is computed once, with the fits in effect that day (days before the first
    // forecast with the first fit): what was known then, and no O(n^2) recomputation.
    for (let t = k === 0 ? FEATURE_WARMUP : T; t <= segmentEnd; t++)
      rows[t] = dayFeatures(s, t, filters, o.horizon);
    const models = fitSegmentModels(trainingSets(s, rows, T, o), o.rounds);
    const context = { s, o, ewma, filters, models };
    for (let t = T; t <= segmentEnd; t++) days.push(forecastDay(context, t, rows[t] ?? []));
    options.onProgress?.(k + 1, refitDates.length);
  });
  return { days, refits: refitDates.length, options: o };
}

export interface VarianceScore {
  readonly model: VarianceModel;
  readonly days: number;
  readonly qlike: number;
  /** MSE of the annualized variance. */
  readonly mse: number;
  /** Loss over the naive forecast's loss on the same days (< 1 beats it). */
  readonly qlikeVsNaive: number;
  readonly mseVsNaive: number;
}

export interface EventScore {
  readonly model: EventModel;
  readonly days: number;
  readonly auc: number;
  readonly brier: number;
  /** 1 - brier / brier(climatology) on the same days (> 0 beats the base rate). */
  readonly brierSkill: number;
}

export interface ForecastScores {
  readonly days: number;
  readonly eventRate: number;
  readonly variance: readonly VarianceScore[];
  readonly event: readonly EventScore[];
}

/**
 * Scores of the days in `days` whose targets are known. With `commonDays` (e.g. only days with
 * an implied vol) every model is scored on the same subset; otherwise a model missing on a day
 * (implied) is scored on the days it has, beside the naive loss on those same days.
 */
export function scoreForecasts(
  days: readonly ForecastDay[],
  options: { requireImplied?: boolean } = {},
): ForecastScores {
  const scored = days.filter(
    (d) =>
      d.realizedVariance > 0 &&
      Number.isFinite(d.eventOutcome) &&
      (!options.requireImplied || Number.isFinite(d.variance.implied)),
  );
  if (scored.length === 0)
    throw new InvalidInputError("days", days.length, "have no day with a known target");
  const variance = VARIANCE_MODELS.map((model): VarianceScore => {
    const use = scored.filter((d) => d.variance[model] > 0 && d.variance.naive > 0);
    const realized = use.map((d) => d.realizedVariance);
    const f = use.map((d) => d.variance[model]);
    const naive = use.map((d) => d.variance.naive);
    if (use.length === 0)
      return {
        model,
        days: 0,
        qlike: Number.NaN,
        mse: Number.NaN,
        qlikeVsNaive: Number.NaN,
        mseVsNaive: Number.NaN,
      };
    const q = qlike(realized, f);
    const m = mse(realized, f);
    return {
      model,
      days: use.length,
      qlike: q,
      mse: m,
      qlikeVsNaive: q / qlike(realized, naive),
      mseVsNaive: m / mse(realized, naive),
    };
  });
  const outcomes = scored.map((d) => d.eventOutcome);
  const climatology = brier(
    outcomes,
    scored.map((d) => d.event.climatology),
  );
  const event = EVENT_MODELS.map((model): EventScore => {
    const p = scored.map((d) => d.event[model]);
    const b = brier(outcomes, p);
    return { model, days: scored.length, auc: auc(outcomes, p), brier: b, brierSkill: 1 - b / climatology };
  });
  return {
    days: scored.length,
    eventRate: outcomes.length > 0 ? mean(outcomes) : Number.NaN,
    variance,
    event,
  };
}
