/**
 * A live regime signal over a stream of index prices: a Gaussian HMM of the log returns between
 * observations, refitted every `refitEveryTicks` on the last `window` returns; the filtered (no
 * look-ahead) probability of the high-vol state gives a short-vol exposure scale
 * (shortVolExposureSignal). Used by the agent (src/agent/regime.ts) and by backtest strategies.
 *
 * Choices, and why:
 * - Filtered, not smoothed, probabilities: smoothing uses future returns.
 * - The "high-vol" state counts only when the HMM beats a single Gaussian by BIC and its vol is at
 *   least `minVolRatio` times the calm state's: EM splits even a one-vol window into two states,
 *   and calling the busier of two calm states "stressed" would cut exposure for nothing.
 * - Before `minReturns` returns the scale is 1 and the reason says it is warming up.
 * - A fit in which a state holds fewer than max(5, 2% of the window) returns (EM collapsing onto
 *   a jump) is not a regime.
 * - Transition probabilities are floored at 1/window (see withTransitionFloor): no absorbing regime.
 * - Fits happen on a fixed schedule of observation steps (multiples of refitEveryTicks), so a
 *   consumer that replays the same history gets the same signal.
 */
import { InvalidInputError } from "../errors.js";
import { mean as meanOf } from "../math/stats.js";
import { fitHmm, type HmmFit, type HmmParams, hmmForwardBackward } from "./hmm.js";
import { shortVolExposureSignal } from "./signals.js";
import { YEAR_MS } from "../time.js";

export interface RegimeTrackerConfig {
  /** HMM states (2: calm/stressed; 3: calm/normal/stressed). */
  readonly states: 2 | 3;
  /** Returns in the fit window. */
  readonly window: number;
  /** Fewest returns before the signal acts. */
  readonly minReturns: number;
  readonly refitEveryTicks: number;
  /** P(high vol) at or below which exposure is full. */
  readonly calmProbability: number;
  /** P(high vol) at or above which short-vol exposure is zero. */
  readonly stressProbability: number;
  /** The high-vol state must have at least this multiple of the calm state's vol to count. */
  readonly minVolRatio: number;
}

/** Defaults for hourly ticks: two weeks of returns, refit daily. */
export const DEFAULT_REGIME_TRACKER: RegimeTrackerConfig = {
  states: 2,
  window: 336,
  minReturns: 96,
  refitEveryTicks: 24,
  calmProbability: 0.3,
  stressProbability: 0.8,
  minVolRatio: 1.5,
};

/** Checks a tracker config; errors name the field (prefix + name). */
export function checkRegimeTrackerConfig(c: RegimeTrackerConfig, prefix = ""): void {
  const f = (n: string) => `${prefix}${n}`;
  if (c.states !== 2 && c.states !== 3) throw new InvalidInputError(f("states"), c.states, "must be 2 or 3");
  if (!(Number.isInteger(c.window) && c.window >= 40))
    throw new InvalidInputError(f("window"), c.window, "must be an integer >= 40");
  if (!(Number.isInteger(c.minReturns) && c.minReturns >= 40 && c.minReturns <= c.window))
    throw new InvalidInputError(f("minReturns"), c.minReturns, "must be an integer in [40, window]");
  if (!(Number.isInteger(c.refitEveryTicks) && c.refitEveryTicks > 0))
    throw new InvalidInputError(f("refitEveryTicks"), c.refitEveryTicks, "must be a positive integer");
  if (!(c.calmProbability >= 0 && c.stressProbability <= 1 && c.calmProbability < c.stressProbability))
    throw new InvalidInputError(
      f("calmProbability"),
      c.calmProbability,
      "must satisfy 0 <= calm < stress <= 1",
    );
  if (!(c.minVolRatio >= 1)) throw new InvalidInputError(f("minVolRatio"), c.minVolRatio, "must be >= 1");
}

export interface RegimeSignalView {
  /** Filtered probability of the high-vol state at the last tick (0 when no distinct stress state). */
  readonly highVolProbability: number;
  /** Multiplier applied to a short-vol target, in [0, 1]. */
  readonly scale: number;
  readonly reason: string;
  /** Returns in the window. */
  readonly returns: number;
  /** Annualised vol of the calm and high-vol states at the last fit (null before one). */
  readonly stateVols: readonly number[] | null;
  readonly fitStep: number | null;
}

interface Observation {
  readonly step: number;
  /** Index price, USD. */
  readonly index: number;
  /** Epoch ms. */
  readonly time: number;
}

/** ACT/365, as everywhere in volfolio (DESIGN.md). */

export class RegimeTracker {
  private readonly prices: Observation[] = [];
  private params: HmmParams | null = null;
  private fitStep: number | null = null;
  private lastFitFailure: string | null = null;
  /** Why the last fit has no distinct high-vol state (null: it has one). */
  private notDistinct: string | null = null;

  constructor(readonly config: RegimeTrackerConfig) {}

  /** Records the index price (USD) seen at a tick at `time` (epoch ms). Steps must increase. */
  observe(step: number, index: number, time: number): void {
    if (!(index > 0) || !Number.isFinite(index) || !Number.isFinite(time)) return;
    const last = this.prices.at(-1);
    if (last && step <= last.step) return;
    this.prices.push({ step, index, time });
    // The fit at the last scheduled step may need up to refitEveryTicks older prices.
    const keep = this.config.window + this.config.refitEveryTicks + 1;
    if (this.prices.length > keep) this.prices.splice(0, this.prices.length - keep);
  }

