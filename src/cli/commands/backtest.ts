/**
 * `volfolio backtest` (one strategy over a chain history or a synthetic market) and
 * `volfolio sweep` (a parameter grid on worker threads or a BullMQ queue).
 * Parse -> library -> format; every number comes from src/core/backtest.
 */
import type { Command } from "commander";
import { loadBacktestStore } from "../../adapters/backtestData.js";
import { InvalidInputError } from "../../core/errors.js";
import { loadPriceHistory } from "../../adapters/priceHistory.js";
import { loadStrategyFile, loadSweepFile, parseSyntheticMarket } from "../../adapters/strategyFile.js";
import {
  runSweepQueue,
  SweepQueueConfigError,
  SweepQueueUnavailableError,
  startSweepQueueWorker,
} from "../../adapters/sweepQueue.js";
import { runSweepThreads } from "../../adapters/sweepRunner.js";
import { type BacktestResult, runBacktest, runBacktestAsync } from "../../core/backtest/engine.js";
import type { PerformanceMetrics } from "../../core/backtest/metrics.js";
import {
  type OptimizerRebalanceRecord,
  optimizerStrategyRule,
} from "../../core/backtest/optimizerStrategy.js";
import type { RegimeScaledRule } from "../../core/backtest/regimeScaling.js";
import {
  type StrategyContext,
  type StrategyOrder,
  type StrategyRule,
  type StrategySpec,
  strategyRule,
} from "../../core/backtest/strategies.js";
import { calibrateGbm, calibrateMerton } from "../../core/backtest/paths/calibrate.js";
import { type SweepJobResult, summarizeSweep } from "../../core/backtest/sweep.js";
import {
  type SpotModel,
  type SyntheticMarketConfig,
  syntheticSteps,
} from "../../core/backtest/syntheticMarket.js";
import { CliError, EXIT_UNAVAILABLE, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";
import { loadDataSteps } from "../dataSteps.js";
import { progressBar, wantsProgress } from "../progress.js";

type Opts = Record<string, string | boolean | undefined>;

async function marketFromOptions(o: Opts): Promise<SyntheticMarketConfig> {
  const num = (name: string, v: unknown, d: number) =>
    v === undefined ? d : parseNumberOption(name, String(v));
  const hours = num("step-hours", o.stepHours, 1);
  const days = num("days", o.days, 365);
  const base = {
    steps: Math.round((days * 24) / hours),
    stepHours: hours,
    seed: num("seed", o.seed, 1),
    spot: num("spot", o.spot, 60_000),
  };
  const vol = num("vol", o.vol, 0.5);
  let model: SpotModel;
  const kind = String(o.model ?? "gbm");
  if (o.calibrate) {
    const h = await loadPriceHistory(String(o.calibrate));
    const closes = h.bars.map((b) => b.close);
    if (kind === "merton") model = { type: "merton", ...strip(calibrateMerton(closes)) };
    else if (kind === "gbm") model = { type: "gbm", ...calibrateGbm(closes) };
    else throw new CliError("--calibrate supports --model gbm or merton", EXIT_USAGE);
  } else if (kind === "gbm") model = { type: "gbm", drift: 0, vol };
  else if (kind === "merton")
    model = { type: "merton", drift: 0, vol, jumpIntensity: 5, jumpMean: -0.05, jumpVol: 0.08 };
  else if (kind === "heston" || kind === "bates")
    model = {
      type: kind,
      drift: 0,
      v0: vol * vol,
      kappa: 3,
      theta: vol * vol,
      xi: 0.9,
      rho: -0.3,
      ...(kind === "bates" ? { jumpIntensity: 5, jumpMean: -0.05, jumpVol: 0.08 } : {}),
    };
  else throw new CliError(`--model must be gbm, merton, heston or bates, got "${kind}"`, EXIT_USAGE);
  return parseSyntheticMarket({ ...base, model }, "synthetic market");
}

function strip(m: ReturnType<typeof calibrateMerton>) {
  return {
    drift: m.drift,
    vol: m.vol,
    jumpIntensity: m.jumpIntensity,
    jumpMean: m.jumpMean,
    jumpVol: m.jumpVol,
  };
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "n/a" : `${(x * 100).toFixed(2)}%`;
const num = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "n/a" : Number(x.toPrecision(4));

function metricsRows(r: BacktestResult) {
  const row = (name: string, f: (m: PerformanceMetrics) => string | number) => ({
    metric: name,
    USD: r.metricsUsd ? f(r.metricsUsd) : "n/a",
    coin: r.metricsCoin ? f(r.metricsCoin) : "n/a",
  });
  return [
    { metric: "final equity", USD: num(r.finalEquityUsd), coin: num(r.finalEquityCoin) },
    row("total return", (m) => pct(m.totalReturn)),
    row("CAGR", (m) => pct(m.cagr)),
    row("annualised vol", (m) => pct(m.annualVol)),
    row("Sharpe", (m) => num(m.sharpe)),
    row("Sortino", (m) => num(m.sortino)),
    row("max drawdown", (m) => pct(m.maxDrawdown)),
    row("Calmar", (m) => num(m.calmar)),
    row("CVaR95 daily PnL", (m) => num(m.cvar95)),
  ];
}

function attributionTotals(r: BacktestResult) {
  const keys = [
    "delta",
    "gamma",
    "vega",
    "theta",
    "vanna",
    "volga",
    "residual",
    "settlement",
    "trading",
    "total",
  ] as const;
  return keys.map((k) => {
    let usd = 0;
    let coin = 0;
    for (const d of r.attribution) {
      usd += d[`${k}Usd`];
      coin += d[`${k}Coin`];
    }
    return { term: k, USD: num(usd), coin: num(coin) };
  });
}

interface OptimizerRun {
  readonly result: BacktestResult;
  readonly rule: ReturnType<typeof optimizerStrategyRule>;
  /** Wall time of each rebalance decision (problem build + HiGHS), ms. */
  readonly ms: number[];
}

/** The optimizer strategy on the asynchronous engine, timing each rebalance. */
async function runOptimizerBacktest(
  strategy: Extract<StrategySpec, { type: "optimizer" }>,
  steps: Iterable<import("../../core/backtest/market.js").BacktestStep>,
  onStep: (i: number) => void,
): Promise<OptimizerRun> {
  const rule = optimizerStrategyRule(strategy);
  const ms: number[] = [];
  const result = await runBacktestAsync({
    strategy,
    steps,
    onStep,
    rule: {
      initial: rule.initial,
      decide: async (ctx) => {
        const n = rule.log.length;
        const t = performance.now();
        const orders = await rule.decide(ctx);
        if (rule.log.length > n) ms.push(performance.now() - t);
        return orders;
      },
    },
  });
  return { result, rule, ms };
}

function optimizerLines(x: {
  rebalances: number;
  optimal: number;
  msPerRebalance: number | null;
  maxMsPerRebalance: number | null;
  log: readonly OptimizerRebalanceRecord[];
}): string[] {
  const notOptimal = x.log.filter((l) => l.status !== "optimal");
  return [
    `optimizer: ${x.rebalances} rebalances, ${x.optimal} optimal; ${num(x.msPerRebalance)} ms per rebalance (max ${num(x.maxMsPerRebalance)})`,
    formatTable(
      x.log.slice(-12).map((l) => ({
        time: new Date(l.time).toISOString().slice(0, 16),
        status: l.status,
        candidates: l.candidates,
        orders: l.orders,
        "vega before": num(l.vegaBeforeUsdPerVolPt),
        "vega after": num(l.vegaAfterUsdPerVolPt),
        "delta before": num(l.deltaBeforeCoin),
        "delta after": num(l.deltaAfterCoin),
        "CVaR USD": num(l.cvarAfterUsd),
        "margin USD": num(l.marginAfterUsd),
      })),
    ),
    ...(x.log.length > 12 ? [`(last 12 of ${x.log.length}; --json has all)`] : []),
    ...notOptimal
      .slice(0, 5)
      .map((l) => `  ${new Date(l.time).toISOString().slice(0, 16)} ${l.status}: ${l.diagnosis}`),
  ];
}

/** Which prices the hedge fills and the settlements used (the data's own, or the index rule). */
function pricesLines(r: BacktestResult, input: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const h = r.hedgeFills;
  if (h.venue + h.mark > 0)
    lines.push(
      `hedge fills: ${h.venue} at the data's price of the hedge instrument (stored perpetual price / the chain's future)${
        h.venue > 0
          ? `, net basis vs the core mark ${num(h.basisUsd)} USD (${num(h.basisCoin)} coin; > 0 received)`
          : ""
      }; ${h.mark} at the core mark -/+ the half spread (the index for the perpetual: no stored price at that step)`,
    );
  const st = r.settlementSources;
  if (st.delivery + st.indexIntrinsic > 0)
    lines.push(
      `settlements: ${st.delivery} at the venue's delivery price, ${st.indexIntrinsic} intrinsic at the index of the first step after expiry (no delivery price in the data)`,
    );
  if (input.source === "store")
    lines.push(
      `store: ${String(input.perpetualSteps)} of ${r.steps} steps carry a stored perpetual price; ${String(input.deliveryPrices)} delivery prices stored`,
    );
  return lines;
}

export function register(program: Command): void {
  program
    .command("backtest")
    .description(
      "Backtest a strategy file over a Deribit chain history (--data) or a synthetic market (--synthetic)",
    )
    .requiredOption("--strategy <file>", "strategy JSON (see examples/strategies)")
    .option("--data <dir>", "directory of daily Deribit chain snapshots (*.csv or *.csv.gz)")
    .option(
      "--store <dir>",
      "a history store (volfolio store ingest): its chains, perpetual and delivery prices",
    )
    .option("--synthetic", "use the surface-driven synthetic market (default when --data is absent)")
    .option("--underlying <coin>", "underlying in the chain files", "BTC")
    .option("--from <date>", "first snapshot date (YYYY-MM-DD) with --data or --store")
    .option("--to <date>", "last snapshot date (YYYY-MM-DD) with --data or --store")
    .option("--days <n>", "synthetic: length in days", "365")
    .option("--step-hours <h>", "synthetic: hours between steps", "1")
    .option("--seed <n>", "synthetic: random seed", "1")
    .option("--spot <usd>", "synthetic: start price", "60000")
    .option("--model <name>", "synthetic spot model: gbm, merton, heston, bates", "gbm")
    .option("--vol <v>", "synthetic: vol (decimal) of the spot model", "0.5")
    .option("--calibrate <csv>", "synthetic: calibrate gbm/merton from a daily price CSV (method of moments)")
    .option("--market <file>", "synthetic: full market config JSON (overrides the flags above)")
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
    .action(async (o: Opts) => {
      if ([o.data, o.synthetic, o.store].filter(Boolean).length > 1)
        throw new CliError("use one of --data, --store or --synthetic", EXIT_USAGE);
      // A strategy file that fails validation is bad input (exit 2); the message names the field.
      const strategy = await loadStrategyFile(String(o.strategy)).catch((e: unknown) => {
        if (e instanceof InvalidInputError) throw new CliError(`invalid input: ${e.message}`, EXIT_USAGE);
        throw e; // unreadable file: exit 3
      });
      let steps: Iterable<import("../../core/backtest/market.js").BacktestStep>;
      let total: number;
      let input: Record<string, unknown>;
      if (o.store) {
        const d = await loadBacktestStore({
          dir: String(o.store),
          underlying: String(o.underlying),
          ...(o.from ? { from: String(o.from) } : {}),
          ...(o.to ? { to: String(o.to) } : {}),
        });
        if (d.steps.length === 0)
          throw new CliError(`no ${String(o.underlying)} snapshots in the store ${String(o.store)}`, 1);
        steps = d.steps;
        total = d.steps.length;
        const { steps: _s, ...info } = d;
        input = { source: "store", dir: o.store, ...info };
      } else if (o.data) {
        const d = await loadDataSteps({
          dir: String(o.data),
          underlying: String(o.underlying),
          ...(o.from ? { from: String(o.from) } : {}),
          ...(o.to ? { to: String(o.to) } : {}),
          progress: wantsProgress(o),
        });
        steps = d.steps;
        total = d.steps.length;
        const { steps: _s, ...info } = d;
        input = { source: "data", dir: o.data, ...info };
      } else {
        const market = o.market
          ? parseSyntheticMarket(
              JSON.parse(await import("node:fs/promises").then((f) => f.readFile(String(o.market), "utf8"))),
              String(o.market),
            )
          : await marketFromOptions(o);
        steps = syntheticSteps(market);
        total = market.steps + 1;
        input = { source: "synthetic", market };
      }
      const bar = progressBar(wantsProgress(o), "backtest");
      bar.start(total);
      const t0 = performance.now();
      let opt: OptimizerRun | null = null;
      let rule: StrategyRule | null = null;
      let r: BacktestResult;
      if (strategy.type === "optimizer") {
        // Asynchronous engine (HiGHS); the bar moves on every step since each rebalance is slow.
        opt = await runOptimizerBacktest(strategy, steps, (i) => bar.update(i + 1));
        r = opt.result;
      } else {
        rule = strategyRule(strategy);
        r = runBacktest({
          strategy,
          steps,
          rule,
          onStep: (i) => (i % 256 === 0 || i === total - 1) && bar.update(i + 1),
        });
      }
      bar.stop();
      const seconds = (performance.now() - t0) / 1000;
      const { trades, ...rest } = r;
      const optimizer = opt
        ? {
            rebalances: opt.rule.log.length,
            optimal: opt.rule.log.filter((x) => x.status === "optimal").length,
            msPerRebalance: opt.ms.length ? opt.ms.reduce((a, b) => a + b, 0) / opt.ms.length : null,
            maxMsPerRebalance: opt.ms.length ? Math.max(...opt.ms) : null,
            log: opt.rule.log,
          }
        : undefined;
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
          ...(o.trades ? { trades } : {}),
        },
        () => {
          const lines = [
            `${r.strategy}: ${r.steps} steps ${new Date(r.start).toISOString()} .. ${new Date(r.end).toISOString()}`,
            `trades ${r.tradeCount}, rejected orders ${r.rejections.length}, settlements ${r.settlements}, stale marks ${r.staleMarks} (held option not quoted: valued on the marks surface), carried ${r.carriedMarks}`,
            ...pricesLines(r, input),
            "",
            formatTable(metricsRows(r)),
            "",
            `costs USD (coin at each trade's index): spread ${num(r.costs.spreadUsd)}, slippage ${num(r.costs.slippageUsd)}, fees ${num(r.costs.feesUsd)}, funding ${num(r.costs.fundingUsd)}, total ${num(r.costs.totalUsd)} (${num(r.costs.totalCoin)} coin); turnover ${num(r.turnover)}x equity (${num(r.turnoverUsd)} USD notional)`,
            "",
            "Greek PnL attribution, summed over days (residual = actual - Taylor terms; settlement = legs expired in the day: proceeds - start value; trading = intraday trades, costs, funding); each column adds up to its own equity change:",
            formatTable(attributionTotals(r)),
          ];
          if (optimizer) lines.push("", ...optimizerLines(optimizer));
          if (regime)
            lines.push(
              "",
              `regime scaling: ${regime.steps} steps, full size ${regime.fullSteps}, scaled ${regime.scaledSteps}, no new short vol ${regime.zeroSteps}; ` +
                `mean scale ${num(regime.meanScale)}; last: ${regime.last}`,
            );
          if (o.attribution)
            lines.push(
              "",
              formatTable(
                r.attribution.map((d) => ({
                  day: new Date(d.start).toISOString().slice(0, 10),
                  delta: num(d.deltaUsd),
                  gamma: num(d.gammaUsd),
                  vega: num(d.vegaUsd),
                  theta: num(d.thetaUsd),
                  vanna: num(d.vannaUsd),
                  volga: num(d.volgaUsd),
                  residual: num(d.residualUsd),
                  settlement: num(d.settlementUsd),
                  trading: num(d.tradingUsd),
                  totalUsd: num(d.totalUsd),
                  totalCoin: num(d.totalCoin),
                })),
              ),
            );
          if (o.trades)
            lines.push(
              "",
              formatTable(
                r.trades.slice(-20).map((t) => ({
                  time: new Date(t.time).toISOString().slice(0, 16),
                  instrument: t.instrument,
                  qty: num(t.quantity),
                  price: num(t.price),
                  mark: num(t.mark),
                  [`fee ${t.currency}`]: num(t.fee),
                  tag: t.tag,
                })),
              ),
            );
          return lines.join("\n");
        },
      );
    });

  program
    .command("sweep")
    .description("Run a parameter sweep file on worker threads, or through a BullMQ queue on Redis")
    .option("--file <sweep.json>", "sweep JSON (see examples/strategies/sweep-strangle.json)")
    .option("--threads <n>", "worker threads (0 = serial in this thread)")
    .option("--queue", "run through a BullMQ queue (VOLFOLIO_REDIS_URL)")
    .option("--workers <n>", "with --queue: local worker processes to fork (0 = external workers only)", "2")
    .option("--queue-name <name>", "with --queue or --worker: queue name")
    .option("--worker", "join a queue as a worker (another machine) until interrupted; needs --queue-name")
    .option("--top <n>", "rows to print, best Sharpe first", "20")
    .option("--progress", "show a progress bar on stderr even when it is not a terminal")
    .option("--json", "JSON output (all results, in job order)")
    .addHelpText(
      "after",
      `
Examples:
  volfolio sweep --file examples/strategies/sweep-strangle.json --threads 2
  VOLFOLIO_REDIS_URL=redis://127.0.0.1:56379 volfolio sweep --file examples/strategies/sweep-strangle.json --queue --workers 2 --json
  VOLFOLIO_REDIS_URL=redis://host:6379 volfolio sweep --worker --queue-name volfolio-sweep-shared   (on another machine)`,
    )
    .action(async (o: Opts) => {
      if (o.worker) {
        if (!o.queueName) throw new CliError("--worker needs --queue-name", EXIT_USAGE);
        const stop = await startSweepQueueWorker({ queueName: String(o.queueName) }).catch(sweepQueueError);
        process.stderr.write(`sweep worker on queue ${String(o.queueName)}; Ctrl-C to stop\n`);
        await new Promise<void>((res) => {
          const done = () => stop().then(res, res);
          process.once("SIGINT", done);
          process.once("SIGTERM", done);
        });
        return;
      }
      if (!o.file) throw new CliError("--file is required (or --worker)", EXIT_USAGE);
      const spec = await loadSweepFile(String(o.file));
      const bar = progressBar(wantsProgress(o), "sweep");
      let started = false;
      const onProgress = (d: number, n: number) => {
        if (!started) {
          bar.start(n);
          started = true;
        }
        bar.update(d);
      };
      const t0 = performance.now();
      const res = o.queue
        ? await runSweepQueue(spec, {
            workers: parseNumberOption("workers", String(o.workers)),
            ...(o.queueName ? { queueName: String(o.queueName) } : {}),
            onProgress,
          }).catch(sweepQueueError)
        : await runSweepThreads(spec, {
            ...(o.threads !== undefined ? { threads: parseNumberOption("threads", String(o.threads)) } : {}),
            onProgress,
          });
      bar.stop();
      const seconds = (performance.now() - t0) / 1000;
      output(
        Boolean(o.json),
        { executor: o.queue ? "queue" : "threads", seconds, ...res, combos: summarizeSweep(res.results) },
        () => {
          const top = parseNumberOption("top", String(o.top));
          const rows = [...res.results]
            .sort(
              (a, b) => (b.sharpeUsd ?? Number.NEGATIVE_INFINITY) - (a.sharpeUsd ?? Number.NEGATIVE_INFINITY),
            )
            .slice(0, top)
            .map((r: SweepJobResult) => ({
              ...Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, v])),
              seed: r.seed,
              "return USD": pct(r.totalReturnUsd),
              "return coin": pct(r.totalReturnCoin),
              sharpe: num(r.sharpeUsd),
              "max DD": pct(r.maxDrawdownUsd),
              "CVaR95 USD": num(r.cvar95Usd),
              "costs USD": num(r.costsUsd),
            }));
          const combos = summarizeSweep(res.results)
            .sort(
              (a, b) =>
                (b.meanSharpeUsd ?? Number.NEGATIVE_INFINITY) - (a.meanSharpeUsd ?? Number.NEGATIVE_INFINITY),
            )
            .slice(0, top)
            .map((c) => ({
              ...c.params,
              seeds: c.seeds,
              "mean return USD": pct(c.meanTotalReturnUsd),
              "mean return coin": pct(c.meanTotalReturnCoin),
              "mean sharpe": num(c.meanSharpeUsd),
              "worst DD": pct(c.worstMaxDrawdownUsd),
              "mean costs USD": num(c.meanCostsUsd),
            }));
          return [
            `${res.jobs} jobs in ${seconds.toFixed(1)} s (${o.queue ? "BullMQ queue" : "worker threads"})`,
            "per job, best Sharpe first:",
            formatTable(rows),
            "",
            "per parameter combination, averaged over seeds:",
            formatTable(combos),
          ].join("\n");
        },
      );
    });
}

