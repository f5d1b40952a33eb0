/**
 * Deribit portfolio-margin parameters of the USDC account (linear, USDC-settled options and
 * futures on several underlyings; Deribit's currency key "usd"). Each leg's risk matrix uses its
 * pair's parameters (btc.ts, eth.ts); these are the currency-level ones.
 *
 * SOURCE: Deribit API reference, `private/pme/simulate`, documented response example
 * (docs.deribit.com/api-reference/account-management/private-simulate, 2024-06-17):
 *   currency.usd: annualised_move_risk 0.1, min_annualised_move 0.01, extended_dampener 25000,
 *     haircut 0, pnl_offset 0, max_offsetable_pnl 0, equity_side_impact "none"
 * The live ETH response of 2026-02-15 (eth.ts) shows usd with pnl_offset 0.4 and
 * max_offsetable_pnl 1000000, the rest unchanged: pass those to allow cross-pair offsets.
 */
import type { PmCurrencyParams } from "./types.js";

/** USDC settlement currency. */
export const USDC_CURRENCY: PmCurrencyParams = {
  currency: "usd",
  annualisedMoveRisk: 0.1,
  minAnnualisedMove: 0.01,
  extendedDampenerUsd: 25_000,
  pnlOffset: 0,
  maxOffsetablePnlUsd: 0,
  haircut: 0,
  equitySideImpact: "none",
  source:
    "docs.deribit.com/api-reference/account-management/private-simulate (documented response, 2024-06-17)",
};
