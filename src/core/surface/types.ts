/**
 * The volatility surface interface every pricer and risk function uses.
 * Units: log-moneyness k = ln(K/F), T in years (ACT/365), total variance w = vol^2 T.
 */
export interface VolSurface {
  /** Model name, e.g. "svi", "ssvi", "essvi", "flat". */
  readonly model: string;
  /** Total implied variance w(k, T) (dimensionless). */
  totalVariance(logMoneyness: number, timeToExpiry: number): number;
  /** Implied vol (decimal annualized) at (k, T). */
  impliedVol(logMoneyness: number, timeToExpiry: number): number;
}

/** A flat surface: one vol everywhere (useful for tests and as a fallback). */
export function flatSurface(vol: number): VolSurface {
  return {
    model: "flat",
    totalVariance: (_k, t) => vol * vol * t,
    impliedVol: () => vol,
  };
}
