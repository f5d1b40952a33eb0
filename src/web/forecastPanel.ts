/**
 * The dashboard's forecast panel (issue 24 item 1): walk-forward forecasts of the next-30-day
 * realized vol (core/regime/forecast walkForwardForecasts: naive, HAR-RV, GARCH, boosted trees)
 * and of the spike event (boosted trees) over the last `days` daily bars of the regime section's
 * history, beside the realized next-30-day vol (null where the future is not in the data). The
 * figures are the core's; this module only picks the window and the series the page plots.
 */
import type { OhlcBar } from "../core/regime/realizedVol.js";
import { scoreForecasts, walkForwardForecasts } from "../core/regime/forecast/walkForward.js";

export interface ForecastPanel {
  /** What was fitted: window, refits, and the out-of-sample scores over the known days. */
  readonly note: string;
  readonly dates: string[];
  /** Forecast next-30-day vol by model (decimal annualized). */
  readonly forecastVol: Record<"naive" | "har" | "garch" | "gbdt", number[]>;
  /** The realized next-30-day vol (null: not known yet). */
  readonly realizedVol: (number | null)[];
  /** Forecast probability of a 50% rise of 30-day realized vol within 7 days. */
  readonly eventProbability: number[];
}

/** Minimum bars: 730 days of training and a year of forecasts. */
const MIN_BARS = 1100;

/** Window and tree count of the panel (defaults: the product's panel). */
export interface ForecastPanelOptions {
  /** Daily bars the walk-forward runs over (at least MIN_BARS). */
  readonly days?: number;
  /** Boosting rounds of the tree models. */
  readonly rounds?: number;
}

export function forecastPanel(
  bars: readonly (OhlcBar & { readonly date: string })[],
  o: ForecastPanelOptions = {},
): ForecastPanel | null {
  const window = bars.slice(-Math.max(o.days ?? MIN_BARS, MIN_BARS));
  if (window.length < MIN_BARS) return null;
  // Refits twice a year with 40 trees: the panel is rebuilt with every dashboard, so it costs a
  // few seconds (the command and scripts/measure score the full schedule: 90 days, 100 trees).
  const wf = walkForwardForecasts(window, undefined, { rounds: o.rounds ?? 40, refitEvery: 180 });
  const s = scoreForecasts(wf.days);
  const by = Object.fromEntries(s.variance.map((v) => [v.model, v.qlikeVsNaive.toFixed(2)]));
  const ev = s.event.find((e) => e.model === "gbdt");
  const sqrt = (x: number) => Math.sqrt(x);
  return {
    note: `walk-forward over ${window[0]?.date} to ${window.at(-1)?.date} (${wf.refits} refits every 180 days, expanding window from 730 days); QLIKE/naive on ${s.days} known days: HAR ${by.har}, GARCH ${by.garch}, trees ${by.gbdt}; spike event AUC ${ev ? ev.auc.toFixed(2) : "n/a"}`,
    dates: wf.days.map((d) => window[d.index]?.date ?? ""),
    forecastVol: {
      naive: wf.days.map((d) => sqrt(d.variance.naive)),
      har: wf.days.map((d) => sqrt(d.variance.har)),
      garch: wf.days.map((d) => sqrt(d.variance.garch)),
      gbdt: wf.days.map((d) => sqrt(d.variance.gbdt)),
    },
    realizedVol: wf.days.map((d) => (d.realizedVariance > 0 ? sqrt(d.realizedVariance) : null)),
    eventProbability: wf.days.map((d) => d.event.gbdt),
  };
}
