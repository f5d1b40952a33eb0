/**
 * The agent's regime signal (config schema): the core RegimeTracker (src/core/regime/tracker.ts)
 * fed with the index price of every healthy tick; its scale multiplies a short-vol vega target.
 * Only short-vol targets (vega target < 0) are scaled: a long-vol book is the hedge, not the risk.
 * The index price of every healthy tick is journaled (step-done `index`), so a restarted agent
 * rebuilds the same history and takes the same decisions as an uninterrupted one.
 *
 * With a `forecast` block the scale comes from the walk-forward volatility-spike forecast instead
 * of the HMM (issue 24 item 2; core/regime/forecast/online.ts ForecastSignalTracker): the ticks
 * are aggregated into UTC-day bars after a seed history of daily bars (`forecast.prices`, a daily
 * OHLC CSV such as ../shared/data/prices/BTC-USD_daily.csv, read once when the config is parsed),
 * and a day's forecast acts from the first tick of the next day. The view's
 * `highVolProbability` is then the forecast spike probability.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { parsePriceHistory } from "../adapters/priceHistory.js";
import { regimeTrackerSchema } from "../adapters/regimeConfig.js";
import { InvalidInputError } from "../core/errors.js";
import { type DatedOhlcBar, ForecastSignalTracker } from "../core/regime/forecast/online.js";
import { DEFAULT_FORECAST_SIGNAL } from "../core/regime/forecast/signal.js";
import {
  checkRegimeTrackerConfig,
  DEFAULT_REGIME_TRACKER,
  RegimeTracker,
  type RegimeSignalView,
  type RegimeTrackerConfig,
} from "../core/regime/tracker.js";

/** The forecast signal's settings, the seed history loaded. */
export interface AgentForecastConfig {
  readonly calmProbability: number;
  readonly stressProbability: number;
  /** Days between refits of the forecast models (default 90). */
  readonly refitEvery: number;
  /** Days of history before the first forecast (default 730). */
  readonly minTraining: number;
  /** The seed history's path and bars (oldest first). */
  readonly prices: string;
  readonly history: readonly DatedOhlcBar[];
}

export type AgentRegimeConfig = RegimeTrackerConfig & { readonly forecast?: AgentForecastConfig };
export type RegimeView = RegimeSignalView;

const forecastSchema = z
  .strictObject({
    prices: z.string().min(1),
    calmProbability: z.number().min(0).max(1).default(DEFAULT_FORECAST_SIGNAL.calmProbability),
    stressProbability: z.number().min(0).max(1).default(DEFAULT_FORECAST_SIGNAL.stressProbability),
    refitEvery: z.number().int().positive().default(90),
    minTraining: z.number().int().min(90).default(730),
  })
  .refine((f) => f.calmProbability < f.stressProbability, {
    path: ["calmProbability"],
    message: "must be below stressProbability",
  })
  .transform((f, ctx): AgentForecastConfig => {
    try {
      const history = parsePriceHistory(readFileSync(f.prices, "utf8")).bars;
      return { ...f, history };
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        path: ["prices"],
        message: `cannot read ${f.prices}: ${(err as Error).message}`,
      });
      return z.NEVER;
    }
  });

/** The HMM fields with the defaults filled in. */
function withDefaults(
  r: { [K in keyof RegimeTrackerConfig]?: RegimeTrackerConfig[K] | undefined },
): RegimeTrackerConfig {
  const d = DEFAULT_REGIME_TRACKER;
  return {
    states: r.states ?? d.states,
    window: r.window ?? d.window,
    minReturns: r.minReturns ?? d.minReturns,
    refitEveryTicks: r.refitEveryTicks ?? d.refitEveryTicks,
    calmProbability: r.calmProbability ?? d.calmProbability,
    stressProbability: r.stressProbability ?? d.stressProbability,
    minVolRatio: r.minVolRatio ?? d.minVolRatio,
  };
}

/** The agent config's `regime` block, defaults filled in. */
export const agentRegimeSchema = z
  .strictObject({ ...regimeTrackerSchema.shape, forecast: forecastSchema.optional() })
  .superRefine((r, ctx) => {
    try {
      checkRegimeTrackerConfig(withDefaults(r));
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      ctx.addIssue({ code: "custom", path: [err.field], message: err.message });
    }
  })
  .transform((r): AgentRegimeConfig => {
    const hmm = withDefaults(r);
    return r.forecast ? { ...hmm, forecast: r.forecast } : hmm;
  });

/**
 * The signal the agent loop observes: the HMM tracker, or the forecast tracker when the config
 * has a `forecast` block (same observe/view calls, so the loop and its restart replay are the same).
 */
export class AgentRegime {
  private readonly signal:
    | { readonly kind: "hmm"; readonly tracker: RegimeTracker }
    | { readonly kind: "forecast"; readonly tracker: ForecastSignalTracker };

  constructor(readonly config: AgentRegimeConfig) {
    const f = config.forecast;
    this.signal = f
      ? { kind: "forecast", tracker: new ForecastSignalTracker(f, f.history) }
      : { kind: "hmm", tracker: new RegimeTracker(config) };
  }

  observe(step: number, index: number, time: number): void {
    if (this.signal.kind === "hmm") this.signal.tracker.observe(step, index, time);
    else this.signal.tracker.observe(index, time);
  }

  view(step: number): RegimeView {
    if (this.signal.kind === "hmm") return this.signal.tracker.view(step);
    const v = this.signal.tracker.view();
    return {
      highVolProbability: Number.isFinite(v.eventProbability) ? v.eventProbability : 0,
      scale: v.scale,
      reason: `${v.reason} (forecast of ${v.day ?? "no day yet"})`,
      returns: 0,
      stateVols: null,
      fitStep: null,
    };
  }
}

/** The vega target after the regime scale: only a short-vol target is scaled. */
export function regimeScaledVegaTarget(targetPerVolPoint: number, scale: number): number {
  // (+ 0 turns a -0 into 0 when the scale is 0.)
  return targetPerVolPoint < 0 ? targetPerVolPoint * scale + 0 : targetPerVolPoint;
}
