/**
 * Black-76 implied volatility to full double precision by P. Jaeckel's method, "Let's Be
 * Rational" (Wilmott, January 2015, pp. 40-53): an independent implementation from the paper.
 *
 * 1. Normalise: x = ln(F/K), beta = time value / sqrt(F K) of the out-of-the-money equivalent
 *    (in-the-money prices lose their intrinsic value first; puts map to calls by x -> -x), so
 *    0 < beta < b_max = e^{x/2} with x <= 0.
 * 2. Initial guess from four branches split at s_l < s_c = sqrt(2|x|) < s_h (the inflexion point
 *    of b(x, .) and its tangent's intersections with 0 and b_max): rational cubic interpolation
 *    (Delbourgo-Gregory) of s(beta) in the two middle branches, and of the transformed maps
 *    f_lower(beta) ~ 2 pi |x| / (3 sqrt 3) Phi(-|x|/(sqrt3 s))^3 (lowest branch) and
 *    f_upper(beta) = Phi(-s/2) (highest branch), which are inverted in closed form.
 *    The node values b(x, s_l), b(x, s_h) come from fits in sqrt|x| (lbrNodes.ts) for |x| <= 64.
 * 3. Two Householder(3) steps (fourth order) on an objective chosen per branch -
 *    1/ln b(s) - 1/ln beta (lowest), ln((b_max - beta)/(b_max - b(s))) (highest), b(s) - beta -
 *    with a bracket and bisection guard for pathological inputs; a third step in the lowest
 *    branch for |x| > 200 (see refine).
 *
 * Departure from the paper, for speed: on |x| in [1e-4, 64] below the highest branch (nearly
 * every listed option) the guess of step 2 is replaced by bicubic interpolation in tables of
 * exact roots (ivGuess.ts, mpmath nodes), within ~1.5e-5 instead of Jaeckel's 3-8% (lowest
 * branch) and 4e-4..4e-3 (middle). One Householder(3) step from there leaves ~K e^4 < 1e-19 K,
 * so step 3 is one step (tabulatedStep, no loop or bracket), accepted when it was below 3e-5 of s
 * (the step measures the guess's error); otherwise refine goes on from there. Same objectives,
 * same bracket guard; accuracy unchanged (tests), ~1.7x fewer nanoseconds per solve.
 *
 * Accuracy: relative error below 1e-12 of the exact implied vol of the given price (tests with
 * 60-digit mpmath) for s = vol sqrt(T) in [1e-4, 10], strikes 12 std devs either side, expiries
 * from one hour. Units: price in the currency of forward/strike, expiry in years (ACT/365),
 * result decimal annualised vol.
 *
 * Example: impliedVol({ price: 7.965567455405798, forward: 100, strike: 100, expiry: 1,
 *   kind: "call" }) === 0.2 (to the last ulp or two).
 */
import {
  InvalidInputError,
  type Result,
  fail,
  ok,
  requireFinite,
  requireKind,
  requirePositive,
} from "../errors.js";
import { erf, erfcx, inverseNormCdfFast, inverseNormCdfFastOfCubeRoot, normCdf } from "../math/normal.js";
import {
  lastNormalisedVega,
  logMoneynessForward,
  normalisedBlackOtm,
  normalisedBlackScaledOtm,
  normalisedVega,
} from "./normalisedBlack.js";
import { lowerNodeOverMax, NODE_FIT_TOLERANCE, NODE_FIT_Y_MAX, upperNodeOverMax } from "./lbrNodes.js";
import { GUESS_IO, tableGuess } from "./ivGuess.js";

export interface ImpliedVolInputs {
  /** Option price (same currency as forward and strike; discounted by `discount`). */
  readonly price: number;
  /** Forward price. */
  readonly forward: number;
  /** Strike. */
  readonly strike: number;
  /** Time to expiry in years (ACT/365), > 0. */
  readonly expiry: number;
  readonly kind: "call" | "put";
  /** Discount factor D = exp(-r T); default 1. */
  readonly discount?: number;
}

/**
 * Why no implied vol exists: the price is below the discounted intrinsic value, at or above the
 * maximum (D F for a call, D K for a put), or an input is invalid (message names the field).
 */
export type ImpliedVolFailure = "below-intrinsic" | "above-maximum" | "invalid-input";

