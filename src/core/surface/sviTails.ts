/**
 * Raw SVI with log-normal-type price tails: a candidate smile for svi-af slices (not the default
 * yet: measured on the season it fixed the 4 inside-band misses but fit time exceeded 5x svi on 48
 * chains; see the README surface section). On [lo, hi] (the
 * junctions, lo < 0 < hi, a little beyond the last quotes) the smile is the raw SVI w(k); beyond
 * them the out-of-the-money option price continues in closed form and the served total variance is
 * its Black implied variance. With F = 1, u = |k| and Jaeckel's normalised price b = (OTM price) /
 * sqrt(K) ("Let's Be Rational", Wilmott 2015; x = -u, s = sqrt(w)), both tails read
 *
 *   ln b(u) = ln b_1 - R (u - u_1) - c (u - u_1)^2 / 2,   u > u_1 = |junction|,
 *
 * R = -(d ln b/du) of the SVI at the junction (price and its slope in K continuous: C1) and
 * c = TAIL_CURVATURE_SHARE (R^2 - 1/4).
 *
 * Why: a 15-day slice quoted on k in [-0.5, 0.3] need not keep the SVI's own shape out to
 * |k| = 1.5, where no strike is listed. Asking one raw SVI to be butterfly-free that far bent the
 * fitted smile inside the quotes (issue 21: up to 2.4 points of the inside-band share on 15- and
 * 43-day BTC slices). With these tails the SVI need only be butterfly-free on [lo, hi], and the
 * whole smile is free of butterfly arbitrage with a proof, not a grid check:
 *
 * - Write the OTM price as e^{L(k)} (L = k/2 + ln b). A price e^L is convex in K iff
 *   L'' + L'(L' - 1) >= 0. In a tail L'' = -c and L'(L' - 1) = (R + c(u - u_1))^2 - 1/4 (calls:
 *   L' = 1/2 - R - c(u - u_1); puts: L' = 1/2 + R + c(u - u_1)), which only grows with u, so the tail
 *   is convex iff c <= R^2 - 1/4, i.e. R > 1/2 (the fit asks R >= TAIL_MIN_R). Then the call price
 *   C(K) is convex on [K_lo, K_hi] (g >= 0 there, checked on a grid refined between its nodes;
 *   Gatheral & Jacquier 2014, Lemma 2.2), convex beyond K_hi, and below K_lo C = P + 1 - K (parity)
 *   with P convex; the pieces meet with equal value and slope, so C is convex on (0, infinity): a
 *   non-negative density. C -> 0 as K -> infinity and P -> 0 as K -> 0 (C -> 1 = F), so these are the
 *   call prices of a distribution with mean F.
 * - Tails as thin as log-normal ones have all moments, so w is bounded in the tails (it tends to
 *   about 1/c): Lee's moment bound (wing slope of w <= 2, R. Lee 2004) holds with slope 0.
 * - Durrleman's g in a tail is exact: the density of k is g n(d2)/s, which gives
 *   g = ((R + c(u - u_1))^2 - 1/4 - c) s b/b_s, b_s = db/ds the normalised vega; w'' is whatever makes
 *   g = (1 - k w'/2w)^2 - (w'^2/4)(1/w + 1/4) + w''/2 hold, so the smile's derivatives and the
 *   arbitrage report see exactly this g, positive since TAIL_CURVATURE_SHARE < 1.
 * - The implied s of a tail price is Jaeckel's inversion (impliedVol.ts); where b would underflow
 *   (ln b < -700) a safeguarded Newton iteration on ln b in v = 1/s^2, evaluated through b/b_s
 *   (normalisedBlackScaledOtm), which stays accurate there.
 *
 * Units: k = ln(K/F), w = vol^2 T (dimensionless), F = 1 in the prices above.
 */
import { normCdfOverPdf } from "../math/normal.js";
import { normalisedImpliedVolOtm } from "../pricing/impliedVol.js";
import { normalisedBlackScaledOtm } from "../pricing/normalisedBlack.js";
import { type SviParams, sviFirstDerivative, sviSecondDerivative, sviTotalVariance } from "./svi.js";

/** The junctions of a slice: raw SVI on [lo, hi], power-law price tails beyond (lo < 0 < hi). */
export interface SviWings {
  readonly lo: number;
  readonly hi: number;
}

/** Least decay rate R of ln b in a tail that the fit asks (R > 1/2 is the no-arbitrage condition). */
export const TAIL_MIN_R = 0.51;

/**
 * Share theta of the largest curvature R^2 - 1/4 of ln b the tails take: c = theta (R^2 - 1/4)
 * (theta = 1 would leave a zero density at the junction, theta = 0 is a power tail, too fat for
 * a short expiry to stay below the longer ones).
 */
export const TAIL_CURVATURE_SHARE = 0.8;

/** One tail: from u1 = |k| of the junction, ln b(u) = lnB1 - R (u - u1) - c (u - u1)^2 / 2. */
export interface PriceTail {
  readonly u1: number;
  readonly lnB1: number;
  readonly r: number;
  readonly c: number;
}

