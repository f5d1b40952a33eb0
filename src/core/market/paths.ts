/**
 * A seeded GARCH(1,1) + Merton-jump price path: volatility clustering (a large move raises the
 * next step's variance) and crash-like jumps, the two stylized facts of crypto returns that a
 * constant-vol path misses. Complements syntheticSeries (Bates: Heston variance + jumps).
 *
 * Per step of length dt years (log return r_t, diffusive part e_t):
 *   h_t   = omega + alpha e_{t-1}^2 + beta h_{t-1}        (per-step variance of e)
 *   omega = (1 - alpha - beta) * longRunVol^2 * dt        (unconditional variance = longRunVol^2 dt)
 *   e_t   = sqrt(h_t) z_t,  z_t ~ N(0, 1)
 *   N_t   ~ Poisson(jumpsPerYear dt), jump J_t = sum of N_t draws of N(jumpMean, jumpVol^2)
 *   r_t   = -h_t/2 - lambda kbar dt + e_t + J_t,  kbar = exp(jumpMean + jumpVol^2/2) - 1
 * so the price is a martingale (zero drift, crypto r = 0): E[S_t] = S_0.
 * Only jumps-free innovations feed the GARCH recursion (jumps are rare and separate).
 *
 * Example: garchJumpPath({ spot: 90_000, steps: 24 * 365, stepYears: 1 / (24 * 365), seed: 1 })
 * gives a year of hourly BTC-like prices.
 */
import { InvalidInputError, requireNonNegative, requirePositive } from "../errors.js";
import { createRng } from "../math/rng.js";

export interface GarchJumpPathOptions {
  /** Start price, USD. */
  readonly spot: number;
  /** Number of steps (the path has steps + 1 prices). */
  readonly steps: number;
  /** Step length, years (e.g. 1/365 daily, 1/8760 hourly). */
  readonly stepYears: number;
  readonly seed: number;
  /** Unconditional diffusive vol, decimal per year (default 0.5). */
  readonly longRunVol?: number;
  /** Starting vol, decimal per year (default longRunVol). */
  readonly startVol?: number;
  /** ARCH weight alpha (default 0.1) and GARCH weight beta (default 0.88); alpha + beta < 1. */
  readonly alpha?: number;
  readonly beta?: number;
  /** Jump intensity per year (default 4), log jump mean (default -0.04) and std dev (default 0.08). */
  readonly jumpsPerYear?: number;
  readonly jumpMean?: number;
  readonly jumpVol?: number;
}

export interface GarchJumpPath {
  /** Prices, USD (steps + 1). */
  readonly prices: Float64Array;
  /** Conditional diffusive vol of each step, annualized decimal (steps; entry t is for step t -> t+1). */
  readonly vols: Float64Array;
  /** Steps with at least one jump, and the summed log jump of each. */
  readonly jumps: { readonly step: number; readonly logJump: number }[];
}

/** Simulates one GARCH(1,1) + Merton-jump path (see file doc). Deterministic given the seed. */
export function garchJumpPath(o: GarchJumpPathOptions): GarchJumpPath {
  requirePositive("spot", o.spot);
  requirePositive("stepYears", o.stepYears);
  if (!Number.isInteger(o.steps) || o.steps < 1)
    throw new InvalidInputError("steps", o.steps, "must be an integer >= 1");
  const longRun = requirePositive("longRunVol", o.longRunVol ?? 0.5);
  const alpha = requireNonNegative("alpha", o.alpha ?? 0.1);
  const beta = requireNonNegative("beta", o.beta ?? 0.88);
  if (alpha + beta >= 1)
    throw new InvalidInputError("alpha + beta", alpha + beta, "must be < 1 (stationary GARCH)");
  const lambda = requireNonNegative("jumpsPerYear", o.jumpsPerYear ?? 4);
  const jumpMean = o.jumpMean ?? -0.04;
  const jumpVol = requireNonNegative("jumpVol", o.jumpVol ?? 0.08);
  const dt = o.stepYears;
  const rng = createRng(o.seed);
  const omega = (1 - alpha - beta) * longRun * longRun * dt;
  const kbar = Math.exp(jumpMean + 0.5 * jumpVol * jumpVol) - 1;
  const prices = new Float64Array(o.steps + 1);
  const vols = new Float64Array(o.steps);
  const jumps: { step: number; logJump: number }[] = [];
  prices[0] = o.spot;
  let h = (o.startVol ?? longRun) ** 2 * dt;
  let logS = Math.log(o.spot);
  for (let t = 0; t < o.steps; t++) {
    vols[t] = Math.sqrt(h / dt);
    const e = Math.sqrt(h) * rng.normal();
    const n = lambda > 0 ? rng.poisson(lambda * dt) : 0;
    let j = 0;
    for (let i = 0; i < n; i++) j += jumpMean + jumpVol * rng.normal();
    if (n > 0) jumps.push({ step: t, logJump: j });
    logS += -0.5 * h - lambda * kbar * dt + e + j;
    prices[t + 1] = Math.exp(logS);
    h = omega + alpha * e * e + beta * h;
  }
  return { prices, vols, jumps };
}