const DBL_EPSILON = 2 ** -52;
const DBL_MIN = 2.2250738585072014e-308;
const DBL_MAX = Number.MAX_VALUE;
const SQRT_DBL_MAX = 1.3407807929942596e154;
const MIN_R = -(1 - Math.sqrt(DBL_EPSILON));
const MAX_R = 2 / (DBL_EPSILON * DBL_EPSILON);
const TWO_PI = 2 * Math.PI;
const TWO_PI_OVER_SQRT_27 = TWO_PI / Math.sqrt(27);
const SQRT_THREE = Math.sqrt(3);
const SQRT_ONE_OVER_THREE = Math.sqrt(1 / 3);
const PI_OVER_SIX = Math.PI / 6;
const SQRT_PI_OVER_TWO = Math.sqrt(Math.PI / 2);
const ONE_OVER_SQRT_TWO_PI = 1 / Math.sqrt(TWO_PI);
const SQRT_TWO_PI = Math.sqrt(TWO_PI);
/** ln sqrt(2 pi). */
const LN_SQRT_TWO_PI = 0.9189385332046727;
/** Relative widening of the branch brackets when the node values come from the fits. */
const NODE_BRACKET_SLACK = 100 * NODE_FIT_TOLERANCE;
/** Householder(3) steps after the rational guess (Jaeckel: two give full precision). */
const ITERATIONS = 2;
/**
 * Relative size of a first step from a tabulated guess below which no second step is taken.
 * The table's guesses are within ~1.5e-5; a fourth-order step from an error e leaves ~K e^4.
 */
const ONE_STEP_TOLERANCE = 3e-5;

const isZero = (v: number): boolean => Math.abs(v) < DBL_MIN;

/** Delbourgo-Gregory rational cubic through (xl, yl), (xr, yr) with slopes dl, dr, control r. */
function rationalCubic(
  x: number,
  xl: number,
  xr: number,
  yl: number,
  yr: number,
  dl: number,
  dr: number,
  r: number,
): number {
  const h = xr - xl;
  if (Math.abs(h) <= 0) return 0.5 * (yl + yr);
  const t = (x - xl) / h;
  if (!(r >= MAX_R)) {
    const omt = 1 - t;
    const t2 = t * t;
    const omt2 = omt * omt;
    return (
      (yr * t2 * t + (r * yr - h * dr) * t2 * omt + (r * yl + h * dl) * t * omt2 + yl * omt2 * omt) /
      (1 + (r - 3) * t * omt)
    );
  }
  return yr * t + yl * (1 - t);
}

function minimumControl(dl: number, dr: number, slope: number, preferShape: boolean): number {
  const monotonic = dl * slope >= 0 && dr * slope >= 0;
  const convex = dl <= slope && slope <= dr;
  const concave = dl >= slope && slope >= dr;
  if (!monotonic && !convex && !concave) return MIN_R;
  const drMinusDl = dr - dl;
  const drMinusS = dr - slope;
  const sMinusDl = slope - dl;
  let r1 = -DBL_MAX;
  let r2 = r1;
  if (monotonic) {
    if (!isZero(slope)) r1 = (dr + dl) / slope;
    else if (preferShape) r1 = MAX_R;
  }
  if (convex || concave) {
    if (!(isZero(sMinusDl) || isZero(drMinusS)))
      r2 = Math.abs(drMinusDl) / Math.min(Math.abs(drMinusS), Math.abs(sMinusDl)); // the larger quotient, one division
    else if (preferShape) r2 = MAX_R;
  } else if (monotonic && preferShape) r2 = MAX_R;
  return Math.max(MIN_R, r1, r2);
}

/**
 * The control parameter of the convex rational cubic on [xl, xr] (Jaeckel, "Let's Be Rational",
 * section 6): fitting the second derivative `second` at the left end (`side` "left") or the right
 * end, floored by the shape-preserving minimum.
 */
function controlParameter(
  side: "left" | "right",
  xl: number,
  xr: number,
  yl: number,
  yr: number,
  dl: number,
  dr: number,
  second: number,
  preferShape: boolean,
): number {
  const h = xr - xl;
  const num = 0.5 * h * second + (dr - dl);
  const slope = (yr - yl) / h;
  const den = side === "left" ? slope - dl : dr - slope;
  const r = isZero(num) ? 0 : isZero(den) ? (num > 0 ? MAX_R : MIN_R) : num / den;
  return Math.max(r, minimumControl(dl, dr, slope, preferShape));
}

