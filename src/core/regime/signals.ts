/**
 * Regime signals for strategies and the agent: how much short-volatility exposure to keep.
 *
 * Rule (documented, deliberately simple and monotone): start from 1; scale down linearly as the
 * high-vol regime probability rises from `calmProbability` to `stressProbability` (to 0 beyond);
 * and cut to 0 when the variance risk premium is negative (implied below realized: selling vol
 * then has negative expected carry).
 */
import { InvalidInputError } from "../errors.js";

export interface ShortVolSignalInputs {
  /** Probability of the high-vol regime now (filtered, not smoothed: no look-ahead), in [0, 1]. */
  readonly highVolProbability: number;
  /** Implied minus realized variance (decimal^2 per year), if known. */
  readonly varianceRiskPremium?: number;
  /** Probability below which exposure is full (default 0.3). */
  readonly calmProbability?: number;
  /** Probability at and above which exposure is zero (default 0.8). */
  readonly stressProbability?: number;
}

export interface ShortVolSignal {
  /** Multiplier in [0, 1] for short-vol exposure (vega sold, strangles sized, ...). */
  readonly scale: number;
  /** Why, in words. */
  readonly reason: string;
}

export function shortVolExposureSignal(inputs: ShortVolSignalInputs): ShortVolSignal {
  const p = inputs.highVolProbability;
  if (!(p >= 0 && p <= 1)) throw new InvalidInputError("highVolProbability", p, "must be in [0, 1]");
  const lo = inputs.calmProbability ?? 0.3;
  const hi = inputs.stressProbability ?? 0.8;
  if (!(lo >= 0 && hi <= 1 && lo < hi)) {
    throw new InvalidInputError(
      "calmProbability/stressProbability",
      [lo, hi],
      "must satisfy 0 <= calm < stress <= 1",
    );
  }
  if (inputs.varianceRiskPremium !== undefined && inputs.varianceRiskPremium < 0) {
    return {
      scale: 0,
      reason: `variance risk premium ${inputs.varianceRiskPremium.toFixed(4)} < 0: implied below realized`,
    };
  }
  const scale = p <= lo ? 1 : p >= hi ? 0 : (hi - p) / (hi - lo);
  const reason =
    scale === 1
      ? `calm regime (P(high vol) = ${p.toFixed(2)} <= ${lo})`
      : scale === 0
        ? `stressed regime (P(high vol) = ${p.toFixed(2)} >= ${hi})`
        : `P(high vol) = ${p.toFixed(2)}: exposure scaled to ${(scale * 100).toFixed(0)}%`;
  return { scale, reason };
}
