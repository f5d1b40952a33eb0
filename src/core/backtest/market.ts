/**
 * What the backtest engine sees at one instant: a `BacktestStep`. It exposes only the present
 * (no method reaches another instant), which is half of the no-look-ahead guarantee; the other
 * half is that the engine consumes steps from an iterator, one at a time.
 *
 * Units: all option prices here are USD per coin of underlying. Inverse (coin-quoted) venue
 * prices are converted at the expiry's forward (USD Black value = coin price x forward), so the
 * engine accounts every option like a linear one; coin figures are USD / index. Times epoch ms
 * UTC; vols decimal.
 */
import type { OptionKind } from "../instruments/types.js";
import type { ChainSnapshot, OptionQuote } from "../market/types.js";
import { impliedVol } from "../pricing/impliedVol.js";
import { timeToExpiry } from "../time.js";

/** One option as the engine sees it, USD per coin. */
export interface StepOptionQuote {
  readonly expiry: number;
  readonly strike: number;
  readonly kind: OptionKind;
  /** Null when the side is missing (no fill possible on that side). */
  readonly bidUsd: number | null;
  readonly askUsd: number | null;
  readonly markUsd: number;
  /** Mark implied vol, decimal annualized. */
  readonly markVol: number;
  /** Forward of this expiry, USD. */
  readonly forward: number;
}

/** The market at one instant. */
export interface BacktestStep {
  /** Epoch ms UTC. */
  readonly time: number;
  readonly underlying: string;
  /** Index (spot) price, USD. */
  readonly indexPrice: number;
  /** Hedge instrument (perpetual) mark, USD; bid/ask if known. */
  readonly perpMark: number;
  readonly perpBid?: number | null;
  readonly perpAsk?: number | null;
  /** Perpetual funding paid by longs, decimal per year (default 0). */
  readonly fundingRatePerYear?: number;
  /** Listed expiries after `time`, sorted ascending. */
  expiries(): readonly number[];
  /** Forward for a listed expiry, USD. */
  forward(expiry: number): number;
  /** Listed strikes for an expiry, sorted ascending. */
  strikes(expiry: number): readonly number[];
  /** The quote, or null if not listed/unpriceable. */
  quote(expiry: number, strike: number, kind: OptionKind): StepOptionQuote | null;
}

const key = (expiry: number, strike: number, kind: OptionKind) => `${expiry}|${strike}|${kind}`;

/** Positive finite number or null (venues show missing sides as empty or 0). */
function side(x: number | null | undefined): number | null {
  return typeof x === "number" && Number.isFinite(x) && x > 0 ? x : null;
}

/** Why a chain quote was not usable by the backtest. */
export type ChainStepRejectReason = "no-mark" | "expired" | "no-vol" | "other-underlying";

/**
 * Turns a raw `ChainSnapshot` into a `BacktestStep`. Each quote either becomes a step quote or is
 * counted under a reason (accepted + rejected = input).
 */
export function backtestStepFromChain(
  snap: ChainSnapshot,
  opts: { fundingRatePerYear?: number } = {},
): { step: BacktestStep; accepted: number; rejected: Record<ChainStepRejectReason, number> } {
  const rejected: Record<ChainStepRejectReason, number> = {
    "no-mark": 0,
    expired: 0,
    "no-vol": 0,
    "other-underlying": 0,
  };
  const t = snap.valuationTime;
  // Forward per expiry: median of the venue underlying prices, else the index.
  const und = new Map<number, number[]>();
  for (const q of snap.quotes) {
    const u = side(q.underlyingPrice);
    if (u !== null && q.instrument.expiry > t) {
      const arr = und.get(q.instrument.expiry) ?? [];
      arr.push(u);
      und.set(q.instrument.expiry, arr);
    }
  }
  const fwd = new Map<number, number>();
  for (const [e, arr] of und) {
    const s = [...arr].sort((a, b) => a - b);
    fwd.set(e, s[Math.floor(s.length / 2)] as number);
  }
  const quotes = new Map<string, StepOptionQuote>();
  const strikes = new Map<number, Set<number>>();
  let accepted = 0;
  for (const q of snap.quotes as readonly OptionQuote[]) {
    const c = q.instrument;
    if (c.underlying !== snap.underlying) {
      rejected["other-underlying"]++;
      continue;
    }
    if (c.expiry <= t) {
      rejected.expired++;
      continue;
    }
    const F = fwd.get(c.expiry) ?? snap.indexPrice;
    fwd.set(c.expiry, F);
    const conv = c.settlement === "inverse" ? F : 1;
    const mark = side(q.mark);
    if (mark === null) {
      rejected["no-mark"]++;
      continue;
    }
    const T = timeToExpiry(c.expiry, t);
    let vol = side(q.markIv);
    if (vol === null) {
      const iv = impliedVol({ price: mark * conv, forward: F, strike: c.strike, expiry: T, kind: c.kind });
      vol = Number.isFinite(iv) && iv > 0 ? iv : null;
    }
    if (vol === null) {
      rejected["no-vol"]++;
      continue;
    }
    const bid = side(q.bid);
    const ask = side(q.ask);
    quotes.set(key(c.expiry, c.strike, c.kind), {
      expiry: c.expiry,
      strike: c.strike,
      kind: c.kind,
      bidUsd: bid === null ? null : bid * conv,
      askUsd: ask === null ? null : ask * conv,
      markUsd: mark * conv,
      markVol: vol,
      forward: F,
    });
    const set = strikes.get(c.expiry) ?? new Set<number>();
    set.add(c.strike);
    strikes.set(c.expiry, set);
    accepted++;
  }
  const expiries = [...strikes.keys()].sort((a, b) => a - b);
  const strikeLists = new Map<number, number[]>();
  for (const [e, s] of strikes)
    strikeLists.set(
      e,
      [...s].sort((a, b) => a - b),
    );
  const perp = snap.futures?.find((f) => f.expiry === null && f.underlying === snap.underlying);
  const step: BacktestStep = {
    time: t,
    underlying: snap.underlying,
    indexPrice: snap.indexPrice,
    perpMark: perp?.mark ?? snap.indexPrice,
    perpBid: perp?.bid ?? null,
    perpAsk: perp?.ask ?? null,
    fundingRatePerYear: opts.fundingRatePerYear ?? 0,
    expiries: () => expiries,
    forward: (e) => fwd.get(e) ?? snap.indexPrice,
    strikes: (e) => strikeLists.get(e) ?? [],
    quote: (e, k, kind) => quotes.get(key(e, k, kind)) ?? null,
  };
  return { step, accepted, rejected };
}
