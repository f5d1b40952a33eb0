/**
 * Raw SVI total-variance smile (Gatheral 2004):
 *
 *   w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)),
 *
 * k = ln(K/F) log-moneyness, w = vol^2 T total implied variance (dimensionless), T in years.
 * Parameter domain: b >= 0, |rho| < 1, sigma > 0, a + b sigma sqrt(1 - rho^2) >= 0 (the minimum
 * of w is non-negative). Wing slopes are b (1 - rho) (left) and b (1 + rho) (right); Lee's moment
 * formula needs both <= 2.
 *
 * Example: sviTotalVariance({ a: 0.04, b: 0.1, rho: -0.3, m: 0, sigma: 0.2 }, 0) === 0.04 + 0.1 * 0.2.
 */
import { InvalidInputError, requireFinite } from "../errors.js";

/** Raw SVI parameters of one expiry slice (total-variance units). */
export interface SviParams {
  readonly a: number;
  readonly b: number;
  readonly rho: number;
  readonly m: number;
  readonly sigma: number;
}

/** Throws InvalidInputError unless the parameters are finite and in the raw SVI domain. */
export function validateSviParams(p: SviParams): SviParams {
  requireFinite("svi.a", p.a);
  requireFinite("svi.m", p.m);
  if (!(Number.isFinite(p.b) && p.b >= 0)) throw new InvalidInputError("svi.b", p.b, "must be >= 0");
  if (!(Number.isFinite(p.rho) && Math.abs(p.rho) < 1))
    throw new InvalidInputError("svi.rho", p.rho, "must be in (-1, 1)");
  if (!(Number.isFinite(p.sigma) && p.sigma > 0))
    throw new InvalidInputError("svi.sigma", p.sigma, "must be > 0");
  return p;
}

/** Total variance w(k). */
export function sviTotalVariance(p: SviParams, k: number): number {
  const x = k - p.m;
  return p.a + p.b * (p.rho * x + Math.sqrt(x * x + p.sigma * p.sigma));
}

/** dw/dk. */
export function sviFirstDerivative(p: SviParams, k: number): number {
  const x = k - p.m;
  return p.b * (p.rho + x / Math.sqrt(x * x + p.sigma * p.sigma));
}

/** d2w/dk2 = b sigma^2 / ((k-m)^2 + sigma^2)^(3/2). */
export function sviSecondDerivative(p: SviParams, k: number): number {
  const x = k - p.m;
  const s2 = p.sigma * p.sigma;
  const q = x * x + s2;
  return (p.b * s2) / (q * Math.sqrt(q));
}

/** Minimum total variance a + b sigma sqrt(1 - rho^2), attained at k = m - rho sigma / sqrt(1 - rho^2). */
export function sviMinimumVariance(p: SviParams): number {
  return p.a + p.b * p.sigma * Math.sqrt(1 - p.rho * p.rho);
}

/** Wing slopes of w: left b (1 - rho), right b (1 + rho). */
export function sviWingSlopes(p: SviParams): { left: number; right: number } {
  return { left: p.b * (1 - p.rho), right: p.b * (1 + p.rho) };
}

/**
 * Writes dw/d(a, b, rho, m, sigma) at k into out[0..4].
 */
export function sviGradient(p: SviParams, k: number, out: Float64Array | number[]): void {
  const x = k - p.m;
  const root = Math.sqrt(x * x + p.sigma * p.sigma);
  out[0] = 1;
  out[1] = p.rho * x + root;
  out[2] = p.b * x;
  out[3] = -p.b * (p.rho + x / root);
  out[4] = (p.b * p.sigma) / root;
}

/**
 * Durrleman's function g(k) = (1 - k w'/(2w))^2 - (w'^2/4)(1/w + 1/4) + w''/2 for any smile given
 * w, w', w'' at k. The risk-neutral density of k is g(k)/sqrt(2 pi w) exp(-d2^2/2); no butterfly
 * arbitrage needs g >= 0 (Gatheral & Jacquier 2014, Lemma 2.2).
 */
export function durrlemanG(k: number, w: number, dw: number, d2w: number): number {
  const t = 1 - (k * dw) / (2 * w);
  return t * t - ((dw * dw) / 4) * (1 / w + 0.25) + d2w / 2;
}

/** Durrleman's g(k) of a raw SVI smile. */
export function sviDurrlemanG(p: SviParams, k: number): number {
  return durrlemanG(k, sviTotalVariance(p, k), sviFirstDerivative(p, k), sviSecondDerivative(p, k));
}

/** Jump-wings view of raw SVI at expiry T (Gatheral & Jacquier 2014, section 3.3). */
export interface SviJumpWings {
  /** ATM variance w(0)/T. */
  readonly v: number;
  /** ATM skew psi = (b / (2 sqrt(w(0)))) (rho - m / sqrt(m^2 + sigma^2)). */
  readonly psi: number;
  /** Put-wing slope. */
  readonly p: number;
  /** Call-wing slope. */
  readonly c: number;
  /** Minimum variance w_min/T. */
  readonly vTilde: number;
}

/** Raw SVI -> SVI-JW (Gatheral & Jacquier 2014, eq. 3.5). */
export function sviToJumpWings(p: SviParams, expiry: number): SviJumpWings {
  const w = sviTotalVariance(p, 0);
  const sqrtW = Math.sqrt(w);
  const root = Math.sqrt(p.m * p.m + p.sigma * p.sigma);
  return {
    v: w / expiry,
    psi: (p.b / (2 * sqrtW)) * (-p.m / root + p.rho),
    p: (p.b / sqrtW) * (1 - p.rho),
    c: (p.b / sqrtW) * (1 + p.rho),
    vTilde: (p.a + p.b * p.sigma * Math.sqrt(1 - p.rho * p.rho)) / expiry,
  };
}
