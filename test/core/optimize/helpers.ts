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

/**
 * Named tolerances shared by the optimizer tests (issue 25 item 5). HiGHS's default primal and dual
 * feasibility tolerances are 1e-7; a hand-solvable LP's vertex comes out of a basis solve on a few
 * rows of small decimals, so its values are far closer than that.
 */
/** A hand-solvable LP's vertex (contracts, objective, greeks of 1-30): basis solve on small decimals, 11 digits (a wrong vertex is >= 0.1 away). (was 9; tightened, passes at 11). */
export const LP_VERTEX_DIGITS = 11;
/** Shadow prices from HiGHS's dual solution: at a nondegenerate vertex of a tiny LP, a basis solve far inside its 1e-7 dual tolerance: 9 digits. (was 7; tightened, passes at 9). */
export const LP_DUAL_DIGITS = 9;
/** HiGHS's primal feasibility tolerance: a row may be violated by 1e-7 in the LP's scaled units. */
export const HIGHS_FEAS = 1e-7;
