/**
 * Heston (1993) stochastic volatility, optionally with Merton lognormal jumps (Bates 1996):
 *   dS/S = (mu - lambda kbar) dt + sqrt(v) dW1 + (J - 1) dN,
 *   dv   = kappa (theta - v) dt + xi sqrt(v) dW2,  d<W1,W2> = rho dt.
 * Scheme: full-truncation Euler for v (Lord, Koekkoek & van Dijk 2010, "A comparison of biased
 * simulation schemes for stochastic volatility models", Quant. Finance 10(2)): v+ = max(v, 0) in
 * drift and diffusion; log-Euler for S with v+; jumps exact per step. The discretisation bias
 * shrinks with dt; use >= 50 steps per year for option studies.
 */
import { requireFinite, requireNonNegative, requirePositive, InvalidInputError } from "../../errors.js";
import type { Rng } from "../../math/rng.js";
import { checkPathGrid } from "./gbm.js";
import { mertonKbar } from "./merton.js";
import type { PathGrid, SimPath } from "./types.js";

export interface HestonParams {
  /** Drift, decimal per year. */
  readonly drift: number;
  /** Initial variance (vol^2 per year). */
  readonly v0: number;
  /** Mean-reversion speed per year. */
  readonly kappa: number;
  /** Long-run variance. */
  readonly theta: number;
  /** Vol of variance. */
  readonly xi: number;
  /** Spot/variance correlation in [-1, 1]. */
  readonly rho: number;
  /** Bates jumps (optional; 0 intensity = pure Heston). */
  readonly jumpIntensity?: number;
  readonly jumpMean?: number;
  readonly jumpVol?: number;
}

/** One Heston/Bates path on the grid (prices and variance). */
export function simulateHeston(o: PathGrid & HestonParams, rng: Rng): SimPath {
  checkPathGrid(o);
  requireFinite("drift", o.drift);
  requireNonNegative("v0", o.v0);
  requirePositive("kappa", o.kappa);
  requireNonNegative("theta", o.theta);
  requireNonNegative("xi", o.xi);
  if (!(Math.abs(o.rho) <= 1)) throw new InvalidInputError("rho", o.rho, "must be in [-1, 1]");
  const lam = requireNonNegative("jumpIntensity", o.jumpIntensity ?? 0);
  const jm = o.jumpMean ?? 0;
  const jv = o.jumpVol ?? 0;
  const kbar = lam > 0 ? mertonKbar({ jumpMean: jm, jumpVol: jv }) : 0;
  const n = Math.floor(o.steps);
  const dt = o.horizon / n;
  const sq = Math.sqrt(dt);
  const rhoC = Math.sqrt(1 - o.rho * o.rho);
  const times = new Float64Array(n + 1);
  const prices = new Float64Array(n + 1);
  const variance = new Float64Array(n + 1);
  prices[0] = o.spot;
  variance[0] = o.v0;
  let x = Math.log(o.spot);
  let v = o.v0;
  for (let i = 1; i <= n; i++) {
    const z2 = rng.normal();
    const z1 = o.rho * z2 + rhoC * rng.normal();
    const vp = Math.max(v, 0);
    const sv = Math.sqrt(vp);
    x += (o.drift - lam * kbar - 0.5 * vp) * dt + sv * sq * z1;
    if (lam > 0) {
      const k = rng.poisson(lam * dt);
      if (k > 0) x += k * jm + Math.sqrt(k) * jv * rng.normal();
    }
    v = v + o.kappa * (o.theta - vp) * dt + o.xi * sv * sq * z2;
    times[i] = i * dt;
    prices[i] = Math.exp(x);
    variance[i] = Math.max(v, 0);
  }
  return { times, prices, variance };
}
