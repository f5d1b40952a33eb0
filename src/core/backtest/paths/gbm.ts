/**
 * Geometric Brownian motion, exact log-Euler: ln S(t+dt) = ln S(t) + (mu - sigma^2/2) dt + sigma sqrt(dt) Z.
 * Units: drift mu and vol sigma decimal annualized (continuous); E[S_T] = S0 exp(mu T).
 */
import { requireFinite, requireNonNegative, requirePositive } from "../../errors.js";
import type { Rng } from "../../math/rng.js";
import type { PathGrid, SimPath } from "./types.js";

export interface GbmParams {
  /** Drift, decimal per year (continuous). */
  readonly drift: number;
  /** Volatility, decimal annualized. */
  readonly vol: number;
}

export function checkPathGrid(g: PathGrid): void {
  requirePositive("spot", g.spot);
  requirePositive("horizon", g.horizon);
  requirePositive("steps", g.steps);
}

/** One GBM path on the grid. */
export function simulateGbm(o: PathGrid & GbmParams, rng: Rng): SimPath {
  checkPathGrid(o);
  requireFinite("drift", o.drift);
  requireNonNegative("vol", o.vol);
  const n = Math.floor(o.steps);
  const dt = o.horizon / n;
  const times = new Float64Array(n + 1);
  const prices = new Float64Array(n + 1);
  prices[0] = o.spot;
  const m = (o.drift - 0.5 * o.vol * o.vol) * dt;
  const sd = o.vol * Math.sqrt(dt);
  let x = Math.log(o.spot);
  for (let i = 1; i <= n; i++) {
    x += m + sd * rng.normal();
    times[i] = i * dt;
    prices[i] = Math.exp(x);
  }
  return { times, prices };
}
