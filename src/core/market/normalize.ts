/**
 * ChainSnapshot -> MarketSnapshot: forwards per expiry, time to expiry, bid/ask/mid/mark implied
 * vols (core Let's Be Rational solver), and quote cleaning that says why each dropped quote was
 * dropped. accepted + rejected = input, always.
 *
 * Prices and forward: every quote of an expiry is converted and solved on ONE forward F, its
 * expiry's (forwards.ts: put-call parity on the venue's marks, else future, venue underlying,
 * parity on mids, index), which is CleanQuote.forward and defines logMoneyness = ln(K/F).
 * Inverse (coin) prices become USD = coin x F (DESIGN.md: coin premium = Black-76 USD value on F,
 * divided by F), and every side's vol is solved on that same F with discount 1 (crypto r = 0),
 * so Black-76(F, K, markVol) / F gives back the coin mark exactly: the risk engine, which values
 * on the same expiry forward, reprices a quoted option at its mark vol to its mark.
 * Why not each quote's own underlying price (OptionQuote.underlyingPrice): in the daily Deribit
 * files it was captured at other instants than the marks (up to 7.6 bp off the forward the marks
 * imply, forwards.ts), which moves deep in-the-money mark vols by up to several vol points
 * (BTC-31JUL26-100000-P on 2026-07-13: 0.713 on its underlying vs Deribit's 0.6296; 0.6296 on the
 * marks' forward). Converting at one price and solving at another (the rule until issue 18) is
 * wrong at any forward: the difference lands in full in the USD price as intrinsic value.
 *
 * Rejections (first that applies):
 *  other-underlying  the quote is for another coin than the chain's
 *  expired           expiry at or before the valuation time
 *  missing-fields    no bid, no ask and no mark
 *  stale             quote older than maxQuoteAgeMs at valuation time
 *  crossed           bid > ask
 *  outside-bounds    the mark lies outside the no-arbitrage bounds (below intrinsic or above
 *                    the forward/strike)
 *  no-iv             no side gives an implied vol
 *  missing-bid       no bid, only with `oneSided: "reject"`
 *  missing-ask       no ask, only with `oneSided: "reject"`
 * A side whose price lies outside the bounds (e.g. a deep in-the-money bid below intrinsic) keeps
 * the quote but gets a null vol for that side, listed in `sideIssues` and flagged "bid-no-iv" etc.
 *
 * One-sided quotes (decision): by default a quote with an ask but no bid (empty or zero bid, as
 * in the far wings where nobody bids 0.0001 coin) is KEPT with bidVol = midVol = null and the flag
 * "no-bid"; likewise "no-ask". Its ask (an upper bound on the value) and the venue mark still carry
 * information a surface fitter may use or drop (flags make that explicit). `oneSided: "reject"`
 * drops them instead, with reason missing-bid / missing-ask.
 */
import { impliedVolResult } from "../pricing/impliedVol.js";
import { chainForwards } from "./forwards.js";
import type {
  ChainSnapshot,
  CleanQuote,
  CleanQuoteFlag,
  ExpiryForward,
  MarketSnapshot,
  OptionQuote,
} from "./types.js";

export type ChainQuoteRejection =
  | "other-underlying"
  | "expired"
  | "missing-fields"
  | "stale"
  | "crossed"
  | "outside-bounds"
  | "no-iv"
  | "missing-bid"
  | "missing-ask";

export const CHAIN_QUOTE_REJECTIONS: readonly ChainQuoteRejection[] = [
  "other-underlying",
  "expired",
  "missing-fields",
  "stale",
  "crossed",
  "outside-bounds",
  "no-iv",
  "missing-bid",
  "missing-ask",
];

export interface RejectedQuote {
  readonly quote: OptionQuote;
  readonly reason: ChainQuoteRejection;
  readonly detail: string;
}

export interface NormalizeOptions {
  /** Oldest acceptable quote at valuation time, ms (default 15 minutes). */
  readonly maxQuoteAgeMs?: number;
  /** Quotes with one side missing: keep them flagged (default) or reject them. */
  readonly oneSided?: "keep" | "reject";
}

export interface NormalizedChain {
  readonly snapshot: MarketSnapshot;
  readonly rejected: RejectedQuote[];
  /** Quotes kept with one side's vol missing, and why. */
  readonly sideIssues: { name: string; side: "bid" | "ask" | "mid" | "mark"; detail: string }[];
  readonly counts: {
    readonly input: number;
    readonly accepted: number;
    readonly rejected: number;
    readonly byReason: Record<ChainQuoteRejection, number>;
  };
}

