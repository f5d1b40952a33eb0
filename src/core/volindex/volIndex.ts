/**
 * A crypto volatility index from an option chain: the Cboe VIX method applied to Deribit-style
 * expiries (as Deribit's DVOL does): model-free variance per expiry, the two expiries bracketing
 * the target (default 30 days) interpolated in total variance, and the term structure of such
 * indices.
 *
 * Inverse (coin-settled) quotes are converted to USD with the quote's own underlying price
 * (USD value = coin premium x underlying price, the inverse of DESIGN.md's coin premium); linear
 * quotes are already USD. Rate 0 (crypto convention; forwards come from parity or the venue).
 * T is ACT/365 on exact instants (DESIGN.md), not Cboe's minute count (same thing to 1 minute).
 */
import { InvalidInputError } from "../errors.js";
import type { ChainSnapshot, OptionQuote } from "../market/types.js";
import { type ExpiryVariance, expiryVariance, type StrikeQuotes } from "./modelFreeVariance.js";
import { varianceIndexAt } from "./interpolate.js";
import { timeToExpiry } from "../time.js";

export interface VolIndexOptions {
  /** Constant maturity, days (default 30). */
  readonly targetDays?: number;
  /**
   * Forward by expiry instant (USD). When given it replaces the parity estimate for that expiry;
   * otherwise F comes from put-call parity on the mids, as in the VIX method.
   */
  readonly forwards?: ReadonlyMap<number, number>;
  /** Skip expiries closer than this many days (default 1 day: the last day is noise). */
  readonly minDays?: number;
}

export interface ExpiryVariancePoint extends ExpiryVariance {
  /** Expiry instant, epoch ms UTC. */
  readonly expiry: number;
  /** sqrt(variance), decimal. */
  readonly vol: number;
}

export interface VolIndexResult {
  readonly underlying: string;
  readonly valuationTime: number;
  readonly targetDays: number;
  /** Index level in vol points (e.g. 55.2 means 55.2%). */
  readonly index: number;
  readonly near: ExpiryVariancePoint;
  readonly next: ExpiryVariancePoint;
  /** False when the target lies outside [near, next] (extrapolated). */
  readonly bracketed: boolean;
  /** Weight of the near expiry in the interpolation (next: 1 - nearWeight). */
  readonly nearWeight: number;
  /** Every expiry that produced a variance, sorted. */
  readonly expiries: readonly ExpiryVariancePoint[];
  /** Expiries that could not (with the reason). */
  readonly failures: readonly { expiry: number; reason: string; message: string }[];
}

function usd(price: number | null | undefined, q: OptionQuote, fallback: number): number | null {
  if (price === null || price === undefined || !Number.isFinite(price)) return null;
  if (q.instrument.settlement === "linear") return price;
  const u = q.underlyingPrice ?? fallback;
  return price * u;
}

/** Model-free variance of every expiry of the chain. */
export function chainExpiryVariances(
  chain: ChainSnapshot,
  options: Pick<VolIndexOptions, "forwards" | "minDays"> = {},
): { points: ExpiryVariancePoint[]; failures: { expiry: number; reason: string; message: string }[] } {
  const minT = (options.minDays ?? 1) / 365;
  const byExpiry = new Map<number, Map<number, { call?: OptionQuote; put?: OptionQuote }>>();
  for (const q of chain.quotes) {
    if (q.instrument.underlying !== chain.underlying) continue;
    let strikes = byExpiry.get(q.instrument.expiry);
    if (!strikes) {
      strikes = new Map();
      byExpiry.set(q.instrument.expiry, strikes);
    }
    const row = strikes.get(q.instrument.strike) ?? {};
    row[q.instrument.kind] = q;
    strikes.set(q.instrument.strike, row);
  }
  const points: ExpiryVariancePoint[] = [];
  const failures: { expiry: number; reason: string; message: string }[] = [];
  for (const [expiry, strikes] of [...byExpiry].sort((a, b) => a[0] - b[0])) {
    const T = timeToExpiry(expiry, chain.valuationTime);
    if (T < minT) {
      failures.push({
        expiry,
        reason: "too-short",
        message: `${(T * 365).toFixed(2)} days to expiry < minDays`,
      });
      continue;
    }
    const quotes: StrikeQuotes[] = [...strikes].map(([strike, { call, put }]) => ({
      strike,
      callBid: call ? usd(call.bid, call, chain.indexPrice) : null,
      callAsk: call ? usd(call.ask, call, chain.indexPrice) : null,
      putBid: put ? usd(put.bid, put, chain.indexPrice) : null,
      putAsk: put ? usd(put.ask, put, chain.indexPrice) : null,
    }));
    const forward = options.forwards?.get(expiry);
    const r = expiryVariance({ quotes, timeToExpiry: T, ...(forward !== undefined ? { forward } : {}) });
    if (r.ok && r.value.variance > 0) points.push({ ...r.value, expiry, vol: Math.sqrt(r.value.variance) });
    else if (r.ok)
      failures.push({ expiry, reason: "non-positive-variance", message: `variance ${r.value.variance}` });
    else failures.push({ expiry, reason: r.reason, message: r.message });
  }
  return { points, failures };
}

/** The constant-maturity index (VIX/DVOL method) of a chain. */
export function volIndexFromChain(chain: ChainSnapshot, options: VolIndexOptions = {}): VolIndexResult {
  const targetDays = options.targetDays ?? 30;
  if (!(targetDays > 0)) throw new InvalidInputError("targetDays", targetDays, "must be > 0");
  const { points, failures } = chainExpiryVariances(chain, options);
  if (points.length < 2) {
    throw new InvalidInputError(
      "chain",
      `${chain.underlying} with ${points.length} usable expiries`,
      "must have at least two expiries with a model-free variance",
    );
  }
  const targetTime = targetDays / 365;
  return {
    underlying: chain.underlying,
    valuationTime: chain.valuationTime,
    targetDays,
    ...varianceIndexAt(points, targetTime),
    expiries: points,
    failures,
  };
}

/**
 * Index levels at several constant maturities (days), from the per-expiry variances, with the
 * bracketing expiries (epoch ms); `bracketed` false: extrapolated flat, outside the listed expiries.
 */
export function volIndexTermStructure(
  points: readonly ExpiryVariancePoint[],
  targetDays: readonly number[] = [7, 14, 30, 60, 90, 180],
): { days: number; index: number; bracketed: boolean; near: number; next: number }[] {
  if (points.length < 2) throw new InvalidInputError("points.length", points.length, "must be at least 2");
  return targetDays.map((days) => {
    const { index, near, next, bracketed } = varianceIndexAt(points, days / 365);
    return {
      days,
      index,
      bracketed,
      near: near.expiry,
      next: next.expiry,
    };
  });
}
