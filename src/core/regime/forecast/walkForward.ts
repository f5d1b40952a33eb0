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
import { DAYS_PER_YEAR } from "../../time.js";
import { fitGarch, type GarchFit, garchForecastVariance, garchVariances } from "../garch.js";
import { fitHmm, hmmForwardBackward } from "../hmm.js";
import type { OhlcBar } from "../realizedVol.js";
import {
  type DailyExtras,
  type DailySeries,
  dailySeries,
  FEATURE_WARMUP,
  featureRow,
  futureVariance,
  spikeEvent,
  trailingVariance,
} from "./features.js";
import { gbdtPredict, type GbdtModel, gbdtRaw, trainGbdt } from "./gbdt.js";
import { leastSquares } from "./linearModel.js";
import { auc, brier, mse, qlike } from "./scores.js";

export const VARIANCE_MODELS = ["naive", "ewma", "implied", "har", "garch", "gjr", "gbdt"] as const;
export type VarianceModel = (typeof VARIANCE_MODELS)[number];
export const EVENT_MODELS = ["climatology", "hmm", "gbdt"] as const;
export type EventModel = (typeof EVENT_MODELS)[number];

export interface WalkForwardOptions {
  /** Forecast horizon and realized-vol window, days (default 30). */
  readonly horizon?: number;
  /** Days between refits (default 90: a quarterly schedule; each refit fits GARCH, GJR, the HMM,
   * HAR and two boosted models on the whole history so far). */
  readonly refitEvery?: number;
  /** Days of data before the first forecast (default 730). */
  readonly minTraining?: number;
  /** Event: relative rise of the 30-day realized vol (default 0.5) within `eventHorizon` days (7). */
  readonly rise?: number;
  readonly eventHorizon?: number;
  /** Boosting rounds (default 100); seeds are fixed. */
  readonly rounds?: number;
  /** Called after each refit with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ForecastDay {
  readonly index: number;
  /** Forecast variances (annualized), NaN where a model has no input (implied before its start). */
  readonly variance: Record<VarianceModel, number>;
  /** Event probabilities. */
  readonly event: Record<EventModel, number>;
  /** Realized targets: NaN when the future is past the data. */
  readonly realizedVariance: number;
  readonly eventOutcome: number;
}

export interface WalkForwardResult {
  readonly days: readonly ForecastDay[];
  readonly refits: number;
  readonly options: Required<Omit<WalkForwardOptions, "onProgress">>;
}

const EWMA_LAMBDA = 0.94;
const HAR_WINDOWS = [1, 7, 30] as const;

function harRow(s: DailySeries, t: number): number[] {
  return [1, ...HAR_WINDOWS.map((w) => trailingVariance(s, t, w))];
}

/** GARCH conditional variance for day t+1 of every day t, from one filter pass with fixed params. */
function garchNextVariances(s: DailySeries, fit: GarchFit, end: number): Float64Array {
  const r = Array.from(s.returns.subarray(1, end + 1));
  // The filter starts at the first 30 days' variance so no later data enters day t's value.
  const start = r.slice(0, 30).reduce((a, x) => a + x * x, 0) / 30;
  const v = garchVariances(r, fit.params, start);
  const out = new Float64Array(end + 1).fill(Number.NaN);
  for (let t = 1; t <= end; t++) out[t] = v[t] as number;
  return out;
}

function garchMeanVariance(fit: GarchFit, next: number, horizon: number): number {
  let total = 0;
  for (let h = 1; h <= horizon; h++) total += garchForecastVariance({ ...fit, nextVariance: next }, h);
  return (total / horizon) * DAYS_PER_YEAR;
}

/** HMM high-vol state probability filtered up to each day (fixed params), days 1..end. */
function hmmHighVol(s: DailySeries, end: number, train: number): Float64Array {
  const r = Array.from(s.returns.subarray(1, train + 1));
  const fit = fitHmm(r, { states: 2 });
  const high = fit.params.stdevs.indexOf(Math.max(...fit.params.stdevs));
  const pass = hmmForwardBackward(Array.from(s.returns.subarray(1, end + 1)), fit.params);
  const out = new Float64Array(end + 1).fill(Number.NaN);
  for (let t = 1; t <= end; t++) out[t] = (pass.filtered[t - 1] as number[])[high] as number;
  return out;
}

