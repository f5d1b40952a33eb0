/**
 * Portfolio margin by risk matrix (Deribit segregated portfolio margin, S:PM, style), with every
 * parameter as data, per settlement currency (inverse BTC legs in BTC, ETH in ETH, linear legs in
 * USDC).
 *
 * Risk matrix: spot moves in `spotBuckets` evenly spaced points over [-spotRange, +spotRange]
 * (Deribit: +-16%, 9 buckets incl. 0), each with vol "up", "same" and "down": an option's vol
 * becomes vol (1 +- range (30 / max(DTE, 1))^volPower) (relative shock scaled by time to
 * expiry), floored at `minVol`. Extended table: `extendedMoves` (Deribit: -66%, -33%, +50%,
 * +100%, +200%, +300%, +400%, +500%) on vol-up only, counting only `extendedFraction` of the
 * loss (the dampener). Surface dynamics sticky-strike (each option keeps its own shocked IV).
 * Delta shock: deltaShock x |coin delta| (coin) is added. Contingencies: `shortOptionCoin` per
 * net short option contract per strike and expiry, `offsettingFutures` x the smaller side of
 * long/short futures notional (coin).
 *   risk = max(0, worst matrix loss, extendedFraction x worst extended loss)
 *   initial = risk + delta shock + contingencies;  maintenance = maintenanceFraction x initial.
 * Sources: support.deribit.com "Portfolio Margin" (article 25944756247837): +-16% in 9 buckets,
 * vol range up/same/down, the extended moves above on vol-up only with a fraction and a dampener;
 * deribit.com/pages/docs/portfoliomargin (older parameters): IV change (30/DTE)^0.30 x 38%,
 * 0.01 BTC per net short option per strike, 1% for offsetting futures. ASSUMPTIONS (values not
 * in the corpus): volRangeUp 0.45 / volRangeDown 0.30 as relative shocks, extendedFraction 0.1,
 * deltaShock 0.01, maintenanceFraction 0.8, minVol 0.05. Deribit changes these without notice;
 * pass current values from its margin page.
 */
import type { Position } from "../instruments/types.js";
import type { VolSurface } from "../surface/types.js";
import { positionGreeks } from "../risk/greeks.js";
import type { RiskMarket, UnderlyingMarket } from "../risk/market.js";
import { applyScenario } from "../risk/scenario.js";
import { linspace } from "../risk/scenario.js";
import { assertLive, resolveFutureEntries, valuePosition } from "../risk/valuation.js";
import { settlementCurrency } from "./book.js";

export interface PortfolioMarginParams {
  readonly spotRange: number;
  readonly spotBuckets: number;
  readonly volRangeUp: number;
  readonly volRangeDown: number;
  readonly volPower: number;
  readonly minVol: number;
  readonly extendedMoves: readonly number[];
  readonly extendedFraction: number;
  readonly deltaShock: number;
  readonly shortOptionCoin: number;
  readonly offsettingFutures: number;
  readonly maintenanceFraction: number;
}

export const DERIBIT_PORTFOLIO_MARGIN: PortfolioMarginParams = {
  spotRange: 0.16,
  spotBuckets: 9,
  volRangeUp: 0.45,
  volRangeDown: 0.3,
  volPower: 0.3,
  minVol: 0.05,
  extendedMoves: [-0.66, -0.33, 0.5, 1, 2, 3, 4, 5],
  extendedFraction: 0.1,
  deltaShock: 0.01,
  shortOptionCoin: 0.01,
  offsettingFutures: 0.01,
  maintenanceFraction: 0.8,
};

/** One risk-matrix cell: PnL per settlement currency. */
export interface RiskMatrixCell {
  readonly spotMove: number;
  readonly vol: "up" | "same" | "down";
  readonly extended: boolean;
  readonly pnl: Readonly<Record<string, number>>;
}

export interface PortfolioMarginResult {
  readonly byCurrency: Record<
    string,
    {
      initial: number;
      maintenance: number;
      risk: number;
      worstScenario: string;
      deltaShock: number;
      contingency: number;
    }
  >;
  readonly matrix: readonly RiskMatrixCell[];
}

function shockedSurface(
  base: VolSurface,
  dir: number,
  p: PortfolioMarginParams,
  rollYears: number,
): VolSurface {
  const range = dir > 0 ? p.volRangeUp : dir < 0 ? -p.volRangeDown : 0;
  const impliedVol = (k: number, T: number) => {
    const v = base.impliedVol(k, T + rollYears);
    const dte = Math.max(T * 365, 1);
    return Math.max(v * (1 + range * (30 / dte) ** p.volPower), p.minVol);
  };
  return { model: `${base.model}+pm`, impliedVol, totalVariance: (k, T) => impliedVol(k, T) ** 2 * T };
}

