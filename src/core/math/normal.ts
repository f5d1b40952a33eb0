/**
 * Error function family and the standard normal distribution to a few ulps over the whole
 * double range.
 *
 * - erf / erfc / erfcx: W. J. Cody, "Rational Chebyshev approximations for the error function",
 *   Math. Comp. 23 (1969) 631-638, as in his SPECFUN routine CALERF (ACM TOMS 715). The three
 *   intervals |z| <= 0.46875, <= 4, > 4; the factor exp(-z^2) is computed as
 *   exp(-zh^2) * exp(-(z - zh)(z + zh)) with zh = z rounded to 1/16 so that the rounding error of
 *   z^2 (amplified by z^2) never enters.
 * - normCdf(x) = Phi(x) is computed as 0.5 * exp(-x^2/2) * erfcx(-x/sqrt2) in the tails, so that
 *   the (ill-conditioned) exponent is formed from x itself, not from the rounded x/sqrt2.
 * - inverseNormCdf: P. J. Acklam's rational approximation (relative error 1.15e-9) refined by
 *   one Halley step on log Phi (tails) or on erf (centre), giving full double precision.
 *
 * Coefficient literals are the nearest doubles of the published 18-digit values.
 *
 * Example: normCdf(-1) === 0.15865525393145702 (mpmath 0.1586552539314570514..., nearest double
 * 0.15865525393145705: one ulp).
 */
import { InvalidInputError } from "../errors.js";

/** 1/sqrt(pi). */
const SQRPI = 0.5641895835477563;
/** 1/sqrt(2 pi). */
export const ONE_OVER_SQRT_TWO_PI = 0.3989422804014327;
/** sqrt(2 pi). */
export const SQRT_TWO_PI = 2.5066282746310002;
const SQRT_HALF = Math.SQRT1_2;
const THRESH = 0.46875;

// erf for |z| <= 0.46875.
const A0 = 3.1611237438705655;
const A1 = 113.86415415105016;
const A2 = 377.485237685302;
const A3 = 3209.3775891384694;
const A4 = 0.18577770618460315;
const B0 = 23.601290952344122;
const B1 = 244.02463793444417;
const B2 = 1282.6165260773723;
const B3 = 2844.236833439171;
// erfcx for 0.46875 <= z <= 4.
const C0 = 0.5641884969886701;
const C1 = 8.883149794388377;
const C2 = 66.11919063714163;
const C3 = 298.6351381974001;
const C4 = 881.952221241769;
const C5 = 1712.0476126340707;
const C6 = 2051.0783778260716;
const C7 = 1230.3393547979972;
const C8 = 2.1531153547440383e-8;
const D0 = 15.744926110709835;
const D1 = 117.6939508913125;
const D2 = 537.1811018620099;
const D3 = 1621.3895745666903;
const D4 = 3290.7992357334597;
const D5 = 4362.619090143247;
const D6 = 3439.3676741437216;
const D7 = 1230.3393548037495;
// erfcx for z > 4 (in 1/z^2).
const P0 = 0.30532663496123236;
const P1 = 0.36034489994980445;
const P2 = 0.12578172611122926;
const P3 = 0.016083785148742275;
const P4 = 0.0006587491615298378;
const P5 = 0.016315387137302097;
const Q0 = 2.568520192289822;
const Q1 = 1.8729528499234604;
const Q2 = 0.5279051029514285;
const Q3 = 0.06051834131244132;
const Q4 = 0.0023352049762686918;

/** erf(z) for |z| <= 0.46875 (Cody's first interval). */
function erfSmall(z: number): number {
  const y = z * z;
  let num = A4 * y;
  let den = y;
  num = (num + A0) * y;
  den = (den + B0) * y;
  num = (num + A1) * y;
  den = (den + B1) * y;
  num = (num + A2) * y;
  den = (den + B2) * y;
  return (z * (num + A3)) / (den + B3);
}

