/**
 * Standard margin of a whole book, by settlement currency: sum of per-position standard
 * margins (standard.ts), no offsets. Inverse legs in their coin, linear legs in USDC (the coin
 * formula times the underlying price). Option marks come from the risk valuation
 * (valuePosition) and the underlying price is the forward of the option's expiry.
 */
import type { Position } from "../instruments/types.js";
import { forwardAtExpiry, type RiskMarket, RISK_YEAR_MS, underlyingMarket } from "../risk/market.js";
import { blackUndiscountedUnchecked } from "../pricing/black76.js";
import { resolveFutureEntries } from "../risk/valuation.js";
import {
  DERIBIT_STANDARD_MARGIN,
  type StandardMarginParams,
  standardFutureMarginCoin,
  standardOptionMarginCoin,
} from "./standard.js";

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
      const T = (ins.expiry - market.valuationTime) / RISK_YEAR_MS;
      if (T > 0) {
        const F = forwardAtExpiry(um, market.valuationTime, ins.expiry);
        const vol = um.surface.impliedVol(Math.log(ins.strike / F), T);
        const markCoin =
          blackUndiscountedUnchecked(F, ins.strike, vol * Math.sqrt(T), ins.kind === "call") / F;
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
      const m = standardFutureMarginCoin({ sizeUsd, price: F, params });
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
