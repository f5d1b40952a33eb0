/**
 * Deribit's DVOL method: the 30-day model-free implied volatility index of a normalized Deribit
 * chain (`normalizeChain`, core/market), as Deribit publishes it, with the choices the published
 * text leaves open made by measurement against the DVOL history: DVOL at the snapshot's instant
 * from public hourly DVOL bars (scripts/measure/dvolIntraday.ts: BTC all 231 season days, ETH 176,
 * to 2026-06-25), and the daily bars (scripts/measure/dvolSeason.ts).
 *
 * Sources.
 *  [D1] Deribit, "DVOL - Deribit Implied Volatility Index" (insights.deribit.com, 31 Mar 2021;
 *       updated 20 Mar 2023): DVOL follows the Cboe VIX method on Deribit's options, "uses the
 *       implied volatility smile of the relevant expiries to output one number that gives a gauge
 *       of the 30 day annualised implied volatility".
 *  [D2] Deribit's DVOL methodology (calculation steps; read in the published translation,
 *       jk260.com/bitcoin/news/36352_3.html): forward per expiry from the options' synthetic
 *       (strike of smallest |call mid depth price - put mid depth price|, averaged over ties,
 *       needing >= 2 full strikes [MinFullStrikesForMarketSyn], else the expiry's synthetic/future
 *       mark); strike cut-off = nearest strike at or below that forward; calls below and puts
 *       above the cut-off discarded (two instruments at the cut-off, at most one elsewhere); the
 *       filtered strikes with >= 1 non-discarded instrument each get a strike width; price at the
 *       cut-off = average of call and put, elsewhere the non-discarded instrument's price; the
 *       expiry's variance from the strike contributions; time-weighted interpolation of the two
 *       selected expiries gives DVOL.Raw, computed every second; the published index is the
 *       interquartile mean of the last 120 raw points [DataPointsForSmoothing].
 *  [C]  Cboe, "VIX Mathematics Methodology" / VIX White Paper: the variance formula
 *       sigma^2 = (2/T) sum dK_i/K_i^2 e^{RT} Q(K_i) - (1/T)(F/K0 - 1)^2 and the interpolation in
 *       total variance to 30 days; near/next term = the expiries bracketing 30 days.
 *
 * Rules implemented (each with its source; "measured" = a choice [D1]/[D2] leave open, taken by
 * measurement over the 233-day season, BTC and ETH, against DVOL at the snapshot's instant from the
 * hourly bars; figures marked "daily" are against the daily bars' open-to-close line, whose own
 * error against the hourly DVOL is 0.45 / 0.63 points median, 1.65 / 1.95 p90):
 *  1. Forward: the expiry's synthetic [D2]: at the strike of the smallest |call mid - put mid| of
 *     two-sided quotes (ties averaged), F = K / (1 - (c - p)) for coin prices (K + c - p in USD),
 *     when at least two strikes have both mids [MinFullStrikesForMarketSyn = 2]; else the forward
 *     of the one market model (`normalizeChain`: parity on Deribit's marks, the venue's synthetic)
 *     [D2: fallback synthetic/future mark]. Measured: against that market-model forward the index
 *     moves by 0.001 points (median); against DVOL at the instant both give the same season (p90
 *     0.20 / 0.31 BTC / ETH with the synthetic, 0.19 / 0.34 with the market model's), so the
 *     published rule is kept (`forward: "chain"` gives the other).
 *  2. K0 = the listed strike at or below F; out-of-the-money puts below, calls above, both at K0
 *     averaged [D2], [C].
 *  3. Price Q(K) = mid of the best bid and ask, converted to USD on the expiry forward (coin x F,
 *     as normalizeChain does) [D2: "mid depth price"; the files carry the top of the book only, so
 *     the depth price is the best-quote mid]. An instrument without both a bid and an ask has no
 *     mid depth price and is discarded [D2] (except near the money, rule 9). Measured
 *     alternative: Deribit's mark for every instrument (`price: "mark"`): mean +0.02 / +0.04,
 *     p90 0.24 / 0.28, max 0.63 / 1.75 against DVOL at the instant (mids: -0.02 / -0.00, 0.20 /
 *     0.31, 0.70 / 1.62): no better, and not the published rule, so the mid stays.
 *  4. No Cboe "two consecutive zero bids" stop: every strike with a non-discarded instrument is
 *     in the strip [D2 lists none], each with its strike width on the filtered strikes [D2], [C].
 *     Measured: with the stop (`zeroBidStop: true`) the season is unchanged (the delta floor
 *     ends the wings first) except one BTC day left without a bracketing pair.
 *  5. Wing floor (measured): an instrument whose |Black forward delta| at its mark vol is below
 *     `minDelta` (default 0.05) is discarded. [D2] discards instruments without a depth price
 *     (thin far wings) with parameters Deribit does not publish, and the files have no book
 *     depth. Against DVOL at the instant the floor is sharply measured, the same on both coins
 *     (mean bias BTC / ETH): +0.33 / +0.53 at 0.04, +0.16 / +0.24 at 0.045, +0.08 / +0.13 at
 *     0.0475, -0.02 / -0.00 at 0.05 (median |d| 0.05 / 0.06), -0.13 / -0.18 at 0.0525, -0.48 /
 *     -0.59 at 0.06; the full Cboe strip reads +1.95 / +2.67 above DVOL (daily). The daily bars
 *     could not separate 0.045 from 0.05 (the first choice, on them: 0.045).
 *  6. Spread cap: an instrument quoted wider than `maxRelativeSpread` x mid (default 1: ask three
 *     times the bid) is discarded [D2 uses only instruments with a usable depth price]; a guard
 *     against stub quotes: caps from 0.2 to 10 give the same season figures within one day.
 *  7. Expiries: the two eligible expiries bracketing 30 days, near <= 30 < next [C], [D2: "the 2
 *     selected expiries"], interpolated in total variance [C] (linear in variance or in vol fits
 *     DVOL worse, measured on the daily bars). Eligible (a settlement index's minimum strip, as
 *     Cboe requires of a series): more than `minDays` (1) to expiry (0, 3 or 7 give the same
 *     season: the near expiry of a 30-day pair is never that short), at least `minStrikes` (8)
 *     strikes in the strip, and a strip reaching `edgeDelta` (0.25) on both sides: guards against
 *     a stub strip, set as loose as DVOL itself is. Measured against DVOL at the instant: DVOL uses
 *     a newly listed weekly as soon as it is listed (2026-02-12 09:40 BTC: a 21.9-day weekly with
 *     10 strikes; with it 53.11, DVOL 53.67, without it 54.90; ETH's with 9 strikes likewise), and
 *     it keeps a monthly whose put wing ends early: ETH 2026-02-02/03, the 27FEB26 strip ending at
 *     0.21 delta after the crash left its strikes on a coarse grid; without it the index
 *     interpolated 17.9/52.9 days and read 68.87 / 68.96 against DVOL 64.56 / 65.28, with it
 *     64.66 / 65.41. minStrikes 4, 6 and 8 give the same season, 10 and 12 worse (ETH p90 0.37 /
 *     0.51 against 0.31); edgeDelta 0.25, 0.3 and none give the same, 0.1-0.2 worse (ETH 92.6% /
 *     98.3% within 1.5 against 99.4%). The first choices (10 strikes, 0.15 delta), made on the
 *     daily bars, skipped those expiries.
 *  8. Smoothing: DVOL is the 120-second interquartile mean of per-second raw values [D2]; one
 *     snapshot has one raw value, so none is applied (`dvolSmooth` gives the IQM of a series). Over
 *     two minutes DVOL's raw value moves by hundredths of a point on a quiet morning, far below the
 *     daily bar's alignment error, so the missing smoothing is not measurable with these data.
 *  9. Near-the-money hole (project rule for a settlement index, not in [D2]): an instrument with
 *     |delta| >= `markFillDelta` (0.15) and no two-sided quote is priced at the venue's mark
 *     (Deribit's own fair value; a snapshot has no last valid quote to fall back on, the usual
 *     stale-quote rule). Discarding it leaves a hole where the strip's contributions peak:
 *     2026-01-13 09:21 BTC, bids missing at 86000-93000: 38.16 without the fill, 40.14 with it,
 *     DVOL 40.10 at that instant (hourly bars; Cboe method 32.85). The fill changes no other day
 *     of the season by more than 0.1 point except ETH the same morning (56.34 -> 56.91, DVOL
 *     56.74 at that instant).
 *  Stale quotes: `normalizeChain` rejects quotes older than 15 minutes at the valuation time.
 *
 * Units: USD strikes and prices, T in years ACT/365 from CleanQuote.timeToExpiry (exact to the
 * millisecond, so Cboe's minutes / 525,600 to within a minute: Deribit expiries are at 08:00 UTC),
 * r = 0 (crypto; the forward carries the basis). The index is in vol points (55.2 = 55.2%).
 */
