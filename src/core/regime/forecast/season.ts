/**
 * Forecasts on the features only a daily option-chain season has (issue 24 item 1): implied minus
 * realized (the project's 30-day vol index and the 30-day ATM vol), term-structure slope and
 * inversion (ATM 7 vs 30 vs 90 days), 25-delta skew (30-day risk reversal), funding and basis.
 * The chain figures come in already computed by the project's core functions (the DVOL-method
 * index, core/volindex; ATM vols and RR25 by smileSummary on the fitted surface, as the
 * dashboard's History tab computes them); this module only combines them with the realized
 * variances of the daily closes (features.ts) and fits one model on them.
 *
 * Model ("chain ridge"): ridge regression of ln(RV_next30 / RV_trailing30) on the standardized
 * chain features, walk-forward on the season (expanding window, refit every `refitEvery` days,
 * training rows only with targets known by the refit day), forecast RV_trailing30 x exp(fit +
 * s^2/2). Ridge, not trees: the season has ~200 days of heavily overlapping 30-day targets, far
 * too few for a flexible model; the penalty (lambda = 1 per training row on standardized
 * features, i.e. shrinkage comparable to the data's own weight) is fixed, not tuned.
 */
import { InvalidInputError } from "../../errors.js";
import { DAYS_PER_YEAR } from "../../time.js";
import { type DailySeries, futureVariance, spikeEvent, trailingVariance } from "./features.js";
import { leastSquares } from "./linearModel.js";
import { auc, brier, mse, qlike } from "./scores.js";

/** One chain day's figures (decimal vols; NaN where the chain has none). */
export interface ChainDay {
  /** Index of the day's bar in the daily series (the bar whose close the chain follows). */
  readonly index: number;
  /** The project's 30-day vol index (decimal, DVOL method). */
  readonly volIndex: number;
  /** ATM vol at 7, 30 and 90 days (smileSummary on the day's surface). */
  readonly atm7: number;
  readonly atm30: number;
  readonly atm90: number;
  /** 30-day 25-delta risk reversal, vol(25C) - vol(25P). */
  readonly rr25: number;
  /** Perpetual funding, mean 8-hour rate of the day (decimal). */
  readonly funding: number;
  /** Annualized log basis of the forward nearest 30 days over the index: ln(F / S) / T. */
  readonly basis: number;
}

export const CHAIN_FEATURE_NAMES = [
  "volIndexMinusRv30",
  "atm30MinusRv30",
  "termSlope90m7",
  "inverted7over30",
  "rr25",
  "fundingAnnualized",
  "basis30",
  "lnRv7OverRv30",
] as const;

/** The chain feature row of a day (NaN where an input is missing). */
export function chainFeatureRow(s: DailySeries, d: ChainDay): number[] {
  const rv30 = Math.sqrt(trailingVariance(s, d.index, 30));
  const rv7 = Math.sqrt(trailingVariance(s, d.index, 7));
  return [
    d.volIndex - rv30,
    d.atm30 - rv30,
    d.atm90 - d.atm7,
    Number.isFinite(d.atm7) && Number.isFinite(d.atm30) ? (d.atm7 > d.atm30 ? 1 : 0) : Number.NaN,
    d.rr25,
    d.funding * 3 * DAYS_PER_YEAR,
    d.basis,
    Math.log(Math.max(rv7, 1e-4) / Math.max(rv30, 1e-4)),
  ];
}

/** Ridge coefficients (intercept unpenalized) on standardized columns; returns a predictor. */
export function fitRidge(
  x: readonly number[][],
  y: readonly number[],
  lambdaPerRow: number,
): (row: readonly number[]) => number {
  const p = x[0]?.length ?? 0;
  if (x.length < 2 || p === 0) throw new InvalidInputError("x.length", x.length, "must be at least 2 rows");
  const mean = Array.from({ length: p }, (_, j) => x.reduce((a, r) => a + (r[j] ?? 0), 0) / x.length);
  const sd = mean.map((m, j) => Math.sqrt(x.reduce((a, r) => a + ((r[j] ?? 0) - m) ** 2, 0) / x.length) || 1);
  const z = (row: readonly number[]) => row.map((v, j) => (v - (mean[j] ?? 0)) / (sd[j] ?? 1));
  const penalty = Math.sqrt(lambdaPerRow * x.length);
  const rows = [
    ...x.map((r) => [1, ...z(r)]),
    ...mean.map((_, j) => [0, ...mean.map((__, k) => (k === j ? penalty : 0))]),
  ];
  const b = leastSquares(rows, [...y, ...mean.map(() => 0)]);
  return (row) => z(row).reduce((a, v, j) => a + v * (b[j + 1] ?? 0), b[0] ?? 0);
}

