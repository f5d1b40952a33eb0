/**
 * Synthetic linear (USD) chains priced by Black-76 at a given total-variance smile, as normalized
 * MarketSnapshots, for the variance swap and vol-index future tests.
 */
import type { OptionContract } from "../../../src/core/instruments/types.js";
import type { CleanQuote, MarketSnapshot } from "../../../src/core/market/types.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import type { VolSurface } from "../../../src/core/surface/types.js";

export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 0, 10, 8);
export const F = 100_350;

/** Annualized total variance function per expiry: w(k, T). */
export type Smile = (k: number, T: number) => number;

/** A linear (USD) chain on strikes F x [lo, hi] every `step` x F, priced by Black-76 at the smile. */
export function chain(
  smile: Smile,
  expiriesDays: readonly number[],
  step = 0.01,
  lo = 0.3,
  hi = 3,
): MarketSnapshot {
  const quotes: CleanQuote[] = [];
  for (const d of expiriesDays) {
    const expiry = T0 + d * DAY;
    const T = d / 365;
    for (let m = lo; m <= hi + 1e-9; m += step) {
      const K = Math.round(m * 100_000);
      const k = Math.log(K / F);
      const vol = Math.sqrt(smile(k, T) / T);
      for (const kind of ["call", "put"] as const) {
        const price = blackPrice({ forward: F, strike: K, expiry: T, vol, kind });
        const instrument: OptionContract = {
          type: "option",
          name: `BTC_USDC-${d}D-${K}-${kind === "call" ? "C" : "P"}`,
          underlying: "BTC",
          kind,
          strike: K,
          expiry,
          settlement: "linear",
          contractSize: 1,
        };
        quotes.push({
          instrument,
          timestamp: T0,
          bid: price * 0.999,
          ask: price * 1.001,
          mark: price,
          forward: F,
          timeToExpiry: T,
          logMoneyness: k,
          bidVol: vol,
          askVol: vol,
          midVol: vol,
          markVol: vol,
        });
      }
    }
  }
  const forwards = expiriesDays.map((d) => ({
    expiry: T0 + d * DAY,
    timeToExpiry: d / 365,
    forward: F,
    source: "future" as const,
  }));
  return { underlying: "BTC", valuationTime: T0, indexPrice: F, forwards, quotes };
}

export const surfaceOf = (smile: Smile): VolSurface => ({
  model: "test",
  totalVariance: smile,
  impliedVol: (k, T) => Math.sqrt(smile(k, T) / T),
});
