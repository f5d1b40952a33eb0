/**
 * A plain reference of the Cboe VIX calculation, written from the white paper's steps (Cboe VIX
 * White Paper 2019, "The VIX Index Calculation: Step-by-Step"; current methodology, Appendix 3),
 * for tests only: no sorting tricks, no shared helpers with src/core/volindex. Checked itself
 * against both published worked examples (test/core/volindex/vix.test.ts), then used as the
 * reference of the fast implementation on random strips and on a real chain.
 *
 *   sigma^2 = (2/T) sum dK_i / K_i^2 e^{RT} Q(K_i) - (1/T) (F/K0 - 1)^2
 */

/** One listed strike: bid/ask of the call and the put (null: no quote). */
export interface ReferenceStrike {
  readonly strike: number;
  readonly callBid: number | null;
  readonly callAsk: number | null;
  readonly putBid: number | null;
  readonly putAsk: number | null;
}

const midOf = (bid: number | null, ask: number | null): number | null =>
  bid === null || ask === null ? null : (bid + ask) / 2;

/** sigma^2 of one expiry, or null when no strip can be formed. `forward` replaces the parity forward. */
export function referenceVariance(
  rows: readonly ReferenceStrike[],
  T: number,
  options: { rate?: number; forward?: number } = {},
): { forward: number; k0: number; variance: number } | null {
  const r = [...rows].sort((a, b) => a.strike - b.strike);
  const growth = Math.exp((options.rate ?? 0) * T);
  // Step 1: F from put-call parity at the strike where |call mid - put mid| is smallest (first one on ties).
  let forward = options.forward ?? Number.NaN;
  if (options.forward === undefined) {
    let smallest = Number.POSITIVE_INFINITY;
    for (const row of r) {
      const c = midOf(row.callBid, row.callAsk);
      const p = midOf(row.putBid, row.putAsk);
      if (c === null || p === null) continue;
      if (Math.abs(c - p) < smallest) {
        smallest = Math.abs(c - p);
        forward = row.strike + growth * (c - p);
      }
    }
  }
  // K0: the last strike at or below F.
  let k = -1;
  for (let i = 0; i < r.length; i++) if ((r[i]?.strike ?? Number.POSITIVE_INFINITY) <= forward) k = i;
  if (k < 0) return null;
  // Out-of-the-money puts below K0 and calls above, walking away from K0: a zero (or missing) bid is
  // skipped, two in a row end the walk.
  const strip: { strike: number; q: number }[] = [];
  let zeros = 0;
  for (let i = k - 1; i >= 0 && zeros < 2; i--) {
    const row = r[i] as ReferenceStrike;
    if (row.putBid === null || row.putBid <= 0) zeros++;
    else {
      zeros = 0;
      const q = midOf(row.putBid, row.putAsk);
      if (q !== null) strip.unshift({ strike: row.strike, q });
    }
  }
  const atK0 = r[k] as ReferenceStrike;
  const c0 = midOf(atK0.callBid, atK0.callAsk);
  const p0 = midOf(atK0.putBid, atK0.putAsk);
  const q0 = c0 !== null && p0 !== null ? (c0 + p0) / 2 : (c0 ?? p0);
  if (q0 !== null) strip.push({ strike: atK0.strike, q: q0 });
  zeros = 0;
  for (let i = k + 1; i < r.length && zeros < 2; i++) {
    const row = r[i] as ReferenceStrike;
    if (row.callBid === null || row.callBid <= 0) zeros++;
    else {
      zeros = 0;
      const q = midOf(row.callBid, row.callAsk);
      if (q !== null) strip.push({ strike: row.strike, q });
    }
  }
  if (strip.length < 2) return null;
  // Step 2: dK is half the gap between the strip's neighbours, one-sided at its two ends.
  let sum = 0;
  for (let i = 0; i < strip.length; i++) {
    const here = strip[i] as { strike: number; q: number };
    const below = i > 0 ? (strip[i - 1] as { strike: number }).strike : here.strike;
    const above = i < strip.length - 1 ? (strip[i + 1] as { strike: number }).strike : here.strike;
    const dK =
      i === 0 ? above - here.strike : i === strip.length - 1 ? here.strike - below : (above - below) / 2;
    sum += (dK / (here.strike * here.strike)) * growth * here.q;
  }
  const k0 = atK0.strike;
  return { forward, k0, variance: (2 / T) * sum - (forward / k0 - 1) ** 2 / T };
}

/**
 * Step 3: the index at `target` years from the two expiries bracketing it (near <= target < next),
 * linear in total variance, 100 x the square root of the annualized result.
 */
export function referenceIndex(points: readonly { T: number; variance: number }[], target: number): number {
  const sorted = [...points].sort((a, b) => a.T - b.T);
  const near = [...sorted].reverse().find((p) => p.T <= target);
  const next = sorted.find((p) => p.T > target);
  if (!near || !next) return Number.NaN;
  const w = (next.T - target) / (next.T - near.T);
  const total = w * near.T * near.variance + (1 - w) * next.T * next.variance;
  return 100 * Math.sqrt(total / target);
}
