/**
 * The walk-forward forecasts computed online, one completed day at a time (for the agent): the
 * same refit schedule (the first forecast day, then every `refitEvery` days), the same fits and
 * features as `walkForwardForecasts` (segment.ts), so the forecast of a day equals the batch
 * run's (tested) and uses data up to that day only. Days must be consecutive UTC days.
 *
 * Cost per day: O(days so far) for the series, EWMA and the GARCH/HMM filters; a refit costs
 * what a batch refit costs. Fine for one new day per day.
 */
import type { OhlcBar } from "../realizedVol.js";
import { type DailyExtras, dailySeries, FEATURE_WARMUP } from "./features.js";
import {
  dayFeatures,
  ewmaVariances,
  fitSegmentModels,
  forecastDay,
  refilter,
  type ResolvedOptions,
  resolveOptions,
  type SegmentFilters,
  type SegmentModels,
  segmentFilters,
  trainingSets,
} from "./segment.js";
import {
  type ForecastSignalConfig,
  type ForecastSignalView,
  forecastScaleAt,
  forecastSignal,
} from "./signal.js";
import type { ForecastDay, WalkForwardOptions } from "./walkForward.js";

const NO_EXTRAS: DailyExtras = { impliedVol: Number.NaN, funding: Number.NaN };

export class ForecastTracker {
  private readonly o: ResolvedOptions;
  private readonly bars: OhlcBar[] = [];
  private readonly extras: DailyExtras[] = [];
  private readonly rows: number[][] = [];
  private filters: SegmentFilters | null = null;
  private models: SegmentModels | null = null;

  constructor(options: Omit<WalkForwardOptions, "onProgress"> = {}) {
    this.o = resolveOptions(options);
  }

  /** Days added so far. */
  get days(): number {
    return this.bars.length;
  }

  /**
   * Adds the next completed day and returns its forecast (null before the first forecast day).
   * The forecast's targets (realized variance, event outcome) are NaN: the future is unknown.
   */
  addDay(bar: OhlcBar, extras: DailyExtras = NO_EXTRAS): ForecastDay | null {
    this.bars.push(bar);
    this.extras.push(extras);
    const t = this.bars.length - 1;
    const first = Math.max(FEATURE_WARMUP, this.o.minTraining);
    if (t < first) return null;
    const s = dailySeries(this.bars, this.extras);
    const refit = (t - first) % this.o.refitEvery === 0;
    const filters = refit || !this.filters ? segmentFilters(s, t, t) : refilter(s, this.filters, t);
    this.filters = filters;
    // The first fit also gives the rows of the warm-up days, as in the batch run.
    for (let k = t === first ? FEATURE_WARMUP : t; k <= t; k++)
      this.rows[k] = dayFeatures(s, k, filters, this.o.horizon);
    if (refit || !this.models)
      this.models = fitSegmentModels(trainingSets(s, this.rows, t, this.o), this.o.rounds);
    const context = { s, o: this.o, ewma: ewmaVariances(s), filters, models: this.models };
    return forecastDay(context, t, this.rows[t] ?? []);
  }
}

/** A daily bar with its UTC date (YYYY-MM-DD). */
export interface DatedOhlcBar extends OhlcBar {
  readonly date: string;
}

const dateOf = (time: number) => new Date(time).toISOString().slice(0, 10);
const nextDate = (date: string) => dateOf(Date.parse(`${date}T00:00:00Z`) + 86_400_000);

/**
 * The forecast exposure signal over a stream of index prices (the agent's ticks): ticks are
 * aggregated into UTC-day bars (open = first, high/low, close = last tick); a day enters the
 * forecast when the first tick of a later day arrives (the day is complete). A seed `history` of
 * daily bars precedes the ticks; days with no tick at all are carried flat at the last close (a
 * gap is counted in `gapDays`). The view is the forecast of the last completed day
 * (forecastSignal), full exposure before the first forecast.
 */
export class ForecastSignalTracker {
  private readonly tracker: ForecastTracker;
  private current: DatedOhlcBar | null = null;
  private lastDate: string | null = null;
  private lastClose = Number.NaN;
  private latest: ForecastDay | null = null;
  /** Days carried flat for want of any price. */
  gapDays = 0;

  constructor(
    private readonly config: ForecastSignalConfig & Omit<WalkForwardOptions, "onProgress">,
    history: readonly DatedOhlcBar[] = [],
  ) {
    this.tracker = new ForecastTracker(config);
    for (const b of history) this.complete(b);
  }

  /** Records an index price (USD) at `time` (epoch ms); older days than the current are ignored. */
  observe(index: number, time: number): void {
    if (!(index > 0) || !Number.isFinite(time)) return;
    const date = dateOf(time);
    const c = this.current;
    if (c && date === c.date) {
      this.current = { ...c, high: Math.max(c.high, index), low: Math.min(c.low, index), close: index };
      return;
    }
    if ((c && date < c.date) || (this.lastDate !== null && date <= this.lastDate)) return;
    if (c) this.complete(c);
    this.current = { date, open: index, high: index, low: index, close: index };
  }

  /** The signal of the last completed day. */
  view(): ForecastSignalView & { readonly day: string | null } {
    if (!this.latest) return { ...forecastScaleAt([], 0), day: this.lastDate };
    return { ...forecastSignal(this.latest, this.config), day: this.lastDate };
  }

  private complete(bar: DatedOhlcBar): void {
    if (this.lastDate !== null && bar.date <= this.lastDate) return;
    while (this.lastDate !== null && nextDate(this.lastDate) < bar.date) {
      const date = nextDate(this.lastDate);
      const c = this.lastClose;
      this.add({ date, open: c, high: c, low: c, close: c });
      this.gapDays++;
    }
    this.add(bar);
  }

  private add(bar: DatedOhlcBar): void {
    const forecast = this.tracker.addDay(bar);
    if (forecast) this.latest = forecast;
    this.lastDate = bar.date;
    this.lastClose = bar.close;
  }
}