  /** The signal at `step` (call after observe). */
  view(step: number): RegimeSignalView {
    const c = this.config;
    const returns = logReturns(this.prices, step, c.window);
    // Fits happen on a fixed schedule of steps (multiples of refitEveryTicks) on the data up to
    // that step, so a restarted agent refits exactly as an uninterrupted one would have.
    const scheduled = step - (step % c.refitEveryTicks);
    if (this.fitStep !== scheduled) {
      const fitReturns = logReturns(this.prices, scheduled, c.window);
      if (fitReturns.length >= c.minReturns) {
        try {
          const fit = fitHmm(fitReturns, { states: c.states, maxIterations: 200, tolerance: 1e-7 });
          this.params = withTransitionFloor(fit.params, 1 / c.window);
          this.notDistinct = whyNotDistinct(fit, fitReturns, c);
          this.lastFitFailure = null;
        } catch (err) {
          // Keep the previous fit (if any); the reason says why.
          this.lastFitFailure = (err as Error).message;
        }
        this.fitStep = scheduled;
      }
    }
    if (this.params === null || returns.length < c.minReturns) {
      return {
        highVolProbability: 0,
        scale: 1,
        reason:
          returns.length < c.minReturns || this.lastFitFailure === null
            ? `warming up (${returns.length}/${c.minReturns} returns${this.params === null ? ", no fit yet" : ""})`
            : `no regime fit (${this.lastFitFailure})`,
        returns: returns.length,
        stateVols: null,
        fitStep: null,
      };
    }
    const p = this.params;
    const K = p.stdevs.length;
    // Annualise with the mean tick interval of the window (ticks need not be hourly).
    const window = this.prices.filter((o) => o.step <= step).slice(-(returns.length + 1));
    const meanMs = ((window.at(-1) as Observation).time - (window[0] as Observation).time) / returns.length;
    const annual = meanMs > 0 ? Math.sqrt(YEAR_MS / meanMs) : Number.NaN;
    const stateVols = p.stdevs.map((s) => s * annual);
    const common = { returns: returns.length, stateVols, fitStep: this.fitStep };
    if (this.notDistinct !== null) {
      // No regime to filter: the forward pass (the per-tick cost) is skipped.
      const vols = stateVols.map((v) => (v * 100).toFixed(0)).join("/");
      return {
        highVolProbability: 0,
        scale: 1,
        reason: `no distinct high-vol state (state vols ${vols}%${this.notDistinct})`,
        ...common,
      };
    }
    const filtered = hmmForwardBackward(returns, p).filtered;
    const probability = Math.min(1, Math.max(0, (filtered.at(-1) as number[])[K - 1] as number));
    const signal = shortVolExposureSignal({
      highVolProbability: probability,
      calmProbability: c.calmProbability,
      stressProbability: c.stressProbability,
    });
    return { highVolProbability: probability, scale: signal.scale, reason: signal.reason, ...common };
  }
}

/**
 * Floors every transition probability at `floor` (rows renormalised). EM can return an absorbing
 * state (P(leave) = 0, e.g. when the window ends in a new regime, so no exit was ever seen); the
 * filtered probability would then stay at 1 until the next fit whatever the returns say. With the
 * floor at 1/window a regime is allowed to end within the window and evidence can move the filter.
 */
function withTransitionFloor(p: HmmParams, floor: number): HmmParams {
  const transition = p.transition.map((row) => {
    const floored = row.map((x) => Math.max(x, floor));
    const sum = floored.reduce((a, b) => a + b, 0);
    return floored.map((x) => x / sum);
  });
  return { ...p, transition };
}

/**
 * Why a fit has no distinct high-vol state, as a suffix for the reason ("" when only the vol
 * ratio is short), or null when it has one: no state may hold fewer than max(5, 2% of the window)
 * returns (EM collapsing onto outliers, e.g. a near-zero-vol "state" at a jump's return), the HMM
 * must beat one Gaussian by BIC, and the high-vol state's vol must be minVolRatio x the calm one's.
 */
function whyNotDistinct(fit: HmmFit, returns: readonly number[], c: RegimeTrackerConfig): string | null {
  const occupancy = fit.smoothed.reduce(
    (acc, g) => acc.map((x, k) => x + (g[k] as number)),
    new Array<number>(c.states).fill(0),
  );
  if (Math.min(...occupancy) < Math.max(5, 0.02 * returns.length))
    return ", degenerate fit: a state holds only outliers";
  if (!bicPrefersRegimes(returns, fit.logLikelihood, c.states)) return ", one Gaussian fits as well by BIC";
  const sd = fit.params.stdevs;
  return (sd[sd.length - 1] as number) >= c.minVolRatio * (sd[0] as number) ? null : "";
}

/**
 * True when the K-state HMM's log-likelihood beats one Gaussian's by more than the BIC penalty of
 * its extra parameters (K-1 initial, K(K-1) transition, K-1 means, K-1 stdevs).
 */
function bicPrefersRegimes(returns: readonly number[], hmmLogLikelihood: number, states: number): boolean {
  const n = returns.length;
  const mean = meanOf(returns);
  const variance = returns.reduce((a, x) => a + (x - mean) ** 2, 0) / n;
  const single = -0.5 * n * (Math.log(2 * Math.PI * variance) + 1);
  const extra = states - 1 + states * (states - 1) + 2 * (states - 1);
  return hmmLogLikelihood - single > 0.5 * extra * Math.log(n);
}

/** Log returns between consecutive observed ticks up to `step`, the last `window` of them. */
function logReturns(prices: readonly Observation[], step: number, window: number): number[] {
  const upTo = prices.filter((p) => p.step <= step);
  const out: number[] = [];
  for (let i = Math.max(1, upTo.length - window); i < upTo.length; i++)
    out.push(Math.log(upTo[i]!.index / upTo[i - 1]!.index));
  return out;
}
