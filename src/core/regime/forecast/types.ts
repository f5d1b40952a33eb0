/**
 * Shared types of the walk-forward volatility forecasts (walkForward.ts runs them, segment.ts
 * fits one refit segment): the model names, the options and one day's forecasts. Variances are
 * annualized, horizons in days.
 */
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
