/**
 * A light, surface-driven synthetic market for long (e.g. one-year hourly) backtests and sweeps:
 * a simulated spot path, an ATM implied-vol path and a fixed skew shape. Each step is an option
 * chain (inverse, coin-quoted, like Deribit's) that goes through the same step as real data
 * (market.ts: normalizeChain, the marks surface, the core valuation); an expiry's quotes are
 * generated only when the step is asked about that expiry, which keeps an hourly year in seconds.
 * Expiries follow a Deribit-style calendar; strikes are a round grid within +-4 sd of the forward
 * whose spacing depends on the time to expiry only (strikeSpacing), so held strikes stay listed.
 *
 * Model (documented simplifications, not an arbitrage-free joint model):
 * - spot: GBM, Merton, Heston or Bates paths (./paths), seeded;
 * - ATM implied vol: Heston/Bates: sqrt(v_t) x ivPremium; GBM/Merton: exp(OU) around
 *   vol x ivPremium with mean reversion `ivMeanReversion` (per year) and `ivVolOfVol`, from an
 *   independent seeded stream; ivPremium > 1 models the variance risk premium;
 * - smile: vol(k, T) = atm (T/T30)^termSlope + skew x + curvature x^2, x = k / sqrt(T/T30),
 *   k = ln(K/F), T30 = 30 days, clamped to [0.05, 5];
 * - quotes in coin: Black-76 USD price / forward; bid/ask at vol -/+ spreadVol; a bid below one
 *   tick (0.0001 coin) is missing;
 * - forward = spot exp(basisPerYear T) (each option's underlying price); the perpetual is quoted
 *   at spot and pays `fundingRatePerYear`.
 *
 * Units: times epoch ms UTC; index, forwards, strikes USD; option quotes coin; vols decimal.
 */
import { InvalidInputError, requirePositive } from "../errors.js";
import { deribitOptionName, formatDeribitExpiry } from "../instruments/names.js";
import type { ChainSnapshot, OptionQuote } from "../market/types.js";
import { createRng } from "../math/rng.js";
import { blackUndiscountedUnchecked } from "../pricing/black76.js";
import { deribitStyleExpiries } from "./calendar.js";
import { type BacktestStep, type StepChainSource, stepFromSource } from "./market.js";
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
/** Strikes per expiry of the synthetic grid (about; the step is a round number). */
export const STRIKES_PER_EXPIRY = 24;
const TICK = 0.0001;
const KINDS = ["call", "put"] as const;

/**
 * Strike spacing of an expiry `timeToExpiry` years away, in a market that started at `spot0`:
 * on the nested ladder b, 2b, 4b, 8b, ... (each divides the next; b = 1, 2.5 or 5 x 10^n just
 * below 0.5% of spot0: 250 at 60,000) the value closest in log to
 * spot0 x 8 x 0.6 sqrt(T) / STRIKES_PER_EXPIRY (about STRIKES_PER_EXPIRY strikes over +-4 sd at 60%
 * vol), at least spot0 x 0.005. It depends on T only, so it only gets finer as an expiry nears,
 * and a listed strike stays on the grid (as on Deribit) while it is within +-4 sd of the forward.
 * Example: spot0 60,000, T = 7/365: target 1,662 -> 2,000; T = 30/365: 3,441 -> 4,000.
 */
export function strikeSpacing(spot0: number, timeToExpiry: number): number {
  const x = spot0 * 0.005;
  const p = 10 ** Math.floor(Math.log10(x));
  const b = 5 * p <= x ? 5 * p : 2.5 * p <= x ? 2.5 * p : p;
  const target = Math.max(
    (spot0 * 8 * 0.6 * Math.sqrt(Math.max(timeToExpiry, 0))) / STRIKES_PER_EXPIRY,
    spot0 * 0.005,
  );
  return b * 2 ** Math.max(0, Math.round(Math.log2(target / b)));
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
      { ...grid, ...model, jumpIntensity: model.type === "bates" ? (model.jumpIntensity ?? 0) : 0 },
      rng,
    );
    prices = p.prices;
    const v = p.variance as Float64Array;
    for (let i = 0; i <= steps; i++) atm[i] = Math.max(Math.sqrt(v[i] ?? Number.NaN), 0.05) * ivPremium;
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

/**
 * The synthetic market's chain at one instant, as a chain source that prices an expiry only when
 * it is asked for (market.ts builds the step's core market from it): inverse (coin-quoted)
 * options, as on Deribit, on every strike of the round grid, calls and puts; coin mark =
 * Black-76(F, K, T, vol) / F with vol from the smile; bid / ask at vol -/+ spreadVol (a bid under
 * one 0.0001-coin tick is missing, an ask is at least one tick); the option's underlying price is
 * the expiry's forward (a synthetic forward, "SYN." as on Deribit); the perpetual quoted at spot.
 */
export function syntheticChainSource(
  c: SyntheticMarketConfig,
  time: number,
  spot: number,
  atmVol: number,
): StepChainSource {
  const smile = syntheticSmile(c, time, spot, atmVol);
  let expiries: number[] | null = null;
  const listed = () => {
    if (expiries === null) expiries = deribitStyleExpiries(time);
    return expiries;
  };
  const cache = new Map<number, OptionQuote[]>();
  const quotes = (e: number): OptionQuote[] => {
    const hit = cache.get(e);
    if (hit) return hit;
    const out = e > time ? expiryQuotes(smile, e) : [];
    cache.set(e, out);
    return out;
  };
  const underlying = smile.underlying;
  return {
    underlying,
    valuationTime: time,
    indexPrice: spot,
    futures: [{ name: `${underlying}-PERPETUAL`, underlying, expiry: null, timestamp: time, mark: spot }],
    expiries: listed,
    quotes,
  };
}

