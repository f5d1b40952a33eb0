/**
 * Surfaces assembled from fitted slices, with interpolation in time that keeps them free of
 * calendar arbitrage.
 *
 * - Raw SVI slices: between expiries T_i < T < T_{i+1} the total variance is linear in T at fixed
 *   log-moneyness, w(k,T) = (1-a) w_i(k) + a w_{i+1}(k), a = (T-T_i)/(T_{i+1}-T_i): non-decreasing in
 *   T wherever w_{i+1} >= w_i (which the arbitrage report checks). Before the first expiry and
 *   after the last, w(k,T) = w_edge(k) T / T_edge (zero at T = 0, increasing in T).
 * - eSSVI slices: the same linear interpolation of total variance (the eSSVI fit makes the nodes
 *   calendar-free on a dense grid). `essviParamsAt` offers the alternative interpolation of
 *   (theta, psi(1+rho), psi(1-rho)), which keeps the GJ butterfly conditions (convex in those
 *   variables) but not, in general, the calendar condition (see ssvi.ts).
 * - SSVI (power law): theta(T) as above and the slice is SSVI(theta(T)), arbitrage-free for all T.
 *
 * Units: k = ln(K/F), T in years ACT/365, w = vol^2 T. totalVariance(k, T <= 0) is 0 and
 * impliedVol(k, T <= 0) is the T -> 0+ limit (the first expiry's vol at k), so pricers can value an
 * option at its expiry instant without a special case.
 */
import { InvalidInputError, requireFinite, requirePositive } from "../errors.js";
import { upperBound } from "../math/search.js";
import {
  type EssviSliceParams,
  essviFirstDerivative,
  essviSecondDerivative,
  essviTotalVariance,
  type SsviPowerLawParams,
  ssviSlice,
} from "./ssvi.js";
import { type SviParams, sviFirstDerivative, sviSecondDerivative, sviTotalVariance } from "./svi.js";
import type { VolSurface } from "./types.js";

/** A smile at one time: total variance and its first two k-derivatives. */
export interface SmileFunction {
  /** Time to expiry in years. */
  readonly expiry: number;
  totalVariance(k: number): number;
  firstDerivative(k: number): number;
  secondDerivative(k: number): number;
}

/** A fitted surface: the shared VolSurface plus the smile at any T and the node expiries. */
export interface SliceSurface extends VolSurface {
  /** Node expiries (years), increasing. */
  readonly expiries: readonly number[];
  /** The smile at time T (interpolated between nodes as described in interpolate.ts). */
  smileAt(timeToExpiry: number): SmileFunction;
}

/** Smile of a raw SVI slice. */
export function sviSmile(params: SviParams, expiry: number): SmileFunction {
  return {
    expiry,
    totalVariance: (k) => sviTotalVariance(params, k),
    firstDerivative: (k) => sviFirstDerivative(params, k),
    secondDerivative: (k) => sviSecondDerivative(params, k),
  };
}

/** Smile of an eSSVI slice. */
export function essviSmile(params: EssviSliceParams, expiry: number): SmileFunction {
  return {
    expiry,
    totalVariance: (k) => essviTotalVariance(params, k),
    firstDerivative: (k) => essviFirstDerivative(params, k),
    secondDerivative: (k) => essviSecondDerivative(params, k),
  };
}

function checkExpiries(expiries: readonly number[]): void {
  if (expiries.length === 0) throw new InvalidInputError("slices", 0, "must hold at least one expiry");
  expiries.forEach((T, i) => {
    requirePositive(`slices[${i}].expiry`, T);
    const prev = expiries[i - 1];
    if (prev !== undefined && !(T > prev))
      throw new InvalidInputError(`slices[${i}].expiry`, T, "must be strictly increasing");
  });
}

/** nodes[i], for an index the caller has bracketed (a RangeError otherwise: a bug, not bad input). */
function nodeAt<N>(nodes: readonly N[], i: number): N {
  const node = nodes[i];
  if (node === undefined) throw new RangeError(`node index ${i} outside 0..${nodes.length - 1}`);
  return node;
}

/** Index i with T_i <= T < T_{i+1}; -1 before the first node (and for a NaN T). */
function bracket(expiries: readonly number[], T: number): number {
  return upperBound(expiries, T) - 1;
}

function surfaceFrom(
  model: string,
  expiries: readonly number[],
  smileAt: (T: number) => SmileFunction,
): SliceSurface {
  const firstExpiry = nodeAt(expiries, 0);
  const totalVariance = (k: number, T: number): number => {
    requireFinite("timeToExpiry", T);
    if (T <= 0) return 0;
    return smileAt(T).totalVariance(k);
  };
  return {
    model,
    expiries,
    smileAt: (T) => {
      requirePositive("timeToExpiry", T);
      return smileAt(T);
    },
    totalVariance,
    impliedVol: (k, T) => {
      requireFinite("timeToExpiry", T);
      // T <= 0 (at or past expiry): the T -> 0+ limit, which is the first node's vol (w scales with T before it)
      const t = T > 0 ? T : firstExpiry;
      return Math.sqrt(Math.max(totalVariance(k, t), 0) / t);
    },
  };
}

