/**
 * The normalised Black function of P. Jaeckel, "Let's Be Rational" (Wilmott, 2015):
 *
 *   b(x, s) = e^{x/2} Phi(x/s + s/2) - e^{-x/2} Phi(x/s - s/2),   x = ln(F/K), s = vol sqrt(T),
 *
 * so that the undiscounted Black call is sqrt(F K) b(x, s). Here only the out-of-the-money call
 * (x <= 0) is evaluated; in-the-money and puts follow by parity and symmetry in the callers.
 *
 * With h = x/s, t = s/2 and the Mills ratio M(z) = Phi(z)/phi(z),
 *   b = exp(-(h^2 + t^2)/2)/sqrt(2 pi) * (M(h + t) - M(h - t)),
 * which is evaluated in four regions chosen so that no subtraction loses more than a few bits
 * (the region boundaries are Jaeckel's):
 *   1. h < -10 and h + t < -9.79: asymptotic series of M(-u) - M(-v), u = -(h+t), v = -(h-t),
 *      summed term by term (differences u^-m - v^-m formed without cancellation) to 1e-17;
 *   2. t < 0.21: Taylor series in t of M(h+t) - M(h-t) = 2 sum_{k odd} M^(k)(h) t^k / k!, with
 *      M^(k) = P_k(h) + Q_k(h) M(h) (from M' = 1 + z M); 3 to 8 terms chosen by t for 1e-17;
 *   3. h + t > 0.85: the plain two-term formula with an accurate Phi;
 *   4. otherwise: exp(-(h^2+t^2)/2)/2 * (erfcx(-(h+t)/sqrt2) - erfcx(-(h-t)/sqrt2)).
 *
 * This is an independent implementation from the paper's description; the series in regions 1
 * and 2 are derived directly (see scripts/fixtures/pricing_reference.py for the checks).
 */
import { erfcx, normCdf, normCdfOverPdf, ONE_OVER_SQRT_TWO_PI } from "../math/normal.js";

const SQRT_HALF = Math.SQRT1_2;
/** sqrt(pi/2) = sqrt(2 pi)/2. */
const SQRT_PI_OVER_TWO = 1.2533141373155003;
/** Jaeckel's eta: asymptotic expansion used for h below this. */
const ASYMPTOTIC_H = -10;
/** Jaeckel's tau = 2 DBL_EPSILON^(1/16): small-t expansion below this t. */
const SMALL_T = 0.21022410381342865;

/**
 * Scratch output of normalisedBlackOtm: the normalised vega db/ds = exp(-(h^2+t^2)/2)/sqrt(2 pi)
 * at the last evaluated point (shares the exponential with the value; read it right after).
 *
 * Why module-level mutable state in core (kept deliberately): the implied-vol Householder loop
 * needs both b(s) and b'(s) at each iterate, and they share one exp(). Returning them as an
 * object/tuple allocates on the hottest path; recomputing the exp() in a separate
 * normalisedVega call costs an extra transcendental per iteration. A one-slot Float64Array is
 * allocation-free and monomorphic. It is safe because JS runs each call to completion on one
 * thread (each worker thread has its own module instance) and every reader reads it
 * immediately after the call that wrote it, with no intervening call. It is an internal
 * detail: not re-exported from the pricing barrel.
 */
export const lastNormalisedVega = new Float64Array(1);

/**
 * Normalised Black value of an out-of-the-money call: x <= 0, s >= 0 (not checked).
 * Returns 0 for s = 0 and e^{x/2} as s -> Infinity. Also writes the normalised vega to
 * lastNormalisedVega[0].
 */