import { InvalidInputError } from "../errors.js";
import { groupByExpiry } from "../market/byExpiry.js";
import type { CleanQuote, MarketSnapshot } from "../market/types.js";
import { mean } from "../math/stats.js";
import { blackGreeks } from "../pricing/black76.js";
import { varianceIndexAt } from "./interpolate.js";
import { type StripPick, stripContributions } from "./modelFreeVariance.js";
import type { ExpiryVariancePoint, VolIndexResult } from "./volIndex.js";

export interface DvolOptions {
  /** Constant maturity, days (default 30). */
  readonly targetDays?: number;
  /** Expiries closer than this many days are not eligible (default 1). */
  readonly minDays?: number;
  /** Discard instruments with |forward delta| at the mark vol below this (default 0.05). */
  readonly minDelta?: number;
  /** Discard instruments with (ask - bid) / mid above this (default 1). */
  readonly maxRelativeSpread?: number;
  /** An eligible expiry has at least this many strikes in its strip (default 8). */
  readonly minStrikes?: number;
  /** An eligible expiry's strip reaches |delta| <= edgeDelta on both sides (default 0.25). */
  readonly edgeDelta?: number;
  /**
   * An instrument with |delta| >= markFillDelta (near the money) but no two-sided quote is priced
   * at the venue's mark instead of being discarded (default 0.15; 1 disables).
   */
  readonly markFillDelta?: number;
  /**
   * The expiry's forward: "synthetic" ([D2] from the two-sided mids, default; the chain's when
   * fewer than two strikes have both) or "chain" (normalizeChain's parity forward on the marks).
   */
  readonly forward?: "chain" | "synthetic";
  /** Instrument price: "mid" of the best quotes (default) or Deribit's "mark" (measured alternative). */
  readonly price?: "mid" | "mark";
  /** Cboe's stop after two consecutive zero bids walking out from K0 (default off: [D2] has none). */
  readonly zeroBidStop?: boolean;
}

