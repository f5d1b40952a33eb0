// Public API of core/margin.
export * from "./book.js";
export * from "./crossPortfolioMargin.js";
export * from "./liquidation.js";
export {
  BTC_CURRENCY,
  BTC_USD_PAIR,
  ETH_CURRENCY,
  ETH_USD_PAIR,
  USDC_CURRENCY,
} from "./params/index.js";
export type { PmCurrencyParams, PmPairParams } from "./params/types.js";
export * from "./portfolioMargin.js";
export * from "./standard.js";
