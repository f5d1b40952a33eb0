/**
 * Quotes grouped by expiry: the one grouping the forwards (forwards.ts chainForwards), the DVOL
 * method (volindex/dvol.ts) and the backtest's chain source (backtest/market.ts) all start from.
 */

/** Anything quoted on a dated option contract. */
export interface ExpiryQuoted {
  readonly instrument: { readonly underlying: string; readonly expiry: number };
}

/**
 * The quotes `keep` accepts, grouped by expiry (epoch ms). Groups keep the quotes' order; the map
 * keeps each expiry's first appearance (sort its keys or entries for expiry order).
 */
export function groupByExpiry<Q extends ExpiryQuoted>(
  quotes: Iterable<Q>,
  keep: (q: Q) => boolean = () => true,
): Map<number, Q[]> {
  const byExpiry = new Map<number, Q[]>();
  for (const q of quotes) {
    if (!keep(q)) continue;
    const list = byExpiry.get(q.instrument.expiry);
    if (list) list.push(q);
    else byExpiry.set(q.instrument.expiry, [q]);
  }
  return byExpiry;
}

/**
 * The expiry (epoch ms) of `expiries` closest to `target` among those at least `minAheadMs` after
 * `now`; on a tie the first one listed wins; null when none qualifies. The one "expiry nearest a
 * tenor" rule of the strategies, the variance-swap strip and basket, and the DVOL-future roll.
 */
export function nearestExpiry(
  expiries: Iterable<number>,
  now: number,
  target: number,
  minAheadMs: number,
): number | null {
  let best: number | null = null;
  for (const e of expiries)
    if (e - now >= minAheadMs && (best === null || Math.abs(e - target) < Math.abs(best - target))) best = e;
  return best;
}
