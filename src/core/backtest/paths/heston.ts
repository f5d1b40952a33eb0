/**
 * Heston (1993) stochastic volatility, optionally with Merton lognormal jumps (Bates 1996):
 *   dS/S = (mu - lambda kbar) dt + sqrt(v) dW1 + (J - 1) dN,
 *   dv   = kappa (theta - v) dt + xi sqrt(v) dW2,  d<W1,W2> = rho dt.
 * Scheme: full-truncation Euler for v (Lord, Koekkoek & van Dijk 2010, "A comparison of biased
 * simulation schemes for stochastic volatility models", Quant. Finance 10(2)): v+ = max(v, 0) in
 * drift and diffusion; log-Euler for S with v+; jumps exact per step. The discretisation bias
 * shrinks with dt; use >= 50 steps per year for option studies.
 * Alternative scheme `"qe"`: Andersen (2008), "Simple and efficient simulation of the Heston
 * stochastic volatility model", J. Comput. Finance 11(3): quadratic-exponential variance step
 * (switch at psi_c = 1.5) and the central-discretisation log-price step (gamma1 = gamma2 = 1/2),
 * accurate with far fewer steps (no martingale correction; the drift bias is O(dt)).
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
  /** Discretisation: "full-truncation" Euler (default) or Andersen's "qe". */
  readonly scheme?: "full-truncation" | "qe";
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
  if (o.scheme === "qe" && o.xi > 0) {
    const { kappa, theta, xi, rho } = o;
    const e = Math.exp(-kappa * dt);
    const c1 = (xi * xi * e * (1 - e)) / kappa;
    const c2 = ((theta * xi * xi) / (2 * kappa)) * (1 - e) ** 2;
    const k0 = (-rho * kappa * theta * dt) / xi;
    const k1 = 0.5 * dt * ((kappa * rho) / xi - 0.5) - rho / xi;
    const k2 = 0.5 * dt * ((kappa * rho) / xi - 0.5) + rho / xi;
    const k3 = 0.5 * dt * (1 - o.rho * o.rho);
    const mu = (o.drift - lam * kbar) * dt;
    for (let i = 1; i <= n; i++) {
      const m = theta + (v - theta) * e;
      const s2 = v * c1 + c2;
      const psi = s2 / (m * m);
      let vn: number;
      if (psi <= 1.5) {
        const inv = 2 / psi;
        const b2 = inv - 1 + Math.sqrt(inv) * Math.sqrt(inv - 1);
        const a = m / (1 + b2);
        const z = rng.normal();
        vn = a * (Math.sqrt(b2) + z) ** 2;
      } else {
        const p = (psi - 1) / (psi + 1);
        const beta = (1 - p) / m;
        const u = rng.uniform();
        vn = u <= p ? 0 : Math.log((1 - p) / (1 - u)) / beta;
      }
      x += mu + k0 + k1 * v + k2 * vn + Math.sqrt(Math.max(k3 * (v + vn), 0)) * rng.normal();
      if (lam > 0) {
        const k = rng.poisson(lam * dt);
        if (k > 0) x += k * jm + Math.sqrt(k) * jv * rng.normal();
      }
      v = vn;
      times[i] = i * dt;
      prices[i] = Math.exp(x);
      variance[i] = v;
    }
    return { times, prices, variance };
  }
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
