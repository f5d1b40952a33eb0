/**
 * Standard margin of a whole book, by settlement currency: sum of per-position standard
 * margins (standard.ts), no offsets. Inverse legs in their coin, linear legs in USDC (the coin
 * formula times the underlying price). Option marks come from the risk valuation
 * (valuePosition) and the underlying price is the forward of the option's expiry.
 */
import type { Position } from "../instruments/types.js";
import { forwardAtExpiry, type RiskMarket, underlyingMarket } from "../risk/market.js";
import { assertLive, optionMarketInputs, resolveFutureEntries, valuePosition } from "../risk/valuation.js";
import {
  DERIBIT_STANDARD_MARGIN,
  type StandardMarginParams,
  standardFutureMarginCoin,
  standardOptionMarginCoin,
} from "./standard.js";
import { timeToExpiry } from "../time.js";

/** Settlement currency of a position: the coin for inverse legs, "USDC" for linear ones. */
export function settlementCurrency(p: Position): string {
  return p.instrument.settlement === "inverse" ? p.instrument.underlying : "USDC";
}

export interface BookMargin {
  /** By settlement currency: initial and maintenance margin in that currency. */
  readonly byCurrency: Record<string, { initial: number; maintenance: number }>;
  /** Per position (same order as the input), in its settlement currency. */
  readonly positions: readonly { name: string; currency: string; initial: number; maintenance: number }[];
}

/** Deribit-style standard margin of every position, summed by settlement currency. */
export function standardBookMargin(
  positionsIn: readonly Position[],
  market: RiskMarket,
  params: StandardMarginParams = DERIBIT_STANDARD_MARGIN,
): BookMargin {
  assertLive(positionsIn, market);
  const positions = resolveFutureEntries(positionsIn, market);
  const byCurrency: Record<string, { initial: number; maintenance: number }> = {};
  const rows: { name: string; currency: string; initial: number; maintenance: number }[] = [];
  for (const p of positions) {
    const ins = p.instrument;
    const um = underlyingMarket(market, ins.underlying);
    const cur = settlementCurrency(p);
    let im = 0;
    let mm = 0;
    if (ins.type === "option") {
      const T = timeToExpiry(ins.expiry, market.valuationTime);
      if (T > 0) {
        // The option's coin mark: the one valuation (valuation.ts), per coin of underlying.
        const { forward: F } = optionMarketInputs(ins, market);
        const markCoin = valuePosition(
          { instrument: { ...ins, contractSize: 1, settlement: "inverse" }, quantity: 1 },
          market,
        ).valueCoin;
        const m = standardOptionMarginCoin({
          kind: ins.kind,
          strike: ins.strike,
          underlyingPrice: F,
          markCoin,
          size: p.quantity * ins.contractSize,
          params,
        });
        const scale = ins.settlement === "linear" ? F : 1;
        im = m.initial * scale;
        mm = m.maintenance * scale;
      }
    } else if (ins.expiry === null || ins.expiry > market.valuationTime) {
      const F = forwardAtExpiry(um, market.valuationTime, ins.expiry);
      const sizeUsd =
        ins.settlement === "inverse" ? p.quantity * ins.contractSize : p.quantity * ins.contractSize * F;
      const m = standardFutureMarginCoin({ sizeUsd, price: F, underlying: ins.underlying, params });
      const scale = ins.settlement === "linear" ? F : 1;
      im = m.initial * scale;
      mm = m.maintenance * scale;
    }
    byCurrency[cur] ??= { initial: 0, maintenance: 0 };
    const b = byCurrency[cur] as { initial: number; maintenance: number };
    b.initial += im;
    b.maintenance += mm;
    rows.push({ name: ins.name, currency: cur, initial: im, maintenance: mm });
  }
  return { byCurrency, positions: rows };
}
