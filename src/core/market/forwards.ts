/**
 * The forward of each listed expiry, from the best source available, in order:
 *  1. put-call parity on the venue's MARKS ("put-call-parity"): the median over the expiry's
 *     strikes where both the call and the put carry a mark of the forward that pair implies
 *     (markParityForward), used when at least two strikes agree with it within 1e-5 (a single
 *     pair cannot tell marks on one forward from marks set each on its own, as in a hand-made
 *     chain). Deribit marks both options of a strike at one IV on one forward, so C - P =
 *     1 - K/F holds on its coin marks to their 1e-8 BTC / 1e-6 ETH rounding, and the forward
 *     this recovers IS the forward the venue marked the expiry on. When the expiry's future
 *     (else the venue's median underlying) is the same number (within 1e-9), that printed price
 *     is the forward, under its own source;
 *  2. a dated future of that expiry quoted in the chain ("future");
 *  3. the venue's own underlying price for the expiry's options, the median over its quotes
 *     ("venue-underlying");
 *  4. put-call parity on two-sided mid prices: a weighted least-squares fit (intercept fixed by
 *     r = 0) over the strikes nearest the index ("put-call-parity", see parityForward);
 *  5. the index ("index"), when nothing else is usable: flagged by its source.
 * Rates are 0 (crypto convention, DESIGN.md): the forward carries the basis.
 *
 * Why the marks' parity first (measured on the 233 daily Deribit files of ../shared/data with
 * scripts/measure/chainMarkVols.ts, 2,766 expiry snapshots per coin): the marks of an expiry
 * imply one forward (the strike pair farthest from the median is 0.08 bp BTC / 0.19 bp ETH off
 * at the 90th percentile; a few strikes marked at another instant, up to 5-7 bp), while the file's
 * `underlying` column (median over the expiry) differs from it by a median 0.07 / 0.13 bp, p90
 * 1.3 / 1.2 bp, up to 6.5 / 7.6 bp: it was captured at other instants than the marks. Mark vols
 * solved on the marks' forward match Deribit's implied_volatility to its 1e-4 rounding (median
 * |diff| 2.7e-5 BTC, 4.0e-5 ETH; p99 1.5e-4 / 1.1e-4 where the mark pins the vol to 1e-5, 1.6e-3
 * / 1.6e-2 over all quotes, whose tail is deep in-the-money marks worth their intrinsic value to
 * the printed digit); on the underlying column, converted and solved alike, the p99 is 0.14 /
 * 0.20 (BTC-31JUL26-100000-P on 2026-07-13: 0.713 vs Deribit's 0.6296; 0.6296 on the marks'
 * forward). And the risk engine, which values on the expiry forward, then reprices each quoted
 * option at its mark vol to its mark exactly. Cost: a dated future of the expiry is valued at the
 * options' forward, not its own printed mark (median 0.07 bp off, max 4.6 bp BTC / 7.2 bp ETH).
 * Future before venue underlying (used only for an expiry without two agreeing pairs of marks,
 * which no expiry of the season's files lacks): in these files the future's price is one row's
 * underlying value and equals the median underlying in 84% (BTC) / 74% (ETH) of expiry snapshots
 * (max 2.6 bp apart); the future is the closer of the two to the marks' forward (p90 0.85 bp vs
 * 1.34 bp BTC, max 4.6 vs 6.5 bp).
 */
import { groupByExpiry } from "./byExpiry.js";
import type { ChainSnapshot, ExpiryForward, OptionQuote } from "./types.js";
import { timeToExpiry as yearFraction } from "../time.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Forward from put-call parity on the (up to) `pairs` two-sided strike pairs nearest the index,
 * or null when fewer than one pair is two-sided on both options (the fallback when a chain's
 * quotes carry no marks, no future and no underlying price).
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

