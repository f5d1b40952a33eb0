/**
 * Settlement of the book's expired options and dated futures (pure): every position whose
 * expiry is at or before the chain's time is settled by core splitExpired at the venue's
 * delivery price when the feed knows it, else at intrinsic on the chain's index (stated in the
 * record's `detail`), and leaves the book with its value credited in its settlement currency
 * (book.ts applySettlement). A leg with no price to settle at (another underlying than the
 * chain's, no delivery price) is returned in `unsettled` and stays in the book, where the
 * valuation lists it as unpriced (the agent goes reduce-only).
 */
import type { ChainSnapshot } from "../core/market/types.js";
import { splitExpired } from "../core/risk/expiredLegs.js";
import { type AgentBook, type AgentSettlement, applySettlement } from "./book.js";
import { bookPositions, type ResolveInstrument } from "./valuation.js";

/** A settled expired option, journaled (book.ts applySettlement replays it). */
export type SettlementRecord = AgentSettlement & {
  readonly step: number;
  /** The amount at the chain's index, USD. */
  readonly valueUsd: number;
  /** One line: price, source (delivery or index intrinsic), amount and currency. */
  readonly detail: string;
};

/** The (underlying, expiry) pairs of the book's expired legs at the chain's time. */
export function expiredKeys(
  book: AgentBook,
  snapshot: ChainSnapshot,
  resolveInstrument: ResolveInstrument,
): { underlying: string; expiry: number }[] {
  const t = snapshot.valuationTime;
  const seen = new Map<string, { underlying: string; expiry: number }>();
  for (const p of bookPositions(book, resolveInstrument)) {
    const e = p.instrument.expiry;
    if (e !== null && e <= t)
      seen.set(`${p.instrument.underlying}:${e}`, { underlying: p.instrument.underlying, expiry: e });
  }
  return [...seen.values()];
}

/**
 * Settles the expired legs of `book` at the chain's time: the book after, the records to
 * journal, and the legs left unsettled with why. `deliveryPrice` answers from what the feed
 * said (null: unknown, settle at the index).
 */
export function settleExpiredLegs(
  step: number,
  book: AgentBook,
  snapshot: ChainSnapshot,
  resolveInstrument: ResolveInstrument,
  deliveryPrice: (underlying: string, expiry: number) => number | null = () => null,
): { book: AgentBook; records: SettlementRecord[]; unsettled: { instrument: string; detail: string }[] } {
  const t = snapshot.valuationTime;
  const expired = bookPositions(book, resolveInstrument).filter(
    (p) => p.instrument.expiry !== null && p.instrument.expiry <= t,
  );
  if (expired.length === 0) return { book, records: [], unsettled: [] };
  const split = splitExpired(expired, t, {
    indexPrice: (u) => (u === snapshot.underlying ? snapshot.indexPrice : null),
    deliveryPrice,
  });
  let next = book;
  const records: SettlementRecord[] = split.settled.map((leg) => ({
    step,
    instrument: leg.position.instrument.name,
    quantity: leg.position.quantity,
    settlementPrice: leg.settlementPrice,
    source: leg.source,
    currency: leg.currency,
    value: leg.value,
    valueUsd: leg.valueUsd,
    detail: leg.detail,
  }));
  for (const r of records) next = applySettlement(next, r);
  return {
    book: next,
    records,
    unsettled: split.unsettled.map((u) => ({ instrument: u.position.instrument.name, detail: u.detail })),
  };
}