/** erfcx(y) = exp(y^2) erfc(y) for y >= 0.46875 (Cody's second and third intervals). */
function erfcxLarge(y: number): number {
  if (y <= 4) {
    let num = C8 * y;
    let den = y;
    num = (num + C0) * y;
    den = (den + D0) * y;
    num = (num + C1) * y;
    den = (den + D1) * y;
    num = (num + C2) * y;
    den = (den + D2) * y;
    num = (num + C3) * y;
    den = (den + D3) * y;
    num = (num + C4) * y;
    den = (den + D4) * y;
    num = (num + C5) * y;
    den = (den + D5) * y;
    num = (num + C6) * y;
    den = (den + D6) * y;
    return (num + C7) / (den + D7);
  }
  if (y >= 1e8) return SQRPI / y; // 1/(2y^2) below half an ulp; avoids y^2 overflow
  const q = 1 / (y * y);
  let num = P5 * q;
  let den = q;
  num = (num + P0) * q;
  den = (den + Q0) * q;
  num = (num + P1) * q;
  den = (den + Q1) * q;
  num = (num + P2) * q;
  den = (den + Q2) * q;
  num = (num + P3) * q;
  den = (den + Q3) * q;
  const r = (q * (num + P4)) / (den + Q4);
  return (SQRPI - r) / y;
}

/** Veltkamp's splitting constant 2^27 + 1. */
const SPLIT = 134217729;

/**
 * The rounding error of y*y: exact(y^2) - fl(y^2), by Dekker's product (Veltkamp split). |y| must
 * stay below ~1e150 (callers cut off far earlier). Lets exp(+-y^2) take one exponential:
 * exp(-(p + e)) = exp(-p) (1 - e) to below an ulp, since |e| <= ulp(p)/2 < 1e-13.
 */
function squareError(y: number, p: number): number {
  const c = SPLIT * y;
  const hi = c - (c - y);
  const lo = y - hi;
  return hi * hi - p + 2 * hi * lo + lo * lo;
}

/** exp(-y^2) without the amplified rounding error of y*y (y >= 0). */
function expNegSquare(y: number): number {
  if (y > 27.3) return 0; // exp(-745.3) underflows
  const p = y * y;
  return Math.exp(-p) * (1 - squareError(y, p));
}

/** exp(+y^2) without the amplified rounding error of y*y (y >= 0); Infinity above ~26.64. */
function expSquare(y: number): number {
  if (y > 26.7) return Number.POSITIVE_INFINITY;
  const p = y * y;
  return Math.exp(p) * (1 + squareError(y, p));
}

/** exp(-x^2/2) computed from x (not from a rounded x^2). */
export function expNegHalfSquare(x: number): number {
  const y = Math.abs(x);
  if (y > 38.6) return 0;
  const p = y * y;
  return Math.exp(-0.5 * p) * (1 - 0.5 * squareError(y, p));
}

/** Error function erf(z) = 2/sqrt(pi) int_0^z exp(-t^2) dt. NaN in, NaN out. */
export function erf(z: number): number {
  const y = Math.abs(z);
  if (y <= THRESH) return erfSmall(z);
  const r = 0.5 - expNegSquare(y) * erfcxLarge(y) + 0.5; // 1 - erfc(y)
  return z < 0 ? -r : r;
}

/** Complementary error function erfc(z) = 1 - erf(z), accurate to a few ulps of erfc itself. */
export function erfc(z: number): number {
  const y = Math.abs(z);
  if (y <= THRESH) return 1 - erfSmall(z);
  const r = expNegSquare(y) * erfcxLarge(y);
  return z < 0 ? 2 - r : r;
}

/**
 * Scaled complementary error function erfcx(z) = exp(z^2) erfc(z); about 1/(z sqrt(pi)) for
 * large z (never underflows for z > 0); overflows to Infinity below z ~ -26.6.
 */
export function erfcx(z: number): number {
  const y = Math.abs(z);
  if (y <= THRESH) return Math.exp(z * z) * (1 - erfSmall(z));
  if (z > 0) return erfcxLarge(y);
  return 2 * expSquare(y) - erfcxLarge(y);
}

/** Standard normal density phi(x) = exp(-x^2/2)/sqrt(2 pi). */
export function normPdf(x: number): number {
  return ONE_OVER_SQRT_TWO_PI * expNegHalfSquare(x);
}

/** Boundary |x| of the central interval: 0.46875 * sqrt(2). */
const CDF_CENTRAL = 0.6629126073623883;

/** Standard normal cumulative distribution Phi(x), relative accuracy a few ulps (also in the lower tail down to underflow). */
export function normCdf(x: number): number {
  if (x >= -CDF_CENTRAL && x <= CDF_CENTRAL) return 0.5 + 0.5 * erfSmall(x * SQRT_HALF);
  if (x < 0) return 0.5 * expNegHalfSquare(x) * erfcxLarge(-x * SQRT_HALF);
  if (x > 0) return 1 - 0.5 * expNegHalfSquare(x) * erfcxLarge(x * SQRT_HALF);
  return Number.NaN;
}

