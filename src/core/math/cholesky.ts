/**
 * Cholesky solve of a symmetric positive definite system restricted to a subset of its indices
 * (the free variables of an active-set step in levenbergMarquardt.ts), in preallocated buffers.
 * Matrices are row-major with row stride n; no allocation.
 */

/**
 * In-place Cholesky solve of the n x n symmetric positive definite system A x = b restricted to
 * the indices in `idx` (length nf). Returns false if A is not numerically positive definite.
 */
export function choleskySolve(
  A: Float64Array,
  n: number,
  idx: Int32Array,
  nf: number,
  b: Float64Array,
  L: Float64Array,
  out: Float64Array,
): boolean {
  if (!choleskyFactor(A, n, idx, nf, L)) return false;
  // forward: L y = b
  for (let i = 0; i < nf; i++) {
    let s = b[i] ?? 0;
    for (let k = 0; k < i; k++) s -= (L[i * n + k] ?? 0) * (out[k] ?? 0);
    out[i] = s / (L[i * n + i] ?? 0);
  }
  // backward: L' x = y
  for (let i = nf - 1; i >= 0; i--) {
    let s = out[i] ?? 0;
    for (let k = i + 1; k < nf; k++) s -= (L[k * n + i] ?? 0) * (out[k] ?? 0);
    out[i] = s / (L[i * n + i] ?? 0);
  }
  return true;
}

/** Lower Cholesky factor L (row stride n) of A restricted to `idx`; false if not positive definite. */
function choleskyFactor(A: Float64Array, n: number, idx: Int32Array, nf: number, L: Float64Array): boolean {
  for (let i = 0; i < nf; i++) {
    const rowA = (idx[i] ?? 0) * n;
    for (let j = 0; j <= i; j++) {
      let s = A[rowA + (idx[j] ?? 0)] ?? 0;
      for (let k = 0; k < j; k++) s -= (L[i * n + k] ?? 0) * (L[j * n + k] ?? 0);
      if (i === j) {
        if (!(s > 0)) return false;
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / (L[j * n + j] ?? 0);
      }
    }
  }
  return true;
}
