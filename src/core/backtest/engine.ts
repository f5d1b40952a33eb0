/**
 * The backtest driver: `runBacktest` drives the one engine loop (loop.ts `backtestLoop`, whose
 * module comment states the accounting and the per-step order) with a synchronous rule. The
 * `optimizer` strategy is synchronous too: its LP solver is passed in (`lpSolver`, loaded once
 * at the edge with `await loadLpSolver()`, core/optimize/lpSolver.ts). The result types live in
 * results.ts and are re-exported here.
 */
import { InvalidInputError } from "../errors.js";
import type { LpSolver } from "../optimize/lpSolver.js";
import { backtestLoop } from "./loop.js";
import type { BacktestStep } from "./market.js";
import { optimizerStrategyRule } from "./optimizerStrategy.js";
import type { BacktestResult, StepValuation } from "./results.js";
import { type StrategyRule, type StrategySpec, strategyRule } from "./strategies.js";
import { varianceSwapStrategy } from "./varianceSwapStrategy.js";

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
  /** Overrides the rule built from `strategy` (e.g. an optimizer rule whose log the caller reads). */
  readonly rule?: StrategyRule;
  /** The LP solver of an `optimizer` strategy (required for it unless `rule` is given). */
  readonly lpSolver?: LpSolver;
  /** Keep the trade and settlement logs (default true). */
  readonly recordTrades?: boolean;
  /** Called after each step with its index. */
  readonly onStep?: (index: number) => void;
  /** Called at each day boundary (and the last step) with the book and the market it was valued on. */
  readonly onValuation?: (v: StepValuation) => void;
}

/** The rule of `o`: the given one, the optimizer's with `o.lpSolver`, or the strategy's own. */
function ruleOf(o: BacktestOptions): StrategyRule {
  if (o.rule) return o.rule;
  const spec = o.strategy;
  if (spec.type === "variance-swap") return varianceSwapStrategy(spec).rule;
  if (spec.type !== "optimizer") return strategyRule(spec);
  if (!o.lpSolver)
    throw new InvalidInputError(
      "lpSolver",
      "undefined",
      "is required by the optimizer strategy: pass await loadLpSolver() (core/optimize/lpSolver.ts)",
    );
  return optimizerStrategyRule(spec, o.lpSolver);
}

/** Runs a backtest. Deterministic: the same spec and steps give the same result. Synchronous. */
export function runBacktest(o: BacktestOptions): BacktestResult {
  const rule = ruleOf(o);
  const run = backtestLoop(o, rule.initial);
  let r = run.next();
  while (!r.done) r = run.next(rule.decide(r.value));
  return r.value;
}