function householderFactor(newton: number, halley: number, hh3: number): number {
  return (1 + 0.5 * halley * newton) / (1 + newton * (halley + hh3 * newton * (1 / 6)));
}

/**
 * The Householder(3) step in s on the lowest branch's objective 1/ln b(s) - 1/ln beta, from
 * ln b(s) < 0, the scaled value bx = b/b' (> 0) and b''/b', b'''/b' of the normalised Black
 * function (small enough for the JIT to inline into both callers).
 */
function lowestBranchStep(lnBeta: number, lnB: number, bx: number, bHalley: number, bHh3: number): number {
  const bpob = 1 / bx;
  const lambda = 1 / lnB;
  const newton = (lnBeta - lnB) * (bx / lnBeta) * lnB;
  const otilde = 1 + 2 * lambda;
  const h2 = bHalley - bpob * otilde;
  const hh3 = bHh3 + 2 * bpob * bpob * (1 + 3 * lambda * (1 + lambda)) - 3 * bHalley * bpob * otilde;
  return newton * householderFactor(newton, h2, hh3);
}

/**
 * Implied normalised vol s of an out-of-the-money normalised call price 0 < beta < e^{x/2},
 * x <= 0 (not checked).
 */
export function normalisedImpliedVolOtm(beta: number, x: number): number {
  REFINE_INPUT[0] = beta;
  REFINE_INPUT[1] = x;
  REFINE_INPUT[2] = Math.exp(0.5 * x);
  impliedOtm();
  return REFINE_INPUT[3] as number;
}

/**
 * normalisedImpliedVolOtm with beta, x and b_max = e^{x/2} in REFINE_INPUT[0..2]; the result goes
 * to REFINE_INPUT[3].
 */
/**
 * Jaeckel's guess on the lowest branch (beta < b(x, s_l)): the f_lower map
 * f = 2 pi |x|/sqrt(27) Phi(-z)^3, z = |x|/(sqrt3 s), interpolated by a rational cubic in beta
 * with its first two derivatives at s_l, then inverted for s. With y = z^2, E = exp(-y/2) and
 * ex = erfcx(z/sqrt2): Phi(-z) = E ex / 2 and Phi(-z)/phi(z) = sqrt(pi/2) ex, so one erfcx and
 * two exponentials suffice. `vL` is the normalised vega at s_l.
 */
function lowestBranchGuess(beta: number, x: number, sL: number, bL: number, vL: number): number {
  const ax = -x;
  const z = (SQRT_ONE_OVER_THREE * ax) / sL;
  const y = z * z;
  const s2 = sL * sL;
  const ex = erfcx(z * Math.SQRT1_2);
  const q = Math.exp(0.125 * s2);
  // E^3 = exp(-x^2/(2 s_l^2)) = sqrt(2 pi) b'(s_l) exp(s_l^2/8): reuses the vega at s_l.
  const e3 = vL * SQRT_TWO_PI * q;
  const fpp =
    ((PI_OVER_SIX * y) / (s2 * sL)) *
    (0.5 * ex) *
    (8 * SQRT_THREE * sL * ax + (3 * s2 * (s2 - 8) - 8 * x * x) * SQRT_PI_OVER_TWO * ex) *
    ((q * q) / e3);
  let fL: number;
  let fpL: number;
  if (isZero(sL)) {
    fpL = 1;
    fL = 0;
  } else {
    fpL = 0.5 * Math.PI * y * ex * ex * q;
    fL = isZero(x) ? 0 : TWO_PI_OVER_SQRT_27 * ax * (0.125 * e3 * ex * ex * ex);
  }
  const rLL = controlParameter("right", 0, bL, 0, fL, 1, fpL, fpp, true);
  let f = rationalCubic(beta, 0, bL, 0, fL, 1, fpL, rLL);
  if (!(f > 0)) {
    const t = beta / bL;
    f = (fL * t + bL * (1 - t)) * t;
  }
  return isZero(f)
    ? 0
    : Math.abs(x / (SQRT_THREE * inverseNormCdfFastOfCubeRoot(f / (TWO_PI_OVER_SQRT_27 * ax))));
}

