/**
 * Independent reference for the surface tests: Durrleman's butterfly density factor
 *   g(k) = (1 - k w' / (2 w))^2 - (w'^2 / 4) (1 / w + 1 / 4) + w'' / 2
 * (Gatheral & Jacquier 2014, eq. 2.1; no butterfly arbitrage iff g >= 0), with w' and w'' by central
 * differences of the total variance alone, so that it does not share the modules' analytic derivatives.
 */

/** Step of the central differences: rounding eps w / h^2 ~ 2e-8 per unit w, truncation h^2 w'''' / 12. */
export const DURRLEMAN_H = 1e-4;

/** g(k) of the smile w by central differences. */
export function durrlemanG(w: (k: number) => number, k: number, h = DURRLEMAN_H): number {
  const w0 = w(k);
  const up = w(k + h);
  const dn = w(k - h);
  const d1 = (up - dn) / (2 * h);
  const d2 = (up - 2 * w0 + dn) / (h * h);
  return (1 - (k * d1) / (2 * w0)) ** 2 - ((d1 * d1) / 4) * (1 / w0 + 1 / 4) + d2 / 2;
}
