/**
 * One call that runs the regime toolkit on a daily price history: realized vols by estimator,
 * GARCH forecast term structure, HMM regime probabilities, and the short-vol signal. The CLI,
 * the dashboard and the agent show this; every number comes from the functions it calls.
 */
import { InvalidInputError } from "../errors.js";
import { fitGarch, type GarchFit, garchVolTermStructure } from "./garch.js";
import { fitHmm } from "./hmm.js";
import {
  type OhlcBar,
  REALIZED_VOL_ESTIMATORS,
  type RealizedVolEstimator,
  windowRealizedVol,
  rollingRealizedVol,
  varianceRiskPremium,
} from "./realizedVol.js";
import { type ShortVolSignal, shortVolExposureSignal } from "./signals.js";

export interface RegimeReportOptions {
  /** Realized-vol window in days (default 30). */
  readonly window?: number;
  /** HMM states (default 2). */
  readonly states?: number;
  readonly garchModel?: "garch" | "gjr";
  /** Current implied vol (decimal, e.g. a 30-day index / 100) for the variance risk premium. */
  readonly impliedVol?: number;
  /** Use only the last N bars (default: all). */
  readonly lookback?: number;
}

export interface RegimeReport {
  readonly asOf: string;
  readonly bars: number;
  readonly window: number;
  readonly realizedVol: Record<RealizedVolEstimator, number>;
  readonly garch: GarchFit["params"] & {
    readonly model: GarchFit["model"];
    readonly persistence: number;
    readonly longRunVol: number;
    readonly logLikelihood: number;
    readonly termStructure: { horizon: number; vol: number }[];
  };
  readonly hmm: {
    readonly states: number;
    /** Annualized vol of each state, calmest first. */
    readonly stateVols: number[];
    readonly transition: number[][];
    /** Filtered probability of the highest-vol state at the last bar (no look-ahead). */
    readonly highVolProbability: number;
    readonly logLikelihood: number;
  };
  readonly varianceRiskPremium: { variance: number; volSpread: number } | null;
  readonly signal: ShortVolSignal;
  /** Per-day series for plots: date, close-to-close rolling vol, GARCH vol, P(high vol). */
  readonly series: {
    date: string;
    realizedVol: number | null;
    garchVol: number;
    highVolProbability: number;
  }[];
}

export function regimeReport(
  bars: readonly (OhlcBar & { date: string })[],
  options: RegimeReportOptions = {},
): RegimeReport {
  const window = options.window ?? 30;
  const used = options.lookback ? bars.slice(-options.lookback) : bars;
  if (used.length < Math.max(window + 2, 120)) {
    throw new InvalidInputError("bars.length", used.length, `must be at least ${Math.max(window + 2, 120)}`);
  }
  const rv = Object.fromEntries(
    REALIZED_VOL_ESTIMATORS.map((e) => [e, windowRealizedVol(used, e, window)]),
  ) as Record<RealizedVolEstimator, number>;
  const returns = used.slice(1).map((b, i) => Math.log(b.close / (used[i] as OhlcBar).close));
  const garch = fitGarch(returns, { model: options.garchModel ?? "garch" });
  const hmm = fitHmm(returns, { states: options.states ?? 2 });
  const K = hmm.params.stdevs.length;
  const highVolProbability = (hmm.filtered[hmm.filtered.length - 1] as number[])[K - 1] as number;
  const vrp =
    options.impliedVol !== undefined ? varianceRiskPremium(options.impliedVol, rv["close-to-close"]) : null;
  const rolling = rollingRealizedVol(used, "close-to-close", window);
  return {
    asOf: (used[used.length - 1] as { date: string }).date,
    bars: used.length,
    window,
    realizedVol: rv,
    garch: {
      model: garch.model,
      ...garch.params,
      persistence: garch.persistence,
      longRunVol: Math.sqrt(garch.longRunVariance * 365),
      logLikelihood: garch.logLikelihood,
      termStructure: garchVolTermStructure(garch),
    },
    hmm: {
      states: K,
      stateVols: hmm.params.stdevs.map((s) => s * Math.sqrt(365)),
      transition: hmm.params.transition.map((r) => [...r]),
      highVolProbability,
      logLikelihood: hmm.logLikelihood,
    },
    varianceRiskPremium: vrp,
    signal: shortVolExposureSignal({
      highVolProbability,
      ...(vrp ? { varianceRiskPremium: vrp.variance } : {}),
    }),
    series: returns.map((_, i) => ({
      date: (used[i + 1] as { date: string }).date,
      realizedVol: rolling[i + 1] ?? null,
      garchVol: Math.sqrt((garch.conditionalVariance[i] as number) * 365),
      highVolProbability: (hmm.filtered[i] as number[])[K - 1] as number,
    })),
  };
}