/** A slice: raw SVI between the junctions, a price tail beyond each (null: the raw SVI goes on). */
export interface TailedSvi {
  readonly params: SviParams;
  readonly lo: number;
  readonly hi: number;
  readonly left: PriceTail | null;
  readonly right: PriceTail | null;
}

/** Least decay rate a tail is evaluated with (see tailS). */
const EVAL_MIN_R = TAIL_MIN_R;
/** Below this ln b the tail's s comes from tailImpliedS (b would leave the normal doubles). */
const MIN_LN_B = -700;
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln b(x, s) of an out-of-the-money normalised Black price, x <= 0 < s. */
export function lnNormalisedOtm(x: number, s: number): number {
  const h = x / s;
  const t = 0.5 * s;
  return Math.log(normalisedBlackScaledOtm(x, s)) - 0.5 * (h * h + t * t) - LN_SQRT_2PI;
}

/** d ln b / dx at fixed s: 1/2 + M(x/s - s/2) / (b / b_s), M the Mills ratio Phi/phi. */
function dLnBdx(x: number, s: number): number {
  return 0.5 + normCdfOverPdf(x / s - 0.5 * s) / normalisedBlackScaledOtm(x, s);
}

/**
 * The tail continuing the SVI beyond junction k1 (u1 = |k1|): ln b and its decay rate R there.
 * R = -(d ln b / du) along the SVI = d ln b/dx - (ds/du) / (b/b_s); null when w(k1) <= 0.
 */
export function tailAt(p: SviParams, k1: number): PriceTail | null {
  const w = sviTotalVariance(p, k1);
  if (!(w > 0)) return null;
  const s = Math.sqrt(w);
  const u1 = Math.abs(k1);
  const x = -u1;
  const dsdu = (Math.sign(k1) * sviFirstDerivative(p, k1)) / (2 * s);
  const r = dLnBdx(x, s) - dsdu / normalisedBlackScaledOtm(x, s);
  const rEval = Math.max(r, EVAL_MIN_R);
  return { u1, lnB1: lnNormalisedOtm(x, s), r, c: TAIL_CURVATURE_SHARE * (rEval * rEval - 0.25) };
}

/** The slice of raw SVI parameters with junctions `wings` (a side at +-Infinity has no tail). */
export function tailedSvi(params: SviParams, wings: SviWings): TailedSvi {
  return {
    params,
    lo: wings.lo,
    hi: wings.hi,
    left: Number.isFinite(wings.lo) ? tailAt(params, wings.lo) : null,
    right: Number.isFinite(wings.hi) ? tailAt(params, wings.hi) : null,
  };
}

/**
 * The s > 0 with ln b(-u, s) = target (target < -u/2, where ln b(-u, s) tends as s -> infinity):
 * Newton on ln b, whose s-derivative is 1 / (b / b_s), kept inside a shrinking bracket (bisection
 * when a step leaves it), to 1e-15 relative.
 */
export function tailImpliedS(u: number, target: number, guess: number): number {
  // Newton in v = 1/s^2, in which deep out-of-the-money ln b ~ -u^2 v/2 - 1/(8v) is nearly linear;
  // ln b decreases in v: d ln b/dv = (d ln b/ds)(ds/dv) = -(s^3/2) / (b/b_s)
  const x = -u;
  let lo = 0;
  let hi = Number.POSITIVE_INFINITY;
  const s0 = guess > 0 && Number.isFinite(guess) ? guess : 1;
  let v = 1 / (s0 * s0);
  for (let it = 0; it < 100; it++) {
    const s = 1 / Math.sqrt(v);
    const f = lnNormalisedOtm(x, s) - target;
    if (f > 0) lo = v;
    else hi = v;
    let next = v + (2 * f * normalisedBlackScaledOtm(x, s)) / (s * s * s);
    if (!(next > lo && next < hi)) next = Number.isFinite(hi) ? 0.5 * (lo + hi) : 2 * v;
    if (Math.abs(next - v) <= 1e-15 * v) return 1 / Math.sqrt(next);
    v = next;
  }
  return 1 / Math.sqrt(v);
}

/** The tail's s at u, with its own start (the asymptotic ln b ~ -u^2/2w - w/8, else the junction's s). */
function tailS(tail: PriceTail, u: number, s1: number): number {
  // (a tail with R <= 1/2 is never served: the fit asks R >= TAIL_MIN_R; it is evaluated with
  // R = max(R, EVAL_MIN_R) so the penalty rounds that reach it stay finite)
  const x = u - tail.u1;
  const target = tail.lnB1 - Math.max(tail.r, EVAL_MIN_R) * x - 0.5 * tail.c * x * x;
  // Jaeckel's inversion where b is a normal double; the log-space iteration beyond
  if (target > MIN_LN_B) return normalisedImpliedVolOtm(Math.exp(target), -u);
  const disc = target * target - u * u;
  const guess = disc > 0 ? Math.sqrt(4 * (-target - Math.sqrt(disc))) : s1;
  return tailImpliedS(u, target, guess);
}