export function normalisedBlackOtm(x: number, s: number): number {
  lastNormalisedVega[0] = 0;
  if (!(s > 0)) return 0;
  if (s === Number.POSITIVE_INFINITY) return Math.exp(0.5 * x);
  if (x < s * ASYMPTOTIC_H && 0.5 * s * s + x < s * (SMALL_T + ASYMPTOTIC_H)) {
    const h = x / s;
    if (h === Number.NEGATIVE_INFINITY) return 0;
    return asymptoticRegion(h, 0.5 * s, false);
  }
  const t = 0.5 * s;
  if (t < SMALL_T) {
    SERIES_INPUT[0] = x / s;
    SERIES_INPUT[1] = t;
    return smallTRegion(false);
  }
  const h = x / s;
  const g = Math.exp(-0.5 * (h * h + t * t));
  lastNormalisedVega[0] = ONE_OVER_SQRT_TWO_PI * g;
  if (x + 0.5 * s * s > s * 0.85) {
    // e^{x/2} Phi(d1) - e^{-x/2} Phi(d2) with d1 = h + t > 0.85: since
    // e^{x/2} phi(d1) = e^{-x/2} phi(d2) = g / sqrt(2 pi), the tails reuse g:
    // e^{x/2} Phi(d1) = e^{x/2} - g erfcx(d1/sqrt2)/2, e^{-x/2} Phi(d2) = g erfcx(-d2/sqrt2)/2.
    const e = Math.exp(0.5 * x);
    const d2 = h - t;
    const second = d2 < -0.6629126073623883 ? 0.5 * g * erfcx(-d2 * SQRT_HALF) : normCdf(d2) / e;
    return e - 0.5 * g * erfcx((h + t) * SQRT_HALF) - second;
  }
  return 0.5 * g * (erfcx(-(h + t) * SQRT_HALF) - erfcx(-(h - t) * SQRT_HALF));
}

/**
 * Scaled normalised Black b(x, s) / b'(x, s) of an out-of-the-money call (x <= 0, s > 0 finite,
 * not checked), i.e. b divided by the normalised vega exp(-(h^2+t^2)/2)/sqrt(2 pi). Needs no
 * exponential outside region 3, and stays finite and accurate where b itself underflows, so the
 * implied-vol iteration on ln b forms ln b = ln(b/b') - (h^2+t^2)/2 - ln sqrt(2 pi) with one log.
 * (normalisedBlackOtm keeps its own layout: sharing more code with it slowed blackPrice.)
 */
export function normalisedBlackScaledOtm(x: number, s: number): number {
  const h = x / s;
  const t = 0.5 * s;
  if (x < s * ASYMPTOTIC_H && 0.5 * s * s + x < s * (SMALL_T + ASYMPTOTIC_H))
    return asymptoticRegion(h, t, true);
  if (t < SMALL_T) {
    SERIES_INPUT[0] = h;
    SERIES_INPUT[1] = t;
    return smallTRegion(true);
  }
  if (x + 0.5 * s * s > s * 0.85) return normalisedBlackOtm(x, s) / (lastNormalisedVega[0] as number);
  return SQRT_PI_OVER_TWO * (erfcx(-(h + t) * SQRT_HALF) - erfcx(-(h - t) * SQRT_HALF));
}

/**
 * Region 1: h < -10, h + t < -9.79 (so u >= 9.79 and the series reaches 1e-17). With `scaled`,
 * returns b/b' instead (no exponential; writes nothing).
 */
function asymptoticRegion(h: number, t: number, scaled: boolean): number {
  const u = -(h + t);
  const v = -(h - t);
  const a = 1 / u;
  const c = 1 / v;
  const a2 = a * a;
  // S_m = sum_{j<m} a^j c^{m-1-j}, so u^-m - v^-m = (a - c) S_m; S_1 = 1.
  // S_{m+2} = a^2 S_m + a c^m + c^{m+1}.
  let sm = 1;
  let cm = c; // c^m for m = 1
  let sum = 1;
  let coef = 1; // (2n-1)!!
  let sign = 1;
  for (let n = 1; n < 60; n++) {
    sm = a2 * sm + a * cm + cm * c;
    cm *= c * c;
    coef *= 2 * n - 1;
    sign = -sign;
    const term = coef * sm;
    sum += sign * term;
    if (term < 1e-17 * sum) break;
  }
  const aMinusC = (2 * t) / (u * v);
  if (scaled) return aMinusC * sum;
  const nv = ONE_OVER_SQRT_TWO_PI * Math.exp(-0.5 * (h * h + t * t));
  lastNormalisedVega[0] = nv;
  return nv * aMinusC * sum;
}

/**
 * Inputs h, t of smallTRegion: V8 boxes each double argument of a call it does not inline (the
 * series is too large to inline), so the two are passed in this allocation-free slot (as
 * lastNormalisedVega, and read first thing by the callee).
 */
const SERIES_INPUT = new Float64Array(2);

/**
 * Region 2: t < 0.21, h >= -10 (about). Taylor series in t; truncation error below 1e-17. With
 * `scaled`, returns b/b' instead (no exponential; writes nothing).
 */
