/**
 * Trading costs as data: option fees (Deribit-style: a fraction of the underlying notional,
 * capped at a fraction of the premium), hedge-instrument fees, half-spread and slippage.
 *
 * Units: rates are decimal fractions (0.0003 = 3 bp); `*Bps` fields are basis points of price;
 * prices and costs in USD.
 */
import { InvalidInputError, requireNonNegative } from "../errors.js";

export interface CostModel {
  /** Option taker fee, fraction of the underlying notional (Deribit: 0.0003). */
  readonly feeRate: number;
  /** Option fee cap, fraction of the option premium (Deribit: 0.125). */
  readonly feeCap: number;
  /** Future/perpetual taker fee, fraction of notional (Deribit: 0.0005). */
  readonly hedgeFeeRate: number;
  /** Half bid/ask spread of the hedge instrument, bps of its price (used when no quote is given). */
  readonly hedgeHalfSpreadBps: number;
  /** Slippage beyond the touch, bps of the fill price, for every trade. */
  readonly slippageBps: number;
  /** Extra slippage per contract traded (linear market impact), bps per contract. */
  readonly impactBpsPerContract: number;
}

export const DEFAULT_COSTS: CostModel = {
  feeRate: 0.0003,
  feeCap: 0.125,
  hedgeFeeRate: 0.0005,
  hedgeHalfSpreadBps: 1,
  slippageBps: 5,
  impactBpsPerContract: 0,
};

/** Fills partial cost settings with defaults and validates them. */
export function resolveCostModel(partial: Partial<CostModel> = {}): CostModel {
  const c = { ...DEFAULT_COSTS, ...partial };
  for (const [k, v] of Object.entries(c)) requireNonNegative(`costs.${k}`, v);
  return c;
}

/** Total slippage in bps for a trade of `quantity` contracts. */
export function slippageBpsFor(costs: CostModel, quantity: number): number {
  return costs.slippageBps + costs.impactBpsPerContract * Math.abs(quantity);
}

/**
 * Option fee in USD for |quantity| contracts of `contractSize` coins: min(feeRate * underlying
 * notional, feeCap * premium notional).
 */
export function optionFeeUsd(o: {
  readonly costs: CostModel;
  readonly quantity: number;
  readonly underlyingPrice: number;
  readonly premiumUsd: number;
  readonly contractSize?: number;
}): number {
  const q = Math.abs(o.quantity) * (o.contractSize ?? 1);
  const byNotional = o.costs.feeRate * o.underlyingPrice * q;
  const byPremium = o.costs.feeCap * Math.abs(o.premiumUsd) * q;
  return Math.min(byNotional, byPremium);
}

/** The executed price and cost split of a trade. */
export interface FillCost {
  /** Executed price per unit, USD. */
  readonly priceUsd: number;
  /** Cost versus mid/mark from crossing the spread, USD (>= 0). */
  readonly spreadUsd: number;
  /** Cost from slippage beyond the touch, USD (>= 0). */
  readonly slippageUsd: number;
  /** Fee, USD (>= 0). */
  readonly feeUsd: number;
}

/**
 * Fill of a future/perpetual trade of `quantity` coins (signed) at mark `markUsd`, with bid/ask if
 * known (else mark -/+ hedgeHalfSpreadBps).
 */
export function hedgeFill(o: {
  readonly costs: CostModel;
  readonly quantity: number;
  readonly markUsd: number;
  readonly bidUsd?: number | null;
  readonly askUsd?: number | null;
}): FillCost {
  if (!Number.isFinite(o.quantity)) throw new InvalidInputError("quantity", o.quantity, "must be finite");
  const m = o.markUsd;
  const hs = (m * o.costs.hedgeHalfSpreadBps) / 1e4;
  const bid = o.bidUsd ?? m - hs;
  const ask = o.askUsd ?? m + hs;
  const q = Math.abs(o.quantity);
  if (q === 0) return { priceUsd: m, spreadUsd: 0, slippageUsd: 0, feeUsd: 0 };
  const touch = o.quantity > 0 ? ask : bid;
  const slip = (touch * slippageBpsFor(o.costs, o.quantity)) / 1e4;
  const price = o.quantity > 0 ? touch + slip : touch - slip;
  return {
    priceUsd: price,
    spreadUsd: Math.abs(touch - m) * q,
    slippageUsd: slip * q,
    feeUsd: o.costs.hedgeFeeRate * price * q,
  };
}