function tailSide(ts: TailedSvi, k: number): { tail: PriceTail; s1: number } | null {
  if (k > ts.hi && ts.right)
    return { tail: ts.right, s1: Math.sqrt(Math.max(sviTotalVariance(ts.params, ts.hi), 0)) };
  if (k < ts.lo && ts.left)
    return { tail: ts.left, s1: Math.sqrt(Math.max(sviTotalVariance(ts.params, ts.lo), 0)) };
  return null;
}

/**
 * ln b at k, the normalised out-of-the-money price (x = -|k|): closed form in a tail (no
 * inversion), from the SVI's total variance between the junctions. At one k, w orders smiles as
 * ln b does (b increases with s), so comparisons need no implied-vol inversion.
 */
export function tailedLnB(ts: TailedSvi, k: number): number {
  const side = tailSide(ts, k);
  if (!side) {
    const w = sviTotalVariance(ts.params, k);
    return w > 0 ? lnNormalisedOtm(-Math.abs(k), Math.sqrt(w)) : Number.NEGATIVE_INFINITY;
  }
  const { tail } = side;
  const x = Math.abs(k) - tail.u1;
  return tail.lnB1 - Math.max(tail.r, EVAL_MIN_R) * x - 0.5 * tail.c * x * x;
}

/** Whether k lies between the junctions (where the smile is the raw SVI). */
export function inSviPart(ts: TailedSvi, k: number): boolean {
  return !((k > ts.hi && ts.right) || (k < ts.lo && ts.left));
}

/** Total variance at k. */
export function tailedTotalVariance(ts: TailedSvi, k: number): number {
  const side = tailSide(ts, k);
  if (!side) return sviTotalVariance(ts.params, k);
  const s = tailS(side.tail, Math.abs(k), side.s1);
  return s * s;
}

/** w, w', w'' of a smile at one k. */
export interface SmilePoint {
  readonly w: number;
  readonly dw: number;
  readonly d2w: number;
}

/**
 * The smile of `pick(k)` (the slice serving k) at every k, remembering the last k asked: the
 * arbitrage report asks w, w' and w'' at one k in turn, and a tail point costs an implied-vol
 * inversion, done once per k.
 */
export function memoSmile(
  expiry: number,
  pick: (k: number) => TailedSvi,
): {
  expiry: number;
  totalVariance(k: number): number;
  firstDerivative(k: number): number;
  secondDerivative(k: number): number;
} {
  let lastK = Number.NaN;
  let lastTs: TailedSvi | null = null;
  let lastW = Number.NaN;
  let point: SmilePoint | null = null;
  const w = (k: number): number => {
    if (k !== lastK || !lastTs) {
      lastTs = pick(k);
      lastK = k;
      lastW = tailedTotalVariance(lastTs, k);
      point = null;
    }
    return lastW;
  };
  const full = (k: number): SmilePoint => {
    w(k);
    if (!point) point = tailedDerivatives(lastTs ?? pick(k), k, lastW);
    return point;
  };
  return {
    expiry,
    totalVariance: w,
    firstDerivative: (k) => full(k).dw,
    secondDerivative: (k) => full(k).d2w,
  };
}

/** w, w', w'' at k (in a tail: w' from d ln b/du = -R, w'' from the tail's exact g). */
export function tailedDerivatives(ts: TailedSvi, k: number, knownW = Number.NaN): SmilePoint {
  const side = tailSide(ts, k);
  if (!side)
    return {
      w: sviTotalVariance(ts.params, k),
      dw: sviFirstDerivative(ts.params, k),
      d2w: sviSecondDerivative(ts.params, k),
    };
  const u = Math.abs(k);
  const x = -u;
  const { tail } = side;
  // the decay rate of ln b at u: R + c (u - u1)
  const r = Math.max(tail.r, EVAL_MIN_R) + tail.c * (u - tail.u1);
  // (knownW: the tail's w at k, already inverted by the caller)
  const s = Number.isNaN(knownW) ? tailS(tail, u, side.s1) : Math.sqrt(knownW);
  const scaled = normalisedBlackScaledOtm(x, s);
  // -dLnBdx + (ds/du) / scaled = -rate
  const dsdu = (dLnBdx(x, s) - r) * scaled;
  const w = s * s;
  const dw = Math.sign(k) * 2 * s * dsdu;
  const g = (r * r - 0.25 - tail.c) * s * scaled;
  const t = 1 - (k * dw) / (2 * w);
  const d2w = 2 * (g - t * t + ((dw * dw) / 4) * (1 / w + 0.25));
  return { w, dw, d2w };
}

/** The least tail decay rate of the slice (+Infinity without tails, -Infinity for a tail at w <= 0). */
export function tailsMinR(ts: TailedSvi): number {
  const left = Number.isFinite(ts.lo) ? (ts.left?.r ?? Number.NEGATIVE_INFINITY) : Number.POSITIVE_INFINITY;
  const right = Number.isFinite(ts.hi) ? (ts.right?.r ?? Number.NEGATIVE_INFINITY) : Number.POSITIVE_INFINITY;
  return Math.min(left, right);
}
