/**
 * How the backtest engine fills an option order and which dated future carries a future hedge,
 * as functions shared by the engine (engine.ts) and by strategies that must price a trade
 * exactly as the engine will (the optimizer strategy's LP, optimizerStrategy.ts).
 *
 * Option fill: at the touch (ask for a buy, bid for a sell) moved by the slippage bps
 * (hedge/costs.ts slippageBpsFor; a sell price is floored at 0), plus the capped option fee
 * (hedge/costs.ts optionFeeUsd: min(feeRate x index, feeCap x fill price) per coin).
 * Units: prices USD per coin (one contract = one coin, linear, as the engine accounts options);
 * quantity in signed coins; costs USD.
 *
 * Example: touch 100 USD, 5 bps slippage, index 60 000, feeRate 0.0003, feeCap 0.125: a buy of
 * 1 fills at 100.05 with fee min(18, 12.50625) = 12.50625 USD (the cap binds).
 */
import { type CostModel, type FillCost, optionFeeUsd, slippageBpsFor } from "../hedge/costs.js";
import type { HedgePolicy } from "../hedge/policies.js";
import type { BacktestStep } from "./market.js";
import { DAY_MS } from "../time.js";

/** Fill of an option order of `quantity` coins (signed, + buy) at `touchUsd`. */
export function optionFill(o: {
  readonly costs: CostModel;
  readonly quantity: number;
  /** Ask for a buy, bid for a sell, USD per coin. */
  readonly touchUsd: number;
  /** Mark, USD per coin (for the spread cost only). */
  readonly markUsd: number;
  /** Index price, USD (the fee's notional). */
  readonly underlyingPrice: number;
}): FillCost {
  const slip = (o.touchUsd * slippageBpsFor(o.costs, o.quantity)) / 1e4;
  const price = o.quantity > 0 ? o.touchUsd + slip : Math.max(o.touchUsd - slip, 0);
  const absQ = Math.abs(o.quantity);
  return {
    priceUsd: price,
    spreadUsd: Math.abs(o.touchUsd - o.markUsd) * absQ,
    slippageUsd: Math.abs(price - o.touchUsd) * absQ,
    feeUsd: optionFeeUsd({
      costs: o.costs,
      quantity: o.quantity,
      underlyingPrice: o.underlyingPrice,
      premiumUsd: price,
    }),
  };
}

/**
 * The dated future a flat future hedge opens on at `step`: the listed expiry closest to
 * now + `futureTenorDays` (default 30) among those more than max(`rollDays` (default 1),
 * 1 hour) days away; null when none is listed.
 */
export function futureHedgeExpiry(step: BacktestStep, policy: HedgePolicy): number | null {
  const minT = step.time + Math.max(policy.rollDays ?? 1, 1 / 24) * DAY_MS;
  const target = step.time + (policy.futureTenorDays ?? 30) * DAY_MS;
  let e: number | null = null;
  for (const x of step.expiries())
    if (x > minT && (e === null || Math.abs(x - target) < Math.abs(e - target))) e = x;
  return e;
}