/** Relative agreement of two strikes' parity forwards that confirms the marks' forward. */
const MARKS_AGREE = 1e-5;
/**
 * A future or venue underlying this close (relative) to the marks' forward is the same number
 * (the parity arithmetic's own rounding) and is used as printed. Not wider: deep in-the-money
 * mark vols move with a 1e-6 forward error (BTC mark vols where the mark pins the vol, p99
 * |diff| to Deribit's: 1.5e-4 at this tolerance, 2.5e-4 at 1e-6).
 */
const SAME_FORWARD = 1e-9;

/**
 * Forward implied by put-call parity on the marks of one expiry's quotes, or null (see below).
 * Per strike K with a mark C on its call and P on its put:
 *   inverse (coin): C - P = 1 - K / F  ->  F = K / (1 - (C - P))   (pairs with C - P >= 1 skipped)
 *   linear (USD):   C - P = F - K      ->  F = K + C - P           (pairs with F <= 0 skipped)
 * The result is the median over strikes (robust to a strike whose marks were updated at another
 * instant), or null unless at least two strikes' forwards are within MARKS_AGREE (1e-5) of it.
 * Exact when the venue marks both options of a strike at one IV on one forward, as Deribit does:
 * e.g. BTC-20MAR26 on 2026-03-19 gives 70234.84 at all 30 strikes, while the file's underlying
 * column says 70259.28 .. 70267.18.
 */
export function markParityForward(quotes: readonly OptionQuote[]): number | null {
  const byStrike = new Map<number, { c?: OptionQuote; p?: OptionQuote }>();
  for (const q of quotes) {
    if (q.mark === null || !(q.mark >= 0)) continue;
    const e = byStrike.get(q.instrument.strike) ?? {};
    if (q.instrument.kind === "call") e.c = q;
    else e.p = q;
    byStrike.set(q.instrument.strike, e);
  }
  const fs: number[] = [];
  for (const [K, { c, p }] of byStrike) {
    if (!c || !p) continue;
    const y = (c.mark as number) - (p.mark as number);
    const f = c.instrument.settlement === "inverse" ? K / (1 - y) : K + y;
    if (f > 0 && Number.isFinite(f)) fs.push(f);
  }
  if (fs.length < 2) return null;
  const m = median(fs);
  return fs.filter((f) => Math.abs(f / m - 1) <= MARKS_AGREE).length >= 2 ? m : null;
}

/** Forwards of every expiry in the chain that is still in the future, sorted by expiry. */
export function chainForwards(chain: ChainSnapshot): ExpiryForward[] {
  const byExpiry = groupByExpiry(chain.quotes, (q) => q.instrument.underlying === chain.underlying);
  const out: ExpiryForward[] = [];
  for (const [expiry, quotes] of [...byExpiry].sort((a, b) => a[0] - b[0])) {
    const timeToExpiry = yearFraction(expiry, chain.valuationTime);
    if (!(timeToExpiry > 0)) continue;
    const future = chain.futures?.find((f) => f.expiry === expiry && f.mark > 0);
    const underlyings = quotes
      .map((q) => q.underlyingPrice)
      .filter((u): u is number => typeof u === "number" && u > 0);
    const venue = underlyings.length > 0 ? median(underlyings) : null;
    const marks = markParityForward(quotes);
    if (marks !== null) {
      if (future && Math.abs(future.mark / marks - 1) <= SAME_FORWARD)
        out.push({ expiry, timeToExpiry, forward: future.mark, source: "future" });
      else if (venue !== null && Math.abs(venue / marks - 1) <= SAME_FORWARD)
        out.push({ expiry, timeToExpiry, forward: venue, source: "venue-underlying" });
      else out.push({ expiry, timeToExpiry, forward: marks, source: "put-call-parity" });
      continue;
    }
    if (future) {
      out.push({ expiry, timeToExpiry, forward: future.mark, source: "future" });
      continue;
    }
    if (venue !== null) {
      out.push({ expiry, timeToExpiry, forward: venue, source: "venue-underlying" });
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
