/**
 * A surface through a chain's mark vols, without a fit: per listed expiry, total variance
 * w = vol^2 T linear in k = ln(K/F) between the quoted strikes (out-of-the-money side's mark vol:
 * put below the forward, call at or above; the other side when one is missing), flat beyond the
 * outermost strikes; between expiries linear in total variance at fixed k (interpolate.ts).
 *
 * It is the market model's surface when no fit is wanted (every backtest step and agent tick at
 * replay speed) or when the fit fails: at a quoted (strike, expiry) it returns the mark vol, so
 * the valuation reproduces the chain's marks exactly; elsewhere it interpolates the marks.
 *
 * Units: k = ln(K/F), T in years ACT/365, vols decimal.
 * Example: marks 0.60 at k = -0.1 and 0.50 at k = 0.1 on T = 0.25 give vol(0, 0.25) =
 * sqrt((0.36 + 0.25) / 2) = 0.5523.
 */
import { upperBound } from "../math/search.js";
import type { CleanQuote, MarketSnapshot } from "../market/types.js";
import { type SmileFunction, surfaceFromSmiles } from "./interpolate.js";
import type { VolSurface } from "./types.js";

/** The mark vol of a clean quote: solved from its mark price, else the venue's mark IV; or null. */
export function quoteMarkVol(q: CleanQuote): number | null {
  if (q.markVol !== null && q.markVol > 0) return q.markVol;
  const v = q.markIv;
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : null;
}

/** Piecewise-linear smile in total variance through (k_i, w_i), flat beyond the ends. */
export function linearSmile(expiry: number, ks: readonly number[], ws: readonly number[]): SmileFunction {
  const n = ks.length;
  const k0 = ks[0] ?? Number.NaN;
  const kN = ks[n - 1] ?? Number.NaN;
  // Segment [k_i, k_i+1] holding an interior k: the last node at or left of it.
  const seg = (k: number): number => upperBound(ks, k) - 1;
  const slope = (i: number): number =>
    ((ws[i + 1] ?? Number.NaN) - (ws[i] ?? Number.NaN)) / ((ks[i + 1] ?? Number.NaN) - (ks[i] ?? Number.NaN));
  return {
    expiry,
    totalVariance: (k) => {
      if (n === 1 || k <= k0) return ws[0] ?? Number.NaN;
      if (k >= kN) return ws[n - 1] ?? Number.NaN;
      const i = seg(k);
      const ki = ks[i] ?? Number.NaN;
      const a = (k - ki) / ((ks[i + 1] ?? Number.NaN) - ki);
      return (1 - a) * (ws[i] ?? Number.NaN) + a * (ws[i + 1] ?? Number.NaN);
    },
    firstDerivative: (k) => {
      if (n === 1 || k <= k0 || k >= kN) return 0;
      return slope(seg(k));
    },
    secondDerivative: () => 0,
  };
}

/**
 * Mark vol per (expiry, strike) of a snapshot's quotes, out-of-the-money side first, with the
 * quote's forward (see the module comment).
 */
export function strikeMarkVols(
  snapshot: MarketSnapshot,
): Map<number, Map<number, { readonly vol: number; readonly forward: number }>> {
  const sides = new Map<number, Map<number, { call?: number; put?: number; forward: number }>>();
  for (const q of snapshot.quotes) {
    const v = quoteMarkVol(q);
    if (v === null) continue;
    const e = q.instrument.expiry;
    const byK = sides.get(e) ?? new Map();
    const s = byK.get(q.instrument.strike) ?? { forward: q.forward };
    s[q.instrument.kind] = v;
    byK.set(q.instrument.strike, s);
    sides.set(e, byK);
  }
  const out = new Map<number, Map<number, { vol: number; forward: number }>>();
  for (const [e, byK] of sides) {
    const m = new Map<number, { vol: number; forward: number }>();
    for (const [K, s] of byK)
      m.set(K, {
        vol: (K < s.forward ? (s.put ?? s.call) : (s.call ?? s.put)) as number,
        forward: s.forward,
      });
    out.set(e, m);
  }
  return out;
}

/** The surface through the snapshot's marks (module comment), or null when no quote has a mark vol. */
export function markSurface(snapshot: MarketSnapshot): VolSurface | null {
  const marks = strikeMarkVols(snapshot);
  const smiles: SmileFunction[] = [];
  for (const f of snapshot.forwards) {
    const byK = marks.get(f.expiry);
    if (!byK || byK.size === 0) continue;
    const T = f.timeToExpiry;
    const nodes = [...byK]
      .map(([K, m]) => ({ k: Math.log(K / f.forward), w: m.vol * m.vol * T }))
      .sort((a, b) => a.k - b.k);
    smiles.push(
      linearSmile(
        T,
        nodes.map((n) => n.k),
        nodes.map((n) => n.w),
      ),
    );
  }
  return smiles.length > 0 ? surfaceFromSmiles("chain-marks", smiles) : null;
}