/**
 * Jaeckel's guess on the highest branch (beta > b(x, s_h)): the f_upper map Phi(-s/2) and its
 * derivatives at s_h, interpolated by a rational cubic in beta up to b_max, then inverted.
 */
function highestBranchGuess(beta: number, x: number, bMax: number, bH: number, sH: number): number {
  const fH = normCdf(-0.5 * sH);
  let fpH: number;
  let fppH: number;
  if (isZero(x)) {
    fpH = -0.5;
    fppH = 0;
  } else {
    const w = (x / sH) ** 2;
    fpH = -0.5 * Math.exp(0.5 * w);
    fppH = SQRT_PI_OVER_TWO * Math.exp(w + 0.125 * sH * sH) * (w / sH);
  }
  let f = Number.NaN;
  if (fppH > -SQRT_DBL_MAX && fppH < SQRT_DBL_MAX) {
    const r = controlParameter("left", bH, bMax, fH, 0, fpH, -0.5, fppH, true);
    f = rationalCubic(beta, bH, bMax, fH, 0, fpH, -0.5, r);
  }
  if (!(f > 0)) {
    const h = bMax - bH;
    const t = (beta - bH) / h;
    f = (fH * (1 - t) + 0.5 * h * t) * (1 - t);
  }
  return -2 * inverseNormCdfFast(f);
}

/**
 * Tabulated guess (ivGuess.ts, within ~1.5e-5): one step, checked by its size; if the step is
 * too large, the general loop goes on from there. The bracket is loose (a factor 2 either way,
 * far beyond the table's error) so the bisection guard stays valid. False when the table does
 * not cover (beta, x): Jaeckel's guess follows. (Jaeckel's guess stays inline in impliedOtm
 * rather than a function writing s and the bracket: that split measured ~7% slower per solve,
 * 490 against 456 ns; only its two outer branches are functions.)
 */
function solvedFromTable(beta: number, x: number, bMax: number): boolean {
  GUESS_IO[0] = beta;
  GUESS_IO[1] = x;
  GUESS_IO[2] = bMax;
  const branch = tableGuess();
  const guess = GUESS_IO[3] as number;
  if (!(branch >= 0 && guess > 0 && guess < DBL_MAX)) return false;
  REFINE_INPUT[3] = guess;
  REFINE_INPUT[6] = GUESS_IO[4] as number;
  if (tabulatedStep(branch)) return true;
  REFINE_INPUT[4] = 0.5 * guess;
  REFINE_INPUT[5] = 2 * guess;
  refine(branch);
  return true;
}

