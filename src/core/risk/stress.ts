/**
 * Stress runs: full revaluation of a book under library scenarios, plus a liquidity-withdrawal
 * overlay so the cost to close (or hedge) is part of the stressed loss.
 *
 * Liquidity overlay (parameters as data): the half bid/ask spread to cross when closing
 *   options: max(optionHalfSpreadVol * |vegaUsd|, optionMinHalfSpreadCoin * |m| * S')  USD
 *   futures: futureHalfSpreadBps / 1e4 * |cashDeltaUsd|                                 USD
 *   variance swaps, vol-index futures (quoted in vol points): optionHalfSpreadVol * |vegaUsd| USD
 * each multiplied by the widening factor 1 + widenPerVolPoint * 100 * max(volShift, 0)
 * (spreads widen as vol spikes; e.g. 0.05 per vol point -> x2.5 at +30 points), times
 * (1 + slippageFraction) for slippage beyond the touch. Vega and cash delta are those of the
 * stressed market; settled legs cost nothing. DEFAULT_LIQUIDITY_OVERLAY is an assumption of
 * typical calm Deribit BTC levels (half a vol point at the money, 0.0005 coin minimum, 0.5 bp
 * on futures), not measured from order books.
 *
 * stressedLossUsd = -pnlUsd + closeCostUsd (positive = money lost). Results sorted worst first.
 */
import { requireNonNegative } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { positionGreeks } from "./greeks.js";
import type { RiskMarket } from "./market.js";
import { applyScenario, type Scenario } from "./scenario.js";
import type { StressEntry } from "./stressLibrary.js";
import { assertLive, resolveFutureEntries, valuePosition } from "./valuation.js";

export interface LiquidityOverlay {
  /** Half spread of options in vol (decimal): 0.005 = half a vol point. */
  readonly optionHalfSpreadVol: number;
  /** Minimum option half spread in coin per coin of underlying (e.g. 0.0005). */
  readonly optionMinHalfSpreadCoin: number;
  /** Half spread of futures, basis points of notional. */
  readonly futureHalfSpreadBps: number;
  /** Relative spread widening per vol point of upward volShift. */
  readonly widenPerVolPoint: number;
  /** Extra slippage as a fraction of the crossed half spread. */
  readonly slippageFraction: number;
}

/** Default overlay (assumed typical Deribit BTC levels; see the module comment). */
export const DEFAULT_LIQUIDITY_OVERLAY: LiquidityOverlay = {
  optionHalfSpreadVol: 0.005,
  optionMinHalfSpreadCoin: 0.0005,
  futureHalfSpreadBps: 0.5,
  widenPerVolPoint: 0.05,
  slippageFraction: 0.25,
};

/** Cost (USD) to close every position in `market`, with the spread widening of `volShift`. */
export function closeCostUsd(
  positions: readonly Position[],
  market: RiskMarket,
  volShift: number,
  overlay: LiquidityOverlay = DEFAULT_LIQUIDITY_OVERLAY,
): number {
  requireNonNegative("overlay.optionHalfSpreadVol", overlay.optionHalfSpreadVol);
  requireNonNegative("overlay.widenPerVolPoint", overlay.widenPerVolPoint);
  const widen = (1 + overlay.widenPerVolPoint * 100 * Math.max(volShift, 0)) * (1 + overlay.slippageFraction);
  let cost = 0;
  for (const p of positions) {
    const ins = p.instrument;
    const g = positionGreeks(p, market);
    const S = market.underlyings[ins.underlying]?.indexPrice ?? 0;
    if (ins.type === "option") {
      if (ins.expiry <= market.valuationTime) continue;
      const m = Math.abs(p.quantity * ins.contractSize);
      cost +=
        Math.max(overlay.optionHalfSpreadVol * Math.abs(g.vegaUsd), overlay.optionMinHalfSpreadCoin * m * S) *
        widen;
    } else if (ins.type === "varianceSwap" || ins.type === "volIndexFuture") {
      // Quoted in vol points like an option's vol: half the option vol spread times the vega.
      if (ins.expiry <= market.valuationTime) continue;
      cost += overlay.optionHalfSpreadVol * Math.abs(g.vegaUsd) * widen;
    } else {
      if (ins.expiry !== null && ins.expiry <= market.valuationTime) continue;
      cost += (overlay.futureHalfSpreadBps / 1e4) * Math.abs(g.cashDeltaUsd) * widen;
    }
  }
  return cost;
}

export interface StressResult {
  readonly id: string;
  readonly description: string;
  readonly kind: StressEntry["kind"];
  readonly scenario: Scenario;
  /** Revaluation PnL, USD (all underlyings). */
  readonly pnlUsd: number;
  /** Revaluation PnL per underlying in its coin. */
  readonly pnlCoin: Readonly<Record<string, number>>;
  /** Cost to close in the stressed market, USD (liquidity overlay). */
  readonly closeCostUsd: number;
  /** -pnlUsd + closeCostUsd, USD (positive = loss). */
  readonly stressedLossUsd: number;
  readonly source: string;
}

/** Runs stress entries on a book; sorted worst (largest stressed loss) first. */
export function runStress(o: {
  readonly positions: readonly Position[];
  readonly market: RiskMarket;
  readonly entries: readonly StressEntry[];
  readonly liquidity?: LiquidityOverlay | null;
}): StressResult[] {
  assertLive(o.positions, o.market);
  const positions = resolveFutureEntries(o.positions, o.market);
  const base = positions.map((p) => valuePosition(p, o.market));
  const out: StressResult[] = o.entries.map((e) => {
    const mkt = applyScenario(o.market, e.scenario);
    let pnlUsd = 0;
    const pnlCoin: Record<string, number> = {};
    positions.forEach((p, i) => {
      const v = valuePosition(p, mkt);
      const b = base[i] as { valueUsd: number; valueCoin: number };
      pnlUsd += v.valueUsd - b.valueUsd;
      const u = p.instrument.underlying;
      pnlCoin[u] = (pnlCoin[u] ?? 0) + v.valueCoin - b.valueCoin;
    });
    const cost = o.liquidity === null ? 0 : closeCostUsd(positions, mkt, e.scenario.volShift, o.liquidity);
    return {
      id: e.id,
      description: e.description,
      kind: e.kind,
      scenario: e.scenario,
      pnlUsd,
      pnlCoin,
      closeCostUsd: cost,
      stressedLossUsd: -pnlUsd + cost,
      source: e.source,
    };
  });
  return out.sort((a, b) => b.stressedLossUsd - a.stressedLossUsd);
}