function pnlByCurrency(
  positions: readonly Position[],
  base: readonly number[],
  market: RiskMarket,
): Record<string, number> {
  const out: Record<string, number> = {};
  positions.forEach((p, i) => {
    const cur = settlementCurrency(p);
    const v = valuePosition(p, market);
    const x = cur === "USDC" ? v.valueUsd : v.valueCoin;
    out[cur] = (out[cur] ?? 0) + x - (base[i] as number);
  });
  return out;
}

/** Risk-matrix portfolio margin (see the module comment). */
export function portfolioMargin(
  positionsIn: readonly Position[],
  market: RiskMarket,
  params: PortfolioMarginParams = DERIBIT_PORTFOLIO_MARGIN,
): PortfolioMarginResult {
  assertLive(positionsIn, market);
  const positions = resolveFutureEntries(positionsIn, market);
  const base = positions.map((p) => {
    const v = valuePosition(p, market);
    return settlementCurrency(p) === "USDC" ? v.valueUsd : v.valueCoin;
  });
  const matrix: RiskMatrixCell[] = [];
  const cell = (spotMove: number, vol: "up" | "same" | "down", extended: boolean) => {
    const moved = applyScenario(market, {
      spotShift: spotMove,
      volShift: 0,
      surfaceDynamics: "sticky-strike",
    });
    const dir = vol === "up" ? 1 : vol === "down" ? -1 : 0;
    const underlyings: Record<string, UnderlyingMarket> = {};
    for (const [u, m] of Object.entries(moved.underlyings))
      underlyings[u] = { ...m, surface: shockedSurface(m.surface, dir, params, 0) };
    matrix.push({
      spotMove,
      vol,
      extended,
      pnl: pnlByCurrency(positions, base, { valuationTime: moved.valuationTime, underlyings }),
    });
  };
  for (const s of linspace(-params.spotRange, params.spotRange, params.spotBuckets))
    for (const v of ["up", "same", "down"] as const) cell(s, v, false);
  for (const s of params.extendedMoves) cell(s, "up", true);

  const currencies = new Set(positions.map(settlementCurrency));
  const byCurrency: PortfolioMarginResult["byCurrency"] = {};
  for (const cur of currencies) {
    let worst = 0;
    let worstName = "none";
    for (const c of matrix) {
      const loss = -(c.pnl[cur] ?? 0) * (c.extended ? params.extendedFraction : 1);
      if (loss > worst) {
        worst = loss;
        worstName = `${c.extended ? "extended " : ""}spot ${(c.spotMove * 100).toFixed(1)}% vol ${c.vol}`;
      }
    }
    // Delta shock and contingencies in the currency's units.
    let delta = 0;
    const netShort = new Map<string, number>();
    let longFut = 0;
    let shortFut = 0;
    for (const p of positions) {
      if (settlementCurrency(p) !== cur) continue;
      const g = positionGreeks(p, market);
      const S = market.underlyings[p.instrument.underlying]?.indexPrice ?? 1;
      delta += cur === "USDC" ? g.cashDeltaUsd : g.deltaCoin;
      const ins = p.instrument;
      const unit = cur === "USDC" ? S : 1;
      if (ins.type === "option") {
        const key = `${ins.underlying}|${ins.expiry}|${ins.strike}`;
        netShort.set(key, (netShort.get(key) ?? 0) + p.quantity * ins.contractSize * unit);
      } else {
        const coins =
          ins.settlement === "inverse"
            ? (p.quantity * ins.contractSize) / S
            : p.quantity * ins.contractSize * unit;
        if (coins > 0) longFut += coins;
        else shortFut -= coins;
      }
    }
    let contingency = params.offsettingFutures * Math.min(longFut, shortFut);
    for (const q of netShort.values()) if (q < 0) contingency += params.shortOptionCoin * -q;
    const deltaShock = params.deltaShock * Math.abs(delta);
    const initial = worst + deltaShock + contingency;
    byCurrency[cur] = {
      initial,
      maintenance: params.maintenanceFraction * initial,
      risk: worst,
      worstScenario: worstName,
      deltaShock,
      contingency,
    };
  }
  return { byCurrency, matrix };
}
