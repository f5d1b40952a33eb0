/**
 * Deribit portfolio-margin parameters of the ETH account (inverse, ETH-settled) and of the
 * eth_usd pair (also used by ETH legs of the USDC account).
 *
 * SOURCE: Deribit's API reference documents only btc_usd / btc / usd values. The ETH values are
 * those of a live `private/pme/simulate` response (currency ETH, model_params timestamp
 * 1771197609587 = 2026-02-15T23:20Z) captured in a public GitHub file (found through the
 * project's reference-code index, whose search names no repository):
 *   currency_pair.eth_usd: price_range 0.18, volatility_range_up 0.4, volatility_range_down 0.25,
 *     short_term_vega_power 0.3, long_term_vega_power 0.13, min_volatility_for_shock_up 0.5,
 *     extended_table_factor 1, max_delta_shock 0.1, delta_total_liq_shock_threshold 20000000,
 *     m_inc 0.000004
 *   currency.eth: annualised_move_risk 0.05, min_annualised_move 0.005, extended_dampener 200000,
 *     pnl_offset 0.6, max_offsetable_pnl 20000000, haircut 0
 * That response's figures (ETH-PERPETUAL -0.999487053: worst_case 0.152464126729 at bucket 9
 * right, roll_shock 0.004997435265, initial 0.157461562265, maintenance 0.125969249812) are
 * reproduced in test/core/margin/deribitExamples.test.ts. m_inc = 0.0004% per ETH agrees with
 * the futures rules of 11 January 2022 (support.deribit.com article 25944826427293: "Increase
 * Factor for ETH from 0.0002% to 0.0004%").
 * Readings of unpublished formulas: as for BTC (btc.ts). equity_side_impact is not in the captured
 * ETH fields: "both" as for btc (ETH is a coin whose USD value moves with its pair; reading).
 */
import type { PmCurrencyParams, PmPairParams } from "./types.js";

const LIVE = "live private/pme/simulate response, ETH, 2026-02-15 (public capture)";

/** eth_usd pair. */
export const ETH_USD_PAIR: PmPairParams = {
  pair: "eth_usd",
  priceRange: 0.18,
  volatilityRangeUp: 0.4,
  volatilityRangeDown: 0.25,
  shortTermVegaPower: 0.3,
  longTermVegaPower: 0.13,
  vegaPowerPivotDays: 30,
  minVolatilityForShockUp: 0.5,
  extendedTableFactor: 1,
  maxDeltaShock: 0.1,
  deltaTotalLiqShockThresholdUsd: 20_000_000,
  mInc: 0.000004,
  source: LIVE,
};

/** ETH settlement currency (inverse ETH options and futures). */
export const ETH_CURRENCY: PmCurrencyParams = {
  currency: "eth",
  annualisedMoveRisk: 0.05,
  minAnnualisedMove: 0.005,
  extendedDampenerUsd: 200_000,
  pnlOffset: 0.6,
  maxOffsetablePnlUsd: 20_000_000,
  haircut: 0,
  equitySideImpact: "both",
  source: LIVE,
};
