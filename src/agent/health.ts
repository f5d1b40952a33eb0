/**
 * Feed health (pure), the checks of one snapshot on its own: missing, stale (its age against the
 * decision clock, either way), missing underlying (no usable index price), too few quotes,
 * crossed quotes, and an index jump from a given previous level. The loop runs these through
 * feedHealth.ts, which adds the checks that need the previous ticks (repeated, out-of-order) and
 * the rule by which a lasting move is accepted as the new level. Anything wrong puts the agent in
 * safe mode for that tick, each problem with its own reason code.
 */
import type { ChainSnapshot } from "../core/market/types.js";

export interface HealthLimits {
  /** Oldest acceptable snapshot age at decision time, ms (default 120,000). */
  readonly maxStalenessMs: number;
  /** Largest share of two-sided quotes that may be crossed (bid > ask) (default 0.02). */
  readonly maxCrossedShare: number;
  /** Fewest option quotes for the underlying (default 10). */
  readonly minQuotes: number;
  /** Largest index move from the accepted level, relative (default 0.3). */
  readonly maxIndexJump: number;
  /**
   * A move beyond maxIndexJump is accepted as the new level after this many consecutive clean
   * ticks within maxIndexJump of the move's first index (the first one included; default 3).
   */
  readonly jumpConfirmTicks: number;
}

export const DEFAULT_HEALTH_LIMITS: HealthLimits = {
  maxStalenessMs: 120_000,
  maxCrossedShare: 0.02,
  minQuotes: 10,
  maxIndexJump: 0.3,
  jumpConfirmTicks: 3,
};

/**
 * missing: no snapshot this tick; stale: older (or newer) than maxStalenessMs against the decision
 * clock; repeated: the same snapshot (time) as the previous tick; out-of-order: older than the
 * previous tick's; crossed: too many crossed quotes; too-few-quotes; missing-underlying: no
 * usable index price; index-jump: the index moved beyond maxIndexJump from the accepted level.
 */
export type HealthReason =
  | "missing"
  | "stale"
  | "repeated"
  | "out-of-order"
  | "crossed"
  | "too-few-quotes"
  | "missing-underlying"
  | "index-jump";

export interface FeedHealth {
  readonly healthy: boolean;
  readonly reasons: readonly { code: HealthReason; detail: string }[];
}

export function assessFeed(
  snapshot: ChainSnapshot | null,
  now: number,
  previousIndex: number | null,
  limits: HealthLimits = DEFAULT_HEALTH_LIMITS,
): FeedHealth {
  if (snapshot === null)
    return { healthy: false, reasons: [{ code: "missing", detail: "no snapshot this tick" }] };
  const reasons: { code: HealthReason; detail: string }[] = [];
  const age = now - snapshot.valuationTime;
  if (!Number.isFinite(snapshot.valuationTime))
    reasons.push({ code: "stale", detail: `snapshot time ${snapshot.valuationTime}` });
  else if (age > limits.maxStalenessMs)
    reasons.push({
      code: "stale",
      detail: `snapshot is ${Math.round(age / 1000)} s old > ${Math.round(limits.maxStalenessMs / 1000)} s`,
    });
  else if (-age > limits.maxStalenessMs)
    reasons.push({
      code: "stale",
      detail: `snapshot is ${Math.round(-age / 1000)} s ahead of the decision clock > ${Math.round(limits.maxStalenessMs / 1000)} s`,
    });
  if (!(snapshot.indexPrice > 0) || !Number.isFinite(snapshot.indexPrice)) {
    reasons.push({
      code: "missing-underlying",
      detail: `no usable ${snapshot.underlying} index price (${snapshot.indexPrice})`,
    });
  } else if (
    previousIndex !== null &&
    Math.abs(snapshot.indexPrice / previousIndex - 1) > limits.maxIndexJump
  ) {
    reasons.push({
      code: "index-jump",
      detail: `index ${previousIndex} -> ${snapshot.indexPrice} in one tick`,
    });
  }
  if (snapshot.quotes.length < limits.minQuotes) {
    reasons.push({
      code: "too-few-quotes",
      detail: `${snapshot.quotes.length} quotes < ${limits.minQuotes}`,
    });
  }
  let twoSided = 0;
  let crossed = 0;
  for (const q of snapshot.quotes) {
    if (q.bid !== null && q.ask !== null) {
      twoSided++;
      if (q.bid > q.ask) crossed++;
    }
  }
  if (twoSided > 0 && crossed / twoSided > limits.maxCrossedShare) {
    reasons.push({ code: "crossed", detail: `${crossed} of ${twoSided} two-sided quotes crossed` });
  }
  return { healthy: reasons.length === 0, reasons };
}