export const DVOL_DEFAULTS = {
  targetDays: 30,
  minDays: 1,
  minDelta: 0.05,
  maxRelativeSpread: 1,
  minStrikes: 8,
  edgeDelta: 0.25,
  markFillDelta: 0.15,
  forward: "synthetic",
  price: "mid",
  zeroBidStop: false,
} as const satisfies Required<DvolOptions>;

/** Why an instrument is not in the strip. */
export type DvolDiscard =
  | "itm"
  | "no-bid-or-ask"
  | "wide-spread"
  | "below-min-delta"
  | "no-vol"
  | "beyond-zero-bids";

/** Why an expiry is not eligible for the bracketing. */
export type DvolExpiryIssue =
  | "too-short"
  | "no-strike-at-or-below-forward"
  | "too-few-strikes"
  | "strip-short-of-edge-delta"
  | "non-positive-variance";

export interface DvolExpiryVariance extends ExpiryVariancePoint {
  /** Discarded instruments by reason. */
  readonly discarded: Readonly<Record<DvolDiscard, number>>;
  /** Near-the-money instruments priced at the mark for want of a two-sided quote (rule 9). */
  readonly markFilled: number;
  /** |delta| of the outermost put and call of the strip (1 when that side is empty). */
  readonly edgeDelta: { readonly put: number; readonly call: number };
}

export interface DvolResult extends VolIndexResult {
  readonly method: "dvol";
  readonly near: DvolExpiryVariance;
  readonly next: DvolExpiryVariance;
  readonly expiries: readonly DvolExpiryVariance[];
  /** Every expiry's variance, eligible or not (`issue` says why not). */
  readonly all: readonly (DvolExpiryVariance & { issue: DvolExpiryIssue | null })[];
}

/** Black-76 forward delta (r = 0) of a call or put at vol `vol` (core/pricing, the one Black formula). */
function forwardDelta(kind: "call" | "put", F: number, K: number, T: number, vol: number): number {
  return blackGreeks({ forward: F, strike: K, expiry: T, vol, kind }).delta;
}

interface Usable {
  readonly price: number;
  readonly delta: number;
}

