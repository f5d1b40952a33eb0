/**
 * Calibration input: quotes grouped into expiry slices, and the adapter from cleaned market
 * quotes (CleanQuote). Every input quote is either accepted into a slice or rejected with a
 * reason code (accepted + rejected = input).
 *
 * Units: k = ln(K/F); vols decimal annualized; T (expiry) in years ACT/365; forward and strike
 * in USD; bidPrice/askPrice in the instrument's quote currency (coin for inverse, USD for linear).
 */
import { InvalidInputError } from "../errors.js";
import type { CleanQuote } from "../market/types.js";

/** One quote of a slice. `targetVol` is the vol the fit aims at (mid, or mark when one-sided). */
export interface SurfaceQuote {
  /** Log-moneyness ln(K/F). */
  readonly k: number;
  readonly bidVol: number | null;
  readonly askVol: number | null;
  /** Vol the fit targets, decimal. */
  readonly targetVol: number;
  /** Where targetVol comes from: mid of bid/ask vols, or the venue mark vol (one-sided quote). */
  readonly source: "mid" | "mark";
  /** Optional fixed weight (used with weighting "given"). */
  readonly weight?: number;
  /** Optional instrument metadata (used by the rich/cheap report). */
  readonly name?: string;
  readonly kind?: "call" | "put";
  /** Strike, USD. */
  readonly strike?: number;
  readonly settlement?: "inverse" | "linear";
  /** Prices in the quote currency (coin for inverse, USD for linear); null if missing. */
  readonly bidPrice?: number | null;
  readonly askPrice?: number | null;
}

/** The quotes of one expiry. */
export interface SurfaceSlice {
  /** Time to expiry, years ACT/365. */
  readonly expiry: number;
  /** Forward, USD. */
  readonly forward: number;
  /** Expiry instant, epoch ms UTC, if known. */
  readonly expiryTime?: number;
  readonly quotes: readonly SurfaceQuote[];
}

export type QuoteRejectionReason =
  | "expired"
  | "no-vol"
  | "crossed"
  | "itm-duplicate"
  | "far-wing-one-sided"
  | "non-finite";

export interface QuoteRejection {
  /** Index in the input array. */
  readonly index: number;
  readonly name: string;
  readonly reason: QuoteRejectionReason;
}

export interface SliceBuildResult {
  readonly slices: SurfaceSlice[];
  readonly accepted: number;
  readonly rejected: QuoteRejection[];
}

export interface SliceBuildOptions {
  /**
   * Keep only the out-of-the-money quote at a strike that has both (default true): the ITM one is
   * rejected as "itm-duplicate" when the OTM one is usable.
   */
  readonly otmOnly?: boolean;
  /** Accept one-sided quotes at the venue mark vol (default true). */
  readonly useMarkWhenOneSided?: boolean;
  /**
   * Reject one-sided (mark-vol) quotes farther than this many ATM standard deviations
   * (|k| > n * atmVol * sqrt(T)) as "far-wing-one-sided" (default 6; Infinity keeps them): there the
   * venue mark is its own extrapolation, not market information.
   */
  readonly farWingStdDevs?: number;
}

const finitePos = (x: number | null | undefined): x is number =>
  typeof x === "number" && Number.isFinite(x) && x > 0;

/** A usable quote on its way into a slice: its index in the input, the cleaned quote and the slice quote. */
interface Pending {
  readonly index: number;
  readonly q: CleanQuote;
  readonly sq: SurfaceQuote;
}

/**
 * The slice quote of q, or null after recording why it is not usable in `rejected`: non-finite
 * inputs, expired, crossed bid/ask vols, or no vol (no two-sided vols and no mark vol to use).
 */
