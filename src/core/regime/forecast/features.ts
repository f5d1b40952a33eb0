/**
 * Daily series the volatility forecasts read: log returns, realized variances over trailing and
 * future windows, and the feature row a desk would watch at each day's close. Everything at day t
 * uses data up to and including day t only; the targets (future windows) are kept apart.
 *
 * Units: variances annualized (decimal^2 per year, 365 days: crypto trades every day), vols
 * decimal, returns log.
 */
import { InvalidInputError } from "../../errors.js";
import { DAYS_PER_YEAR } from "../../time.js";
import { type OhlcBar, realizedVol } from "../realizedVol.js";

/** One day's market inputs beyond the bar (NaN when not available that day). */
export interface DailyExtras {
  /** Implied vol at the close (e.g. DVOL / 100), decimal. */
  readonly impliedVol: number;
  /** Perpetual funding rate averaged over the day, per 8 hours (Deribit's quoting), decimal. */
  readonly funding: number;
}

export interface DailySeries {
  readonly bars: readonly OhlcBar[];
  /** r[t] = ln(close_t / close_{t-1}); r[0] = NaN. */
  readonly returns: Float64Array;
  /** Prefix sums of r^2 (r[0] counted as 0), for O(1) window means. */
  readonly squaredPrefix: Float64Array;
  readonly extras: readonly DailyExtras[];
}

export function dailySeries(bars: readonly OhlcBar[], extras?: readonly DailyExtras[]): DailySeries {
  if (bars.length < 2) throw new InvalidInputError("bars.length", bars.length, "must be at least 2");
  if (extras && extras.length !== bars.length)
    throw new InvalidInputError("extras.length", extras.length, `must equal bars.length ${bars.length}`);
  const returns = new Float64Array(bars.length);
  const squaredPrefix = new Float64Array(bars.length + 1);
  returns[0] = Number.NaN;
  for (let t = 1; t < bars.length; t++) {
    const a = (bars[t - 1] as OhlcBar).close;
    const b = (bars[t] as OhlcBar).close;
    if (!(a > 0) || !(b > 0))
      throw new InvalidInputError(`bars[${a > 0 ? t : t - 1}].close`, a > 0 ? b : a, "must be > 0");
    returns[t] = Math.log(b / a);
  }
  for (let t = 0; t < bars.length; t++)
    squaredPrefix[t + 1] = (squaredPrefix[t] as number) + (t === 0 ? 0 : (returns[t] as number) ** 2);
  const none: DailyExtras = { impliedVol: Number.NaN, funding: Number.NaN };
  return { bars, returns, squaredPrefix, extras: extras ?? bars.map(() => none) };
}

/**
 * Realized variance of the returns of days (t - window, t], annualized: 365 x mean(r^2) (no
 * demeaning, the usual realized-variance convention). NaN when the window starts before day 1.
 */
export function trailingVariance(s: DailySeries, t: number, window: number): number {
  if (t - window + 1 < 1 || t >= s.bars.length) return Number.NaN;
  return (
    (((s.squaredPrefix[t + 1] as number) - (s.squaredPrefix[t - window + 1] as number)) / window) *
    DAYS_PER_YEAR
  );
}

/** Realized variance of the returns of days (t, t + window]: the target. NaN past the data. */
export function futureVariance(s: DailySeries, t: number, window: number): number {
  return trailingVariance(s, t + window, window);
}

/**
 * The spike event at day t: the 30-day realized vol rises by more than `rise` (0.5 = 50%)
 * above its level at t on some day of (t, t + horizon]. NaN when the future is not in the data.
 */
export function spikeEvent(
  s: DailySeries,
  t: number,
  o: { rise: number; horizon: number; window: number },
): number {
  const now = trailingVariance(s, t, o.window);
  if (!(now > 0) || t + o.horizon >= s.bars.length) return Number.NaN;
  const threshold = now * (1 + o.rise) ** 2;
  for (let k = 1; k <= o.horizon; k++) if (trailingVariance(s, t + k, o.window) > threshold) return 1;
  return 0;
}

/** Names of the feature row, in order. */
export const FEATURE_NAMES = [
  "rv7",
  "rv30",
  "rv90",
  "parkinson7",
  "parkinson30",
  "lnRv7OverRv30",
  "return1",
  "return7",
  "return30",
  "drawdown30",
  "garchVol30",
  "hmmHighVolProbability",
  "impliedVol",
  "impliedMinusRv30",
  "fundingAnnualized7",
] as const;

/** Days of history a feature row needs (the longest trailing window). */
export const FEATURE_WARMUP = 90;

/**
 * The feature row at day t (t >= FEATURE_WARMUP). `garchVol30` and `hmmHighVolProbability` come
 * from models fitted without data after t (the walk-forward supplies them).
 */
export function featureRow(
  s: DailySeries,
  t: number,
  model: { garchVol30: number; hmmHighVolProbability: number },
): number[] {
  if (t < FEATURE_WARMUP) throw new InvalidInputError("t", t, `must be at least ${FEATURE_WARMUP}`);
  const rv = (w: number) => Math.sqrt(trailingVariance(s, t, w));
  const close = (k: number) => (s.bars[k] as OhlcBar).close;
  let high30 = 0;
  for (let k = t - 29; k <= t; k++) high30 = Math.max(high30, close(k));
  const extra = s.extras[t] as DailyExtras;
  let funding = 0;
  let fundingDays = 0;
  for (let k = t - 6; k <= t; k++) {
    const f = (s.extras[k] as DailyExtras).funding;
    if (Number.isFinite(f)) {
      funding += f;
      fundingDays++;
    }
  }
  const rv7 = rv(7);
  const rv30 = rv(30);
  return [
    rv7,
    rv30,
    rv(90),
    realizedVol(s.bars.slice(t - 6, t + 1), "parkinson"),
    realizedVol(s.bars.slice(t - 29, t + 1), "parkinson"),
    Math.log(Math.max(rv7, 1e-4) / Math.max(rv30, 1e-4)),
    s.returns[t] as number,
    Math.log(close(t) / close(t - 7)),
    Math.log(close(t) / close(t - 30)),
    close(t) / high30 - 1,
    model.garchVol30,
    model.hmmHighVolProbability,
    extra.impliedVol,
    extra.impliedVol - rv30,
    fundingDays > 0 ? (funding / fundingDays) * 3 * DAYS_PER_YEAR : Number.NaN,
  ];
}
