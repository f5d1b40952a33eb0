/**
 * Deribit-style standard margin for inverse (coin-settled) options and futures, per position,
 * in coin (USD figures = coin x underlying price). Parameters are data.
 *
 * Options (per contract of 1 coin; S = underlying mark price of the expiry, i.e. the forward;
 * mark = option mark price in coin; OTM = out-of-the-money amount in USD):
 *   long call/put: no margin beyond the premium paid (IM = MM = 0)
 *   short call:  IM = max(0.15 - OTM/S, 0.1) + mark          MM = 0.075 + mark
 *   short put:   MM = max(0.075, 0.075 mark) + mark           IM = max(max(0.15 - OTM/S, 0.1) + mark, MM)
 * Source: Deribit standard option margin as documented by Deribit's knowledge base and quoted by
 * doc.tslab.pro "Deribit Margin Requirements Calculation" (same formulas in Bit.com's BTC/ETH
 * option rules); Deribit's own page is not in the searchable corpus here, so the worked examples
 * in test/core/margin are built by hand from these formulas.
 * Linear (USDC) options: the same ratios applied to S in USD (margin in USDC).
 *
 * Futures (inverse, size in USD, coin notional N = |size| / S):
 *   IM = N (0.02 + 0.005 N/100)  MM = N (0.015 + 0.005 N/100)   (coin; BTC: +0.5% per 100 BTC)
 * Source: Deribit futures contract specification (test.deribit.com/pages/docs/futures: "Starting
 * with 2.0% ... linearly increasing 0.5% per 100BTC"; maintenance "Starting with 1.5%").
 */
import { InvalidInputError, requireFinite, requirePositive } from "../errors.js";

/** Standard-margin parameters (Deribit defaults below). */
export interface StandardMarginParams {
  readonly optionImBase: number;
  readonly optionImFloor: number;
  readonly optionMmBase: number;
  readonly futureImBase: number;
  readonly futureMmBase: number;
  /** Added per `futureStepCoins` of position (coin). */
  readonly futureStep: number;
  readonly futureStepCoins: number;
}

export const DERIBIT_STANDARD_MARGIN: StandardMarginParams = {
  optionImBase: 0.15,
  optionImFloor: 0.1,
  optionMmBase: 0.075,
  futureImBase: 0.02,
  futureMmBase: 0.015,
  futureStep: 0.005,
  futureStepCoins: 100,
};

export interface MarginFigures {
  /** Initial margin in the settlement currency (coin for inverse, USDC for linear). */
  readonly initial: number;
  /** Maintenance margin, same currency. */
  readonly maintenance: number;
}

/**
 * Standard margin of an option position, in coin per the quantity given (contracts x
 * contractSize coins). `markCoin` is the option mark price in coin per coin of underlying.
 */
export function standardOptionMarginCoin(o: {
  readonly kind: "call" | "put";
  readonly strike: number;
  /** Underlying (forward) mark price, USD. */
  readonly underlyingPrice: number;
  /** Option mark in coin per coin of underlying. */
  readonly markCoin: number;
  /** Signed coins of underlying (quantity x contractSize). */
  readonly size: number;
  readonly params?: StandardMarginParams;
}): MarginFigures {
  const p = o.params ?? DERIBIT_STANDARD_MARGIN;
  const S = requirePositive("underlyingPrice", o.underlyingPrice);
  requirePositive("strike", o.strike);
  const mark = requireFinite("markCoin", o.markCoin);
  requireFinite("size", o.size);
  if (o.size >= 0) return { initial: 0, maintenance: 0 };
  const n = -o.size;
  const otm = o.kind === "call" ? Math.max(o.strike - S, 0) : Math.max(S - o.strike, 0);
  const base = Math.max(p.optionImBase - otm / S, p.optionImFloor) + mark;
  if (o.kind === "call") return { initial: n * base, maintenance: n * (p.optionMmBase + mark) };
  const mm = Math.max(p.optionMmBase, p.optionMmBase * mark) + mark;
  return { initial: n * Math.max(base, mm), maintenance: n * mm };
}

/** Standard margin of an inverse future position of `sizeUsd` (signed USD notional), coin. */
export function standardFutureMarginCoin(o: {
  readonly sizeUsd: number;
  /** Future mark price, USD. */
  readonly price: number;
  readonly params?: StandardMarginParams;
}): MarginFigures {
  const p = o.params ?? DERIBIT_STANDARD_MARGIN;
  const F = requirePositive("price", o.price);
  const N = Math.abs(requireFinite("sizeUsd", o.sizeUsd)) / F;
  if (p.futureStepCoins <= 0)
    throw new InvalidInputError("params.futureStepCoins", p.futureStepCoins, "must be > 0");
  const step = (p.futureStep * N) / p.futureStepCoins;
  return { initial: N * (p.futureImBase + step), maintenance: N * (p.futureMmBase + step) };
}