/** A quote-unit price in USD on the forward F: coin x F for inverse options, as is for linear. */
function toUsd(price: number | null | undefined, q: OptionQuote, F: number): number | null {
  if (price === null || price === undefined) return null;
  return q.instrument.settlement === "inverse" ? price * F : price;
}

/** A zero (or negative) side is no quote on that side (OptionQuote: missing = null, never 0). */
function zeroSidesAsMissing(raw: OptionQuote): OptionQuote {
  if (!((raw.bid !== null && raw.bid <= 0) || (raw.ask !== null && raw.ask <= 0))) return raw;
  return {
    ...raw,
    bid: raw.bid !== null && raw.bid > 0 ? raw.bid : null,
    ask: raw.ask !== null && raw.ask > 0 ? raw.ask : null,
  };
}

interface Screened {
  readonly reason: ChainQuoteRejection;
  readonly detail: string;
}

/** The quote's expiry forward, or why the quote is dropped before any vol is solved. */
function screenQuote(
  q: OptionQuote,
  chain: ChainSnapshot,
  forwardByExpiry: ReadonlyMap<number, ExpiryForward>,
  options: NormalizeOptions,
  maxAge: number,
): ExpiryForward | Screened {
  const inst = q.instrument;
  if (inst.underlying !== chain.underlying)
    return { reason: "other-underlying", detail: `${inst.underlying} quote in a ${chain.underlying} chain` };
  const fwd = forwardByExpiry.get(inst.expiry);
  if (!fwd)
    return {
      reason: "expired",
      detail: `expiry ${new Date(inst.expiry).toISOString()} is not after ${new Date(chain.valuationTime).toISOString()}`,
    };
  if (q.bid === null && q.ask === null && q.mark === null)
    return { reason: "missing-fields", detail: "no bid, ask or mark" };
  if (chain.valuationTime - q.timestamp > maxAge)
    return {
      reason: "stale",
      detail: `quoted ${Math.round((chain.valuationTime - q.timestamp) / 1000)} s before the snapshot`,
    };
  if (q.bid !== null && q.ask !== null && q.bid > q.ask)
    return { reason: "crossed", detail: `bid ${q.bid} > ask ${q.ask}` };
  if (options.oneSided === "reject" && q.bid === null)
    return { reason: "missing-bid", detail: `no bid (ask ${q.ask ?? "none"})` };
  if (options.oneSided === "reject" && q.ask === null)
    return { reason: "missing-ask", detail: `no ask (bid ${q.bid})` };
  return fwd;
}

/** A mark outside [intrinsic, upper bound] by more than one price tick (0.0001 coin), or null. */
function markOutOfBounds(markUsd: number, kind: "call" | "put", F: number, K: number): Screened | null {
  const intrinsic = Math.max(kind === "call" ? F - K : K - F, 0);
  const upper = kind === "call" ? F : K;
  const tol = 1e-4 * F;
  if (markUsd >= intrinsic - tol && markUsd <= upper + tol) return null;
  return {
    reason: "outside-bounds",
    detail: `mark ${markUsd.toFixed(2)} USD outside [${intrinsic.toFixed(2)}, ${upper.toFixed(2)}]`,
  };
}

/** USD prices and implied vols of each side; sides that give no vol are recorded in `sideIssues`. */
interface QuoteVols {
  readonly bidUsd: number | null;
  readonly askUsd: number | null;
  readonly markUsd: number | null;
  readonly bidVol: number | null;
  readonly askVol: number | null;
  readonly midVol: number | null;
  readonly markVol: number | null;
}

function quoteVols(
  q: OptionQuote,
  fwd: ExpiryForward,
  markUsd: number | null,
  sideIssues: NormalizedChain["sideIssues"][number][],
): QuoteVols {
  const inst = q.instrument;
  const F = fwd.forward;
  const solve = (side: "bid" | "ask" | "mid" | "mark", price: number | null): number | null => {
    if (price === null) return null;
    const r = impliedVolResult({
      price,
      forward: F,
      strike: inst.strike,
      expiry: fwd.timeToExpiry,
      kind: inst.kind,
    });
    if (r.ok && r.value > 0) return r.value;
    sideIssues.push({
      name: inst.name,
      side,
      detail: r.ok ? "zero vol (price at intrinsic)" : `${r.reason}: ${r.message}`,
    });
    return null;
  };
  const bidUsd = toUsd(q.bid, q, F);
  const askUsd = toUsd(q.ask, q, F);
  const bidVol = solve("bid", bidUsd);
  const askVol = solve("ask", askUsd);
  const midVol = bidUsd !== null && askUsd !== null ? solve("mid", (bidUsd + askUsd) / 2) : null;
  const markVol = solve("mark", markUsd);
  return { bidUsd, askUsd, markUsd, bidVol, askVol, midVol, markVol };
}

