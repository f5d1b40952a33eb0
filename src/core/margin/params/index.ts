/**
 * Deribit portfolio-margin parameters, assembled: general values of the documented
 * `private/pme/simulate` response (mm_factor 0.8, buckets_count 4, vol_scenarios_count 3), the
 * extended-table moves of Deribit's "Portfolio Margin" article (support.deribit.com article
 * 25944756247837: "-66%, -33%, +50%, +100%, +200%, +300%, +400%, +500% ... only on Volatility
 * Range Up ... only a fraction of simulated P&L ... application of a dampener"), and the
 * per-currency files btc.ts, eth.ts, usdc.ts.
 */
import { BTC_CURRENCY, BTC_USD_PAIR } from "./btc.js";
import { ETH_CURRENCY, ETH_USD_PAIR } from "./eth.js";
import type { PortfolioMarginParams } from "./types.js";
import { USDC_CURRENCY } from "./usdc.js";

export * from "./btc.js";
export * from "./eth.js";
export type * from "./types.js";
export * from "./usdc.js";

/** Deribit's PM model with the documented parameters. */
export const DERIBIT_PORTFOLIO_MARGIN: PortfolioMarginParams = {
  mmFactor: 0.8,
  bucketsCount: 4,
  volScenariosCount: 3,
  extendedMoves: [-0.66, -0.33, 0.5, 1, 2, 3, 4, 5],
  minDteDays: 1,
  volFloor: 0.01,
  pairs: { BTC: BTC_USD_PAIR, ETH: ETH_USD_PAIR },
  currencies: { BTC: BTC_CURRENCY, ETH: ETH_CURRENCY, USDC: USDC_CURRENCY },
};
