/**
 * A book valued on a loaded option chain: the RiskMarket of one or more normalized chains
 * (market/normalize.ts) and their fitted surfaces, and which positions that market can value.
 *
 * Market per underlying: index = the chain's index price; forwards = the chain's forward per
 * listed expiry (market/forwards.ts: future mark, venue underlying price, parity); surface =
 * the fitted surface pinned to the chain's marks ("marked surface"):
 *   vol(k, T) = fitted(k, T) + r_e(k)  when T is a listed expiry e (|T - T_e| <= 1e-9 years),
 *   vol(k, T) = fitted(k, T)           otherwise (an expiry the chain does not list),
 * where r_e is the mark residual (mark vol - fitted vol) at each quoted strike of e,
 * interpolated linearly in k between quoted strikes and held flat beyond the outermost ones.
 * A quoted strike's node uses the out-of-the-money side's mark vol (put below the forward, call
 * at or above; the other side when one is missing): at a quoted (strike, expiry) the risk engine
 * then prices every option at that mark vol, so its value is the chain's mark (Black-76 on the
 * chain forward) and its greeks are Black-76 greeks at the mark vol. An in-the-money option takes
 * its strike's out-of-the-money mark vol (put-call parity; Deribit marks both sides at one IV).
 * Mark vol = the vol solved from the mark price (CleanQuote.markVol), else the venue's mark IV.
 * Why residuals rather than isolated points: sticky-moneyness stresses read the surface at a
 * moved k; the interpolated residual keeps that read on the marks instead of jumping to the fit.
 *
 * Which positions are valued (accepted + excluded = positions, always):
 *   underlying-not-in-market  no chain for the position's underlying
 *   expired                   expiry at or before the chain's valuation time
 *   outside-expiry-range      dated, expiry before the first or after the last listed expiry
 *                             (no forward or smile to interpolate; nothing is extrapolated)
 * Perpetuals are valued at the index.
 *
 * Units: times epoch ms UTC, T = (expiry - valuationTime) / RISK_YEAR_MS, vols decimal, USD.
 */
import { InvalidInputError } from "../errors.js";
import type { Position } from "../instruments/types.js";
import type { NormalizedChain } from "../market/normalize.js";
import type { CleanQuote, MarketSnapshot } from "../market/types.js";
import type { VolSurface } from "../surface/types.js";
import { forwardAtExpiry, RISK_YEAR_MS, type RiskMarket, riskMarketFromSnapshots } from "./market.js";

/** Why a position is left out of a chain market's figures. */
export type ChainExclusionReason = "underlying-not-in-market" | "expired" | "outside-expiry-range";

export interface ChainExcludedPosition {
  readonly position: Position;
  readonly reason: ChainExclusionReason;
  /** One line naming the values, e.g. "expiry 2026-03-27T08:00:00Z is not after ...". */
  readonly detail: string;
}

/** Where an accepted option's vol comes from. */
export type ChainVolSource = "chain-mark" | "fitted-surface" | "fitted-surface+mark-residual";

export interface ChainOptionVol {
  readonly name: string;
  /** Forward of the option's expiry, USD. */
  readonly forward: number;
  /** Vol the risk engine uses at (ln(K/F), T), decimal. */
  readonly vol: number;
  readonly source: ChainVolSource;
  /** Mark vol of this very instrument in the chain (same expiry, strike, kind), or null. */
  readonly ownMarkVol: number | null;
  /** Set when the chain quoted the strike but normalization rejected it (reason: detail). */
  readonly rejectedQuote?: string;
}

export interface ChainBookValuation {
  readonly market: RiskMarket;
  readonly accepted: Position[];
  readonly excluded: ChainExcludedPosition[];
  /** One per accepted option, in book order. */
  readonly options: ChainOptionVol[];
}

/** One underlying's loaded chain: the normalized chain and the surface fitted to its quotes. */
export interface ChainMarketInput {
  readonly normalized: NormalizedChain;
  readonly fitted: VolSurface;
}

/** Expiry-match tolerance in years (about 30 ms). */
const T_TOL = 1e-9;

interface Node {
  readonly k: number;
  readonly vol: number;
}

const markVolOf = (q: CleanQuote): number | null => {
  if (q.markVol !== null && q.markVol > 0) return q.markVol;
  const v = q.markIv;
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : null;
};

/** Mark vol per (expiry, strike), out-of-the-money side first. */
function strikeMarks(snapshot: MarketSnapshot): Map<number, Map<number, number>> {
  const sides = new Map<number, Map<number, { call?: number; put?: number; forward: number }>>();
  for (const q of snapshot.quotes) {
    const v = markVolOf(q);
    if (v === null) continue;
    const e = q.instrument.expiry;
    const byK = sides.get(e) ?? new Map();
    const s = byK.get(q.instrument.strike) ?? { forward: q.forward };
    s[q.instrument.kind] = v;
    byK.set(q.instrument.strike, s);
    sides.set(e, byK);
  }
  const out = new Map<number, Map<number, number>>();
  for (const [e, byK] of sides) {
    const m = new Map<number, number>();
    for (const [K, s] of byK) m.set(K, (K < s.forward ? (s.put ?? s.call) : (s.call ?? s.put)) as number);
    out.set(e, m);
  }
  return out;
}

/**
 * The fitted surface pinned to the chain's marks (see the module comment). Exact at every
 * quoted (strike, listed expiry) of `snapshot`.
 */
