/**
 * The simplest implied-vol solver there is, kept beside the fast one (src/core/pricing/impliedVol.ts,
 * Jaeckel's "Let's Be Rational", ~580 lines) as its reference: bisection on the Black-76 price,
 * which is strictly increasing in vol. No initial guess, no rational interpolation, no Householder
 * steps: 200 halvings of [VOL_LOW, VOL_HIGH] reach the point where the midpoint no longer moves,
 * i.e. adjacent doubles, so the answer is exact to the price function's own resolution.
 * Slow (200 prices per solve) and blind to the deep wings where the price underflows, which is why
 * the property test that uses it samples the region where bisection is reliable.
 */
import { blackPrice } from "../../src/core/pricing/black76.js";

/** Bracket for the vol, decimal annualised. */
const VOL_LOW = 1e-6;
const VOL_HIGH = 20;
const MAX_HALVINGS = 200;

export function bisectionImpliedVol(
  price: number,
  forward: number,
  strike: number,
  expiry: number,
  kind: "call" | "put",
): number {
  const value = (vol: number): number => blackPrice({ forward, strike, expiry, vol, kind });
  let low = VOL_LOW;
  let high = VOL_HIGH;
  if (!(price > value(low) && price < value(high))) return Number.NaN;
  for (let i = 0; i < MAX_HALVINGS; i++) {
    const mid = 0.5 * (low + high);
    if (mid === low || mid === high) break;
    if (value(mid) < price) low = mid;
    else high = mid;
  }
  return 0.5 * (low + high);
}
