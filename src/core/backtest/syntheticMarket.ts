/**
 * A light, surface-driven synthetic market for long (e.g. one-year hourly) backtests and sweeps:
 * a simulated spot path, an ATM implied-vol path and a fixed skew shape. It does not build full
 * chains: it prices on demand, with Black-76, only the strikes a strategy asks for, which is why
 * it is fast. Expiries follow a Deribit-style calendar; strikes are a round grid around the
 * forward.
 *
 * Model (documented simplifications, not an arbitrage-free joint model):
 * - spot: GBM, Merton, Heston or Bates paths (./paths), seeded;
 * - ATM implied vol: Heston/Bates: sqrt(v_t) x ivPremium; GBM/Merton: exp(OU) around
 *   vol x ivPremium with mean reversion `ivMeanReversion` (per year) and `ivVolOfVol`, from an
 *   independent seeded stream; ivPremium > 1 models the variance risk premium;
 * - smile: vol(k, T) = atm (T/T30)^termSlope + skew x + curvature x^2, x = k / sqrt(T/T30),
 *   k = ln(K/F), T30 = 30 days, clamped to [0.05, 5];
 * - bid/ask: Black price at vol -/+ spreadVol; a bid below one tick (0.0001 coin) is missing;
 * - forward = spot exp(basisPerYear T); the perpetual trades at spot with `fundingRatePerYear`.
 *
 * Units: times epoch ms UTC; prices USD; vols decimal annualized.
 */
import { InvalidInputError, requirePositive } from "../errors.js";
import type { OptionKind } from "../instruments/types.js";
import { createRng } from "../math/rng.js";
import { blackPrice } from "../pricing/black76.js";
import { deribitStyleExpiries } from "./calendar.js";
import type { BacktestStep, StepOptionQuote } from "./market.js";
import { type GbmParams, simulateGbm } from "./paths/gbm.js";
import { type HestonParams, simulateHeston } from "./paths/heston.js";
import { type MertonParams, simulateMerton } from "./paths/merton.js";
import { YEAR_MS, timeToExpiry } from "../time.js";

export type SpotModel =
  | ({ readonly type: "gbm" } & GbmParams)
  | ({ readonly type: "merton" } & MertonParams)
  | ({ readonly type: "heston" } & HestonParams)
  | ({ readonly type: "bates" } & HestonParams);

export interface SyntheticMarketConfig {
  readonly underlying?: string;
  /** First instant, epoch ms UTC (default 2026-01-01T00:00Z). */
  readonly start?: number;
  /** Number of steps after the start (the series has steps + 1 instants). */
  readonly steps: number;
  /** Hours between steps (default 1). */
  readonly stepHours?: number;
  /** Start spot, USD (default 60000). */
  readonly spot?: number;
  readonly seed: number;
  readonly model?: SpotModel;
  readonly ivPremium?: number;
  readonly ivMeanReversion?: number;
  readonly ivVolOfVol?: number;
  readonly skew?: number;
  readonly curvature?: number;
  readonly termSlope?: number;
  readonly spreadVol?: number;
  readonly basisPerYear?: number;
  readonly fundingRatePerYear?: number;
}

export const DEFAULT_SPOT_MODEL: SpotModel = { type: "gbm", drift: 0, vol: 0.5 };
const T30 = 30 / 365;

/** Round strike step: 1, 2, 2.5 or 5 x 10^n just below `x`. */
export function roundStrikeStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [5, 2.5, 2, 1]) if (m * p <= x) return m * p;
  return p;
}