/**
 * Mills-type ratio Phi(x)/phi(x) for x <= 0 (= sqrt(pi/2) erfcx(-x/sqrt2)); about 1/|x| far
 * out. Used by the normalised Black function.
 */
export function normCdfOverPdf(x: number): number {
  return 1.2533141373155003 * erfcx(-x * SQRT_HALF);
}

// Acklam's coefficients.
const a1 = -39.69683028665376;
const a2 = 220.9460984245205;
const a3 = -275.9285104469687;
const a4 = 138.357751867269;
const a5 = -30.66479806614716;
const a6 = 2.506628277459239;
const b1 = -54.47609879822406;
const b2 = 161.5858368580409;
const b3 = -155.6989798598866;
const b4 = 66.80131188771972;
const b5 = -13.28068155288572;
const c1 = -0.007784894002430293;
const c2 = -0.3223964580411365;
const c3 = -2.400758277161838;
const c4 = -2.549732539343734;
const c5 = 4.374664141464968;
const c6 = 2.938163982698783;
const d1 = 0.007784695709041462;
const d2 = 0.3224671290700398;
const d3 = 2.445134137142996;
const d4 = 3.754408661907416;
const P_LOW = 0.02425;

/**
 * Acklam's approximation of the inverse normal cdf, relative error below 1.15e-9, for
 * 0 < p < 1. Cheap; used for initial guesses (e.g. in implied vol) where full precision is not
 * needed.
 */
export function inverseNormCdfFast(p: number): number {
  if (p < P_LOW) return acklamLowerTail(Math.sqrt(-2 * Math.log(p)));
  if (p <= 1 - P_LOW) {
    const q = p - 0.5;
    const r = q * q;
    return (
      ((((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q) /
      (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1)
    );
  }
  return -acklamLowerTail(Math.sqrt(-2 * Math.log(1 - p)));
}

/** Acklam's lower-tail rational in q = sqrt(-2 ln p), p < P_LOW. */
function acklamLowerTail(q: number): number {
  return (
    (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / ((((d1 * q + d2) * q + d3) * q + d4) * q + 1)
  );
}

const P_LOW_CUBED = P_LOW * P_LOW * P_LOW;

/**
 * inverseNormCdfFast(cbrt(u)) for 0 < u < 1, same accuracy (1.15e-9): in the lower tail
 * ln(cbrt u) = ln(u)/3 saves the cube root. Used by the implied-vol initial guess.
 */
export function inverseNormCdfFastOfCubeRoot(u: number): number {
  if (u < P_LOW_CUBED) return acklamLowerTail(Math.sqrt((-2 / 3) * Math.log(u)));
  return inverseNormCdfFast(Math.cbrt(u));
}

/** Lower half (0 < p <= 0.5): Acklam guess + one Halley step, full precision. */
function inverseLower(p: number): number {
  let x = inverseNormCdfFast(p);
  if (x >= -CDF_CENTRAL) {
    // Centre: f(x) = erf(x/sqrt2)/2 - (p - 1/2), with p - 1/2 exact (Sterbenz).
    const e = 0.5 * erf(x * SQRT_HALF) - (p - 0.5);
    const u = e * SQRT_TWO_PI * Math.exp(0.5 * x * x);
    return x - u / (1 + 0.5 * x * u);
  }
  // Tail: g(x) = ln Phi(x) - ln p, with Phi(x) = 0.5 exp(-x^2/2) erfcx(-x/sqrt2), m = Phi/phi.
  const ex = erfcxLarge(-x * SQRT_HALF);
  const y = -x;
  const yh = Math.trunc(y * 16) / 16;
  const halfSq = 0.5 * yh * yh + 0.5 * (y - yh) * (y + yh);
  const g = Math.log(0.5 * ex) - halfSq - Math.log(p);
  const m = 1.2533141373155003 * ex;
  x = x - (g * m) / (1 + 0.5 * g * (x * m + 1));
  return x;
}

/**
 * Inverse of the standard normal cdf: x with Phi(x) = p, for p in [0, 1]
 * (-Infinity at 0, +Infinity at 1). Accurate to a few ulps, including p down to the smallest
 * subnormal. Throws InvalidInputError for p outside [0, 1] or NaN.
 */
export function inverseNormCdf(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new InvalidInputError("p", p, "must be a probability in [0, 1]");
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p <= 0.5) return inverseLower(p);
  return -inverseLower(1 - p);
}