/** Runs the walk-forward over daily bars (oldest first) with optional implied vol and funding. */
export function walkForwardForecasts(
  bars: readonly OhlcBar[],
  extras: readonly DailyExtras[] | undefined,
  options: WalkForwardOptions = {},
): WalkForwardResult {
  const o = {
    horizon: options.horizon ?? 30,
    refitEvery: options.refitEvery ?? 90,
    minTraining: options.minTraining ?? 730,
    rise: options.rise ?? 0.5,
    eventHorizon: options.eventHorizon ?? 7,
    rounds: options.rounds ?? 100,
  };
  for (const [k, v] of Object.entries(o))
    if (!(v > 0) || !Number.isFinite(v))
      throw new InvalidInputError(k, v, "must be a positive finite number");
  const s = dailySeries(bars, extras);
  const n = bars.length;
  const first = Math.max(FEATURE_WARMUP, o.minTraining);
  if (n <= first + 1)
    throw new InvalidInputError("bars.length", n, `must exceed ${first + 1} (warm-up and minimum training)`);
  const ewma = new Float64Array(n).fill(Number.NaN);
  let e = trailingVariance(s, 30, 30) / DAYS_PER_YEAR;
  for (let t = 31; t < n; t++) {
    e = EWMA_LAMBDA * e + (1 - EWMA_LAMBDA) * (s.returns[t] as number) ** 2;
    ewma[t] = e * DAYS_PER_YEAR;
  }
  const eventOptions = { rise: o.rise, horizon: o.eventHorizon, window: o.horizon };
  const refitDates: number[] = [];
  for (let T = first; T < n; T += o.refitEvery) refitDates.push(T);
  const days: ForecastDay[] = [];
  const rows: number[][] = new Array(n);
  refitDates.forEach((T, k) => {
    const segmentEnd = Math.min(n - 1, T + o.refitEvery - 1);
    const trainReturns = Array.from(s.returns.subarray(1, T + 1));
    const garch = fitGarch(trainReturns, { model: "garch" });
    const gjr = fitGarch(trainReturns, { model: "gjr" });
    const garchNext = garchNextVariances(s, garch, segmentEnd);
    const gjrNext = garchNextVariances(s, gjr, segmentEnd);
    const hmm = hmmHighVol(s, segmentEnd, T);
    const features = (t: number) =>
      featureRow(s, t, {
        garchVol30: Math.sqrt(garchMeanVariance(garch, garchNext[t] as number, o.horizon)),
        hmmHighVolProbability: hmm[t] as number,
      });
    // Each day's row is computed once, with the fits in effect that day (days before the first
    // forecast with the first fit): what was known then, and no O(n^2) recomputation.
    for (let t = k === 0 ? FEATURE_WARMUP : T; t <= segmentEnd; t++) rows[t] = features(t);
    // Training rows: targets known by T.
    const harX: number[][] = [];
    const harY: number[] = [];
    const gbX: number[][] = [];
    const gbY: number[] = [];
    const evX: number[][] = [];
    const evY: number[] = [];
    for (let t = FEATURE_WARMUP; t + o.eventHorizon <= T; t++) {
      const row = rows[t] as number[];
      const event = spikeEvent(s, t, eventOptions);
      if (Number.isFinite(event)) {
        evX.push(row);
        evY.push(event);
      }
      if (t + o.horizon > T) continue;
      const future = futureVariance(s, t, o.horizon);
      const now = trailingVariance(s, t, o.horizon);
      harX.push(harRow(s, t));
      harY.push(future);
      if (future > 0 && now > 0) {
        gbX.push(row);
        gbY.push(Math.log(future / now));
      }
    }
    const har = leastSquares(harX, harY);
    const varModel = trainGbdt(gbX, gbY, { loss: "squared", rounds: o.rounds, seed: 1 });
    const residualVariance = logResidualVariance(varModel, gbX, gbY);
    const eventModel = trainGbdt(evX, evY, { loss: "logistic", rounds: o.rounds, seed: 2 });
    const baseRate = evY.reduce((a, b) => a + b, 0) / Math.max(evY.length, 1);
    const harFloor = Math.min(...harY.filter((v) => v > 0));
    for (let t = T; t <= segmentEnd; t++) {
      const row = rows[t] as number[];
      const now = trailingVariance(s, t, o.horizon);
      const implied = (s.extras[t] as DailyExtras).impliedVol;
      const harValue = harRow(s, t).reduce((a, x, j) => a + x * (har[j] as number), 0);
      days.push({
        index: t,
        variance: {
          naive: now,
          ewma: ewma[t] as number,
          implied: implied > 0 ? implied * implied : Number.NaN,
          har: Math.max(harValue, harFloor),
          garch: garchMeanVariance(garch, garchNext[t] as number, o.horizon),
          gjr: garchMeanVariance(gjr, gjrNext[t] as number, o.horizon),
          gbdt: now * Math.exp(gbdtRaw(varModel, row) + 0.5 * residualVariance),
        },
        event: { climatology: baseRate, hmm: hmm[t] as number, gbdt: gbdtPredict(eventModel, row) },
        realizedVariance: futureVariance(s, t, o.horizon),
        eventOutcome: spikeEvent(s, t, eventOptions),
      });
    }
    options.onProgress?.(k + 1, refitDates.length);
  });
  return { days, refits: refitDates.length, options: o };
}

function logResidualVariance(model: GbdtModel, x: readonly number[][], y: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += ((y[i] as number) - gbdtRaw(model, x[i] as number[])) ** 2;
  return x.length > 1 ? s / (x.length - 1) : 0;
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
    eventRate: outcomes.reduce((a, b) => a + b, 0) / outcomes.length,
    variance,
    event,
  };
}