function usableQuote(
  q: CleanQuote,
  index: number,
  useMark: boolean,
  rejected: QuoteRejection[],
): Pending | null {
  const name = q.instrument?.name ?? `#${index}`;
  if (!(Number.isFinite(q.timeToExpiry) && Number.isFinite(q.logMoneyness) && finitePos(q.forward))) {
    rejected.push({ index, name, reason: "non-finite" });
    return null;
  }
  if (!(q.timeToExpiry > 0)) {
    rejected.push({ index, name, reason: "expired" });
    return null;
  }
  const bid = finitePos(q.bidVol) ? q.bidVol : null;
  const ask = finitePos(q.askVol) ? q.askVol : null;
  let target: number | null = null;
  let source: "mid" | "mark" = "mid";
  if (bid !== null && ask !== null) {
    if (bid > ask) {
      rejected.push({ index, name, reason: "crossed" });
      return null;
    }
    target = 0.5 * (bid + ask);
  } else if (useMark && finitePos(q.markVol)) {
    target = q.markVol;
    source = "mark";
  }
  if (target === null) {
    rejected.push({ index, name, reason: "no-vol" });
    return null;
  }
  return {
    index,
    q,
    sq: {
      k: q.logMoneyness,
      bidVol: bid,
      askVol: ask,
      targetVol: target,
      source,
      name,
      kind: q.instrument.kind,
      strike: q.instrument.strike,
      settlement: q.instrument.settlement,
      bidPrice: q.bid,
      askPrice: q.ask,
    },
  };
}

