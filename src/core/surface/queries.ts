/**
 * Surface queries: ATM vol, 25-delta risk reversal and butterfly, term structure, and the
 * risk-neutral density implied by the smile.
 *
 * Delta convention: undiscounted Black forward delta, call N(d1), put N(d1) - 1, with
 * d1 = -k / sqrt(w(k)) + sqrt(w(k)) / 2 at the strike's own vol (a fixed point solved by
 * bisection on k, the delta being monotone in k for an arbitrage-free smile).
 * RR25 = vol(25d call) - vol(25d put); BF25 = (vol(25d call) + vol(25d put)) / 2 - vol(ATM),
 * ATM = forward (k = 0). Vols decimal annualized.
 *
 * Density (Gatheral & Jacquier 2014, eq. 2.2): the density of k = ln(S_T/F) is
 * p(k) = g(k) / sqrt(2 pi w(k)) exp(-d2(k)^2 / 2), d2 = -k / sqrt(w) - sqrt(w)/2; the density of
 * the strike K = F e^k is p(k) / K.
 */
import { InvalidInputError, requireFinite, requirePositive } from "../errors.js";
import { normCdf } from "../math/normal.js";
import type { SliceSurface, SmileFunction } from "./interpolate.js";
import { durrlemanG } from "./svi.js";

/** ATM (k = 0) implied vol at T (decimal). */
export function surfaceAtmVol(surface: SliceSurface, timeToExpiry: number): number {
  return surface.impliedVol(0, timeToExpiry);
}

/** Forward delta of an option with log-moneyness k on the smile. */
function forwardDelta(smile: SmileFunction, k: number, kind: "call" | "put"): number {
  const w = Math.max(smile.totalVariance(k), 1e-300);
  const s = Math.sqrt(w);
  const d1 = -k / s + 0.5 * s;
  return kind === "call" ? normCdf(d1) : normCdf(d1) - 1;
}

/**
 * Log-moneyness of the strike whose forward delta is `delta` (call: in (0,1); put: in (-1,0)).
 * Returns NaN when no such strike exists within +-20 ATM standard deviations.
 */
export function deltaStrikeLogMoneyness(smile: SmileFunction, delta: number, kind: "call" | "put"): number {
  requireFinite("delta", delta);
  if (kind === "call" ? !(delta > 0 && delta < 1) : !(delta > -1 && delta < 0))
    throw new InvalidInputError(
      "delta",
      delta,
      kind === "call" ? "must be in (0, 1) for a call" : "must be in (-1, 0) for a put",
    );
  const s0 = Math.sqrt(Math.max(smile.totalVariance(0), 1e-12));
  let lo = -20 * s0 - 0.5 * s0 * s0;
  let hi = 20 * s0;
  const f = (k: number) => forwardDelta(smile, k, kind) - delta; // decreasing in k
  if (f(lo) < 0 || f(hi) > 0) return Number.NaN;
  for (let i = 0; i < 200 && hi - lo > 1e-13; i++) {
    const mid = 0.5 * (lo + hi);
    if (f(mid) > 0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export interface SmileSummary {
  /** Time to expiry, years. */
  readonly expiry: number;
  readonly atmVol: number;
  /** Vols at the 25-delta call and put strikes. */
  readonly call25Vol: number;
  readonly put25Vol: number;
  /** Log-moneyness of those strikes. */
  readonly call25LogMoneyness: number;
  readonly put25LogMoneyness: number;
  /** vol(25d call) - vol(25d put). */
  readonly riskReversal25: number;
  /** (vol(25d call) + vol(25d put)) / 2 - vol(ATM). */
  readonly butterfly25: number;
}

/** ATM vol, 25-delta RR and BF at T. */
export function smileSummary(surface: SliceSurface, timeToExpiry: number): SmileSummary {
  const T = requirePositive("timeToExpiry", timeToExpiry);
  const smile = surface.smileAt(T);
  const vol = (k: number) => Math.sqrt(Math.max(smile.totalVariance(k), 0) / T);
  const kc = deltaStrikeLogMoneyness(smile, 0.25, "call");
  const kp = deltaStrikeLogMoneyness(smile, -0.25, "put");
  const atmVol = vol(0);
  const c = vol(kc);
  const p = vol(kp);
  return {
    expiry: T,
    atmVol,
    call25Vol: c,
    put25Vol: p,
    call25LogMoneyness: kc,
    put25LogMoneyness: kp,
    riskReversal25: c - p,
    butterfly25: 0.5 * (c + p) - atmVol,
  };
}

/** Smile summaries at the given expiries (default: the surface's node expiries). */
export function surfaceTermStructure(surface: SliceSurface, expiries?: readonly number[]): SmileSummary[] {
  return (expiries ?? surface.expiries).map((T) => smileSummary(surface, T));
}

/** Risk-neutral density of k = ln(S_T/F) at (k, T) (per unit k). */
export function surfaceLogMoneynessDensity(
  surface: SliceSurface,
  logMoneyness: number,
  timeToExpiry: number,
): number {
  const k = requireFinite("logMoneyness", logMoneyness);
  const T = requirePositive("timeToExpiry", timeToExpiry);
  const smile = surface.smileAt(T);
  const w = smile.totalVariance(k);
  if (!(w > 0)) return 0;
  const g = durrlemanG(k, w, smile.firstDerivative(k), smile.secondDerivative(k));
  const s = Math.sqrt(w);
  const d2 = -k / s - 0.5 * s;
  return (g / Math.sqrt(2 * Math.PI * w)) * Math.exp(-0.5 * d2 * d2);
}

/** Risk-neutral density of S_T at strike K (per USD), given the forward F (USD). */
export function surfaceStrikeDensity(
  surface: SliceSurface,
  options: { strike: number; forward: number; timeToExpiry: number },
): number {
  const K = requirePositive("strike", options.strike);
  const F = requirePositive("forward", options.forward);
  return surfaceLogMoneynessDensity(surface, Math.log(K / F), options.timeToExpiry) / K;
}