type Resolved = Required<DvolOptions>;

const twoSided = (q: CleanQuote): q is CleanQuote & { bid: number; ask: number } =>
  q.bid !== null && q.ask !== null && q.bid > 0 && q.ask > 0;

/**
 * Rule 1 alternative [D2]: the synthetic forward of the expiry's two-sided mids, at the strike of
 * the smallest |call mid - put mid| (ties averaged), when at least two strikes have both (else
 * null). Inverse (coin) prices: c - p = (F - K) / F, so F = K / (1 - (c - p)); linear: F = K + c - p.
 */
export function syntheticForward(quotes: readonly CleanQuote[]): number | null {
  const mids = new Map<number, { call?: number; put?: number; inverse: boolean }>();
  for (const q of quotes) {
    if (!twoSided(q)) continue;
    const e = mids.get(q.instrument.strike) ?? { inverse: q.instrument.settlement === "inverse" };
    e[q.instrument.kind] = (q.bid + q.ask) / 2;
    mids.set(q.instrument.strike, e);
  }
  let best = Number.POSITIVE_INFINITY;
  let implied: number[] = [];
  let full = 0;
  for (const [K, e] of mids) {
    if (e.call === undefined || e.put === undefined) continue;
    full++;
    const d = e.call - e.put;
    const F = e.inverse ? K / (1 - d) : K + d;
    if (!(F > 0)) continue;
    if (Math.abs(d) < best) [best, implied] = [Math.abs(d), [F]];
    else if (Math.abs(d) === best) implied.push(F);
  }
  if (full < 2 || implied.length === 0) return null;
  return mean(implied);
}

/** Rules 3 and 9: the mid (or, near the money without a two-sided quote, the mark), or why not. */
function instrumentMid(q: CleanQuote, delta: number, o: Resolved): number | "no-bid-or-ask" | "wide-spread" {
  if (o.price === "mark" && q.mark !== null && q.mark > 0) return q.mark;
  if (!twoSided(q))
    return Math.abs(delta) >= o.markFillDelta && q.mark !== null && q.mark > 0 ? q.mark : "no-bid-or-ask";
  const mid = (q.bid + q.ask) / 2;
  return (q.ask - q.bid) / mid > o.maxRelativeSpread ? "wide-spread" : mid;
}

const emptyDiscards = (): Record<DvolDiscard, number> => ({
  itm: 0,
  "no-bid-or-ask": 0,
  "wide-spread": 0,
  "below-min-delta": 0,
  "no-vol": 0,
  "beyond-zero-bids": 0,
});

/** Rules 2, 3, 5, 6, 9: one usable USD price per instrument (keyed kind:strike), or a discard reason. */
function usableInstruments(
  quotes: readonly CleanQuote[],
  F: number,
  k0: number,
  cut: { low: number; high: number },
  o: Resolved,
): { usable: Map<string, Usable>; discarded: Record<DvolDiscard, number>; markFilled: number } {
  const discarded = emptyDiscards();
  const usable = new Map<string, Usable>();
  let markFilled = 0;
  for (const q of quotes) {
    const { strike: K, kind } = q.instrument;
    if ((kind === "call" && K < k0) || (kind === "put" && K > k0)) {
      discarded.itm++;
      continue;
    }
    if (K < cut.low || K > cut.high) {
      discarded["beyond-zero-bids"]++;
      continue;
    }
    const vol = q.markVol ?? q.midVol;
    if (vol === null || !(vol > 0)) {
      discarded["no-vol"]++;
      continue;
    }
    const delta = forwardDelta(kind, F, K, q.timeToExpiry, vol);
    if (Math.abs(delta) < o.minDelta) {
      discarded["below-min-delta"]++;
      continue;
    }
    const mid = instrumentMid(q, delta, o);
    if (typeof mid === "string") {
      discarded[mid]++;
      continue;
    }
    if (o.price !== "mark" && !twoSided(q)) markFilled++;
    usable.set(`${kind}:${K}`, { price: q.instrument.settlement === "inverse" ? mid * F : mid, delta });
  }
  return { usable, discarded, markFilled };
}

/**
 * Rule 4 alternative (Cboe, not in [D2]): the strikes kept by the "two consecutive zero bids"
 * stop when walking out from K0 over the listed out-of-the-money instruments; the whole range
 * when the stop is off.
 */
