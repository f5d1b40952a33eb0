/**
 * Market state as plain data. Flow (DESIGN.md): feed or file -> ChainSnapshot -> clean ->
 * forwards per expiry -> surface fit -> MarketSnapshot.
 *
 * Units: prices of inverse options in coin per coin of underlying, of linear options in USD;
 * vols decimal annualized; times epoch ms UTC; USD prices for index, forward, underlying.
 */
import type { OptionContract } from "../instruments/types.js";
import type { VolSurface } from "../surface/types.js";

/** One option quote as the venue shows it. A missing side is null, never 0. */
export interface OptionQuote {
  readonly instrument: OptionContract;
  /** Quote time, epoch ms UTC. */
  readonly timestamp: number;
  /** Best bid / ask / mark in the instrument's quote units (coin for inverse, USD for linear). */
  readonly bid: number | null;
  readonly ask: number | null;
  readonly mark: number | null;
  readonly bidSize?: number | null;
  readonly askSize?: number | null;
  /** Venue-reported implied vols (decimal), if any. */
  readonly bidIv?: number | null;
  readonly askIv?: number | null;
  readonly markIv?: number | null;
  /** USD price of the underlying the venue used for this quote (future or synthetic forward). */
  readonly underlyingPrice?: number | null;
  /** Name of that underlying ("BTC-27DEC24" or "SYN.BTC-27DEC24"). */
  readonly underlyingName?: string | null;
  readonly openInterest?: number | null;
  readonly volume?: number | null;
}

/** A future/perpetual mark, USD. */
export interface FutureQuote {
  readonly name: string;
  readonly underlying: string;
  readonly expiry: number | null;
  readonly timestamp: number;
  readonly mark: number;
  readonly bid?: number | null;
  readonly ask?: number | null;
}

/** A raw chain for one underlying at one instant. */
export interface ChainSnapshot {
  readonly underlying: string;
  /** Snapshot time, epoch ms UTC. */
  readonly valuationTime: number;
  /** Index (spot) price, USD. */
  readonly indexPrice: number;
  readonly quotes: readonly OptionQuote[];
  readonly futures?: readonly FutureQuote[];
}

/** How a forward was obtained. */
export type ForwardSource = "future" | "venue-underlying" | "put-call-parity" | "index";

/** The forward for one expiry. */
export interface ExpiryForward {
  /** Expiry instant, epoch ms UTC. */
  readonly expiry: number;
  /** Year fraction ACT/365 from valuationTime. */
  readonly timeToExpiry: number;
  /** Forward price, USD. */
  readonly forward: number;
  readonly source: ForwardSource;
}

/** A cleaned quote with its implied vols (NaN-free: a side without a vol is null). */
export interface CleanQuote extends OptionQuote {
  readonly forward: number;
  /** Year fraction ACT/365. */
  readonly timeToExpiry: number;
  /** ln(strike / forward). */
  readonly logMoneyness: number;
  readonly bidVol: number | null;
  readonly askVol: number | null;
  readonly midVol: number | null;
  readonly markVol: number | null;
  /**
   * Present (non-empty) when the quote was kept with a side missing or a side without an implied
   * vol: "no-bid" (ask-only, bidVol null), "no-ask", "bid-no-iv" (e.g. a deep ITM bid below
   * intrinsic), "ask-no-iv", "mid-no-iv", "mark-no-iv". See normalizeChain.
   */
  readonly flags?: readonly CleanQuoteFlag[];
}

/** Why a kept quote lacks a side or a side's vol (see CleanQuote.flags). */
export type CleanQuoteFlag = "no-bid" | "no-ask" | "bid-no-iv" | "ask-no-iv" | "mid-no-iv" | "mark-no-iv";

/** Everything a pricer needs at one instant for one underlying. */
export interface MarketSnapshot {
  readonly underlying: string;
  readonly valuationTime: number;
  /** Index (spot) price, USD. */
  readonly indexPrice: number;
  /** Sorted by expiry. */
  readonly forwards: readonly ExpiryForward[];
  readonly quotes: readonly CleanQuote[];
  readonly surface?: VolSurface;
}
