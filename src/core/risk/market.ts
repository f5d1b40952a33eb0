/**
 * The market state the risk engine revalues against: several underlyings (BTC, ETH) at one
 * instant, each with an index price, forwards per listed expiry and a VolSurface.
 *
 * Units: valuationTime and expiries epoch ms UTC; prices USD per coin; vols decimal; year
 * fraction T = (expiry - valuationTime) / (365 * 86400000).
 *
 * Forward interpolation (forwardAtExpiry): ln(F/S) is interpolated linearly in T between the
 * listed expiries (a piecewise-constant carry rate), anchored at ln(F/S) = 0 at T = 0; beyond the
 * last listed expiry the last carry rate ln(F/S)/T is extrapolated. A perpetual's forward is the
 * index (spot). Example: S = 100, F(1y) = 110 -> F(0.5y) = 100 * 1.1^0.5 = 104.88.
 */
import { InvalidInputError, requirePositive } from "../errors.js";
import type { MarketSnapshot } from "../market/types.js";
import type { VolSurface } from "../surface/types.js";
import type { IndexFixing } from "../volindex/varianceSwap.js";
import { timeToExpiry } from "../time.js";

/** A listed forward: expiry instant (epoch ms UTC) and forward price (USD). */
export interface RiskForward {
  readonly expiry: number;
  readonly forward: number;
}

/** One underlying's market at the valuation instant. */
export interface UnderlyingMarket {
  /** Index (spot) price, USD per coin. */
  readonly indexPrice: number;
  /** Listed forwards sorted by expiry (may be empty: then F = index). */
  readonly forwards: readonly RiskForward[];
  readonly surface: VolSurface;
  /**
   * Daily fixings of the index (epoch ms UTC, USD), ascending, up to the valuation time: the
   * realized variance a started variance swap has accrued (volValuation.ts). Optional: a book
   * without a started swap needs none; a started swap on a market without them is refused.
   */
  readonly indexFixings?: readonly IndexFixing[];
  /**
   * Annualized vol of ln(30-day variance) for the vol-index future's convexity adjustment
   * (volindex/volIndexFuture.ts; e.g. volOfVarianceFromIndex on the DVOL history). Absent: 0,
   * the future is valued at the forward vol, Jensen's upper bound, and the report says so.
   */
  readonly volOfVariance?: number;
  /** Mean-reversion speed of ln V per year for that adjustment (default 0). */
  readonly volMeanReversion?: number;
  /**
   * First and last listed strike (USD) per listed expiry, ascending by expiry: where the quotes end.
   * The variance-swap log contract holds the vol flat beyond them (volValuation.ts; chainRiskMarket
   * sets them from the chain). Absent: flat beyond 6 ATM standard deviations.
   */
  readonly listedStrikes?: readonly {
    readonly expiry: number;
    readonly first: number;
    readonly last: number;
  }[];
}

/** Market for a multi-underlying book. */
export interface RiskMarket {
  /** Valuation instant, epoch ms UTC. */
  readonly valuationTime: number;
  /** By underlying coin ("BTC", "ETH"). */
  readonly underlyings: Readonly<Record<string, UnderlyingMarket>>;
}

/** Builds a RiskMarket from per-underlying MarketSnapshots (each must carry a surface). */
export function riskMarketFromSnapshots(snapshots: readonly MarketSnapshot[]): RiskMarket {
  const t = snapshots[0]?.valuationTime;
  if (t === undefined) throw new InvalidInputError("snapshots", "[]", "must not be empty");
  const underlyings: Record<string, UnderlyingMarket> = {};
  for (const s of snapshots) {
    if (s.valuationTime !== t)
      throw new InvalidInputError("snapshots.valuationTime", s.valuationTime, `must all equal ${t}`);
    if (!s.surface)
      throw new InvalidInputError(`snapshots[${s.underlying}].surface`, undefined, "is required");
    underlyings[s.underlying] = {
      indexPrice: s.indexPrice,
      forwards: s.forwards.map((f) => ({ expiry: f.expiry, forward: f.forward })),
      surface: s.surface,
    };
  }
  return { valuationTime: t, underlyings };
}

/** The market of one underlying, or a thrown InvalidInputError naming it. */
export function underlyingMarket(market: RiskMarket, underlying: string): UnderlyingMarket {
  const m = market.underlyings[underlying];
  if (!m) throw new InvalidInputError("underlying", underlying, "has no market data");
  return m;
}

/**
 * Forward (USD) for an expiry instant; `expiry` null (perpetual) or <= valuationTime gives the
 * index. See the module comment for the interpolation.
 */
export function forwardAtExpiry(m: UnderlyingMarket, valuationTime: number, expiry: number | null): number {
  const S = requirePositive("indexPrice", m.indexPrice);
  if (expiry === null || expiry <= valuationTime) return S;
  const T = timeToExpiry(expiry, valuationTime);
  let prevT = 0;
  let prevL = 0;
  let lastRate = 0;
  for (const f of m.forwards) {
    if (f.expiry <= valuationTime) continue;
    const fT = timeToExpiry(f.expiry, valuationTime);
    const fL = Math.log(f.forward / S);
    if (f.expiry === expiry) return f.forward;
    if (fT > T) return S * Math.exp(prevL + ((fL - prevL) * (T - prevT)) / (fT - prevT));
    prevT = fT;
    prevL = fL;
    lastRate = fL / fT;
  }
  return S * Math.exp(lastRate * T);
}
