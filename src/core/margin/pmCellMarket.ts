/**
 * One risk-matrix cell's market for Deribit's portfolio margin: the index (and forwards) of each
 * pair moved by a relative amount, options keeping their own IV (sticky-strike) with that IV
 * shocked up or down by the DTE power law of the pair's parameters (see portfolioMargin.ts's
 * module comment for the rules and params/ for their sources). Vols decimal, T in years, DTE in
 * days = T x 365.
 */
import { InvalidInputError } from "../errors.js";
import type { RiskMarket, UnderlyingMarket } from "../risk/market.js";
import { applyScenario } from "../risk/scenario.js";
import type { VolSurface } from "../surface/types.js";
import type { PmPairParams, PortfolioMarginParams } from "./params/types.js";

/** Vol scenario of a risk-matrix cell. */
export type PmVolScenario = "up" | "same" | "down";

/** The pair's parameters, or an error naming params.pairs and the underlying. */
export function pmPairOf(params: PortfolioMarginParams, underlying: string): PmPairParams {
  const p = params.pairs[underlying];
  if (!p)
    throw new InvalidInputError(
      "params.pairs",
      underlying,
      "has no portfolio-margin parameters for this underlying (pass them in params.pairs)",
    );
  return p;
}

/** The DTE power-law factor (pivot / max(DTE, minDte))^p of a pair at T years. */
export function pmVegaPowerFactor(pair: PmPairParams, T: number, minDteDays: number): number {
  const dte = Math.max(T * 365, minDteDays);
  const p = dte < pair.vegaPowerPivotDays ? pair.shortTermVegaPower : pair.longTermVegaPower;
  return (pair.vegaPowerPivotDays / dte) ** p;
}

/** Shocked vol of an option at IV `v` and T years (see the module comment). */
export function pmShockedVol(
  v: number,
  T: number,
  vol: PmVolScenario,
  pair: PmPairParams,
  params: Pick<PortfolioMarginParams, "minDteDays" | "volFloor">,
): number {
  if (vol === "same") return v;
  const f = pmVegaPowerFactor(pair, T, params.minDteDays);
  if (vol === "up") return v + Math.max(v, pair.minVolatilityForShockUp) * pair.volatilityRangeUp * f;
  return Math.max(v * (1 - pair.volatilityRangeDown * f), params.volFloor);
}

function shockedSurface(
  base: VolSurface,
  vol: PmVolScenario,
  pair: PmPairParams,
  params: PortfolioMarginParams,
): VolSurface {
  if (vol === "same") return base;
  const impliedVol = (k: number, T: number) => pmShockedVol(base.impliedVol(k, T), T, vol, pair, params);
  return { model: `${base.model}+pm-${vol}`, impliedVol, totalVariance: (k, T) => impliedVol(k, T) ** 2 * T };
}

/**
 * Market moved by `moves` (per underlying, relative), sticky-strike, with the vol scenario: one
 * risk-matrix cell's market (segregated and cross portfolio margin).
 */
export function pmCellMarket(
  market: RiskMarket,
  moves: Readonly<Record<string, number>>,
  vol: PmVolScenario,
  params: PortfolioMarginParams,
): RiskMarket {
  const moved = applyScenario(market, {
    spotShift: 0,
    spotShiftByUnderlying: moves,
    volShift: 0,
    surfaceDynamics: "sticky-strike",
  });
  if (vol === "same") return moved;
  const underlyings: Record<string, UnderlyingMarket> = { ...moved.underlyings };
  for (const u of Object.keys(moves)) {
    const m = moved.underlyings[u];
    if (m) underlyings[u] = { ...m, surface: shockedSurface(m.surface, vol, pmPairOf(params, u), params) };
  }
  return { valuationTime: moved.valuationTime, underlyings };
}
