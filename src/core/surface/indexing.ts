/**
 * a[i], or NaN when i is outside the array, so a bad index poisons the result instead of reading
 * as a number (strict `noUncheckedIndexedAccess`). For the numeric kernels of this folder, which
 * index typed arrays in loops within their bounds.
 */
export function at(a: ArrayLike<number>, i: number): number {
  return a[i] ?? Number.NaN;
}
