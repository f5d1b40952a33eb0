/**
 * `volfolio backtest`: one strategy over a chain history (--data, --store) or a synthetic market.
 * Parse -> library -> format; every number comes from src/core/backtest (text: backtestFormat.ts).
 */
import type { Command } from "commander";
import { loadBacktestStore } from "../../adapters/backtestData.js";
import { loadPriceHistory } from "../../adapters/priceHistory.js";
import { loadStrategyFile, parseSyntheticMarket } from "../../adapters/strategyFile.js";
import { type BacktestResult, runBacktest } from "../../core/backtest/engine.js";
import type { BacktestStep } from "../../core/backtest/market.js";
import { optimizerStrategyRule } from "../../core/backtest/optimizerStrategy.js";
import { loadLpSolver } from "../../core/optimize/lpSolver.js";
import { calibrateGbm, calibrateMerton } from "../../core/backtest/paths/calibrate.js";
import type { RegimeScaledRule } from "../../core/backtest/regimeScaling.js";
import {
  type StrategyContext,
  type StrategyOrder,
  type StrategyRule,
  type StrategySpec,
  strategyRule,
} from "../../core/backtest/strategies.js";
import {
  type SpotModel,
  type SyntheticMarketConfig,
  syntheticSteps,
} from "../../core/backtest/syntheticMarket.js";
import { InvalidInputError } from "../../core/errors.js";
import { CliError, EXIT_USAGE, output } from "../io.js";
import {
  addDataOptions,
  addSyntheticOptions,
  loadDataSteps,
  type StepMarketFlags,
  syntheticMarketBase,
  syntheticMarketFile,
  syntheticVol,
} from "../dataSteps.js";
import { progressBar, wantsProgress } from "../progress.js";
import { backtestText, type OptimizerSummary, regimeSummary, varianceSwapLines } from "./backtestFormat.js";
import { type ReplicatedSwap, runVarianceSwapBacktest } from "../../core/backtest/varianceSwapReplication.js";

/** The options of `volfolio backtest` as commander parses them (numbers are parsed by the command). */
export interface BacktestCliOptions extends StepMarketFlags {
  readonly strategy: string;
  readonly store?: string;
  readonly model?: string;
  readonly calibrate?: string;
  readonly attribution?: boolean;
  readonly trades?: boolean;
  readonly progress?: boolean;
  readonly json?: boolean;
}

/** The market series a backtest runs on, its length, and what it is (the --json `input`). */
interface BacktestInput {
  readonly steps: Iterable<BacktestStep>;
  readonly total: number;
  readonly input: Record<string, unknown>;
}

/** A synthetic backtest's default length: a year. */
const SYNTHETIC_DAYS = 365;

export function register(program: Command): void {
  const cmd = program
    .command("backtest")
    .description(
      "Backtest a strategy file over a Deribit chain history (--data) or a synthetic market (--synthetic)",
    )
    .requiredOption("--strategy <file>", "strategy JSON (see examples/strategies)");
  addDataOptions(cmd, {
    rangeSources: "--data or --store",
    between: (c) =>
      c.option(
        "--store <dir>",
        "a history store (volfolio store ingest): its chains, perpetual and delivery prices",
      ),
  });
  addSyntheticOptions(cmd, {
    days: SYNTHETIC_DAYS,
    volHelp: "vol (decimal) of the spot model",
    beforeVol: (c) => c.option("--model <name>", "synthetic spot model: gbm, merton, heston, bates", "gbm"),
    afterVol: (c) =>
      c.option(
        "--calibrate <csv>",
        "synthetic: calibrate gbm/merton from a daily price CSV (method of moments)",
      ),
  });
  cmd
    .option("--attribution", "print the daily Greek PnL attribution")
    .option("--trades", "include the trade log in --json output / print the last trades")
    .option("--progress", "show a progress bar on stderr even when it is not a terminal")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `
Examples:
  volfolio backtest --strategy examples/strategies/covered-call.json --synthetic
  volfolio backtest --strategy examples/strategies/short-strangle-hedged.json --synthetic --model bates --days 365 --seed 7 --attribution
  volfolio backtest --strategy examples/strategies/tail-hedge.json --synthetic --calibrate ../shared/data/prices/BTC-USD_daily.csv --model merton
  volfolio backtest --strategy examples/strategies/cash-secured-put.json --data ../shared/data/deribit/daily --json
  volfolio backtest --strategy examples/strategies/optimizer.json --synthetic --days 60 --progress

The optimizer strategy solves the book optimizer (HiGHS) on each rebalance date (about 0.1-1 s each).`,
    )
    .action((o: BacktestCliOptions) => backtestCommand(o));
}

