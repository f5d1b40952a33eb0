/**
 * Deribit-style taker fees (deribit.com "Fees", options and futures; parameters as data).
 * Options: 0.03% of the underlying per contract (0.0003 coin for inverse options), capped at
 * 12.5% of the option price. Futures/perpetuals: 0.05% of notional.
 */
export interface FeeSchedule {
  /** Option fee per contract as a fraction of the underlying (0.0003). */
  readonly optionRate: number;
  /** Cap as a fraction of the option price (0.125). */
  readonly optionCap: number;
  /** Future taker fee as a fraction of notional (0.0005). */
  readonly futureRate: number;
}

export const DERIBIT_TAKER_FEES: FeeSchedule = { optionRate: 0.0003, optionCap: 0.125, futureRate: 0.0005 };

/**
 * Fee for one fill. Options: in the option's quote units per contract x contracts (coin for
 * inverse). Inverse futures: contracts are USD notional, fee in coin = rate * notional / price.
 */
export function takerFee(
  fill: {
    isOption: boolean;
    settlement: "inverse" | "linear";
    quantity: number;
    price: number;
    underlyingPrice: number;
    contractSize: number;
  },
  schedule: FeeSchedule = DERIBIT_TAKER_FEES,
): number {
  if (fill.isOption) {
    const perContract =
      fill.settlement === "inverse"
        ? schedule.optionRate * fill.contractSize
        : schedule.optionRate * fill.underlyingPrice * fill.contractSize;
    return Math.min(perContract, schedule.optionCap * fill.price * fill.contractSize) * fill.quantity;
  }
  const notionalUsd =
    fill.settlement === "inverse"
      ? fill.quantity * fill.contractSize
      : fill.quantity * fill.contractSize * fill.price;
  return fill.settlement === "inverse"
    ? (schedule.futureRate * notionalUsd) / fill.price
    : schedule.futureRate * notionalUsd;
}
