/**
 * Binary search on ascending keys: the one implementation core uses (C++'s lower_bound/upper_bound).
 * Each returns an insertion index in [0, n]. NaN compares false, so a NaN target gives 0 (no NaN check
 * here: callers validate their inputs once, the search runs in inner loops).
 * Example: lowerBound([1, 2, 2, 3], 2) === 1, upperBound([1, 2, 2, 3], 2) === 3.
 */

/** First index i with key(items[i]) >= x, or items.length when none (keys ascending). */
export function lowerBoundBy<T>(items: ArrayLike<T>, x: number, key: (item: T) => number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // mid is in [lo, hi) within [0, length): the element exists
    if (key(items[mid] as T) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with key(items[i]) > x, or items.length when none (keys ascending). */
export function upperBoundBy<T>(items: ArrayLike<T>, x: number, key: (item: T) => number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(items[mid] as T) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const identity = (v: number): number => v;

/** First index i with sorted[i] >= x, or sorted.length (sorted ascending). */
export function lowerBound(sorted: ArrayLike<number>, x: number): number {
  return lowerBoundBy(sorted, x, identity);
}

/** First index i with sorted[i] > x, or sorted.length (sorted ascending). */
export function upperBound(sorted: ArrayLike<number>, x: number): number {
  return upperBoundBy(sorted, x, identity);
}
