/**
 * The backtest drivers: `runBacktest` (synchronous rule) and `runBacktestAsync` (a rule whose
 * decisions may be asynchronous, e.g. the optimizer strategy) both drive the one engine loop
 * (loop.ts `backtestLoop`, whose module comment states the accounting and the per-step order).
 * The result types live in results.ts and are re-exported here.
 */
import { backtestLoop } from "./loop.js";
import { optimizerStrategyRule } from "./optimizerStrategy.js";
import type { BacktestResult } from "./results.js";
import { type AsyncStrategyRule, type StrategyRule, type StrategySpec, strategyRule } from "./strategies.js";
import type { BacktestStep } from "./market.js";
import type { StepValuation } from "./results.js";

export type { AttributionDay } from "./attribution.js";
export type {
  BacktestResult,
  BacktestSettlement,
  BookValuation,
  CostSummary,
  DailyRecord,
  RejectionReason,
  RejectionRecord,
  StepValuation,
  TradeRecord,
} from "./results.js";

export interface BacktestOptions {
  readonly strategy: StrategySpec;
  /** The market series, consumed one step at a time. */
  readonly steps: Iterable<BacktestStep>;
  /** Overrides the rule built from `strategy` (e.g. the optimizer strategy). */
  readonly rule?: StrategyRule;
  /** Keep the trade and settlement logs (default true). */
  readonly recordTrades?: boolean;
  /** Called after each step with its index. */
  readonly onStep?: (index: number) => void;
  /** Called at each day boundary (and the last step) with the book and the market it was valued on. */
  readonly onValuation?: (v: StepValuation) => void;
}

/** Options of `runBacktestAsync`: the same, with a rule whose decisions may be asynchronous. */
export interface AsyncBacktestOptions extends Omit<BacktestOptions, "rule"> {
  /** Overrides the rule built from `strategy` (`optimizer` specs build `optimizerStrategyRule`). */
  readonly rule?: AsyncStrategyRule;
}

/**
 * Runs a backtest. Deterministic: the same spec and steps give the same result. Synchronous: the

 * `optimizer` strategy (HiGHS is asynchronous WASM) needs `runBacktestAsync`.
 */
export function runBacktest(o: BacktestOptions): BacktestResult {
  const rule = o.rule ?? strategyRule(o.strategy);
  const run = backtestLoop(o, rule.initial);
  let r = run.next();
  while (!r.done) r = run.next(rule.decide(r.value));
  return r.value;
}

/**
 * `runBacktest` with an asynchronous decision hook (the `optimizer` strategy awaits HiGHS).
 *
 * Design: the engine loop is written once, as a generator (`backtestLoop`) that yields the
 * decision context at step 4 and resumes with the orders. `runBacktest` drives it synchronously,
 * this function awaits each decision; everything else (fills, settlement, hedging, accounting,
 * metrics) is the same code, so both give identical results for the same decisions.
 */
export async function runBacktestAsync(o: AsyncBacktestOptions): Promise<BacktestResult> {
  const spec = o.strategy;
  const rule: AsyncStrategyRule =
    o.rule ?? (spec.type === "optimizer" ? optimizerStrategyRule(spec) : strategyRule(spec));
  const run = backtestLoop(o, rule.initial);
  let r = run.next();
  while (!r.done) r = run.next(await rule.decide(r.value));
  return r.value;
}