/** Linear-in-T blend of two smiles (or a scaled single smile when b is null). */
function blend(a: SmileFunction, wa: number, b: SmileFunction | null, wb: number, T: number): SmileFunction {
  if (b === null) {
    return {
      expiry: T,
      totalVariance: (k) => wa * a.totalVariance(k),
      firstDerivative: (k) => wa * a.firstDerivative(k),
      secondDerivative: (k) => wa * a.secondDerivative(k),
    };
  }
  return {
    expiry: T,
    totalVariance: (k) => wa * a.totalVariance(k) + wb * b.totalVariance(k),
    firstDerivative: (k) => wa * a.firstDerivative(k) + wb * b.firstDerivative(k),
    secondDerivative: (k) => wa * a.secondDerivative(k) + wb * b.secondDerivative(k),
  };
}

/** A surface from smiles at increasing expiries, linear in total variance between them. */
export function surfaceFromSmiles(model: string, smiles: readonly SmileFunction[]): SliceSurface {
  const expiries = smiles.map((s) => s.expiry);
  checkExpiries(expiries);
  const first = nodeAt(smiles, 0);
  const last = nodeAt(smiles, smiles.length - 1);
  return surfaceFrom(model, expiries, (T) => {
    const i = bracket(expiries, T);
    if (i < 0) return blend(first, T / first.expiry, null, 0, T);
    if (i >= smiles.length - 1) {
      if (T === last.expiry) return last;
      return blend(last, T / last.expiry, null, 0, T);
    }
    const lo = nodeAt(smiles, i);
    const hi = nodeAt(smiles, i + 1);
    if (T === lo.expiry) return lo;
    const a = (T - lo.expiry) / (hi.expiry - lo.expiry);
    return blend(lo, 1 - a, hi, a, T);
  });
}

/** A surface from raw SVI slices (sorted by expiry). */
export function sviSurface(slices: readonly { expiry: number; params: SviParams }[]): SliceSurface {
  return surfaceFromSmiles(
    "svi",
    slices.map((s) => sviSmile(s.params, s.expiry)),
  );
}

/** Linear interpolation of eSSVI nodes in (theta, psi(1+rho), psi(1-rho)): butterfly-preserving, not calendar-preserving (see ssvi.ts). */
export function essviParamsAt(
  slices: readonly { expiry: number; params: EssviSliceParams }[],
  T: number,
): EssviSliceParams {
  if (slices.length === 0) throw new InvalidInputError("slices", 0, "must hold at least one expiry");
  const expiries = slices.map((s) => s.expiry);
  const n = slices.length;
  const i = bracket(expiries, T);
  const toWings = (p: EssviSliceParams) => [p.theta, p.psi * (1 + p.rho), p.psi * (1 - p.rho)] as const;
  const fromWings = (theta: number, cw: number, pw: number): EssviSliceParams => {
    const psi = 0.5 * (cw + pw);
    return { theta, psi, rho: psi > 0 ? (cw - pw) / (cw + pw) : 0 };
  };
  if (i < 0) {
    const first = nodeAt(slices, 0);
    const [th, cw, pw] = toWings(first.params);
    const s = T / first.expiry;
    return fromWings(th * s, cw * s, pw * s);
  }
  if (i >= n - 1) {
    const last = nodeAt(slices, n - 1);
    return { ...last.params, theta: (last.params.theta * T) / last.expiry };
  }
  const lo = nodeAt(slices, i);
  const hi = nodeAt(slices, i + 1);
  const a = (T - lo.expiry) / (hi.expiry - lo.expiry);
  const u = toWings(lo.params);
  const v = toWings(hi.params);
  return fromWings((1 - a) * u[0] + a * v[0], (1 - a) * u[1] + a * v[1], (1 - a) * u[2] + a * v[2]);
}

/** A surface from eSSVI slices (sorted by expiry), linear in total variance between them. */
export function essviSurface(slices: readonly { expiry: number; params: EssviSliceParams }[]): SliceSurface {
  const expiries = slices.map((s) => s.expiry);
  checkExpiries(expiries);
  return surfaceFromSmiles(
    "essvi",
    slices.map((s) => essviSmile(s.params, s.expiry)),
  );
}

/** A power-law SSVI surface from ATM total variances theta_i at expiries T_i (theta non-decreasing). */
export function ssviSurface(
  params: SsviPowerLawParams,
  nodes: readonly { expiry: number; theta: number }[],
): SliceSurface {
  const expiries = nodes.map((s) => s.expiry);
  checkExpiries(expiries);
  const first = nodeAt(nodes, 0);
  const last = nodeAt(nodes, nodes.length - 1);
  const thetaAt = (T: number): number => {
    const i = bracket(expiries, T);
    if (i < 0) return (first.theta * T) / first.expiry;
    if (i >= nodes.length - 1) return (last.theta * T) / last.expiry;
    const lo = nodeAt(nodes, i);
    const hi = nodeAt(nodes, i + 1);
    const a = (T - lo.expiry) / (hi.expiry - lo.expiry);
    return (1 - a) * lo.theta + a * hi.theta;
  };
  return surfaceFrom("ssvi", expiries, (T) => essviSmile(ssviSlice(params, thetaAt(T)), T));
}
