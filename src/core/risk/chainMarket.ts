/**
 * A book valued on a loaded option chain: the RiskMarket of one or more normalized chains
 * (market/normalize.ts) and their fitted surfaces, and which positions that market can value.
 *
 * Market per underlying: index = the chain's index price; forwards = the chain's forward per
 * listed expiry (market/forwards.ts: the forward the expiry's call/put marks imply by put-call
 * parity, then a future mark, the venue underlying price, parity on mids, the index); surface =
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
 *                             (no forward or smile to interpolate; nothing is extrapolated); a
 *                             vol-index future also needs its index window (expiry + 30 days)
 *                             inside the listed expiries, a forward-starting variance swap its start
 *   no-fixings                a started variance swap on a market without index fixings
 * Perpetuals are valued at the index.
 *
 * Units: times epoch ms UTC, T = timeToExpiry(expiry, valuationTime), vols decimal, USD.
 */
import { InvalidInputError } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { DVOL_FUTURE_SPEC } from "../instruments/volInstruments.js";
import { lowerBoundBy, upperBoundBy } from "../math/search.js";
import type { NormalizedChain } from "../market/normalize.js";
import { type NormalizeOptions, normalizeChain } from "../market/normalize.js";
import type { ChainSnapshot, MarketSnapshot } from "../market/types.js";
import { calibrateSurfaceFromQuotes, type SurfaceModel } from "../surface/calibrate.js";
import { markSurface, quoteMarkVol, strikeMarkVols } from "../surface/markSurface.js";
import type { VolSurface } from "../surface/types.js";
import {
  forwardAtExpiry,
  type RiskMarket,
  riskMarketFromSnapshots,
  type UnderlyingMarket,
} from "./market.js";
import { DAY_MS, timeToExpiry } from "../time.js";

/** Why a position is left out of a chain market's figures. */
export type ChainExclusionReason =
  | "underlying-not-in-market"
  | "expired"
  | "outside-expiry-range"
  /** A variance swap already started, on a market without the index fixings it has accrued. */
  | "no-fixings";

/**
 * What a chain does not carry but variance swaps and vol-index futures need (volValuation.ts),
 * per underlying: the index's daily fixings and the vol of variance for the future's convexity.
 */
export interface VolMarketInputs {
  readonly indexFixings?: UnderlyingMarket["indexFixings"];
  readonly volOfVariance?: number;
  readonly volMeanReversion?: number;
}

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

/**
 * The fitted surface pinned to the chain's marks (see the module comment). Exact at every
 * quoted (strike, listed expiry) of `snapshot`.
 */
export function markPinnedSurface(fitted: VolSurface, snapshot: MarketSnapshot): VolSurface {
  const marks = strikeMarkVols(snapshot);
  const slices: { T: number; nodes: Node[] }[] = [];
  for (const f of snapshot.forwards) {
    const byK = marks.get(f.expiry);
    if (!byK || byK.size === 0) continue;
    const T = f.timeToExpiry;
    const nodes = [...byK]
      .map(([K, m]) => {
        const k = Math.log(K / f.forward);
        return { k, vol: m.vol - fitted.impliedVol(k, T) };
      })
      .filter((n) => Number.isFinite(n.vol))
      .sort((a, b) => a.k - b.k);
    if (nodes.length > 0) slices.push({ T, nodes });
  }
  slices.sort((a, b) => a.T - b.T);
  const residual = (k: number, T: number): number => {
    const s = slices[lowerBoundBy(slices, T - T_TOL, (x) => x.T)];
    return s !== undefined && Math.abs(s.T - T) <= T_TOL ? interpolate(s.nodes, k) : 0;
  };
  const impliedVol = (k: number, T: number) => Math.max(fitted.impliedVol(k, T) + residual(k, T), 1e-4);
  return {
    model: `${fitted.model}+marks`,
    impliedVol,
    totalVariance: (k, T) => impliedVol(k, T) ** 2 * T,
  };
}

function interpolate(nodes: readonly Node[], k: number): number {
  // the node at or left of k and the one right of it; flat beyond the end nodes
  const hi = upperBoundBy(nodes, k, (x) => x.k);
  const a = nodes[hi - 1];
  const b = nodes[hi];
  if (a === undefined) return b?.vol ?? 0;
  if (b === undefined) return a.vol;
  const w = (k - a.k) / (b.k - a.k);
  return (1 - w) * a.vol + w * b.vol;
}

const iso = (t: number) => new Date(t).toISOString();

/** The market with each underlying's VolMarketInputs added (fields absent stay absent). */
function withVolInputs(market: RiskMarket, volInputs: Readonly<Record<string, VolMarketInputs>>): RiskMarket {
  const underlyings: Record<string, UnderlyingMarket> = { ...market.underlyings };
  for (const [u, extra] of Object.entries(volInputs)) {
    const m = underlyings[u];
    if (!m) continue;
    underlyings[u] = {
      ...m,
      ...(extra.indexFixings !== undefined ? { indexFixings: extra.indexFixings } : {}),
      ...(extra.volOfVariance !== undefined ? { volOfVariance: extra.volOfVariance } : {}),
      ...(extra.volMeanReversion !== undefined ? { volMeanReversion: extra.volMeanReversion } : {}),
    };
  }
  return { valuationTime: market.valuationTime, underlyings };
}