function quoteFlags(q: OptionQuote, v: QuoteVols): CleanQuoteFlag[] {
  const flags: CleanQuoteFlag[] = [];
  if (q.bid === null) flags.push("no-bid");
  if (q.ask === null) flags.push("no-ask");
  if (v.bidUsd !== null && v.bidVol === null) flags.push("bid-no-iv");
  if (v.askUsd !== null && v.askVol === null) flags.push("ask-no-iv");
  if (v.bidUsd !== null && v.askUsd !== null && v.midVol === null) flags.push("mid-no-iv");
  if (v.markUsd !== null && v.markVol === null) flags.push("mark-no-iv");
  return flags;
}

/** The clean quote of a raw one, or why it was dropped. */
function cleanOne(
  raw: OptionQuote,
  chain: ChainSnapshot,
  forwardByExpiry: ReadonlyMap<number, ExpiryForward>,
  options: NormalizeOptions,
  maxAge: number,
  sideIssues: NormalizedChain["sideIssues"][number][],
): { readonly quote: OptionQuote; readonly clean?: CleanQuote; readonly rejected?: Screened } {
  const q = zeroSidesAsMissing(raw);
  const fwd = screenQuote(q, chain, forwardByExpiry, options, maxAge);
  if ("reason" in fwd) return { quote: q, rejected: fwd };
  const F = fwd.forward;
  const K = q.instrument.strike;
  const markUsd = toUsd(q.mark, q, F);
  const outside = markUsd === null ? null : markOutOfBounds(markUsd, q.instrument.kind, F, K);
  if (outside) return { quote: q, rejected: outside };
  const v = quoteVols(q, fwd, markUsd, sideIssues);
  if (v.bidVol === null && v.askVol === null && v.markVol === null && v.midVol === null)
    return { quote: q, rejected: { reason: "no-iv", detail: "no side of the quote gives an implied vol" } };
  const flags = quoteFlags(q, v);
  // Object.assign, not object spread: spreading a quote plus new keys measured ~100x slower
  // (8 us per quote under tsx/esbuild) and dominated normalizeChain.
  const clean: CleanQuote = Object.assign({}, q, {
    forward: F,
    timeToExpiry: fwd.timeToExpiry,
    logMoneyness: Math.log(K / F),
    bidVol: v.bidVol,
    askVol: v.askVol,
    midVol: v.midVol,
    markVol: v.markVol,
  });
  return { quote: q, clean: flags.length > 0 ? Object.assign(clean, { flags }) : clean };
}

/** Normalizes and cleans one chain. */
export function normalizeChain(chain: ChainSnapshot, options: NormalizeOptions = {}): NormalizedChain {
  const maxAge = options.maxQuoteAgeMs ?? 15 * 60_000;
  const forwards = chainForwards(chain);
  const forwardByExpiry = new Map<number, ExpiryForward>(forwards.map((f) => [f.expiry, f]));
  const rejected: RejectedQuote[] = [];
  const sideIssues: NormalizedChain["sideIssues"][number][] = [];
  const quotes: CleanQuote[] = [];
  for (const raw of chain.quotes) {
    const r = cleanOne(raw, chain, forwardByExpiry, options, maxAge, sideIssues);
    if (r.clean) quotes.push(r.clean);
    else if (r.rejected)
      rejected.push({ quote: r.quote, reason: r.rejected.reason, detail: r.rejected.detail });
  }
  const byReason = Object.fromEntries(CHAIN_QUOTE_REJECTIONS.map((r) => [r, 0])) as Record<
    ChainQuoteRejection,
    number
  >;
  for (const r of rejected) byReason[r.reason]++;
  return {
    snapshot: {
      underlying: chain.underlying,
      valuationTime: chain.valuationTime,
      indexPrice: chain.indexPrice,
      forwards,
      quotes,
    },
    rejected,
    sideIssues,
    counts: { input: chain.quotes.length, accepted: quotes.length, rejected: rejected.length, byReason },
  };
}