export function markPinnedSurface(fitted: VolSurface, snapshot: MarketSnapshot): VolSurface {
  const marks = strikeMarks(snapshot);
  const slices: { T: number; nodes: Node[] }[] = [];
  for (const f of snapshot.forwards) {
    const byK = marks.get(f.expiry);
    if (!byK || byK.size === 0) continue;
    const T = f.timeToExpiry;
    const nodes = [...byK]
      .map(([K, vol]) => {
        const k = Math.log(K / f.forward);
        return { k, vol: vol - fitted.impliedVol(k, T) };
      })
      .filter((n) => Number.isFinite(n.vol))
      .sort((a, b) => a.k - b.k);
    if (nodes.length > 0) slices.push({ T, nodes });
  }
  slices.sort((a, b) => a.T - b.T);
  const residual = (k: number, T: number): number => {
    let lo = 0;
    let hi = slices.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = slices[mid] as { T: number; nodes: Node[] };
      if (Math.abs(s.T - T) <= T_TOL) return interpolate(s.nodes, k);
      if (s.T < T) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  };
  const impliedVol = (k: number, T: number) => Math.max(fitted.impliedVol(k, T) + residual(k, T), 1e-4);
  return {
    model: `${fitted.model}+marks`,
    impliedVol,
    totalVariance: (k, T) => impliedVol(k, T) ** 2 * T,
  };
}

function interpolate(nodes: readonly Node[], k: number): number {
  const n = nodes.length;
  const first = nodes[0] as Node;
  const last = nodes[n - 1] as Node;
  if (n === 1 || k <= first.k) return first.vol;
  if (k >= last.k) return last.vol;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((nodes[mid] as Node).k <= k) lo = mid;
    else hi = mid;
  }
  const a = nodes[lo] as Node;
  const b = nodes[hi] as Node;
  const w = (k - a.k) / (b.k - a.k);
  return (1 - w) * a.vol + w * b.vol;
}

const iso = (t: number) => new Date(t).toISOString();

/**
 * The RiskMarket of the loaded chains (one per underlying, one valuation time) and the split of
 * `positions` into those it values and those it cannot (see the module comment).
 */
export function chainRiskMarket(
  inputs: readonly ChainMarketInput[],
  positions: readonly Position[],
): ChainBookValuation {
  if (inputs.length === 0) throw new InvalidInputError("chains", "[]", "must not be empty");
  const snapshots = inputs.map((i) => ({
    ...i.normalized.snapshot,
    surface: markPinnedSurface(i.fitted, i.normalized.snapshot),
  }));
  const market = riskMarketFromSnapshots(snapshots);
  const t = market.valuationTime;
  const bySnapshot = new Map(snapshots.map((s, i) => [s.underlying, { s, input: inputs[i] }]));
  const accepted: Position[] = [];
  const excluded: ChainExcludedPosition[] = [];
  const options: ChainOptionVol[] = [];
  for (const p of positions) {
    const ins = p.instrument;
    const entry = bySnapshot.get(ins.underlying);
    if (!entry) {
      excluded.push({
        position: p,
        reason: "underlying-not-in-market",
        detail: `no ${ins.underlying} chain in the loaded market (${[...bySnapshot.keys()].join(", ")})`,
      });
      continue;
    }
    const { s } = entry;
    if (ins.expiry !== null) {
      if (ins.expiry <= t) {
        excluded.push({
          position: p,
          reason: "expired",
          detail: `expiry ${iso(ins.expiry)} is not after the chain's valuation time ${iso(t)}`,
        });
        continue;
      }
      const first = s.forwards[0]?.expiry;
      const last = s.forwards[s.forwards.length - 1]?.expiry;
      if (first === undefined || last === undefined || ins.expiry < first || ins.expiry > last) {
        excluded.push({
          position: p,
          reason: "outside-expiry-range",
          detail:
            first === undefined || last === undefined
              ? `the ${ins.underlying} chain lists no expiry after ${iso(t)}`
              : `expiry ${iso(ins.expiry)} outside the chain's listed expiries ${iso(first)} .. ${iso(last)}`,
        });
        continue;
      }
    }
    accepted.push(p);
    if (ins.type !== "option") continue;
    const um = market.underlyings[ins.underlying] as RiskMarket["underlyings"][string];
    const F = forwardAtExpiry(um, t, ins.expiry);
    const T = (ins.expiry - t) / RISK_YEAR_MS;
    const sameStrike = s.quotes.filter(
      (q) =>
        q.instrument.expiry === ins.expiry && q.instrument.strike === ins.strike && markVolOf(q) !== null,
    );
    const own = sameStrike.find((q) => q.instrument.kind === ins.kind);
    const listed = s.quotes.some((q) => q.instrument.expiry === ins.expiry && markVolOf(q) !== null);
    const source: ChainVolSource =
      sameStrike.length > 0 ? "chain-mark" : listed ? "fitted-surface+mark-residual" : "fitted-surface";
    const rej = entry.input?.normalized.rejected.find(
      (r) => r.quote.instrument.expiry === ins.expiry && r.quote.instrument.strike === ins.strike,
    );
    options.push({
      name: ins.name,
      forward: F,
      vol: um.surface.impliedVol(Math.log(ins.strike / F), T),
      source,
      ownMarkVol: own ? markVolOf(own) : null,
      ...(sameStrike.length === 0 && rej ? { rejectedQuote: `${rej.reason}: ${rej.detail}` } : {}),
    });
  }
  return { market, accepted, excluded, options };
}