/** The spot and ATM-vol paths of a synthetic market (deterministic in the seed). */
export function syntheticMarketPaths(c: SyntheticMarketConfig): {
  times: Float64Array;
  spot: Float64Array;
  atmVol: Float64Array;
} {
  const steps = Math.floor(requirePositive("steps", c.steps));
  const stepHours = requirePositive("stepHours", c.stepHours ?? 1);
  const spot0 = requirePositive("spot", c.spot ?? 60_000);
  const start = c.start ?? Date.UTC(2026, 0, 1);
  const model = c.model ?? DEFAULT_SPOT_MODEL;
  const ivPremium = requirePositive("ivPremium", c.ivPremium ?? 1.1);
  const horizon = (steps * stepHours) / (365 * 24);
  const rng = createRng(c.seed);
  const grid = { spot: spot0, horizon, steps };
  let prices: Float64Array;
  const atm = new Float64Array(steps + 1);
  if (model.type === "heston" || model.type === "bates") {
    const p = simulateHeston(
      { ...grid, ...model, jumpIntensity: model.type === "bates" ? model.jumpIntensity : 0 },
      rng,
    );
    prices = p.prices;
    const v = p.variance as Float64Array;
    for (let i = 0; i <= steps; i++) atm[i] = Math.max(Math.sqrt(v[i] as number), 0.05) * ivPremium;
  } else {
    let base: number;
    if (model.type === "gbm") {
      prices = simulateGbm({ ...grid, ...model }, rng).prices;
      base = model.vol;
    } else if (model.type === "merton") {
      prices = simulateMerton({ ...grid, ...model }, rng).prices;
      base = Math.sqrt(model.vol ** 2 + model.jumpIntensity * (model.jumpMean ** 2 + model.jumpVol ** 2));
    } else {
      throw new InvalidInputError("model.type", (model as { type: unknown }).type, "is unknown");
    }
    const ivRng = createRng((c.seed ^ 0x2545f491) >>> 0);
    const kappa = c.ivMeanReversion ?? 12;
    const eta = c.ivVolOfVol ?? 1;
    const dt = horizon / steps;
    const mu = Math.log(Math.max(base, 0.05) * ivPremium);
    // Exact OU step on ln(vol), started at the mean.
    const a = Math.exp(-kappa * dt);
    const sd = eta * Math.sqrt((1 - a * a) / (2 * kappa));
    let x = mu;
    atm[0] = Math.exp(x);
    for (let i = 1; i <= steps; i++) {
      x = mu + (x - mu) * a + sd * ivRng.normal();
      atm[i] = Math.exp(x);
    }
  }
  const times = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) times[i] = start + i * stepHours * 3_600_000;
  return { times, spot: prices, atmVol: atm };
}

/** One synthetic step from its spot and ATM vol. */
export function syntheticStep(
  c: SyntheticMarketConfig,
  time: number,
  spot: number,
  atmVol: number,
): BacktestStep {
  const skew = c.skew ?? -0.1;
  const curv = c.curvature ?? 0.3;
  const termSlope = c.termSlope ?? 0;
  const spreadVol = c.spreadVol ?? 0.01;
  const basis = c.basisPerYear ?? 0;
  let expiries: number[] | null = null;
  const listed = () => {
    if (expiries === null) expiries = deribitStyleExpiries(time);
    return expiries;
  };
  const forward = (e: number) => spot * Math.exp((basis * (e - time)) / YEAR_MS);
  const volAt = (k: number, T: number) => {
    const x = k / Math.sqrt(T / T30);
    const v = atmVol * (T / T30) ** termSlope + skew * x + curv * x * x;
    return Math.min(Math.max(v, 0.05), 5);
  };
  const strikeCache = new Map<number, number[]>();
  return {
    time,
    underlying: c.underlying ?? "BTC",
    indexPrice: spot,
    perpMark: spot,
    fundingRatePerYear: c.fundingRatePerYear ?? 0,
    expiries: listed,
    forward,
    strikes: (e) => {
      const hit = strikeCache.get(e);
      if (hit) return hit;
      if (e <= time) return [];
      const F = forward(e);
      const T = timeToExpiry(e, time);
      const width = Math.min(Math.max(4 * atmVol * Math.sqrt(T), 0.1), 1.2);
      const lo = F * Math.exp(-width);
      const hi = F * Math.exp(width);
      const stepK = roundStrikeStep(Math.max((hi - lo) / 60, F * 0.005));
      const out: number[] = [];
      for (let k = Math.ceil(lo / stepK) * stepK; k <= hi; k += stepK) out.push(k);
      strikeCache.set(e, out);
      return out;
    },
    quote: (e, strike, kind: OptionKind): StepOptionQuote | null => {
      if (e <= time || !(strike > 0)) return null;
      const F = forward(e);
      const T = timeToExpiry(e, time);
      const vol = volAt(Math.log(strike / F), T);
      const mark = blackPrice({ forward: F, strike, expiry: T, vol, kind });
      const bid = blackPrice({ forward: F, strike, expiry: T, vol: Math.max(vol - spreadVol, 0.01), kind });
      const ask = blackPrice({ forward: F, strike, expiry: T, vol: vol + spreadVol, kind });
      const tick = 0.0001 * F;
      return {
        expiry: e,
        strike,
        kind,
        bidUsd: bid >= tick ? bid : null,
        askUsd: Math.max(ask, tick),
        markUsd: mark,
        markVol: vol,
        forward: F,
      };
    },
  };
}

/**
 * The synthetic series as a lazy generator of steps (each built only when the engine asks for it).
 */
export function* syntheticSteps(c: SyntheticMarketConfig): Generator<BacktestStep> {
  const p = syntheticMarketPaths(c);
  for (let i = 0; i < p.times.length; i++)
    yield syntheticStep(c, p.times[i] as number, p.spot[i] as number, p.atmVol[i] as number);
}
