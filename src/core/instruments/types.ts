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

/**
 * A variance swap on an underlying's price (USD-settled, DDKZ 1999 section 2 conventions).
 *
 * Quoting convention (the desk's): the strike and the realized vol in vol points (100 x decimal),
 * and `contractSize` = the VEGA notional in USD per vol point per contract. The variance notional
 * per contract is then N_var = contractSize / (2 K_pts) USD per vol-point^2, and at maturity one
 * contract pays (USD)
 *
 *   N_var (sigma_R,pts^2 - K_pts^2),   sigma_R^2 = realized variance of daily log returns of the
 *                                        underlying's index over [start, expiry], annualized on 365 days
 *
 * so near the strike a 1-point move in realized vol pays ~contractSize USD. Example: K = 0.50
 * (50 pts), contractSize 1000 -> N_var = 10 USD/pt^2; realized 55 pts pays 10 (3025 - 2500) = 5250 USD.
 * The instrument is over the counter (Deribit lists none): the name is ours, see varianceSwapName.
 */
export interface VarianceSwapContract {
  readonly type: "varianceSwap";
  /** e.g. "BTC-VARSWAP-25DEC26-20NOV26-50" (varianceSwapName). */
  readonly name: string;
  /** Underlying coin whose index fixes the realized variance, e.g. "BTC". */
  readonly underlying: string;
  /** Maturity (last fixing), epoch ms UTC. */
  readonly expiry: number;
  /** Observation start (first fixing), epoch ms UTC, < expiry. */
  readonly start: number;
  /** Agreed strike as a decimal vol K (0.5 = 50 vol points; the variance strike is K^2). */
  readonly strikeVol: number;
  /** USD-settled (the payoff is in USD). */
  readonly settlement: "linear";
  /** Vega notional: USD per vol point per contract (N_var = contractSize / (2 K_pts)). */
  readonly contractSize: number;
}

/**
 * A future on a 30-day vol index (Deribit's DVOL futures, cash-settled on the index at expiry;
 * price in index points, 55.2 = 55.2 vol points). PnL = quantity x contractSize x (price change).
 */
export interface VolIndexFutureContract {
  readonly type: "volIndexFuture";
  /** e.g. "BTCDVOL-27MAR26" (volIndexFutureName). */
  readonly name: string;
  /** Coin whose options define the index, e.g. "BTC" (DVOL on BTC options). */
  readonly underlying: string;
  /** Expiry and settlement instant, epoch ms UTC (Deribit: 08:00 UTC). */
  readonly expiry: number;
  /** USD-settled. */
  readonly settlement: "linear";
  /** USD per index point per contract. */
  readonly contractSize: number;
  /** Minimum price increment in index points, if known. */
  readonly tickSize?: number;
  /** The index's constant maturity in days (DVOL: 30; default 30). */
  readonly indexDays?: number;
}

/** The volatility instruments (a variance swap, a vol-index future). */
export type VolInstrument = VarianceSwapContract | VolIndexFutureContract;

/** The instruments Deribit lists (an option or a future/perpetual on a coin). */
export type ExchangeInstrument = OptionContract | FutureContract;

/** Every instrument a book can hold (DESIGN.md: products are data). */
export type Instrument = ExchangeInstrument | VolInstrument;

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
