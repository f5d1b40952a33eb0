/**
 * Greeks and mark value of the agent's book at one snapshot, for its rules and limits.
 *
 * Delta is in units of the underlying coin (Black delta x contract size for options, USD
 * notional / forward for inverse futures, contracts x size for linear futures): the exposure a
 * perpetual hedges. Vega is USD per 1.00 vol (DESIGN.md raw greeks). Options use the venue mark
 * IV at the quote's underlying price; a missing mark IV is solved from the mark price.
 */
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot, OptionQuote } from "../core/market/types.js";
import { blackGreeks } from "../core/pricing/black76.js";
import { impliedVol } from "../core/pricing/impliedVol.js";
import type { AgentBook } from "./book.js";
import { timeToExpiry } from "../core/time.js";

export interface BookRisk {
  /** Net delta, coins of the underlying. */
  readonly delta: number;
  /** Net gamma, coins per USD. */
  readonly gamma: number;
  /** Net vega, USD per 1.00 vol. */
  readonly vega: number;
  /** Net theta, USD per year. */
  readonly theta: number;
  /** Mark value of the options, USD. */
  readonly optionValueUsd: number;
  /** Positions that could not be valued (no quote, no vol), by name. */
  readonly unpriced: readonly string[];
}

export function quoteIndex(snapshot: ChainSnapshot): Map<string, OptionQuote> {
  return new Map(snapshot.quotes.map((q) => [q.instrument.name, q]));
}

/** Black-76 greeks of one option contract (per contract, USD), or null when it cannot be valued. */
export function optionContractGreeks(q: OptionQuote, now: number, indexPrice: number) {
  const forward = q.underlyingPrice ?? indexPrice;
  const T = timeToExpiry(q.instrument.expiry, now);
  if (!(T > 0) || !(forward > 0)) return null;
  let vol = q.markIv ?? null;
  if (!(vol !== null && vol > 0) && q.mark !== null) {
    const usdMark = q.instrument.settlement === "inverse" ? q.mark * forward : q.mark;
    vol = impliedVol({
      price: usdMark,
      forward,
      strike: q.instrument.strike,
      expiry: T,
      kind: q.instrument.kind,
    });
  }
  if (!(vol !== null && vol > 0 && Number.isFinite(vol))) return null;
  const g = blackGreeks({ forward, strike: q.instrument.strike, expiry: T, vol, kind: q.instrument.kind });
  const size = q.instrument.contractSize;
  return {
    forward,
    vol,
    timeToExpiry: T,
    priceUsd: g.price * size,
    delta: g.delta * size,
    gamma: g.gamma * size,
    vega: g.vega * size,
    theta: g.theta * size,
  };
}

export function bookRisk(
  book: AgentBook,
  snapshot: ChainSnapshot,
  resolveInstrument: (name: string) => Instrument,
  quotes: Map<string, OptionQuote> = quoteIndex(snapshot),
): BookRisk {
  let delta = 0;
  let gamma = 0;
  let vega = 0;
  let theta = 0;
  let optionValueUsd = 0;
  const unpriced: string[] = [];
  for (const p of Object.values(book.positions)) {
    const inst = resolveInstrument(p.instrument);
    if (inst.type === "future") {
      const forward = snapshot.indexPrice; // perpetual ~ index; dated futures' basis is second order for delta
      delta +=
        inst.settlement === "inverse"
          ? (p.quantity * inst.contractSize) / forward
          : p.quantity * inst.contractSize;
      continue;
    }
    const q = quotes.get(p.instrument);
    const g = q ? optionContractGreeks(q, snapshot.valuationTime, snapshot.indexPrice) : null;
    if (!g) {
      unpriced.push(p.instrument);
      continue;
    }
    delta += p.quantity * g.delta;
    gamma += p.quantity * g.gamma;
    vega += p.quantity * g.vega;
    theta += p.quantity * g.theta;
    optionValueUsd += p.quantity * g.priceUsd;
  }
  return { delta, gamma, vega, theta, optionValueUsd, unpriced };
}
