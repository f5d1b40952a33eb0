/**
 * Runs the replicated variance swap (varianceSwapStrategy.ts) through the backtest engine and
 * reports each swap against the ideal swap N (RV - K_var), with the replication error split into
 * costs, strikes and wings (static) and the hedge (the rest), in USD:
 *
 *   pnl - ideal = -costs + static + hedge   (exact: `hedge` is the remainder).
 *
 * costs = spreads + slippage + fees of the fills at times in [roll, exit) (the trade log's USD at
 * each trade's index); funding is not a fill cost and stays in `hedge`. Units: USD; variance as
 * decimal^2/yr and as variance points (x 1e4) where named `...Pts`.
 */
import { InvalidInputError } from "../errors.js";
import { realizedVariance } from "../volindex/varianceSwap.js";
import { runBacktest } from "./engine.js";
import type { BacktestStep } from "./market.js";
import type { BacktestResult, StepValuation, TradeRecord } from "./results.js";
import { type ClosedSwap, type VarianceSwapSpec, varianceSwapStrategy } from "./varianceSwapStrategy.js";

/** One replicated swap with its comparison to the ideal swap. */
export interface ReplicatedSwap extends ClosedSwap {
  /** Realized variance of the fixings, decimal^2/yr (volindex realizedVariance). */
  readonly realizedVariance: number;
  /** N (RV - K_var), USD. */
  readonly idealUsd: number;
  /** Costs of the swap's fills, USD (>= 0), and the part paid on options. */
  readonly costsUsd: number;
  readonly optionCostsUsd: number;
  /** N K_var - V_0 + strip payoff - N (L(S_T) - L(F_0)), USD (varianceSwapStrategy.ts). */
  readonly staticUsd: number;
  /** pnl - ideal + costs - static, USD. */
  readonly hedgeUsd: number;
  /** pnl - ideal, USD. */
  readonly errorUsd: number;
  /** Option contracts traded at the roll (sum of |quantity|). */
  readonly contracts: number;
}

export interface VarianceSwapRun {
  readonly result: BacktestResult;
  readonly swaps: readonly ReplicatedSwap[];
}

/** Costs of the trades at times in [from, to), USD: all fills and the option fills alone. */
function costsBetween(
  trades: readonly TradeRecord[],
  from: number,
  to: number,
): { all: number; options: number } {
  let all = 0;
  let options = 0;
  for (const t of trades) {
    if (t.time < from || t.time >= to) continue;
    const c = t.spreadUsd + t.slippageUsd + t.feeUsd;
    all += c;
    if (t.type === "option") options += c;
  }
  return { all, options };
}

/** A closed swap's comparison with the ideal swap (see the module comment). */
export function replicatedSwap(c: ClosedSwap, trades: readonly TradeRecord[]): ReplicatedSwap {
  const rv = realizedVariance(c.fixings).variance;
  const idealUsd = c.notional * (rv - c.strikeVariance);
  const costs = costsBetween(trades, c.entryTime, c.exitTime);
  const staticUsd = c.notional * c.strikeVariance - c.stripValueUsd + c.stripPayoffUsd - c.logPayoffUsd;
  const errorUsd = c.pnlUsd - idealUsd;
  let contracts = 0;
  for (const l of c.legs) contracts += Math.abs(l.quantity);
  return {
    ...c,
    realizedVariance: rv,
    idealUsd,
    costsUsd: costs.all,
    optionCostsUsd: costs.options,
    staticUsd,
    hedgeUsd: errorUsd + costs.all - staticUsd,
    errorUsd,
    contracts,
  };
}

/**
 * Backtests the variance-swap strategy `spec` on `steps` (a real daily season from
 * loadBacktestData, or syntheticSteps): the engine's result and every swap that settled.
 */
export function runVarianceSwapBacktest(o: {
  readonly spec: VarianceSwapSpec;
  readonly steps: Iterable<BacktestStep>;
  readonly onStep?: (index: number) => void;
}): VarianceSwapRun {
  const strategy = varianceSwapStrategy(o.spec);
  let last: StepValuation | null = null;
  const result = runBacktest({
    strategy: o.spec,
    steps: o.steps,
    rule: strategy.rule,
    onValuation: (v) => {
      last = v;
    },
    ...(o.onStep ? { onStep: o.onStep } : {}),
  });
  const final = last as StepValuation | null;
  if (!final) throw new InvalidInputError("steps", 0, "must contain at least one step");
  strategy.finish(final.step, final.equity.equityUsd);
  return { result, swaps: strategy.closed().map((c) => replicatedSwap(c, result.trades)) };
}

/** Totals over swaps, USD, and the error's parts per swap: median and worst |.|. */
export function replicationSummary(swaps: readonly ReplicatedSwap[]): {
  readonly swaps: number;
  readonly pnlUsd: number;
  readonly idealUsd: number;
  readonly costsUsd: number;
  readonly staticUsd: number;
  readonly hedgeUsd: number;
} {
  const sum = (f: (s: ReplicatedSwap) => number) => swaps.reduce((a, s) => a + f(s), 0);
  return {
    swaps: swaps.length,
    pnlUsd: sum((s) => s.pnlUsd),
    idealUsd: sum((s) => s.idealUsd),
    costsUsd: sum((s) => s.costsUsd),
    staticUsd: sum((s) => s.staticUsd),
    hedgeUsd: sum((s) => s.hedgeUsd),
  };
}