/** Queue failures as one line: Redis unreachable -> exit 3, a bad Redis URL -> exit 2. */
function sweepQueueError(e: unknown): never {
  if (e instanceof SweepQueueUnavailableError) throw new CliError(e.message, EXIT_UNAVAILABLE);
  if (e instanceof SweepQueueConfigError) throw new CliError(e.message, EXIT_USAGE);
  throw e;
}

/** How a regime-scaled strategy's signal behaved over the run (counts of steps by scale). */
function regimeSummary(rule: RegimeScaledRule<StrategyContext, StrategyOrder>) {
  const scales = rule.signals.map((x) => x.scale);
  const last = rule.signals.at(-1);
  return {
    steps: scales.length,
    fullSteps: scales.filter((x) => x === 1).length,
    scaledSteps: scales.filter((x) => x > 0 && x < 1).length,
    zeroSteps: scales.filter((x) => x === 0).length,
    meanScale: scales.length ? scales.reduce((a, b) => a + b, 0) / scales.length : null,
    last: last
      ? `P(high vol) ${last.highVolProbability.toFixed(2)}, scale ${last.scale.toFixed(2)} (${last.reason})`
      : "none",
    signals: rule.signals.map((x) => ({
      time: x.time,
      highVolProbability: x.highVolProbability,
      scale: x.scale,
    })),
  };
}
