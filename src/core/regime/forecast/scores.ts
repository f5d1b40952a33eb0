/**
 * Forecast scores. Variance forecasts: QLIKE and MSE on variance, the two losses that rank
 * variance forecasts consistently when the target is a noisy proxy (Patton 2011, "Volatility
 * forecast comparison using imperfect volatility proxies", J. Econometrics 160). Event
 * probabilities: the Brier score and the area under the ROC curve.
 */
import { InvalidInputError } from "../../errors.js";

function checkPairs(name: string, a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length)
    throw new InvalidInputError(`${name}.length`, b.length, `must equal ${a.length}`);
  if (a.length === 0) throw new InvalidInputError(`${name}.length`, 0, "must be at least 1");
}

/** QLIKE = mean(v/f - ln(v/f) - 1) over realized variances v and forecasts f (both > 0); 0 is perfect. */
export function qlike(realized: readonly number[], forecast: readonly number[]): number {
  checkPairs("forecast", realized, forecast);
  let s = 0;
  for (let i = 0; i < realized.length; i++) {
    const v = realized[i] as number;
    const f = forecast[i] as number;
    if (!(v > 0)) throw new InvalidInputError(`realized[${i}]`, v, "must be > 0");
    if (!(f > 0)) throw new InvalidInputError(`forecast[${i}]`, f, "must be > 0");
    s += v / f - Math.log(v / f) - 1;
  }
  return s / realized.length;
}

/** Mean squared error. */
export function mse(realized: readonly number[], forecast: readonly number[]): number {
  checkPairs("forecast", realized, forecast);
  let s = 0;
  for (let i = 0; i < realized.length; i++) s += ((realized[i] as number) - (forecast[i] as number)) ** 2;
  return s / realized.length;
}

/** Brier score: mean (p - outcome)^2 for outcomes in {0, 1}. */
export function brier(outcomes: readonly number[], probabilities: readonly number[]): number {
  checkPairs("probabilities", outcomes, probabilities);
  return mse(outcomes, probabilities);
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting one half (Mann-Whitney U / (n+ n-)). NaN when one class is absent.
 */
export function auc(outcomes: readonly number[], scores: readonly number[]): number {
  checkPairs("scores", outcomes, scores);
  const idx = outcomes.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let rankSumPositive = 0;
  let positives = 0;
  for (let k = 0; k < idx.length; ) {
    let end = k;
    while (end + 1 < idx.length && scores[idx[end + 1] as number] === scores[idx[k] as number]) end++;
    const midRank = (k + end) / 2 + 1;
    for (let m = k; m <= end; m++) {
      if (outcomes[idx[m] as number] === 1) {
        rankSumPositive += midRank;
        positives++;
      }
    }
    k = end + 1;
  }
  const negatives = outcomes.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}
