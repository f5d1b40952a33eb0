/**
 * Descriptive statistics with stable numerics (compensated sums). Nothing is skipped: a NaN
 * in the input is a NaN in the output, never silently dropped (unlike d3-array).
 */
import { InvalidInputError } from "../errors.js";

/** Neumaier-compensated sum: exact to about one ulp of the result for any ordering. */
export function sum(values: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] ?? Number.NaN;
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}

/** Arithmetic mean. Throws on an empty input. */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) throw new InvalidInputError("values", "[]", "must not be empty");
  return sum(values) / values.length;
}

/** Sample variance (n - 1 denominator), two-pass. Throws with fewer than two values. */
export function variance(values: ArrayLike<number>): number {
  if (values.length < 2) throw new InvalidInputError("values.length", values.length, "must be at least 2");
  const m = mean(values);
  const d = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) d[i] = ((values[i] ?? Number.NaN) - m) ** 2;
  return sum(d) / (values.length - 1);
}

/** Sample standard deviation. */
export function stdev(values: ArrayLike<number>): number {
  return Math.sqrt(variance(values));
}

/**
 * Quantile by linear interpolation between order statistics (Hyndman-Fan type 7, the default of
 * R and numpy). `p` in [0, 1]. Example: quantile([1, 2, 3, 4], 0.5) === 2.5.
 */
export function quantile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) throw new InvalidInputError("values", "[]", "must not be empty");
  if (!(p >= 0 && p <= 1)) throw new InvalidInputError("p", p, "must be in [0, 1]");
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (h - lo) * (b - a);
}