function zeroBidRange(
  quotes: readonly CleanQuote[],
  strikes: readonly number[],
  k0: number,
  on: boolean,
): { low: number; high: number } {
  if (!on) return { low: Number.NEGATIVE_INFINITY, high: Number.POSITIVE_INFINITY };
  const bid = new Map(quotes.map((q) => [`${q.instrument.kind}:${q.instrument.strike}`, q.bid ?? 0]));
  const walk = (side: readonly number[], kind: "put" | "call"): number => {
    let run = 0;
    let last = k0;
    for (const K of side) {
      if (run >= 2) break;
      if ((bid.get(`${kind}:${K}`) ?? 0) > 0) [run, last] = [0, K];
      else run++;
    }
    return last;
  };
  return {
    low: walk([...strikes.filter((K) => K < k0)].reverse(), "put"),
    high: walk(
      strikes.filter((K) => K > k0),
      "call",
    ),
  };
}

/** The strip (rule 4): strikes with a usable instrument, K0 averaged; the outermost |delta| each side. */
function dvolStrip(
  strikes: readonly number[],
  k0: number,
  usable: ReadonlyMap<string, Usable>,
): { strip: StripPick[]; edgeDelta: { put: number; call: number } } {
  const strip: StripPick[] = [];
  const edge = { put: 1, call: 1 };
  for (const K of strikes) {
    const c = usable.get(`call:${K}`);
    const p = usable.get(`put:${K}`);
    if (K === k0) {
      if (c && p) strip.push({ strike: K, kind: "put-call-average", mid: (c.price + p.price) / 2 });
      else if (p) strip.push({ strike: K, kind: "put", mid: p.price });
      else if (c) strip.push({ strike: K, kind: "call", mid: c.price });
    } else if (K < k0 && p) {
      strip.push({ strike: K, kind: "put", mid: p.price });
      edge.put = Math.min(edge.put, Math.abs(p.delta));
    } else if (K > k0 && c) {
      strip.push({ strike: K, kind: "call", mid: c.price });
      edge.call = Math.min(edge.call, Math.abs(c.delta));
    }
  }
  return { strip, edgeDelta: edge };
}

/** The expiry's forward (rule 1): the chain's, or the synthetic of [D2] when asked and available. */
function expiryForward(quotes: readonly CleanQuote[], chainForward: number, o: Resolved): number {
  return o.forward === "synthetic" ? (syntheticForward(quotes) ?? chainForward) : chainForward;
}

/**
 * The DVOL-method variance of one expiry from its cleaned quotes (one expiry, one forward).
 * Returns the variance with its strip, or the reason it has none.
 */
export function dvolExpiryVariance(
  quotes: readonly CleanQuote[],
  options: DvolOptions = {},
): { ok: true; value: DvolExpiryVariance } | { ok: false; issue: DvolExpiryIssue; message: string } {
  const o: Resolved = { ...DVOL_DEFAULTS, ...options };
  const first = quotes[0];
  if (!first) return { ok: false, issue: "too-few-strikes", message: "no quotes" };
  const { expiry } = first.instrument;
  for (const q of quotes) {
    if (q.instrument.expiry !== expiry)
      throw new InvalidInputError("quotes[].instrument.expiry", q.instrument.expiry, `must all be ${expiry}`);
  }
  const F = expiryForward(quotes, first.forward, o);
  const T = first.timeToExpiry;
  const strikes = [...new Set(quotes.map((q) => q.instrument.strike))].sort((a, b) => a - b);
  let k0 = Number.NaN;
  for (const K of strikes) if (K <= F) k0 = K;
  if (Number.isNaN(k0))
    return { ok: false, issue: "no-strike-at-or-below-forward", message: `forward ${F} below every strike` };
  const cut = zeroBidRange(quotes, strikes, k0, o.zeroBidStop);
  const { usable, discarded, markFilled } = usableInstruments(quotes, F, k0, cut, o);
  const { strip, edgeDelta } = dvolStrip(strikes, k0, usable);
  if (strip.length < 2)
    return { ok: false, issue: "too-few-strikes", message: `${strip.length} strikes in the strip` };
  const contributions = stripContributions(strip);
  let total = 0;
  for (const c of contributions) total += c.contribution;
  const correction = (F / k0 - 1) ** 2 / T;
  const variance = (2 / T) * total - correction;
  return {
    ok: true,
    value: {
      expiry,
      timeToExpiry: T,
      forward: F,
      parityStrike: null,
      k0,
      variance,
      vol: variance > 0 ? Math.sqrt(variance) : Number.NaN,
      correction,
      contributions,
      excluded: quotes.length - contributions.length,
      discarded,
      markFilled,
      edgeDelta,
    },
  };
}