/** What a run produced: the engine's result and, per strategy, its extra log. */
interface StrategyRun {
  readonly r: BacktestResult;
  readonly opt: OptimizerRun | null;
  readonly rule: StrategyRule | null;
  readonly swaps: readonly ReplicatedSwap[] | null;
}

/** Runs the strategy on the steps (the optimizer with HiGHS, the variance swap with its swap log). */
async function runStrategy(
  strategy: StrategySpec,
  steps: Iterable<BacktestStep>,
  onStep: (i: number) => void,
): Promise<StrategyRun> {
  if (strategy.type === "optimizer") {
    // HiGHS loaded once here, then the synchronous engine; the bar moves on every step (slow rebalances).
    const opt = await runOptimizerBacktest(strategy, steps, onStep);
    return { r: opt.result, opt, rule: null, swaps: null };
  }
  if (strategy.type === "variance-swap") {
    const vs = runVarianceSwapBacktest({ spec: strategy, steps, onStep });
    return { r: vs.result, opt: null, rule: null, swaps: vs.swaps };
  }
  const rule = strategyRule(strategy);
  return { r: runBacktest({ strategy, steps, rule, onStep }), opt: null, rule, swaps: null };
}

/** The variance swaps for --json: each swap without its fixings and legs (counted instead). */
function swapsJson(swaps: readonly ReplicatedSwap[]) {
  return swaps.map(({ fixings, legs, ...s }) => ({
    ...s,
    fixingCount: fixings.length,
    legCount: legs.length,
  }));
}

/** Parse -> runBacktest -> format. */
async function backtestCommand(o: BacktestCliOptions): Promise<void> {
  if ([o.data, o.synthetic, o.store].filter(Boolean).length > 1)
    throw new CliError("use one of --data, --store or --synthetic", EXIT_USAGE);
  const strategy = await strategyFromFile(o.strategy);
  const { steps, total, input } = await backtestInput(o);
  const bar = progressBar(wantsProgress(o), "backtest");
  bar.start(total);
  const t0 = performance.now();
  const slow = strategy.type === "optimizer";
  const run = await runStrategy(strategy, steps, (i) => {
    if (slow || i % 256 === 0 || i === total - 1) bar.update(i + 1);
  });
  const { r, opt, rule, swaps } = run;
  bar.stop();
  const seconds = (performance.now() - t0) / 1000;
  const { trades, ...rest } = r;
  const optimizer = opt ? optimizerSummary(opt) : undefined;
  const regime =
    rule && "signals" in rule
      ? regimeSummary(rule as RegimeScaledRule<StrategyContext, StrategyOrder>)
      : undefined;
  output(
    Boolean(o.json),
    {
      input,
      seconds,
      ...rest,
      ...(optimizer ? { optimizer } : {}),
      ...(regime ? { regime } : {}),
      ...(swaps ? { varianceSwaps: swapsJson(swaps) } : {}),
      ...(o.trades ? { trades } : {}),
    },
    () =>
      [
        backtestText({
          r,
          input,
          optimizer,
          regime,
          attribution: Boolean(o.attribution),
          trades: Boolean(o.trades),
        }),
        ...(swaps ? ["", ...varianceSwapLines(swaps)] : []),
      ].join("\n"),
  );
}

/** The strategy file; one that fails validation is bad input (exit 2) and the message names the field. */
function strategyFromFile(file: string): Promise<StrategySpec> {
  return loadStrategyFile(file).catch((e: unknown) => {
    if (e instanceof InvalidInputError) throw new CliError(`invalid input: ${e.message}`, EXIT_USAGE);
    throw e; // unreadable file: exit 3
  });
}

