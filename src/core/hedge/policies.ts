/**
 * Delta-hedging policies as data, and the pure decision function that turns a policy and the
 * current book state into a hedge trade.
 *
 * Policies decide in coins of delta (a trade of +1 buys one coin of delta); the caller turns that
 * into its hedge instrument's contracts (the backtest engine: inverse perpetual or dated future,
 * contracts of 10 USD for BTC, 1 USD for ETH). Units: deltas in coins; gamma in coins per USD;
 * times epoch ms UTC.
 */
import { InvalidInputError, requireNonNegative, requirePositive } from "../errors.js";
import { whalleyWilmottHalfWidth, zakamoulineHalfWidth } from "./bands.js";

/** Which instrument carries the hedge. A perpetual pays funding; a future converges to index. */
export type HedgeInstrument = "perpetual" | "future";

interface PolicyBase {
  /** Default "perpetual". */
  readonly instrument?: HedgeInstrument;
  /** Perpetual funding rate, decimal per year paid by longs (default: the market's). */
  readonly fundingRatePerYear?: number;
  /** Future hedge: target tenor in days of the dated future used (default 30). */
  readonly futureTenorDays?: number;
  /** Future hedge: roll into the next future when fewer days than this are left (default 1). */
  readonly rollDays?: number;
}

export type HedgePolicy =
  | (PolicyBase & { readonly policy: "none" })
  /** Re-hedge to delta-neutral every `intervalHours`. */
  | (PolicyBase & { readonly policy: "interval"; readonly intervalHours: number })
  /** Re-hedge when |net delta| exceeds `band` coins; to zero ("center") or to the band edge. */
  | (PolicyBase & {
      readonly policy: "delta-band";
      readonly band: number;
      readonly rehedgeTo?: "center" | "edge";
    })
  /** Whalley-Wilmott utility band; re-hedge to the band edge. */
  | (PolicyBase & {
      readonly policy: "whalley-wilmott";
      readonly riskAversion: number;
      readonly costRate?: number;
    })
  /** Zakamouline utility band; re-hedge to the band edge. */
  | (PolicyBase & {
      readonly policy: "zakamouline";
      readonly riskAversion: number;
      readonly costRate?: number;
    });

/** The book state a hedge decision looks at (all current, never future). */
export interface HedgeState {
  /** Now, epoch ms UTC. */
  readonly now: number;
  /** Time of the last hedge trade, epoch ms UTC (or -Infinity if none yet). */
  readonly lastHedgeTime: number;
  /** Net delta of options + coin holdings + hedge, coins. */
  readonly netDelta: number;
  /** Net gamma, coins per USD. */
  readonly gamma: number;
  /** Underlying price, USD. */
  readonly spot: number;
  /** Representative vol (decimal annualized) and time to expiry (years), for Zakamouline. */
  readonly vol: number;
  readonly timeToExpiry: number;
  /** One-way proportional cost rate of the hedge instrument (fee + half-spread + slippage). */
  readonly costRate: number;
}

/** Checks a policy's parameters; throws InvalidInputError naming the field. */
export function validateHedgePolicy(p: HedgePolicy): HedgePolicy {
  if (p.futureTenorDays !== undefined) requirePositive("hedge.futureTenorDays", p.futureTenorDays);
  if (p.rollDays !== undefined) requireNonNegative("hedge.rollDays", p.rollDays);
  switch (p.policy) {
    case "none":
      break;
    case "interval":
      requirePositive("hedge.intervalHours", p.intervalHours);
      break;
    case "delta-band":
      requireNonNegative("hedge.band", p.band);
      break;
    case "whalley-wilmott":
    case "zakamouline":
      requirePositive("hedge.riskAversion", p.riskAversion);
      if (p.costRate !== undefined) requireNonNegative("hedge.costRate", p.costRate);
      break;
    default:
      throw new InvalidInputError("hedge.policy", (p as { policy: unknown }).policy, "is unknown");
  }
  return p;
}

/** Half-width of the no-trade band (coins) for the band policies; 0 for interval, Infinity for none. */
export function hedgeBandHalfWidth(p: HedgePolicy, s: HedgeState): number {
  switch (p.policy) {
    case "none":
      return Number.POSITIVE_INFINITY;
    case "interval":
      return 0;
    case "delta-band":
      return p.band;
    case "whalley-wilmott":
      return whalleyWilmottHalfWidth({
        costRate: p.costRate ?? s.costRate,
        riskAversion: p.riskAversion,
        spot: s.spot,
        gamma: s.gamma,
      });
    case "zakamouline":
      return zakamoulineHalfWidth({
        costRate: p.costRate ?? s.costRate,
        riskAversion: p.riskAversion,
        spot: s.spot,
        gamma: s.gamma,
        vol: s.vol > 0 ? s.vol : 0.5,
        timeToExpiry: s.timeToExpiry,
      });
  }
}

/**
 * The hedge trade (coins of the hedge instrument, signed: + buy) the policy asks for now;
 * 0 means do nothing.
 */
export function hedgeTrade(p: HedgePolicy, s: HedgeState): number {
  const d = s.netDelta;
  if (p.policy === "none") return 0;
  if (p.policy === "interval") {
    return s.now - s.lastHedgeTime >= p.intervalHours * 3_600_000 ? -d : 0;
  }
  const h = hedgeBandHalfWidth(p, s);
  if (Math.abs(d) <= h) return 0;
  const toEdge = p.policy === "delta-band" ? p.rehedgeTo === "edge" : true;
  if (!toEdge) return -d;
  return d > 0 ? h - d : -h - d;
}
