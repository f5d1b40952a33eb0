/**
 * Inverse (coin-settled) options, Deribit style: the option is quoted and settled in the coin
 * (BTC, ETH), while Black-76 prices it in USD on the forward F (USD per coin).
 *
 * DESIGN.md: premium in coin = USD value / underlying price; the delta of a coin-settled option
 * seen in coin terms is the Black delta minus the coin premium. Every figure names its currency.
 *
 * Conversion price: the forward of the option's expiry (Deribit marks options against the
 * underlying future of that expiry). With V_c = V / F the coin value:
 *   deltaCoin = F dV_c/dF = delta - V_c    (coin P&L per 100% relative move of the underlying;
 *                                          the coins to sell to hedge one long option)
 *   gammaCoin = d deltaCoin / dF = gamma - (delta - V_c) / F                      (coin per USD)
 *   vegaCoin = vega / F, thetaCoin = theta / F, volgaCoin = volga / F            (F held fixed)
 *   vannaCoin = d deltaCoin / dvol = vanna - vega / F
 *   charmCoin = d deltaCoin / dt = charm - theta / F
 * Units otherwise as blackGreeks: vega per 1.00 vol, theta and charm per calendar year.
 *
 * Example: a BTC call worth 1500 USD with the forward at 60000 costs
 *   coinPremiumFromUsd(1500, 60000) === 0.025 BTC; with Black delta 0.4 its coin delta is 0.375.
 */
import { InvalidInputError, requireFinite, requirePositive } from "../errors.js";
import { type BlackInputs, blackGreeks } from "./black76.js";
import { type ImpliedVolInputs, impliedVol } from "./impliedVol.js";

/** Coin premium of an option worth `priceUsd` when the underlying trades at `underlyingPrice` USD/coin. */
export function coinPremiumFromUsd(priceUsd: number, underlyingPrice: number): number {
  requireFinite("priceUsd", priceUsd);
  requirePositive("underlyingPrice", underlyingPrice);
  return priceUsd / underlyingPrice;
}

/** USD value of a coin premium: premiumCoin * underlyingPrice. */
export function usdFromCoinPremium(premiumCoin: number, underlyingPrice: number): number {
  requireFinite("premiumCoin", premiumCoin);
  requirePositive("underlyingPrice", underlyingPrice);
  return premiumCoin * underlyingPrice;
}

/**
 * Coin-terms delta of a coin-settled option (DESIGN.md): Black delta (dV/dF, USD greeks) minus
 * the coin premium. Example: inverseDeltaCoin(0.4, 0.025) === 0.375.
 */
export function inverseDeltaCoin(blackDelta: number, premiumCoin: number): number {
  requireFinite("blackDelta", blackDelta);
  requireFinite("premiumCoin", premiumCoin);
  return blackDelta - premiumCoin;
}

/** Greeks of an inverse option in the coin and in USD (see the module comment). */
export interface InverseOptionGreeks {
  /** Value in USD (Black-76). */
  readonly priceUsd: number;
  /** Value in coin = priceUsd / forward. */
  readonly priceCoin: number;
  /** Black delta dV/dF (USD per USD: coins of underlying per option). */
  readonly deltaUsd: number;
  /** Coin-terms delta = deltaUsd - priceCoin (coin). */
  readonly deltaCoin: number;
  /** d2V/dF2 (per USD). */
  readonly gammaUsd: number;
  /** d deltaCoin / dF (coin per USD). */
  readonly gammaCoin: number;
  /** dV/dvol, USD per 1.00 vol. */
  readonly vegaUsd: number;
  /** dV_c/dvol, coin per 1.00 vol. */
  readonly vegaCoin: number;
  /** dV/dt, USD per calendar year. */
  readonly thetaUsd: number;
  /** dV_c/dt, coin per calendar year. */
  readonly thetaCoin: number;
  /** d2V/dF dvol (USD greeks). */
  readonly vannaUsd: number;
  /** d deltaCoin / dvol (coin). */
  readonly vannaCoin: number;
  /** d2V/dvol2, USD. */
  readonly volgaUsd: number;
  /** d2V_c/dvol2, coin. */
  readonly volgaCoin: number;
  /** d deltaUsd / dt per calendar year. */
  readonly charmUsd: number;
  /** d deltaCoin / dt, coin per calendar year. */
  readonly charmCoin: number;
}

/**
 * Price and greeks of a coin-settled option in both currencies. `forward` and `strike` in USD
 * per coin; the forward is also the coin conversion price. Throws InvalidInputError like
 * blackGreeks.
 */
export function inverseOptionGreeks(o: BlackInputs & { readonly rate?: number }): InverseOptionGreeks {
  const g = blackGreeks(o);
  const F = o.forward;
  const priceCoin = g.price / F;
  const deltaCoin = g.delta - priceCoin;
  return {
    priceUsd: g.price,
    priceCoin,
    deltaUsd: g.delta,
    deltaCoin,
    gammaUsd: g.gamma,
    gammaCoin: g.gamma - deltaCoin / F,
    vegaUsd: g.vega,
    vegaCoin: g.vega / F,
    thetaUsd: g.theta,
    thetaCoin: g.theta / F,
    vannaUsd: g.vanna,
    vannaCoin: g.vanna - g.vega / F,
    volgaUsd: g.volga,
    volgaCoin: g.volga / F,
    charmUsd: g.charm,
    charmCoin: g.charm - g.theta / F,
  };
}

/** Inputs of impliedVolFromCoinPrice: as ImpliedVolInputs with the price in coin. */
export interface CoinImpliedVolInputs extends Omit<ImpliedVolInputs, "price"> {
  /** Option price in coin (e.g. a Deribit mark of 0.025 BTC). */
  readonly priceCoin: number;
}

/**
 * Implied vol of a coin-quoted price: impliedVol of priceCoin * forward USD. NaN when outside
 * the no-arbitrage bounds (in coin: a call below max(1 - K/F, 0) D or at/above D).
 */
export function impliedVolFromCoinPrice(o: CoinImpliedVolInputs): number {
  if (o === null || typeof o !== "object") throw new InvalidInputError("options", o, "must be an object");
  const priceCoin = requireFinite("priceCoin", o.priceCoin);
  const forward = requirePositive("forward", o.forward);
  // A literal, not { ...o, price }: V8 gives an object spread followed by more properties a map of
  // its own per call, so impliedVol's property loads went megamorphic (~6x slower, measured).
  return impliedVol({
    price: priceCoin * forward,
    forward,
    strike: o.strike,
    expiry: o.expiry,
    kind: o.kind,
    discount: o.discount ?? 1, // impliedVol's default (undefined = 1), kept a number so the literal has one shape
  });
}