function smallTRegion(scaled: boolean): number {
  const h = SERIES_INPUT[0] as number;
  const t = SERIES_INPUT[1] as number;
  const h2 = h * h;
  const w = t * t;
  const hm = h * normCdfOverPdf(h);
  const c1 = 1 + hm;
  const c3 = (h2 + 2 + hm * (h2 + 3)) * (1 / 6);
  const c5 = ((h2 + 9) * h2 + 8 + hm * ((h2 + 10) * h2 + 15)) * (1 / 120);
  const c7 = (((h2 + 20) * h2 + 87) * h2 + 48 + hm * (((h2 + 21) * h2 + 105) * h2 + 105)) * (1 / 5040);
  let series: number;
  // Truncation after the t^K term is below 1e-17 relative for: K = 7 at t < 0.015, 9 < 0.05,
  // 11 < 0.1, 13 < 0.15, 15 < 0.21 (checked with mpmath over h in [-10, 0]).
  if (t < 0.015) {
    series = c1 + w * (c3 + w * (c5 + w * c7));
  } else {
    const c9 =
      ((((h2 + 35) * h2 + 345) * h2 + 975) * h2 +
        384 +
        hm * ((((h2 + 36) * h2 + 378) * h2 + 1260) * h2 + 945)) *
      (1 / 362880);
    if (t < 0.05) {
      series = c1 + w * (c3 + w * (c5 + w * (c7 + w * c9)));
    } else {
      const c11 =
        (((((h2 + 54) * h2 + 938) * h2 + 6090) * h2 + 12645) * h2 +
          3840 +
          hm * (((((h2 + 55) * h2 + 990) * h2 + 6930) * h2 + 17325) * h2 + 10395)) *
        (1 / 39916800);
      if (t < 0.1) {
        series = c1 + w * (c3 + w * (c5 + w * (c7 + w * (c9 + w * c11))));
      } else {
        const c13 =
          ((((((h2 + 77) * h2 + 2070) * h2 + 23814) * h2 + 114765) * h2 + 187425) * h2 +
            46080 +
            hm * ((((((h2 + 78) * h2 + 2145) * h2 + 25740) * h2 + 135135) * h2 + 270270) * h2 + 135135)) *
          (1 / 6227020800);
        if (t < 0.15) {
          series = c1 + w * (c3 + w * (c5 + w * (c7 + w * (c9 + w * (c11 + w * c13)))));
        } else {
          const c15 =
            (((((((h2 + 104) * h2 + 3993) * h2 + 71280) * h2 + 611415) * h2 + 2336040) * h2 + 3133935) * h2 +
              645120 +
              hm *
                (((((((h2 + 105) * h2 + 4095) * h2 + 75075) * h2 + 675675) * h2 + 2837835) * h2 + 4729725) *
                  h2 +
                  2027025)) *
            (1 / 1307674368000);
          series = c1 + w * (c3 + w * (c5 + w * (c7 + w * (c9 + w * (c11 + w * (c13 + w * c15))))));
        }
      }
    }
  }
  if (scaled) return 2 * t * series;
  const nv = ONE_OVER_SQRT_TWO_PI * Math.exp(-0.5 * (h2 + w));
  lastNormalisedVega[0] = nv;
  return nv * 2 * t * series;
}

/**
 * Derivative of b with respect to s (normalised vega): exp(-(h^2 + t^2)/2)/sqrt(2 pi).
 * 0 for s = 0 unless x = 0.
 */
export function normalisedVega(x: number, s: number): number {
  if (x === 0) return ONE_OVER_SQRT_TWO_PI * Math.exp(-0.125 * s * s);
  if (!(s > 0)) return 0;
  const h = x / s;
  return ONE_OVER_SQRT_TWO_PI * Math.exp(-0.5 * (h * h + 0.25 * s * s));
}

/**
 * ln(F/K) to a relative accuracy of a couple of ulps (log1p of the exact-ish (F-K)/K when F and
 * K are within a factor 2, so that the price of a deep wing does not inherit the rounding of F/K).
 */
export function logMoneynessForward(forward: number, strike: number): number {
  const r = forward / strike;
  if (r > 0.5 && r < 2) return Math.log1p((forward - strike) / strike);
  if (r > 0 && r < Number.POSITIVE_INFINITY) return Math.log(r);
  return Math.log(forward) - Math.log(strike);
}