/** The synthetic smile at one instant: the config's shape parameters with their defaults. */
interface SyntheticSmile {
  readonly time: number;
  readonly spot: number;
  readonly atmVol: number;
  readonly skew: number;
  readonly curv: number;
  readonly termSlope: number;
  readonly spreadVol: number;
  readonly basis: number;
  readonly underlying: string;
  /** The series' start price (the strike grid's spacing is set on it). */
  readonly spot0: number;
}

function syntheticSmile(
  c: SyntheticMarketConfig,
  time: number,
  spot: number,
  atmVol: number,
): SyntheticSmile {
  return {
    time,
    spot,
    atmVol,
    skew: c.skew ?? -0.1,
    curv: c.curvature ?? 0.3,
    termSlope: c.termSlope ?? 0,
    spreadVol: c.spreadVol ?? 0.01,
    basis: c.basisPerYear ?? 0,
    underlying: c.underlying ?? "BTC",
    spot0: c.spot ?? 60_000,
  };
}

/** Forward of expiry `e`, USD: spot carried at the basis rate. */
function smileForward(m: SyntheticSmile, e: number): number {
  return m.spot * Math.exp((m.basis * (e - m.time)) / YEAR_MS);
}

/** Vol at log-moneyness `k` and `T` years: ATM term slope, skew and curvature in k / sqrt(T / 30d), in [0.05, 5]. */
function smileVol(m: SyntheticSmile, k: number, T: number): number {
  const x = k / Math.sqrt(T / T30);
  const v = m.atmVol * (T / T30) ** m.termSlope + m.skew * x + m.curv * x * x;
  return Math.min(Math.max(v, 0.05), 5);
}

/** The round strike grid of expiry `e`: +-4 ATM standard deviations (10%..120% in log terms) around F. */
function smileStrikes(m: SyntheticSmile, e: number): number[] {
  const F = smileForward(m, e);
  const T = timeToExpiry(e, m.time);
  const width = Math.min(Math.max(4 * m.atmVol * Math.sqrt(T), 0.1), 1.2);
  const stepK = strikeSpacing(m.spot0, T);
  const out: number[] = [];
  for (let i = Math.ceil((F * Math.exp(-width)) / stepK); i * stepK <= F * Math.exp(width); i++)
    out.push(i * stepK);
  return out;
}

/** Calls and puts of every strike of expiry `e` (after the smile's time), quoted as the module comment says. */
function expiryQuotes(m: SyntheticSmile, e: number): OptionQuote[] {
  const { underlying, time } = m;
  const out: OptionQuote[] = [];
  const F = smileForward(m, e);
  const T = timeToExpiry(e, time);
  const sqrtT = Math.sqrt(T);
  const underlyingName = `SYN.${underlying}-${formatDeribitExpiry(e)}`;
  for (const strike of smileStrikes(m, e)) {
    const vol = smileVol(m, Math.log(strike / F), T);
    // One name per strike ("...-C"); the put's differs in its last letter.
    const callName = deribitOptionName({ underlying, expiry: e, strike, kind: "call" });
    for (const kind of KINDS) {
      const call = kind === "call";
      const mark = blackUndiscountedUnchecked(F, strike, vol * sqrtT, call) / F;
      const bid = blackUndiscountedUnchecked(F, strike, Math.max(vol - m.spreadVol, 0.01) * sqrtT, call) / F;
      const ask = blackUndiscountedUnchecked(F, strike, (vol + m.spreadVol) * sqrtT, call) / F;
      out.push({
        instrument: {
          type: "option",
          name: kind === "call" ? callName : `${callName.slice(0, -1)}P`,
          underlying,
          kind,
          strike,
          expiry: e,
          settlement: "inverse",
          contractSize: 1,
        },
        timestamp: time,
        bid: bid >= TICK ? bid : null,
        ask: Math.max(ask, TICK),
        mark,
        markIv: vol,
        underlyingPrice: F,
        underlyingName,
      });
    }
  }
  return out;
}

/** One synthetic step from its spot and ATM vol: the chain of `syntheticChainSource` as a step. */
export function syntheticStep(
  c: SyntheticMarketConfig,
  time: number,
  spot: number,
  atmVol: number,
): BacktestStep {
  return stepFromSource(syntheticChainSource(c, time, spot, atmVol), {
    fundingRatePerYear: c.fundingRatePerYear ?? 0,
  });
}

/**
 * The synthetic series as a lazy generator of steps (each built only when the engine asks for it).
 */
export function* syntheticSteps(c: SyntheticMarketConfig): Generator<BacktestStep> {
  const p = syntheticMarketPaths(c);
  for (const [i, time] of p.times.entries())
    yield syntheticStep(c, time, p.spot[i] ?? Number.NaN, p.atmVol[i] ?? Number.NaN);
}

/** The synthetic market's whole chain at one instant (every listed expiry; see syntheticChainSource). */
export function syntheticStepChain(
  c: SyntheticMarketConfig,
  time: number,
  spot: number,
  atmVol: number,
): ChainSnapshot {
  const src = syntheticChainSource(c, time, spot, atmVol);
  return {
    underlying: src.underlying,
    valuationTime: time,
    indexPrice: spot,
    quotes: src.expiries().flatMap((e) => src.quotes(e)),
    futures: src.futures,
  };
}
