/**
 * No-trade bands for delta hedging under proportional transaction costs.
 *
 * - Whalley & Wilmott (1997), "An asymptotic analysis of an optimal hedging model for option
 *   pricing with transaction costs", Math. Finance 7(3): half-width
 *   H = (3 e^{-rT} lambda S Gamma^2 / (2 gamma))^(1/3).
 * - Zakamouline (2006), "Efficient analytic approximation of the optimal hedging strategy for a
 *   European option with transaction costs", Quant. Finance 6(5): half-width H0 + H1 with
 *   H0 = lambda / (gamma S sigma^2 T) and
 *   H1 = 1.12 lambda^0.31 T^0.05 (e^{-rT}/sigma)^0.25 (|Gamma|/gamma)^0.5.
 *   (Zakamouline also shifts the band centre with a modified volatility; volfolio keeps the
 *   centre at delta-neutral and uses only the band width.)
 *
 * Units: lambda = one-way proportional cost (fraction of notional); S = underlying price USD;
 * Gamma = portfolio gamma d2V/dS2 in coins per USD; gamma = absolute risk aversion per USD;
 * sigma decimal annualized; T years. Half-widths are in coins of delta.
 */
import { requireNonNegative, requirePositive } from "../errors.js";

export interface BandInputs {
  /** One-way proportional cost (fraction of notional), e.g. 0.0006. */
  readonly costRate: number;
  /** Absolute risk aversion, per USD. */
  readonly riskAversion: number;
  /** Underlying price, USD. */
  readonly spot: number;
  /** Portfolio gamma, coins per USD. */
  readonly gamma: number;
  /** Volatility, decimal annualized (Zakamouline only). */
  readonly vol?: number;
  /** Time to expiry, years (Zakamouline only). */
  readonly timeToExpiry?: number;
  /** Continuous rate; default 0. */
  readonly rate?: number;
}

/** Whalley-Wilmott half-width of the no-trade band, coins of delta. */
export function whalleyWilmottHalfWidth(o: BandInputs): number {
  const lambda = requireNonNegative("costRate", o.costRate);
  const g = requirePositive("riskAversion", o.riskAversion);
  const s = requirePositive("spot", o.spot);
  const T = o.timeToExpiry ?? 0;
  const disc = Math.exp(-(o.rate ?? 0) * T);
  return Math.cbrt((3 * disc * lambda * s * o.gamma * o.gamma) / (2 * g));
}

/** Zakamouline half-width H0 + H1 of the no-trade band, coins of delta. */
export function zakamoulineHalfWidth(o: BandInputs): number {
  const lambda = requireNonNegative("costRate", o.costRate);
  const g = requirePositive("riskAversion", o.riskAversion);
  const s = requirePositive("spot", o.spot);
  const sigma = requirePositive("vol", o.vol);
  const T = Math.max(requireNonNegative("timeToExpiry", o.timeToExpiry), 1 / 8760);
  const disc = Math.exp(-(o.rate ?? 0) * T);
  const h0 = lambda / (g * s * sigma * sigma * T);
  const h1 = 1.12 * lambda ** 0.31 * T ** 0.05 * (disc / sigma) ** 0.25 * Math.sqrt(Math.abs(o.gamma) / g);
  return h0 + h1;
}
