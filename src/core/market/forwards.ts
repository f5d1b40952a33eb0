/**
 * The forward of each listed expiry, from the best source available, in order:
 *  1. a dated future of that expiry quoted in the chain ("future");
 *  2. the venue's own underlying price for the expiry's options, the median over its quotes
 *     (Deribit marks each option on its expiry's future or synthetic forward) ("venue-underlying");
 *  3. put-call parity on mid prices: a least-squares fit over the strikes nearest the index
 *     where both call and put are two-sided ("put-call-parity"). Inverse quotes are coin prices
 *     of USD values divided by the forward, so C - P = 1 - K/F (fit slope -1/F); linear quotes
 *     are USD, C - P = F - K;
 *  4. the index ("index"), when nothing else is usable: flagged by its source.
 * Rates are 0 (crypto convention, DESIGN.md): the forward carries the basis.
 */
import type { ChainSnapshot, ExpiryForward, OptionQuote } from "./types.js";

const YEAR_MS = 365 * 86_400_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Forward from parity on the (up to) `pairs` two-sided strike pairs nearest the index, or null. */
export function parityForward(quotes: readonly OptionQuote[], indexPrice: number, pairs = 6): number | null {
  const byStrike = new Map<number, { c?: OptionQuote; p?: OptionQuote }>();
  for (const q of quotes) {
    const e = byStrike.get(q.instrument.strike) ?? {};
    if (q.instrument.kind === "call") e.c = q;
    else e.p = q;
    byStrike.set(q.instrument.strike, e);
  }
  const points: { k: number; y: number }[] = [];
  let inverse = true;
  for (const [k, { c, p }] of byStrike) {
    if (!c || !p || c.bid === null || c.ask === null || p.bid === null || p.ask === null) continue;
    inverse = c.instrument.settlement === "inverse";
    points.push({ k, y: (c.bid + c.ask) / 2 - (p.bid + p.ask) / 2 });
  }
  if (points.length < 2) return null;
  points.sort((a, b) => Math.abs(a.k - indexPrice) - Math.abs(b.k - indexPrice));
  const use = points.slice(0, pairs);
  if (!inverse) {
    const f = use.reduce((s, pt) => s + pt.y + pt.k, 0) / use.length;
    return f > 0 ? f : null;
  }
  // Least squares y = a + b k; inverse parity says a = 1, b = -1/F.
  const n = use.length;
  const mk = use.reduce((s, pt) => s + pt.k, 0) / n;
  const my = use.reduce((s, pt) => s + pt.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const pt of use) {
    sxy += (pt.k - mk) * (pt.y - my);
    sxx += (pt.k - mk) ** 2;
  }
  if (!(sxx > 0)) return null;
  const slope = sxy / sxx;
  return slope < 0 ? -1 / slope : null;
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
    const timeToExpiry = (expiry - chain.valuationTime) / YEAR_MS;
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
