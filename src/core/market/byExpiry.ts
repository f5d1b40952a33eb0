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
