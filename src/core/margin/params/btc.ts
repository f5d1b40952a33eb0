/**
 * Deribit portfolio-margin parameters of the BTC account (inverse, BTC-settled) and of the
 * btc_usd pair (also used by BTC legs of the USDC account).
 *
 * SOURCE: Deribit API reference, `private/pme/simulate`, documented response example
 * (docs.deribit.com/api-reference/account-management/private-simulate; model_params timestamp
 * 1718619740501 = 2024-06-17T10:22Z):
 *   currency_pair.btc_usd: price_range 0.16, volatility_range_up 0.5, volatility_range_down 0.25,
 *     short_term_vega_power 0.3, long_term_vega_power 0.13, min_volatility_for_shock_up 0.5,
 *     extended_table_factor 1, max_delta_shock 0.1, delta_total_liq_shock_threshold 20000000,
 *     m_inc 0.00005
 *   currency.btc: annualised_move_risk 0.075, min_annualised_move 0.01, extended_dampener 100000,
 *     haircut 0, pnl_offset 0, max_offsetable_pnl 0, equity_side_impact "both"
 * The example's own figures (BTC-PERPETUAL +0.314538364, BTC-28JUN24 -0.001187534: worst_case
 * 0.0596858724, roll_shock 0.00315725898, maintenance 0.050274504784) are reproduced in
 * test/core/margin/deribitExamples.test.ts. m_inc = 0.005% per BTC is also the futures size
 * add-on of the rules of 11 January 2022 (support.deribit.com article 25944826427293).
 * Deribit changes these values without notice: pass current ones read from private/pme/simulate.
 *
 * READINGS (formula not published; each a parameter):
 * - Vega power law: shock = range x (pivot / max(DTE, minDteDays))^p with p = short_term_vega_power
 *   for DTE < 30 days and long_term_vega_power for DTE >= 30; both anchored at 30 days (the pivot
 *   of Deribit's older published rule "(30/DTE)^0.30 x 38%", deribit.com/pages/docs/portfoliomargin),
 *   so the shock is continuous at 30 days, larger than the range below it and smaller beyond.
 *   The same split (0.30 below 30 DTE, 0.13 from 30) is published by Paradex
 *   (docs.paradex.trade/risk/portfolio-margin) and Dederi (wiki.dederi.io), both modelled on Deribit.
 *   The shock is relative: IV_up = IV + max(IV, min_volatility_for_shock_up) x up x f(DTE),
 *   IV_down = IV x (1 - down x f(DTE)) (relative, as Deribit's "IV change" and Paradex's
 *   "Mark IV x (1 + shock x ...)").
 * - min_volatility_for_shock_up: the up-shock is sized on max(IV, 0.5), so a 30%-vol option is
 *   shocked by 0.5 x 0.5 = 25 points at 30 days, not 15; its shocked vol is 55%, not max(IV, 0.5)
 *   x 1.5 = 75% (the other reading, which would also move options already above 50% vol less than
 *   those below it).
 * - Delta shock: max_delta_shock x (|delta USD| - delta_total_liq_shock_threshold)^+ per pair,
 *   in the settlement currency: nothing up to $20M of delta, then 10% of the excess. Deribit's
 *   published ETH response (-1 ETH perpetual, delta_shock 0) rules out a shock on every delta.
 */
import type { PmCurrencyParams, PmPairParams } from "./types.js";

const DOC =
  "docs.deribit.com/api-reference/account-management/private-simulate (documented response, 2024-06-17)";

/** btc_usd pair. */
export const BTC_USD_PAIR: PmPairParams = {
  pair: "btc_usd",
  priceRange: 0.16,
  volatilityRangeUp: 0.5,
  volatilityRangeDown: 0.25,
  shortTermVegaPower: 0.3,
  longTermVegaPower: 0.13,
  vegaPowerPivotDays: 30,
  minVolatilityForShockUp: 0.5,
  extendedTableFactor: 1,
  maxDeltaShock: 0.1,
  deltaTotalLiqShockThresholdUsd: 20_000_000,
  mInc: 0.00005,
  source: DOC,
};

/** BTC settlement currency (inverse BTC options and futures). */
export const BTC_CURRENCY: PmCurrencyParams = {
  currency: "btc",
  annualisedMoveRisk: 0.075,
  minAnnualisedMove: 0.01,
  extendedDampenerUsd: 100_000,
  pnlOffset: 0,
  maxOffsetablePnlUsd: 0,
  haircut: 0,
  equitySideImpact: "both",
  source: DOC,
};
