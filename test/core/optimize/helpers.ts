import type { OptimizeBook, OptimizeCandidate, OptimizeGreeks } from "../../../src/core/optimize/spec.js";

export const G0: OptimizeGreeks = { deltaCoin: 0, cashGammaUsd: 0, vegaUsdPerVolPt: 0, thetaUsdPerDay: 0 };

export function cand(o: Partial<OptimizeCandidate> & { name: string; pnl?: number[] }): OptimizeCandidate {
  return {
    bucket: "30-90d",
    bidUsd: 9,
    askUsd: 11,
    fairUsd: 10,
    greeks: G0,
    maxBuy: 10,
    maxSell: 10,
    marginShortUsd: 0,
    scenarioPnlUsd: Float64Array.from(o.pnl ?? []),
    ...o,
  };
}

export function book(o: Partial<OptimizeBook> & { pnl?: number[] } = {}): OptimizeBook {
  return { greeks: G0, marginUsd: 0, scenarioPnlUsd: Float64Array.from(o.pnl ?? []), ...o };
}