/** Groups by expiry instant (falls back to T when the instrument has none), in first-seen order. */
function groupByExpiry(usable: readonly Pending[]): Map<number, Pending[]> {
  const groups = new Map<number, Pending[]>();
  for (const p of usable) {
    const key = Number.isFinite(p.q.instrument?.expiry) ? p.q.instrument.expiry : p.q.timeToExpiry;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  return groups;
}

/** At each strike that has an out-of-the-money quote, drops the in-the-money ones as "itm-duplicate". */
function otmOnlyQuotes(group: readonly Pending[], rejected: QuoteRejection[]): Pending[] {
  const byStrike = new Map<number, Pending[]>();
  for (const p of group) {
    const s = p.q.instrument.strike;
    const list = byStrike.get(s);
    if (list) list.push(p);
    else byStrike.set(s, [p]);
  }
  const isOtm = (p: Pending) =>
    p.q.logMoneyness >= 0 ? p.q.instrument.kind === "call" : p.q.instrument.kind === "put";
  const kept: Pending[] = [];
  for (const list of byStrike.values()) {
    const otm = list.filter(isOtm);
    for (const p of list) {
      if (otm.length > 0 && !isOtm(p))
        rejected.push({ index: p.index, name: p.sq.name ?? "", reason: "itm-duplicate" });
      else kept.push(p);
    }
  }
  return kept;
}

/**
 * Drops one-sided (mark-vol) quotes beyond farN ATM standard deviations as "far-wing-one-sided";
 * ATM vol: the two-sided quote nearest k = 0 (any quote if none is two-sided).
 */
function dropFarWingOneSided(kept: Pending[], farN: number, rejected: QuoteRejection[]): Pending[] {
  if (!(Number.isFinite(farN) && kept.length > 0)) return kept;
  const pool = kept.some((p) => p.sq.source === "mid") ? kept.filter((p) => p.sq.source === "mid") : kept;
  let atm = pool[0];
  for (const p of pool) if (!atm || Math.abs(p.sq.k) < Math.abs(atm.sq.k)) atm = p;
  const limit = atm ? farN * atm.sq.targetVol * Math.sqrt(atm.q.timeToExpiry) : Number.POSITIVE_INFINITY;
  return kept.filter((p) => {
    if (p.sq.source === "mark" && Math.abs(p.sq.k) > limit) {
      rejected.push({ index: p.index, name: p.sq.name ?? "", reason: "far-wing-one-sided" });
      return false;
    }
    return true;
  });
}

/** The slice of one expiry group's kept quotes (sorted by k): median T and forward. */
function sliceOf(key: number, kept: readonly Pending[]): SurfaceSlice {
  const forwards = kept.map((p) => p.q.forward).sort((x, y) => x - y);
  const ts = kept.map((p) => p.q.timeToExpiry).sort((x, y) => x - y);
  return {
    expiry: ts[ts.length >> 1] ?? 0,
    forward: forwards[forwards.length >> 1] ?? 0,
    ...(Number.isFinite(kept[0]?.q.instrument?.expiry) ? { expiryTime: key } : {}),
    quotes: kept.map((p) => p.sq),
  };
}

/**
 * Groups cleaned quotes into slices by expiry instant. A quote is usable when it has bid and ask
 * vols with bid <= ask (target = mid), or, if `useMarkWhenOneSided`, a mark vol (target = mark).
 * Both sides present with bid > ask is "crossed"; nothing usable is "no-vol".
 */
export function surfaceSlicesFromQuotes(
  quotes: readonly CleanQuote[],
  options: SliceBuildOptions = {},
): SliceBuildResult {
  if (!Array.isArray(quotes)) throw new InvalidInputError("quotes", quotes, "must be an array");
  const otmOnly = options.otmOnly ?? true;
  const useMark = options.useMarkWhenOneSided ?? true;
  const farN = options.farWingStdDevs ?? 6;
  const rejected: QuoteRejection[] = [];
  const usable: Pending[] = [];
  quotes.forEach((q, index) => {
    const p = usableQuote(q, index, useMark, rejected);
    if (p) usable.push(p);
  });
  const slices: SurfaceSlice[] = [];
  let accepted = 0;
  for (const [key, group] of groupByExpiry(usable)) {
    const otm = otmOnly ? otmOnlyQuotes(group, rejected) : group;
    otm.sort((x, y) => x.sq.k - y.sq.k);
    const kept = dropFarWingOneSided(otm, farN, rejected);
    if (kept.length === 0) continue;
    accepted += kept.length;
    slices.push(sliceOf(key, kept));
  }
  slices.sort((a, b) => a.expiry - b.expiry);
  rejected.sort((a, b) => a.index - b.index);
  return { slices, accepted, rejected };
}

export type SurfaceWeighting = "spread" | "vega" | "uniform" | "given";

/**
 * Residual weights (vol space) of a slice's quotes, normalized to mean 1.
 * - "spread": 1 / max(askVol - bidVol, floor), floor = 0.5 vol point; a one-sided (mark) quote
 *   gets the weight of twice the slice's median spread.
 * - "vega": Black vega per unit forward at the target vol, phi(d1) sqrt(T) (ATM heaviest).
 * - "uniform": all 1. "given": the quotes' `weight` (1 when missing).
 */
export function surfaceQuoteWeights(
  slice: SurfaceSlice,
  weighting: SurfaceWeighting = "spread",
): Float64Array {
  const n = slice.quotes.length;
  const w = new Float64Array(n);
  if (weighting === "spread") {
    const spreads = slice.quotes
      .filter((q) => q.bidVol !== null && q.askVol !== null)
      .map((q) => Math.max((q.askVol as number) - (q.bidVol as number), 0.005))
      .sort((a, b) => a - b);
    const median = spreads[spreads.length >> 1] ?? 0.05;
    slice.quotes.forEach((q, i) => {
      const s = q.bidVol !== null && q.askVol !== null ? Math.max(q.askVol - q.bidVol, 0.005) : 2 * median;
      w[i] = 1 / s;
    });
  } else if (weighting === "vega") {
    const T = slice.expiry;
    slice.quotes.forEach((q, i) => {
      const s = q.targetVol * Math.sqrt(T);
      const d1 = -q.k / s + 0.5 * s;
      w[i] = Math.exp(-0.5 * d1 * d1) * Math.sqrt(T) + 1e-12;
    });
  } else if (weighting === "given") {
    slice.quotes.forEach((q, i) => {
      w[i] = q.weight !== undefined && Number.isFinite(q.weight) && q.weight >= 0 ? q.weight : 1;
    });
  } else w.fill(1);
  let s = 0;
  for (const x of w) s += x;
  if (s > 0) for (let i = 0; i < n; i++) w[i] = (w[i] ?? 0) * (n / s);
  return w;
}

/** The k-range a fitted surface serves at one expiry. */
export interface ServedRange {
  readonly lo: number;
  readonly hi: number;
}

/**
 * The k-range each slice serves, where the arbitrage guarantee and the arbitrage report apply:
 * the slice's own quoted range widened to at least |k| <= minHalfWidth on each side (default 1.5,
 * issue 21), i.e. [min(-minHalfWidth, lowest quoted k), max(minHalfWidth, highest quoted k)].
 * Per slice and asymmetric: a strike is listed per expiry, so a 2-month expiry quoted down to
 * k = -0.5 serves k >= -1.5 on that side, whatever range the longer expiries list (forcing
 * its steep left wing convex out to the longest expiry's k = -2 bent the fit inside its quotes).
 */
export function servedRanges(slices: readonly SurfaceSlice[], minHalfWidth = 1.5): ServedRange[] {
  return slices.map((s) => {
    let lo = -minHalfWidth;
    let hi = minHalfWidth;
    for (const q of s.quotes) {
      lo = Math.min(lo, q.k);
      hi = Math.max(hi, q.k);
    }
    return { lo, hi };
  });
}