/** Each underlying's first and last quoted strike per expiry (where the variance log contract goes flat). */
function withListedStrikes(market: RiskMarket, snapshots: readonly MarketSnapshot[]): RiskMarket {
  const underlyings: Record<string, UnderlyingMarket> = { ...market.underlyings };
  for (const s of snapshots) {
    const m = underlyings[s.underlying];
    if (!m) continue;
    const byExpiry = new Map<number, { expiry: number; first: number; last: number }>();
    for (const q of s.quotes) {
      if (q.instrument.underlying !== s.underlying) continue;
      const { expiry, strike } = q.instrument;
      const r = byExpiry.get(expiry) ?? { expiry, first: strike, last: strike };
      byExpiry.set(expiry, { expiry, first: Math.min(r.first, strike), last: Math.max(r.last, strike) });
    }
    const listedStrikes = [...byExpiry.values()].sort((a, b) => a.expiry - b.expiry);
    if (listedStrikes.length > 0) underlyings[s.underlying] = { ...m, listedStrikes };
  }
  return { valuationTime: market.valuationTime, underlyings };
}

/** Why a dated position cannot be valued on the chain (see the module comment), or null. */
function chainExclusion(
  p: Position,
  s: MarketSnapshot,
  t: number,
  vol: VolMarketInputs | undefined,
): { reason: ChainExclusionReason; detail: string } | null {
  const ins = p.instrument;
  if (ins.expiry === null) return null;
  if (ins.expiry <= t)
    return {
      reason: "expired",
      detail: `expiry ${iso(ins.expiry)} is not after the chain's valuation time ${iso(t)}`,
    };
  const first = s.forwards[0]?.expiry;
  const last = s.forwards[s.forwards.length - 1]?.expiry;
  if (first === undefined || last === undefined)
    return {
      reason: "outside-expiry-range",
      detail: `the ${ins.underlying} chain lists no expiry after ${iso(t)}`,
    };
  // The last instant the leg's value reads the surface at: a DVOL future's index window end.
  const end =
    ins.type === "volIndexFuture"
      ? ins.expiry + (ins.indexDays ?? DVOL_FUTURE_SPEC.indexDays) * DAY_MS
      : ins.expiry;
  if (ins.expiry < first || end > last)
    return {
      reason: "outside-expiry-range",
      detail: `${end === ins.expiry ? "expiry" : "index window end"} ${iso(end)} outside the chain's listed expiries ${iso(first)} .. ${iso(last)}`,
    };
  if (ins.type === "varianceSwap" && ins.start < t && !vol?.indexFixings)
    return {
      reason: "no-fixings",
      detail: `${ins.name} started ${iso(ins.start)}: the market carries no ${ins.underlying} index fixings`,
    };
  return null;
}

/**
 * The RiskMarket of the loaded chains (one per underlying, one valuation time) and the split of
 * `positions` into those it values and those it cannot (see the module comment).
 */
export function chainRiskMarket(
  inputs: readonly ChainMarketInput[],
  positions: readonly Position[],
  volInputs: Readonly<Record<string, VolMarketInputs>> = {},
): ChainBookValuation {
  if (inputs.length === 0) throw new InvalidInputError("chains", "[]", "must not be empty");
  const snapshots = inputs.map((i) => ({
    ...i.normalized.snapshot,
    surface: markPinnedSurface(i.fitted, i.normalized.snapshot),
  }));
  const market = withListedStrikes(withVolInputs(riskMarketFromSnapshots(snapshots), volInputs), snapshots);
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
    const why = chainExclusion(p, entry.s, t, volInputs[ins.underlying]);
    if (why) {
      excluded.push({ position: p, ...why });
      continue;
    }
    const { s } = entry;
    accepted.push(p);
    if (ins.type !== "option") continue;
    const um = market.underlyings[ins.underlying] as RiskMarket["underlyings"][string];
    const F = forwardAtExpiry(um, t, ins.expiry);
    const T = timeToExpiry(ins.expiry, t);
    const sameStrike = s.quotes.filter(
      (q) =>
        q.instrument.expiry === ins.expiry && q.instrument.strike === ins.strike && quoteMarkVol(q) !== null,
    );
    const own = sameStrike.find((q) => q.instrument.kind === ins.kind);
    const listed = s.quotes.some((q) => q.instrument.expiry === ins.expiry && quoteMarkVol(q) !== null);
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
      ownMarkVol: own ? quoteMarkVol(own) : null,
      ...(sameStrike.length === 0 && rej ? { rejectedQuote: `${rej.reason}: ${rej.detail}` } : {}),
    });
  }
  return { market, accepted, excluded, options };
}

