/**
 * Ordinary least squares for the small regressions of the forecasts (HAR-RV: 4 columns), by
 * Householder QR of the design matrix (no normal equations: the HAR regressors are strongly
 * collinear).
 */
import { InvalidInputError } from "../../errors.js";

/** Coefficients b minimizing |X b - y|^2; X has rows of equal length p <= rows. */
export function leastSquares(x: readonly (readonly number[])[], y: readonly number[]): number[] {
  const n = x.length;
  const p = n > 0 ? (x[0] as readonly number[]).length : 0;
  if (n < p || p === 0)
    throw new InvalidInputError("x.length", n, `must be at least the ${p} columns (and > 0)`);
  if (y.length !== n) throw new InvalidInputError("y.length", y.length, `must equal x.length ${n}`);
  const a = x.map((row) => Float64Array.from(row));
  const b = Float64Array.from(y);
  for (let k = 0; k < p; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm += ((a[i] as Float64Array)[k] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0)
      throw new InvalidInputError(`x column ${k}`, 0, "is all zeros below the diagonal (rank deficient)");
    const akk = (a[k] as Float64Array)[k] as number;
    const alpha = akk > 0 ? -norm : norm;
    const v = new Float64Array(n - k);
    for (let i = k; i < n; i++) v[i - k] = (a[i] as Float64Array)[k] as number;
    v[0] = (v[0] as number) - alpha;
    let vv = 0;
    for (const t of v) vv += t * t;
    if (vv === 0) continue;
    for (let j = k; j < p; j++) {
      let dot = 0;
      for (let i = k; i < n; i++) dot += (v[i - k] as number) * ((a[i] as Float64Array)[j] as number);
      const f = (2 * dot) / vv;
      for (let i = k; i < n; i++)
        (a[i] as Float64Array)[j] = ((a[i] as Float64Array)[j] as number) - f * (v[i - k] as number);
    }
    let dot = 0;
    for (let i = k; i < n; i++) dot += (v[i - k] as number) * (b[i] as number);
    const f = (2 * dot) / vv;
    for (let i = k; i < n; i++) b[i] = (b[i] as number) - f * (v[i - k] as number);
  }
  const coef = new Array<number>(p).fill(0);
  for (let k = p - 1; k >= 0; k--) {
    let s = b[k] as number;
    for (let j = k + 1; j < p; j++) s -= ((a[k] as Float64Array)[j] as number) * (coef[j] as number);
    const d = (a[k] as Float64Array)[k] as number;
    if (Math.abs(d) < 1e-300)
      throw new InvalidInputError(`x column ${k}`, d, "makes the design rank deficient");
    coef[k] = s / d;
  }
  return coef;
}