function impliedOtm(): void {
  const beta = REFINE_INPUT[0] as number;
  const x = REFINE_INPUT[1] as number;
  const bMax = REFINE_INPUT[2] as number;
  if (solvedFromTable(beta, x, bMax)) return;
  const ax = -x;
  let s = -DBL_MAX;
  let sLeft = DBL_MIN;
  let sRight = DBL_MAX;
  // 0 lowest (objective 1/ln b), 1 middle (b - beta), 2 highest (ln of distance to b_max).
  let objective = 1;

  // At s_c = sqrt(2|x|) (h = -t): b_c = e^{x/2} (1 - erfcx(sqrt|x|)) / 2, v_c = e^{x/2}/sqrt(2 pi).
  const sC = Math.sqrt(2 * ax);
  const y = Math.sqrt(ax);
  let oneMinusErfcx: number;
  if (y <= 0.46875) {
    // 1 - e^{y^2} erfc(y) = e^{y^2} erf(y) - (e^{y^2} - 1), with one transcendental
    const em = Math.expm1(ax);
    oneMinusErfcx = (1 + em) * erf(y) - em;
  } else oneMinusErfcx = 1 - erfcx(y);
  const bC = 0.5 * bMax * oneMinusErfcx;
  const vC = ONE_OVER_SQRT_TWO_PI * bMax;
  // Node values b(x, s_l), b(x, s_h) from the fits where they hold (below y = 1e-3 the
  // cancellation in s_l would make the fitted node inconsistent with the computed s_l); the
  // brackets then get a relative slack far above the fits' error so they stay valid.
  const useFit = y >= 1e-3 && y <= NODE_FIT_Y_MAX;
  const slack = useFit ? NODE_BRACKET_SLACK : 0;
  if (beta < bC) {
    const sL = sC - bC / vC;
    let bL: number;
    let vL: number;
    if (useFit) {
      bL = bMax * lowerNodeOverMax(y);
      vL = normalisedVega(x, sL);
    } else {
      bL = normalisedBlackOtm(x, sL);
      vL = lastNormalisedVega[0] as number;
    }
    if (beta < bL) {
      s = lowestBranchGuess(beta, x, sL, bL, vL);
      sRight = sL * (1 + slack);
      objective = 0;
    } else {
      const r = controlParameter("right", bL, bC, sL, sC, 1 / vL, 1 / vC, 0, false);
      s = rationalCubic(beta, bL, bC, sL, sC, 1 / vL, 1 / vC, r);
      sLeft = sL * (1 - slack);
      sRight = sC;
    }
  } else {
    const sH = vC > DBL_MIN ? sC + (bMax - bC) / vC : sC;
    let bH: number;
    let vH: number;
    if (useFit) {
      bH = bMax * upperNodeOverMax(y);
      vH = normalisedVega(x, sH);
    } else {
      bH = normalisedBlackOtm(x, sH);
      vH = lastNormalisedVega[0] as number;
    }
    if (beta <= bH) {
      const r = controlParameter("left", bC, bH, sC, sH, 1 / vC, 1 / vH, 0, false);
      s = rationalCubic(beta, bC, bH, sC, sH, 1 / vC, 1 / vH, r);
      sLeft = sC;
      sRight = sH * (1 + slack);
    } else {
      s = highestBranchGuess(beta, x, bMax, bH, sH);
      sLeft = sH * (1 - slack);
      if (beta > 0.5 * bMax) objective = 2;
    }
  }

  REFINE_INPUT[3] = s;
  REFINE_INPUT[4] = sLeft;
  REFINE_INPUT[5] = sRight;
  refine(objective);
}

/**
 * The solver's working values, passed between its functions: [0] beta, [1] x, [2] b_max (the
 * inputs of impliedOtm), [3] s (the guess, then each iterate, then the result), [4], [5] the
 * bracket, [6] ln beta (lowest branch, from the table). V8 passes the arguments and the result
 * of a call it does not inline as tagged values, boxing each double on the heap; this
 * allocation-free slot (as lastNormalisedVega; safe because calls run to completion on one
 * thread and each function reads its inputs first thing) cut the solve time by ~3.5% when it
 * replaced refine's arguments, and ~4% more as impliedOtm's arguments and every result.
 */
const REFINE_INPUT = new Float64Array(7);

/**
 * One Householder(3) step from a tabulated guess (REFINE_INPUT[3]) on the lowest (0, objective
 * 1/ln b with ln beta in REFINE_INPUT[6]) or a middle (1, b - beta) branch. Returns the new s
 * true with the new s in REFINE_INPUT[3] when the step was at most ONE_STEP_TOLERANCE of s (the
 * guess's error is the step's size, and a fourth-order step from e leaves ~K e^4 < 1e-19 K);
 * otherwise false, with the stepped s (or the guess, where the step is not usable) there for
 * refine. No loop and no bracket, which is what makes it cheaper than refine's first step.
 */
function tabulatedStep(objective: number): boolean {
  const beta = REFINE_INPUT[0] as number;
  const x = REFINE_INPUT[1] as number;
  const s = REFINE_INPUT[3] as number;
  const invS = 1 / s;
  const h = x * invS;
  const hOverS = h * invS;
  const bHalley = h * hOverS - 0.25 * s;
  const bHh3 = bHalley * bHalley - 3 * hOverS * hOverS - 0.25;
  let ds: number;
  if (objective === 0) {
    const lnBeta = REFINE_INPUT[6] as number;
    const bx = normalisedBlackScaledOtm(x, s);
    const lnB = Math.log(bx) - 0.5 * (h * h + 0.25 * s * s) - LN_SQRT_TWO_PI;
    if (!(bx > 0 && bx < DBL_MAX && lnB < 0)) return false;
    ds = lowestBranchStep(lnBeta, lnB, bx, bHalley, bHh3);
  } else {
    const b = normalisedBlackOtm(x, s);
    const newton = (beta - b) / (lastNormalisedVega[0] as number);
    ds = newton * householderFactor(newton, bHalley, bHh3);
  }
  const next = s + ds;
  if (!(next > 0.5 * s)) return false;
  REFINE_INPUT[3] = next;
  return Math.abs(ds) <= ONE_STEP_TOLERANCE * next;
}

