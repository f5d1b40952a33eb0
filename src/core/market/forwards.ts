/**
 * The forward of each listed expiry, from the best source available, in order:
 *  1. a dated future of that expiry quoted in the chain ("future");
 *  2. the venue's own underlying price for the expiry's options, the median over its quotes
 *     (Deribit marks each option on its expiry's future or synthetic forward) ("venue-underlying");
 *  3. put-call parity on mid prices: a weighted least-squares fit (intercept fixed by r = 0)
 *     over the strikes nearest the index where both call and put are two-sided
 *     ("put-call-parity"). Inverse quotes are coin prices of USD values divided by the forward,
 *     so C - P = 1 - K/F; linear quotes are USD, C - P = F - K (see parityForward);
 *  4. the index ("index"), when nothing else is usable: flagged by its source.
 * Rates are 0 (crypto convention, DESIGN.md): the forward carries the basis.
 */
import type { ChainSnapshot, ExpiryForward, OptionQuote } from "./types.js";
import { timeToExpiry as yearFraction } from "../time.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Forward from put-call parity on the (up to) `pairs` two-sided strike pairs nearest the index,
 * or null when fewer than one pair is two-sided on both options.
 *
 * With r = 0 (crypto, DESIGN.md) parity fixes the intercept, so one parameter is fitted by
 * weighted least squares, each pair weighted by 1 / (spread_call^2 + spread_put^2):
 *   linear (USD):   C - P = F - K          ->  F = sum w (y + K) / sum w
 *   inverse (coin): C - P = 1 - K / F      ->  1/F = sum w K (1 - y) / sum w K^2
 * Fitting the slope and the intercept together (as a free regression would) is far noisier on
 * real chains: on the 2026-01-10 Deribit sample it missed the venue's ETH daily forwards by up to
 * 40%; the fixed-intercept fit is within 5 bp of them on every expiry (test/core/market/cleaning.test.ts).
 */
export function parityForward(quotes: readonly OptionQuote[], indexPrice: number, pairs = 6): number | null {
  const byStrike = new Map<number, { c?: OptionQuote; p?: OptionQuote }>();
  for (const q of quotes) {
    const e = byStrike.get(q.instrument.strike) ?? {};
    if (q.instrument.kind === "call") e.c = q;
    else e.p = q;
    byStrike.set(q.instrument.strike, e);
  }
  const points: { k: number; y: number; w: number }[] = [];
  let inverse = true;
  for (const [k, { c, p }] of byStrike) {
    if (!c || !p || c.bid === null || c.ask === null || p.bid === null || p.ask === null) continue;
    if (!(c.ask >= c.bid && p.ask >= p.bid)) continue;
    inverse = c.instrument.settlement === "inverse";
    const s2 = (c.ask - c.bid) ** 2 + (p.ask - p.bid) ** 2;
    // A zero spread would get infinite weight: floor it at one 0.0001-coin tick (or 1e-8 relative).
    const floor = inverse ? 2e-8 : 2e-16 * k * k;
    points.push({ k, y: (c.bid + c.ask) / 2 - (p.bid + p.ask) / 2, w: 1 / Math.max(s2, floor) });
  }
  if (points.length < 1) return null;
  points.sort((a, b) => Math.abs(a.k - indexPrice) - Math.abs(b.k - indexPrice));
  const use = points.slice(0, pairs);
  let num = 0;
  let den = 0;
  for (const pt of use) {
    if (inverse) {
      num += pt.w * pt.k * (1 - pt.y);
      den += pt.w * pt.k * pt.k;
    } else {
      num += pt.w * (pt.y + pt.k);
      den += pt.w;
    }
  }
  if (!(den > 0) || !(num > 0)) return null;
  const f = inverse ? den / num : num / den;
  return Number.isFinite(f) && f > 0 ? f : null;
}

/** Forwards of every expiry in the chain that is still in the future, sorted by expiry. */
export function chainForwards(chain: ChainSnapshot): ExpiryForward[] {
  const byExpiry = new Map<number, OptionQuote[]>();
  for (const q of chain.quotes) {
    if (q.instrument.underlying !== chain.underlying) continue;
    const list = byExpiry.get(q.instrument.expiry) ?? [];
    list.push(q);
    byExpiry.set(q.instrument.expiry, list);
  }
  const out: ExpiryForward[] = [];
  for (const [expiry, quotes] of [...byExpiry].sort((a, b) => a[0] - b[0])) {
    const timeToExpiry = yearFraction(expiry, chain.valuationTime);
    if (!(timeToExpiry > 0)) continue;
    const future = chain.futures?.find((f) => f.expiry === expiry && f.mark > 0);
    if (future) {
      out.push({ expiry, timeToExpiry, forward: future.mark, source: "future" });
      continue;
    }
    const venue = quotes
      .map((q) => q.underlyingPrice)
      .filter((u): u is number => typeof u === "number" && u > 0);
    if (venue.length > 0) {
      out.push({ expiry, timeToExpiry, forward: median(venue), source: "venue-underlying" });
      continue;
    }
    const parity = parityForward(quotes, chain.indexPrice);
    out.push(
      parity !== null
        ? { expiry, timeToExpiry, forward: parity, source: "put-call-parity" }
        : { expiry, timeToExpiry, forward: chain.indexPrice, source: "index" },
    );
  }
  return out;
}
