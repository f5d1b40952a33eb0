/**
 * Deribit standard margin of options and futures/perpetuals, per position, in coin (USD figures
 * = coin x underlying price; linear legs' margin in USDC = coin figure x F). Parameters are data.
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
 * Futures and perpetuals (coin size N = |size USD| / F for inverse, |quantity x contractSize| for
 * linear), per underlying, rules of 11 January 2022 (support.deribit.com article 25944826427293,
 * "Change of leverage levels ... as of 11 January 2022", table "New"):
 *   BTC: IM = N (2% + N x 0.005%)    MM = N (1% + N x 0.005%)
 *   ETH: IM = N (2% + N x 0.0004%)   MM = N (1% + N x 0.0004%)
 * in coin; the per-coin add-on is the pair's m_inc of private/pme/simulate (params/btc.ts 0.00005,
 * params/eth.ts 0.000004), the same figures. Linear (USDC) futures: the same rule on the coin size,
 * in USDC (coin figure x F) -- ASSUMPTION: Deribit's article names BTC and ETH futures without
 * distinguishing the settlement. Example: 25 BTC -> IM 2.125% = 0.53125 BTC, MM 1.125%.
 */
import { InvalidInputError, requireFinite, requirePositive } from "../errors.js";
import { BTC_USD_PAIR } from "./params/btc.js";
import { ETH_USD_PAIR } from "./params/eth.js";

/** Futures margin rule of one underlying: fractions of the coin notional. */
export interface FuturesMarginRule {
  /** Initial margin base fraction (0.02 = 2%). */
  readonly imBase: number;
  /** Maintenance margin base fraction (0.01 = 1%). */
  readonly mmBase: number;
  /** Add-on per coin of position (0.00005 = 0.005% per BTC), on both IM and MM. */
  readonly perCoin: number;
  readonly source: string;
}

const JAN_2022 = "support.deribit.com article 25944826427293 (rules of 11 January 2022)";

/** BTC futures: IM 2% + 0.005%/BTC, MM 1% + 0.005%/BTC. */
export const DERIBIT_FUTURES_MARGIN_BTC: FuturesMarginRule = {
  imBase: 0.02,
  mmBase: 0.01,
  perCoin: BTC_USD_PAIR.mInc,
  source: JAN_2022,
};

/** ETH futures: IM 2% + 0.0004%/ETH, MM 1% + 0.0004%/ETH. */
export const DERIBIT_FUTURES_MARGIN_ETH: FuturesMarginRule = {
  imBase: 0.02,
  mmBase: 0.01,
  perCoin: ETH_USD_PAIR.mInc,
  source: JAN_2022,
};

/** Standard-margin parameters (Deribit defaults below). */
export interface StandardMarginParams {
  readonly optionImBase: number;
  readonly optionImFloor: number;
  readonly optionMmBase: number;
  /** Futures rules by underlying coin ("BTC", "ETH"). */
  readonly futures: Readonly<Record<string, FuturesMarginRule>>;
}

export const DERIBIT_STANDARD_MARGIN: StandardMarginParams = {
  optionImBase: 0.15,
  optionImFloor: 0.1,
  optionMmBase: 0.075,
  futures: { BTC: DERIBIT_FUTURES_MARGIN_BTC, ETH: DERIBIT_FUTURES_MARGIN_ETH },
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

/**
 * Standard margin of a future position of `sizeUsd` (signed USD notional) on `underlying`
 * (default "BTC"), in coin: N = |sizeUsd| / price coins, IM = N (imBase + perCoin N),
 * MM = N (mmBase + perCoin N). Throws for an underlying without a rule in `params.futures`.
 */
export function standardFutureMarginCoin(o: {
  readonly sizeUsd: number;
  /** Future mark price, USD. */
  readonly price: number;
  /** Underlying coin; default "BTC". */
  readonly underlying?: string;
  readonly params?: StandardMarginParams;
}): MarginFigures {
  const p = o.params ?? DERIBIT_STANDARD_MARGIN;
  const F = requirePositive("price", o.price);
  const N = Math.abs(requireFinite("sizeUsd", o.sizeUsd)) / F;
  const u = o.underlying ?? "BTC";
  const rule = p.futures[u];
  if (!rule)
    throw new InvalidInputError("params.futures", u, "has no futures margin rule for this underlying");
  const step = rule.perCoin * N;
  return { initial: N * (rule.imBase + step), maintenance: N * (rule.mmBase + step) };
}
