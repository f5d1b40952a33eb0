/**
 * `volfolio sweep`: a parameter grid of backtests on worker threads, or through a BullMQ queue on
 * Redis (with `--worker`, this machine joins a queue as a worker).
 */
import type { Command } from "commander";
import { loadSweepFile } from "../../adapters/strategyFile.js";
import {
  runSweepQueue,
  SweepQueueConfigError,
  SweepQueueUnavailableError,
  startSweepQueueWorker,
} from "../../adapters/sweepQueue.js";
import { runSweepThreads } from "../../adapters/sweepRunner.js";
import { type SweepJobResult, summarizeSweep } from "../../core/backtest/sweep.js";
import { CliError, EXIT_UNAVAILABLE, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";
import { progressBar, wantsProgress } from "../progress.js";
import { num, pct } from "./backtestFormat.js";

/** The options of `volfolio sweep` as commander parses them. */
export interface SweepCliOptions {
  readonly file?: string;
  readonly threads?: string;
  readonly queue?: boolean;
  readonly workers: string;
  readonly queueName?: string;
  readonly worker?: boolean;
  readonly top: string;
  readonly progress?: boolean;
  readonly json?: boolean;
}

type SweepResults = Awaited<ReturnType<typeof runSweepThreads>>;

export function register(program: Command): void {
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
    .action((o: SweepCliOptions) => (o.worker ? sweepWorker(o) : sweepCommand(o)));
}

/** Joins the queue `--queue-name` as a worker until SIGINT/SIGTERM. */
async function sweepWorker(o: SweepCliOptions): Promise<void> {
  if (!o.queueName) throw new CliError("--worker needs --queue-name", EXIT_USAGE);
  const stop = await startSweepQueueWorker({ queueName: o.queueName }).catch(sweepQueueError);
  process.stderr.write(`sweep worker on queue ${o.queueName}; Ctrl-C to stop\n`);
  await new Promise<void>((res) => {
    const done = () => stop().then(res, res);
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}

/** Runs the sweep file on threads or the queue, with a progress bar; prints or emits JSON. */
async function sweepCommand(o: SweepCliOptions): Promise<void> {
  if (!o.file) throw new CliError("--file is required (or --worker)", EXIT_USAGE);
  const spec = await loadSweepFile(o.file);
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
        workers: parseNumberOption("workers", o.workers),
        ...(o.queueName ? { queueName: o.queueName } : {}),
        onProgress,
      }).catch(sweepQueueError)
    : await runSweepThreads(spec, {
        ...(o.threads !== undefined ? { threads: parseNumberOption("threads", o.threads) } : {}),
        onProgress,
      });
  bar.stop();
  const seconds = (performance.now() - t0) / 1000;
  output(
    Boolean(o.json),
    { executor: o.queue ? "queue" : "threads", seconds, ...res, combos: summarizeSweep(res.results) },
    () => sweepText(o, res, seconds),
  );
}

/** Jobs best Sharpe first, and parameter combinations averaged over seeds (top `--top` each). */
function sweepText(o: SweepCliOptions, res: SweepResults, seconds: number): string {
  const top = parseNumberOption("top", o.top);
  const rows = [...res.results]
    .sort((a, b) => (b.sharpeUsd ?? Number.NEGATIVE_INFINITY) - (a.sharpeUsd ?? Number.NEGATIVE_INFINITY))
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
      (a, b) => (b.meanSharpeUsd ?? Number.NEGATIVE_INFINITY) - (a.meanSharpeUsd ?? Number.NEGATIVE_INFINITY),
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
    ...(res.execution?.note ? [res.execution.note] : []),
    "per job, best Sharpe first:",
    formatTable(rows),
    "",
    "per parameter combination, averaged over seeds:",
    formatTable(combos),
  ].join("\n");
}

/** Queue failures as one line: Redis unreachable -> exit 3, a bad Redis URL -> exit 2. */
function sweepQueueError(e: unknown): never {
  if (e instanceof SweepQueueUnavailableError) throw new CliError(e.message, EXIT_UNAVAILABLE);
  if (e instanceof SweepQueueConfigError) throw new CliError(e.message, EXIT_USAGE);
  throw e;
}
