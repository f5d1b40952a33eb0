/**
 * Reference numerics for the margin tests, independent of src/: erfc (series below 3, continued
 * fraction above; absolute error below ~1e-13), the normal CDF and undiscounted Black-76 (F N(d1) - K N(d2)).
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    // erf series: 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // continued fraction erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}
export const N = (d: number) => 0.5 * erfc(-d / Math.SQRT2);
export function black(F: number, K: number, v: number, T: number, call: boolean): number {
  const s = v * Math.sqrt(T);
  const d1 = Math.log(F / K) / s + s / 2;
  const d2 = d1 - s;
  return call ? F * N(d1) - K * N(d2) : K * N(-d2) - F * N(-d1);
}