export interface SeasonForecastDay {
  readonly index: number;
  /** Forecast next-30-day variance by model (annualized); NaN where a model has none. */
  readonly variance: Record<string, number>;
  readonly realizedVariance: number;
  readonly eventOutcome: number;
}

/**
 * Walk-forward chain-ridge forecasts over the season's chain days (consecutive bars in `s`).
 * A row enters training at refit day T when its 30-day target is known (index + 30 <= T's
 * index) and every feature is finite.
 */
export function seasonChainForecasts(
  s: DailySeries,
  days: readonly ChainDay[],
  o: { readonly refitEvery: number; readonly minRows: number; readonly lambdaPerRow?: number },
): Map<number, number> {
  const out = new Map<number, number>();
  const rows = days.map((d) => ({ d, x: chainFeatureRow(s, d) }));
  let predict: ((row: readonly number[]) => number) | null = null;
  let residual = 0;
  for (const [i, { d, x }] of rows.entries()) {
    if (i % o.refitEvery === 0) {
      const train = rows.filter((r) => r.d.index + 30 <= d.index && r.x.every(Number.isFinite));
      const y = train.map((r) =>
        Math.log(futureVariance(s, r.d.index, 30) / trailingVariance(s, r.d.index, 30)),
      );
      if (train.length >= o.minRows) {
        const f = fitRidge(
          train.map((r) => r.x),
          y,
          o.lambdaPerRow ?? 1,
        );
        predict = f;
        residual =
          train.reduce((a, r, k) => a + ((y[k] ?? 0) - f(r.x)) ** 2, 0) / Math.max(train.length - 1, 1);
      }
    }
    if (predict && x.every(Number.isFinite))
      out.set(d.index, trailingVariance(s, d.index, 30) * Math.exp(predict(x) + 0.5 * residual));
  }
  return out;
}

export interface SeasonScore {
  readonly model: string;
  readonly days: number;
  readonly qlikeVsNaive: number;
  readonly mseVsNaive: number;
}

/** QLIKE and MSE over the naive forecast's, every model on the same days (all models present). */
export function scoreSeason(days: readonly SeasonForecastDay[], models: readonly string[]): SeasonScore[] {
  const use = days.filter(
    (d) =>
      d.realizedVariance > 0 &&
      models.every((m) => (d.variance[m] ?? Number.NaN) > 0) &&
      (d.variance.naive ?? 0) > 0,
  );
  const realized = use.map((d) => d.realizedVariance);
  const naive = use.map((d) => d.variance.naive ?? Number.NaN);
  return models.map((model) => {
    const f = use.map((d) => d.variance[model] ?? Number.NaN);
    return use.length === 0
      ? { model, days: 0, qlikeVsNaive: Number.NaN, mseVsNaive: Number.NaN }
      : {
          model,
          days: use.length,
          qlikeVsNaive: qlike(realized, f) / qlike(realized, naive),
          mseVsNaive: mse(realized, f) / mse(realized, naive),
        };
  });
}

/** AUC and Brier of event probabilities on days with a known outcome; NaN AUC without both outcomes. */
export function scoreSeasonEvent(
  outcomes: readonly number[],
  probabilities: readonly number[],
): { days: number; events: number; auc: number; brier: number } {
  const events = outcomes.reduce((a, b) => a + b, 0);
  const both = events > 0 && events < outcomes.length;
  return {
    days: outcomes.length,
    events,
    auc: both ? auc(outcomes, probabilities) : Number.NaN,
    brier: brier(outcomes, probabilities),
  };
}

/** The 30-day target and event of a season day (NaN past the data). */
export function seasonTargets(
  s: DailySeries,
  index: number,
): { realizedVariance: number; eventOutcome: number } {
  return {
    realizedVariance: futureVariance(s, index, 30),
    eventOutcome: spikeEvent(s, index, { rise: 0.5, horizon: 7, window: 30 }),
  };
}