/** Why a computed expiry is not eligible (rule 7), or null. */
function eligibility(v: DvolExpiryVariance, o: Required<DvolOptions>): DvolExpiryIssue | null {
  if (v.timeToExpiry * 365 < o.minDays) return "too-short";
  if (!(v.variance > 0)) return "non-positive-variance";
  if (v.contributions.length < o.minStrikes) return "too-few-strikes";
  if (v.edgeDelta.put > o.edgeDelta || v.edgeDelta.call > o.edgeDelta) return "strip-short-of-edge-delta";
  return null;
}

/** The DVOL-method 30-day index of a normalized chain (MarketSnapshot from normalizeChain). */
export function dvolIndex(snapshot: MarketSnapshot, options: DvolOptions = {}): DvolResult {
  const o: Required<DvolOptions> = { ...DVOL_DEFAULTS, ...options };
  if (!(o.targetDays > 0)) throw new InvalidInputError("targetDays", o.targetDays, "must be > 0");
  for (const [name, v] of [
    ["minDelta", o.minDelta],
    ["edgeDelta", o.edgeDelta],
  ] as const)
    if (!(v >= 0 && v < 0.5)) throw new InvalidInputError(name, v, "must be in [0, 0.5)");
  if (!(o.markFillDelta >= 0 && o.markFillDelta <= 1))
    throw new InvalidInputError("markFillDelta", o.markFillDelta, "must be in [0, 1]");
  if (!(Number.isInteger(o.minStrikes) && o.minStrikes >= 2))
    throw new InvalidInputError("minStrikes", o.minStrikes, "must be an integer >= 2");
  if (!(o.maxRelativeSpread > 0))
    throw new InvalidInputError("maxRelativeSpread", o.maxRelativeSpread, "must be > 0");
  const byExpiry = groupByExpiry(snapshot.quotes, (q) => q.instrument.underlying === snapshot.underlying);
  const all: (DvolExpiryVariance & { issue: DvolExpiryIssue | null })[] = [];
  const failures: { expiry: number; reason: string; message: string }[] = [];
  for (const [expiry, quotes] of [...byExpiry].sort((a, b) => a[0] - b[0])) {
    const r = dvolExpiryVariance(quotes, o);
    if (!r.ok) {
      failures.push({ expiry, reason: r.issue, message: r.message });
      continue;
    }
    const issue = eligibility(r.value, o);
    all.push({ ...r.value, issue });
    if (issue)
      failures.push({
        expiry,
        reason: issue,
        message: `${(r.value.timeToExpiry * 365).toFixed(2)} days, ${r.value.contributions.length} strikes, edge |delta| put ${r.value.edgeDelta.put.toFixed(3)} call ${r.value.edgeDelta.call.toFixed(3)}`,
      });
  }
  const points = all.filter((p) => p.issue === null);
  if (points.length < 2)
    throw new InvalidInputError(
      "chain",
      `${snapshot.underlying} with ${points.length} eligible expiries`,
      "must have at least two expiries eligible for the DVOL method",
    );
  const targetTime = o.targetDays / 365;
  return {
    method: "dvol",
    underlying: snapshot.underlying,
    valuationTime: snapshot.valuationTime,
    targetDays: o.targetDays,
    ...varianceIndexAt(points, targetTime),
    expiries: points,
    failures,
    all,
  };
}

/**
 * DVOL's smoothing [D2]: the interquartile mean of the last `points` raw values (default 120, one
 * per second): sort, drop the lowest and highest quarter (floor(n/4) each), average the rest.
 */
export function dvolSmooth(raw: readonly number[], points = 120): number {
  const window = raw.slice(-points);
  if (window.length === 0) throw new InvalidInputError("raw.length", 0, "must be > 0");
  for (const v of window) if (!Number.isFinite(v)) throw new InvalidInputError("raw[]", v, "must be finite");
  const s = [...window].sort((a, b) => a - b);
  const q = Math.floor(s.length / 4);
  const mid = s.slice(q, s.length - q);
  return mean(mid);
}