/**
 * The Householder(3) steps from the initial guess s in the bracket (sLeft, sRight) on the
 * branch's objective (0 lowest, 1 middle, 2 highest); inputs in REFINE_INPUT. A separate
 * function so the JIT inlines the normalised Black evaluations here rather than the guess's
 * helpers.
 */
function refine(objective: number): void {
  const beta = REFINE_INPUT[0] as number;
  const x = REFINE_INPUT[1] as number;
  const bMax = REFINE_INPUT[2] as number;
  let s = REFINE_INPUT[3] as number;
  let sLeft = REFINE_INPUT[4] as number;
  let sRight = REFINE_INPUT[5] as number;
  let ds = -DBL_MAX;
  let dsPrevious = 0;
  let iterations = 0;
  let reversals = 0;
  const lnBeta = objective === 0 ? Math.log(beta) : 0;
  // The lowest branch at extreme moneyness (|x| > 200) may take a third step: near |x| = 700 its
  // ln b objective (|ln b| ~ 430) can end two steps ~14 ulps of s short (a fast-check property
  // found x = -697.9, s = 26.8); the loop still stops by itself once |ds| <= eps s.
  const maxIterations = objective === 0 && x < -200 ? ITERATIONS + 1 : ITERATIONS;
  for (; iterations < maxIterations && Math.abs(ds) > DBL_EPSILON * s; iterations++) {
    if (ds * dsPrevious < 0) reversals++;
    if (iterations > 0 && (reversals === 3 || !(s > sLeft && s < sRight))) {
      // Bisection guard: only for extreme |x| (Jaeckel: |x| > 500).
      s = 0.5 * (sLeft + sRight);
      if (sRight - sLeft <= DBL_EPSILON * s) break;
      reversals = 0;
      ds = 0;
    }
    dsPrevious = ds;
    const invS = 1 / s;
    const h = x * invS;
    const hOverS = h * invS;
    // b''/b' and b'''/b' of the normalised Black function
    const bHalley = h * hOverS - 0.25 * s;
    const bHh3 = bHalley * bHalley - 3 * hOverS * hOverS - 0.25;
    if (objective === 0) {
      // ln b = ln(b/b') + ln b' with ln b' = -(h^2 + s^2/4)/2 - ln sqrt(2 pi): one log, no exp,
      // and no underflow of b for tiny prices.
      const bx = normalisedBlackScaledOtm(x, s);
      const lnB = Math.log(bx) - 0.5 * (h * h + 0.25 * s * s) - LN_SQRT_TWO_PI;
      if (lnB > lnBeta && s < sRight) sRight = s;
      else if (lnB < lnBeta && s > sLeft) sLeft = s;
      if (!(bx > 0 && bx < DBL_MAX && lnB < 0)) ds = 0.5 * (sLeft + sRight) - s;
      else ds = lowestBranchStep(lnBeta, lnB, bx, bHalley, bHh3);
    } else {
      const b = normalisedBlackOtm(x, s);
      const bp = lastNormalisedVega[0] as number;
      if (b > beta && s < sRight) sRight = s;
      else if (b < beta && s > sLeft) sLeft = s;
      if (objective === 2) {
        if (b >= bMax || bp <= DBL_MIN) ds = 0.5 * (sLeft + sRight) - s;
        else {
          const bMaxMinusB = bMax - b;
          const g = Math.log((bMax - beta) / bMaxMinusB);
          const gp = bp / bMaxMinusB;
          const newton = -g / gp;
          ds = newton * householderFactor(newton, bHalley + gp, bHh3 + gp * (2 * gp + 3 * bHalley));
        }
      } else {
        const newton = (beta - b) / bp;
        ds = newton * householderFactor(newton, bHalley, bHh3);
      }
    }
    ds = Math.max(-0.5 * s, ds);
    s += ds;
  }
  REFINE_INPUT[3] = s;
}

