/**
 * Plain summaries of a normalized chain for display (CLI tables, JSON): per expiry the forward
 * (USD) and its source, the year fraction, quotes in and accepted, and the ATM mid vol; and the
 * rejected quotes counted by reason. Pure; every number comes from normalizeChain.
 */
import { formatDeribitExpiry } from "../instruments/names.js";
import type { NormalizedChain } from "./normalize.js";
import type { CleanQuote, ForwardSource } from "./types.js";

export interface ExpirySummary {
  /** Deribit date code, e.g. "27MAR26". */
  readonly code: string;
  /** Epoch ms UTC. */
  readonly expiry: number;
  /** Years, ACT/365. */
  readonly timeToExpiry: number;
  /** USD. */
  readonly forward: number;
  readonly source: ForwardSource;
  /** Quotes of this expiry in the input, accepted, and rejected. */
  readonly input: number;
  readonly accepted: number;
  /** Accepted quotes without a bid or without an ask. */
  readonly oneSided: number;
  /** Mid vol (else mark vol) of the accepted out-of-the-money quote nearest the forward, decimal. */
  readonly atmVol: number | null;
}

export interface ChainSummary {
  readonly underlying: string;
  readonly valuationTime: number;
  readonly indexPrice: number;
  readonly input: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly rejectedByReason: Record<string, number>;
  readonly expiries: ExpirySummary[];
}

function atmVol(quotes: readonly CleanQuote[]): number | null {
  let best: CleanQuote | null = null;
  for (const q of quotes) {
    const otm = q.instrument.kind === "call" ? q.logMoneyness >= 0 : q.logMoneyness < 0;
    const v = q.midVol ?? q.markVol;
    if (!otm || v === null) continue;
    if (best === null || Math.abs(q.logMoneyness) < Math.abs(best.logMoneyness)) best = q;
  }
  return best === null ? null : (best.midVol ?? best.markVol);
}

/** Summarizes one normalized chain by expiry. */
export function summarizeNormalizedChain(n: NormalizedChain): ChainSummary {
  const inputByExpiry = new Map<number, number>();
  for (const q of n.snapshot.quotes)
    inputByExpiry.set(q.instrument.expiry, (inputByExpiry.get(q.instrument.expiry) ?? 0) + 1);
  for (const r of n.rejected)
    inputByExpiry.set(r.quote.instrument.expiry, (inputByExpiry.get(r.quote.instrument.expiry) ?? 0) + 1);
  const expiries = n.snapshot.forwards.map((f): ExpirySummary => {
    const qs = n.snapshot.quotes.filter((q) => q.instrument.expiry === f.expiry);
    return {
      code: formatDeribitExpiry(f.expiry),
      expiry: f.expiry,
      timeToExpiry: f.timeToExpiry,
      forward: f.forward,
      source: f.source,
      input: inputByExpiry.get(f.expiry) ?? 0,
      accepted: qs.length,
      oneSided: qs.filter((q) => q.bid === null || q.ask === null).length,
      atmVol: atmVol(qs),
    };
  });
  const rejectedByReason: Record<string, number> = {};
  for (const [k, v] of Object.entries(n.counts.byReason)) if (v > 0) rejectedByReason[k] = v;
  return {
    underlying: n.snapshot.underlying,
    valuationTime: n.snapshot.valuationTime,
    indexPrice: n.snapshot.indexPrice,
    input: n.counts.input,
    accepted: n.counts.accepted,
    rejected: n.counts.rejected,
    rejectedByReason,
    expiries,
  };
}
