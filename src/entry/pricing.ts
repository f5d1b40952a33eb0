/**
 * `volfolio/pricing`: Black-76 price and greeks (raw derivatives, DESIGN.md units), implied vol (Let's Be
 * Rational) and Deribit's coin-settled (inverse) conversions. Loads no other area and no package.
 */
export {
  blackGreeks,
  blackPrice,
  coinPremiumFromUsd,
  impliedVol,
  impliedVolFromCoinPrice,
  impliedVolResult,
  inverseDeltaCoin,
  inverseOptionGreeks,
  usdFromCoinPremium,
} from "../core/pricing/index.js";
export type {
  BlackGreeks,
  BlackInputs,
  CoinImpliedVolInputs,
  ImpliedVolFailure,
  ImpliedVolInputs,
  InverseOptionGreeks,
} from "../core/pricing/index.js";
