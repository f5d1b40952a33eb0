/**
 * Merton (1976) jump-diffusion: dS/S = (mu - lambda kbar) dt + sigma dW + (J - 1) dN, with
 * ln J ~ N(jumpMean, jumpVol^2), N Poisson with intensity lambda per year, kbar = E[J] - 1.
 * Exact simulation on the grid (Poisson count per step, normal sum of jump sizes), so
 * E[S_T] = S0 exp(mu T).
 */
import { requireFinite, requireNonNegative } from "../../errors.js";
import type { Rng } from "../../math/rng.js";
import { checkPathGrid } from "./gbm.js";
import type { PathGrid, SimPath } from "./types.js";

export interface MertonParams {
  /** Total drift, decimal per year (continuous). */
  readonly drift: number;
  /** Diffusion vol, decimal annualized. */
  readonly vol: number;
  /** Jump intensity, jumps per year. */
  readonly jumpIntensity: number;
  /** Mean of the log jump size. */
  readonly jumpMean: number;
  /** Std dev of the log jump size. */
  readonly jumpVol: number;
}

/** E[J] - 1 for a lognormal jump. */
export function mertonKbar(p: Pick<MertonParams, "jumpMean" | "jumpVol">): number {
  return Math.exp(p.jumpMean + 0.5 * p.jumpVol * p.jumpVol) - 1;
}

export function checkMertonParams(p: MertonParams): void {
  requireFinite("drift", p.drift);
  requireNonNegative("vol", p.vol);
  requireNonNegative("jumpIntensity", p.jumpIntensity);
  requireFinite("jumpMean", p.jumpMean);
  requireNonNegative("jumpVol", p.jumpVol);
}

/** One Merton path on the grid. */
export function simulateMerton(o: PathGrid & MertonParams, rng: Rng): SimPath {
  checkPathGrid(o);
  checkMertonParams(o);
  const n = Math.floor(o.steps);
  const dt = o.horizon / n;
  const times = new Float64Array(n + 1);
  const prices = new Float64Array(n + 1);
  prices[0] = o.spot;
  const m = (o.drift - o.jumpIntensity * mertonKbar(o) - 0.5 * o.vol * o.vol) * dt;
  const sd = o.vol * Math.sqrt(dt);
  let x = Math.log(o.spot);
  for (let i = 1; i <= n; i++) {
    x += m + sd * rng.normal();
    const k = rng.poisson(o.jumpIntensity * dt);
    if (k > 0) x += k * o.jumpMean + Math.sqrt(k) * o.jumpVol * rng.normal();
    times[i] = i * dt;
    prices[i] = Math.exp(x);
  }
  return { times, prices };
}
