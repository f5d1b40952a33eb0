/**
 * Realized volatility estimators from daily OHLC bars, annualized (crypto trades every day:
 * default 365 periods per year). All return decimal vols (0.55 = 55%).
 *
 * References: Parkinson (1980); Garman & Klass (1980); Rogers & Satchell (1991);
 * Yang & Zhang (2000), "Drift-independent volatility estimation based on high, low, open and
 * close prices", J. Business 73(3), with k = 0.34 / (1.34 + (n+1)/(n-1)).
 */
import { InvalidInputError } from "../errors.js";
import { mean as meanOf, variance as sampleVar } from "../math/stats.js";

/** One bar: prices > 0, high >= max(open, close), low <= min(open, close). */
export interface OhlcBar {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

export type RealizedVolEstimator =
  | "close-to-close"
  | "parkinson"
  | "garman-klass"
  | "rogers-satchell"
  | "yang-zhang";

export const REALIZED_VOL_ESTIMATORS: readonly RealizedVolEstimator[] = [
  "close-to-close",
  "parkinson",
  "garman-klass",
  "rogers-satchell",
  "yang-zhang",
];

function checkBars(bars: readonly OhlcBar[], minimum: number): void {
  if (bars.length < minimum)
    throw new InvalidInputError("bars.length", bars.length, `must be at least ${minimum}`);
  bars.forEach((b, i) => {
    for (const f of ["open", "high", "low", "close"] as const) {
      if (!(b[f] > 0) || !Number.isFinite(b[f]))
        throw new InvalidInputError(`bars[${i}].${f}`, b[f], "must be > 0");
    }
    if (b.high < Math.max(b.open, b.close) || b.low > Math.min(b.open, b.close)) {
      throw new InvalidInputError(`bars[${i}]`, b, "must satisfy low <= open, close <= high");
    }
  });
}

/**
 * Realized vol of `bars` with one estimator. Close-to-close and Yang-Zhang use the previous
 * close, so they use bars.length - 1 returns; the range estimators use every bar.
 */
export function realizedVol(
  bars: readonly OhlcBar[],
  estimator: RealizedVolEstimator,
  options: { periodsPerYear?: number } = {},
): number {
  const periods = options.periodsPerYear ?? 365;
  const ln = Math.log;
  switch (estimator) {
    case "close-to-close": {
      checkBars(bars, 3);
      const r = bars.slice(1).map((b, i) => ln(b.close / (bars[i] as OhlcBar).close));
      return Math.sqrt(sampleVar(r) * periods);
    }
    case "parkinson": {
      checkBars(bars, 1);
      const s = meanOf(bars.map((b) => ln(b.high / b.low) ** 2));
      return Math.sqrt((s / (4 * Math.LN2)) * periods);
    }
    case "garman-klass": {
      checkBars(bars, 1);
      const s = meanOf(
        bars.map((b) => 0.5 * ln(b.high / b.low) ** 2 - (2 * Math.LN2 - 1) * ln(b.close / b.open) ** 2),
      );
      return Math.sqrt(s * periods);
    }
    case "rogers-satchell": {
      checkBars(bars, 1);
      return Math.sqrt(meanOf(bars.map(rogersSatchellTerm)) * periods);
    }
    case "yang-zhang": {
      checkBars(bars, 3);
      const n = bars.length - 1;
      const overnight = bars.slice(1).map((b, i) => ln(b.open / (bars[i] as OhlcBar).close));
      const openClose = bars.slice(1).map((b) => ln(b.close / b.open));
      const rs = meanOf(bars.slice(1).map(rogersSatchellTerm));
      const k = 0.34 / (1.34 + (n + 1) / (n - 1));
      return Math.sqrt((sampleVar(overnight) + k * sampleVar(openClose) + (1 - k) * rs) * periods);
    }
    default:
      throw new InvalidInputError(
        "estimator",
        estimator,
        `must be one of ${REALIZED_VOL_ESTIMATORS.join(", ")}`,
      );
  }
}

function rogersSatchellTerm(b: OhlcBar): number {
  const ln = Math.log;
  return ln(b.high / b.close) * ln(b.high / b.open) + ln(b.low / b.close) * ln(b.low / b.open);
}

/** Whether an estimator reads the previous bar's close (so `window` days need window + 1 bars). */
function readsPreviousClose(estimator: RealizedVolEstimator): boolean {
  return estimator === "close-to-close" || estimator === "yang-zhang";
}

/**
 * Realized vol over the last `window` days of `bars`, the same days for every estimator:
 * `window` returns for close-to-close and Yang-Zhang (which read the close before the window),
 * `window` bars for the range estimators. (Passing window + 1 bars to every estimator gave the
 * range estimators one day more than close-to-close.)
 */
export function windowRealizedVol(
  bars: readonly OhlcBar[],
  estimator: RealizedVolEstimator,
  window: number,
  options: { periodsPerYear?: number } = {},
): number {
  if (!Number.isInteger(window) || window < 2)
    throw new InvalidInputError("window", window, "must be an integer >= 2");
  const needed = window + (readsPreviousClose(estimator) ? 1 : 0);
  if (bars.length < needed)
    throw new InvalidInputError(
      "bars.length",
      bars.length,
      `must be at least ${needed} for a ${window}-day window`,
    );
  return realizedVol(bars.slice(bars.length - needed), estimator, options);
}

/**
 * Rolling realized vol: element i is the estimate over the `window` days ending at bar i (see
 * `windowRealizedVol`); null until enough bars exist.
 */
export function rollingRealizedVol(
  bars: readonly OhlcBar[],
  estimator: RealizedVolEstimator,
  window: number,
  options: { periodsPerYear?: number } = {},
): (number | null)[] {
  if (!Number.isInteger(window) || window < 2)
    throw new InvalidInputError("window", window, "must be an integer >= 2");
  const extra = readsPreviousClose(estimator) ? 1 : 0;
  return bars.map((_, i) => {
    const start = i - window + 1 - extra;
    if (start < 0) return null;
    return realizedVol(bars.slice(start, i + 1), estimator, options);
  });
}

/**
 * The variance risk premium: implied variance minus realized variance (decimal^2 per year),
 * and the vol spread, for an implied vol (e.g. the 30-day index / 100) and a realized vol.
 */
export function varianceRiskPremium(
  impliedVol: number,
  realizedVolatility: number,
): { variance: number; volSpread: number } {
  if (!(impliedVol >= 0)) throw new InvalidInputError("impliedVol", impliedVol, "must be >= 0");
  if (!(realizedVolatility >= 0))
    throw new InvalidInputError("realizedVol", realizedVolatility, "must be >= 0");
  return { variance: impliedVol ** 2 - realizedVolatility ** 2, volSpread: impliedVol - realizedVolatility };
}
