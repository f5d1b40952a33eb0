/**
 * Feed health (pure): decides whether a snapshot is good enough to trade on. Anything wrong puts
 * the agent in safe mode for that tick, with the reasons; it resumes when a healthy tick arrives.
 */
import type { ChainSnapshot } from "../core/market/types.js";

export interface HealthLimits {
  /** Oldest acceptable snapshot age at decision time, ms (default 120,000). */
  readonly maxStalenessMs: number;
  /** Largest share of two-sided quotes that may be crossed (bid > ask) (default 0.02). */
  readonly maxCrossedShare: number;
  /** Fewest option quotes for the underlying (default 10). */
  readonly minQuotes: number;
  /** Largest index move from the previous healthy tick, relative (default 0.3). */
  readonly maxIndexJump: number;
}

export const DEFAULT_HEALTH_LIMITS: HealthLimits = {
  maxStalenessMs: 120_000,
  maxCrossedShare: 0.02,
  minQuotes: 10,
  maxIndexJump: 0.3,
};

export type HealthReason = "missing" | "stale" | "crossed" | "too-few-quotes" | "bad-index" | "index-jump";

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
  if (age > limits.maxStalenessMs)
    reasons.push({ code: "stale", detail: `snapshot is ${Math.round(age / 1000)} s old` });
  if (!(snapshot.indexPrice > 0) || !Number.isFinite(snapshot.indexPrice)) {
    reasons.push({ code: "bad-index", detail: `index price ${snapshot.indexPrice}` });
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
