/**
 * A seeded synthetic daily OHLC history with volatility regimes, for the demo and examples when
 * no real price file is at hand: a two-state Markov chain of daily vol regimes (calm and
 * stressed, persistent) drives a log price simulated in `stepsPerDay` intraday steps, so high
 * and low are the path's extremes and the range estimators (Parkinson, Garman-Klass, ...) see
 * realistic bars. The true regime of each day is returned, so a detector can be checked.
 *
 * Units: vols annualised decimal (365-day year, crypto trades every day); dates ISO yyyy-mm-dd.
 */
import { InvalidInputError } from "../errors.js";
import type { Rng } from "../math/rng.js";
import type { OhlcBar } from "./realizedVol.js";
import { DAY_MS } from "../time.js";

export interface SyntheticBarsOptions {
  /** Number of daily bars. */
  readonly days: number;
  /** First bar's date, epoch ms UTC (midnight). */
  readonly start: number;
  /** Opening price of the first bar. */
  readonly spot: number;
  /** Annualised vol of each regime, calm first (default [0.45, 1.0], BTC-like). */
  readonly regimeVols?: readonly [number, number];
  /** Probability of staying in each regime from one day to the next (default [0.985, 0.94]). */
  readonly stay?: readonly [number, number];
  /** Intraday steps per bar for high/low (default 24). */
  readonly stepsPerDay?: number;
}

export interface SyntheticBars {
  readonly bars: (OhlcBar & { date: string })[];
  /** Regime of each bar: 0 calm, 1 stressed. */
  readonly regimes: number[];
}

/** Daily bars from `rng` (seeded by the caller); deterministic for a given rng state. */
export function syntheticDailyBars(o: SyntheticBarsOptions, rng: Rng): SyntheticBars {
  if (!(Number.isInteger(o.days) && o.days > 0))
    throw new InvalidInputError("days", o.days, "must be an integer > 0");
  if (!(o.spot > 0 && Number.isFinite(o.spot))) throw new InvalidInputError("spot", o.spot, "must be > 0");
  if (!Number.isFinite(o.start)) throw new InvalidInputError("start", o.start, "must be epoch ms");
  const vols = o.regimeVols ?? [0.45, 1.0];
  const stay = o.stay ?? [0.985, 0.94];
  const steps = o.stepsPerDay ?? 24;
  for (const [i, v] of vols.entries())
    if (!(v > 0 && Number.isFinite(v))) throw new InvalidInputError(`regimeVols[${i}]`, v, "must be > 0");
  for (const [i, p] of stay.entries())
    if (!(p >= 0 && p <= 1)) throw new InvalidInputError(`stay[${i}]`, p, "must be a probability");
  if (!(Number.isInteger(steps) && steps > 0))
    throw new InvalidInputError("stepsPerDay", steps, "must be an integer > 0");

  const bars: (OhlcBar & { date: string })[] = [];
  const regimes: number[] = [];
  let regime = 0;
  let logPrice = Math.log(o.spot);
  let open = o.spot; // each bar opens at the previous close, exactly
  for (let d = 0; d < o.days; d++) {
    if (d > 0 && rng.uniform() > (stay[regime] as number)) regime = 1 - regime;
    const sigma = (vols[regime] as number) * Math.sqrt(1 / (365 * steps));
    const drift = -0.5 * sigma * sigma; // martingale price
    let high = open;
    let low = open;
    let close = open;
    for (let k = 0; k < steps; k++) {
      logPrice += drift + sigma * rng.normal();
      close = Math.exp(logPrice);
      if (close > high) high = close;
      if (close < low) low = close;
    }
    bars.push({
      date: new Date(o.start + d * DAY_MS).toISOString().slice(0, 10),
      open,
      high,
      low,
      close,
    });
    open = close;
    regimes.push(regime);
  }
  return { bars, regimes };
}