/** The market series: a history store (--store), daily chain files (--data), or the synthetic market. */
async function backtestInput(o: BacktestCliOptions): Promise<BacktestInput> {
  const range = { ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}) };
  if (o.store) {
    const d = await loadBacktestStore({ dir: o.store, underlying: o.underlying, ...range });
    if (d.steps.length === 0) throw new CliError(`no ${o.underlying} snapshots in the store ${o.store}`, 1);
    const { steps: _s, ...info } = d;
    return { steps: d.steps, total: d.steps.length, input: { source: "store", dir: o.store, ...info } };
  }
  if (o.data) {
    const d = await loadDataSteps({
      dir: o.data,
      underlying: o.underlying,
      ...range,
      progress: wantsProgress(o),
    });
    const { steps: _s, ...info } = d;
    return { steps: d.steps, total: d.steps.length, input: { source: "data", dir: o.data, ...info } };
  }
  const market = o.market ? await syntheticMarketFile(o.market) : await marketFromOptions(o);
  return { steps: syntheticSteps(market), total: market.steps + 1, input: { source: "synthetic", market } };
}

/** The synthetic market from the flags (length, step, seed, spot and the spot model). */
async function marketFromOptions(o: BacktestCliOptions): Promise<SyntheticMarketConfig> {
  const base = syntheticMarketBase(o, SYNTHETIC_DAYS);
  const kind = o.model ?? "gbm";
  const model = o.calibrate ? await calibratedModel(kind, o.calibrate) : spotModel(kind, syntheticVol(o));
  return parseSyntheticMarket({ ...base, model }, "synthetic market");
}

/** gbm or merton fitted to a daily price CSV (method of moments). */
async function calibratedModel(kind: string, csv: string): Promise<SpotModel> {
  const h = await loadPriceHistory(csv);
  const closes = h.bars.map((b) => b.close);
  if (kind === "merton") {
    const m = calibrateMerton(closes);
    return {
      type: "merton",
      drift: m.drift,
      vol: m.vol,
      jumpIntensity: m.jumpIntensity,
      jumpMean: m.jumpMean,
      jumpVol: m.jumpVol,
    };
  }
  if (kind === "gbm") return { type: "gbm", ...calibrateGbm(closes) };
  throw new CliError("--calibrate supports --model gbm or merton", EXIT_USAGE);
}

/** The named spot model with `vol` and the defaults (jumps -5% +- 8% five a year; Heston xi 0.9, rho -0.3). */
function spotModel(kind: string, vol: number): SpotModel {
  if (kind === "gbm") return { type: "gbm", drift: 0, vol };
  if (kind === "merton")
    return { type: "merton", drift: 0, vol, jumpIntensity: 5, jumpMean: -0.05, jumpVol: 0.08 };
  if (kind === "heston" || kind === "bates")
    return {
      type: kind,
      drift: 0,
      v0: vol * vol,
      kappa: 3,
      theta: vol * vol,
      xi: 0.9,
      rho: -0.3,
      ...(kind === "bates" ? { jumpIntensity: 5, jumpMean: -0.05, jumpVol: 0.08 } : {}),
    };
  throw new CliError(`--model must be gbm, merton, heston or bates, got "${kind}"`, EXIT_USAGE);
}

interface OptimizerRun {
  readonly result: BacktestResult;
  readonly rule: ReturnType<typeof optimizerStrategyRule>;
  /** Wall time of each rebalance decision (problem build + HiGHS), ms. */
  readonly ms: number[];
}

/** The optimizer strategy (the LP solver loaded once, then the one synchronous engine), timing each rebalance. */
async function runOptimizerBacktest(
  strategy: Extract<StrategySpec, { type: "optimizer" }>,
  steps: Iterable<BacktestStep>,
  onStep: (i: number) => void,
): Promise<OptimizerRun> {
  const rule = optimizerStrategyRule(strategy, await loadLpSolver());
  const ms: number[] = [];
  const result = runBacktest({
    strategy,
    steps,
    onStep,
    rule: {
      initial: rule.initial,
      decide: (ctx) => {
        const n = rule.log.length;
        const t = performance.now();
        const orders = rule.decide(ctx);
        if (rule.log.length > n) ms.push(performance.now() - t);
        return orders;
      },
    },
  });
  return { result, rule, ms };
}

/** The optimizer run's summary: rebalances, how many were optimal, decision times, the log. */
function optimizerSummary(opt: OptimizerRun): OptimizerSummary {
  return {
    rebalances: opt.rule.log.length,
    optimal: opt.rule.log.filter((x) => x.status === "optimal").length,
    msPerRebalance: opt.ms.length ? opt.ms.reduce((a, b) => a + b, 0) / opt.ms.length : null,
    maxMsPerRebalance: opt.ms.length ? Math.max(...opt.ms) : null,
    log: opt.rule.log,
  };
}