interface CheckedIv {
  readonly price: number;
  readonly F: number;
  readonly K: number;
  readonly T: number;
  readonly call: boolean;
  readonly D: number;
}

function checkIv(o: ImpliedVolInputs): CheckedIv {
  if (o === null || typeof o !== "object") throw new InvalidInputError("options", o, "must be an object");
  const price = requireFinite("price", o.price);
  const F = requirePositive("forward", o.forward);
  const K = requirePositive("strike", o.strike);
  const T = requirePositive("expiry", o.expiry);
  const call = requireKind("kind", o.kind) === "call";
  const D = o.discount === undefined ? 1 : requirePositive("discount", o.discount);
  return { price, F, K, T, call, D };
}

const BELOW_INTRINSIC = -1;
const ABOVE_MAXIMUM = -2;

/** The implied vol (>= 0) or a negative failure code; allocation-free for the hot path. */
function solve(price: number, F: number, K: number, T: number, call: boolean, D: number): number {
  const p = price / D;
  const intrinsic = call ? (F > K ? F - K : 0) : K > F ? K - F : 0;
  if (p < intrinsic) return BELOW_INTRINSIC;
  if (p >= (call ? F : K)) return ABOVE_MAXIMUM;
  const timeValue = p - intrinsic;
  if (timeValue === 0) return 0;
  const x = logMoneynessForward(F, K);
  const xOtm = x > 0 ? -x : x;
  const pFK = F * K;
  const sqrtFK = pFK > 1e-300 && pFK < 1e300 ? Math.sqrt(pFK) : Math.sqrt(F) * Math.sqrt(K);
  const beta = timeValue / sqrtFK;
  // Within rounding of the maximum: no finite vol is determined by the price.
  const bMax = F < K ? Math.sqrt(F / K) : Math.sqrt(K / F); // e^{-|x|/2}
  if (beta >= bMax) return ABOVE_MAXIMUM;
  REFINE_INPUT[0] = beta;
  REFINE_INPUT[1] = xOtm;
  REFINE_INPUT[2] = bMax;
  impliedOtm();
  return (REFINE_INPUT[3] as number) / Math.sqrt(T);
}

/**
 * Implied Black-76 volatility (decimal annualised) of `price`, or NaN when no vol reproduces it
 * (price below the discounted intrinsic value or at/above the discounted forward (call) / strike
 * (put); use impliedVolResult for the reason). A price exactly at intrinsic gives 0.
 * Throws InvalidInputError naming the field for NaN/infinite price, non-positive forward,
 * strike, expiry or discount, or an unknown kind.
 */
export function impliedVol(o: ImpliedVolInputs): number {
  if (o === null || typeof o !== "object") throw new InvalidInputError("options", o, "must be an object");
  const v = solve(
    requireFinite("price", o.price),
    requirePositive("forward", o.forward),
    requirePositive("strike", o.strike),
    requirePositive("expiry", o.expiry),
    requireKind("kind", o.kind) === "call",
    o.discount === undefined ? 1 : requirePositive("discount", o.discount),
  );
  return v >= 0 ? v : Number.NaN;
}

/**
 * Like impliedVol but never throws: `{ ok: true, value }` or `{ ok: false, reason, message }`
 * with reason "below-intrinsic", "above-maximum" or "invalid-input" (message names the field).
 */
export function impliedVolResult(o: ImpliedVolInputs): Result<number, ImpliedVolFailure> {
  let c: CheckedIv;
  try {
    c = checkIv(o);
  } catch (e) {
    if (e instanceof InvalidInputError) return fail("invalid-input", e.message);
    throw e;
  }
  const v = solve(c.price, c.F, c.K, c.T, c.call, c.D);
  if (v >= 0) return ok(v);
  const intrinsic = c.D * Math.max(c.call ? c.F - c.K : c.K - c.F, 0);
  const maximum = c.D * (c.call ? c.F : c.K);
  if (v === BELOW_INTRINSIC) {
    return fail("below-intrinsic", `price ${c.price} is below the discounted intrinsic value ${intrinsic}`);
  }
  return fail(
    "above-maximum",
    `price ${c.price} is not below the maximum ${maximum} (discounted ${c.call ? "forward" : "strike"})`,
  );
}