/** How the market model's surface is obtained from a chain. */
export type ChainSurfacePolicy =
  /** Fit `surfaceModel` to the clean quotes, then pin it to the marks (markPinnedSurface). */
  | "fit"
  /** No fit: the surface through the marks (surface/markSurface.ts); the backtest and agent at speed. */
  | "marks";

export interface ChainMarketOptions {
  /** Default "fit". A fit that fails falls back to "marks", said in the input's `note`. */
  readonly surface?: ChainSurfacePolicy;
  /** Default "svi-af" (calibrateSurfaceFromQuotes' default: free of static arbitrage). */
  readonly surfaceModel?: SurfaceModel;
  readonly normalize?: NormalizeOptions;
}

/** A chain left out of the market, and why. */
export interface ChainLeftOut {
  readonly underlying: string;
  readonly reason: "time-differs" | "no-marks" | "duplicate-underlying";
  readonly detail: string;
}

export interface ChainMarketInputs {
  readonly inputs: (ChainMarketInput & { readonly surfaceSource: string; readonly note?: string })[];
  readonly leftOut: ChainLeftOut[];
}

/**
 * THE chain -> market step (DESIGN.md: one market model): every entry point (CLI risk, stress,
 * margin, optimize, the demo, a backtest step, an agent tick) turns its chains into market inputs
 * here, then values books with chainRiskMarket. Each chain is normalized (market/normalize.ts:
 * forwards per expiry by one stated policy, quote cleaning, vols at the quote's own forward) and
 * given a surface by `options.surface`. All chains must share the first chain's valuation time
 * (others are left out, with the reason); one chain per underlying.
 */
export function chainMarketInputs(
  chains: readonly ChainSnapshot[],
  options: ChainMarketOptions = {},
): ChainMarketInputs {
  const inputs: ChainMarketInputs["inputs"] = [];
  const leftOut: ChainLeftOut[] = [];
  const t = chains[0]?.valuationTime ?? Number.NaN; // no chain: the loop does not run
  for (const chain of chains) {
    if (chain.valuationTime !== t) {
      leftOut.push({
        underlying: chain.underlying,
        reason: "time-differs",
        detail: `${chain.underlying} chain at ${iso(chain.valuationTime)} differs from the market's ${iso(t)}`,
      });
      continue;
    }
    if (inputs.some((i) => i.normalized.snapshot.underlying === chain.underlying)) {
      leftOut.push({
        underlying: chain.underlying,
        reason: "duplicate-underlying",
        detail: `a second ${chain.underlying} chain; the first is used`,
      });
      continue;
    }
    const normalized = normalizeChain(chain, options.normalize);
    const input = chainMarketInputFromNormalized(normalized, options);
    if (input) inputs.push(input);
    else
      leftOut.push({
        underlying: chain.underlying,
        reason: "no-marks",
        detail: `no ${chain.underlying} quote has a mark vol (${normalized.counts.accepted} of ${normalized.counts.input} quotes clean)`,
      });
  }
  return { inputs, leftOut };
}

/**
 * The market input of one normalized chain under `options.surface` (see chainMarketInputs), or
 * null when no quote has a mark vol. Deterministic: the same normalized chain and options give the
 * same surface, so a worker thread handed the normalized chain (plain data) rebuilds the very
 * market the caller values on (adapters/riskWorkers.ts).
 */
export function chainMarketInputFromNormalized(
  normalized: NormalizedChain,
  options: ChainMarketOptions = {},
): ChainMarketInputs["inputs"][number] | null {
  const marks = markSurface(normalized.snapshot);
  if ((options.surface ?? "fit") === "fit") {
    const res = calibrateSurfaceFromQuotes(normalized.snapshot.quotes, {
      model: options.surfaceModel ?? "svi-af",
    });
    if (res.fit.ok) return { normalized, fitted: res.fit.value.surface, surfaceSource: res.fit.value.model };
    if (marks)
      return {
        normalized,
        fitted: marks,
        surfaceSource: "chain-marks",
        note: `${normalized.snapshot.underlying} surface fit failed (${res.fit.message}); the surface through the chain's marks is used`,
      };
    return null;
  }
  return marks ? { normalized, fitted: marks, surfaceSource: "chain-marks" } : null;
}

/**
 * A book valued on chains in one call: chainMarketInputs then chainRiskMarket. Throws an
 * InvalidInputError when no chain gives a market.
 */
export function chainBookMarket(
  chains: readonly ChainSnapshot[],
  positions: readonly Position[],
  options: ChainMarketOptions = {},
): ChainBookValuation & { readonly inputs: ChainMarketInputs["inputs"]; readonly leftOut: ChainLeftOut[] } {
  const built = chainMarketInputs(chains, options);
  if (built.inputs.length === 0)
    throw new InvalidInputError(
      "chains",
      chains.map((c) => c.underlying).join(", "),
      `give no market: ${built.leftOut.map((l) => l.detail).join("; ") || "no chain"}`,
    );
  return { ...chainRiskMarket(built.inputs, positions), inputs: built.inputs, leftOut: built.leftOut };
}
