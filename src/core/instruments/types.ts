/**
 * Instruments are plain immutable data (DESIGN.md: products are data; pricers are stateless
 * functions of product and market).
 *
 * Units: strike in USD (quote currency), expiry as an epoch-millisecond UTC instant,
 * contractSize in units of the underlying coin for options (Deribit inverse: 1 coin;
 * Deribit linear BTC_USDC: 0.01 BTC) and in USD for inverse futures (BTC-PERPETUAL: 10 USD).
 */

export type OptionKind = "call" | "put";
/** Inverse = coin-settled, premium quoted in coin; linear = USDC-settled, premium in USD. */
export type Settlement = "inverse" | "linear";

export interface OptionContract {
  readonly type: "option";
  /** Venue instrument name, e.g. "BTC-27DEC24-60000-C". */
  readonly name: string;
  /** Underlying coin, e.g. "BTC". */
  readonly underlying: string;
  readonly kind: OptionKind;
  /** Strike in USD. */
  readonly strike: number;
  /** Expiry instant, epoch ms UTC (Deribit: 08:00 UTC). */
  readonly expiry: number;
  readonly settlement: Settlement;
  /** Underlying coins per contract. */
  readonly contractSize: number;
}

export interface FutureContract {
  readonly type: "future";
  /** e.g. "BTC-PERPETUAL", "BTC-27DEC24", "BTC_USDC-PERPETUAL". */
  readonly name: string;
  readonly underlying: string;
  /** Expiry instant (epoch ms UTC), or null for a perpetual. */
  readonly expiry: number | null;
  readonly settlement: Settlement;
  /** Inverse: USD per contract. Linear: coins per contract. */
  readonly contractSize: number;
}

export type Instrument = OptionContract | FutureContract;

/** A holding: signed quantity in contracts (+ long, - short). */
export interface Position {
  readonly instrument: Instrument;
  /** Signed number of contracts. */
  readonly quantity: number;
  /** Entry price in the instrument's quote units (coin for inverse options, USD otherwise), if known. */
  readonly entryPrice?: number;
}

export interface Portfolio {
  readonly positions: readonly Position[];
  /** Cash balances by currency ("BTC", "ETH", "USDC", "USD"). */
  readonly cash?: Readonly<Record<string, number>>;
}
