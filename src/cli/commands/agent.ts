/**
 * `volfolio agent --config FILE`: runs the trading agent (feed -> health -> risk -> rules ->
 * pre-trade limits -> broker, journaled write-ahead) until the feed ends, --max-steps, or
 * SIGINT/SIGTERM. Structured logs (pino JSON lines) go to stderr or --log-file; the final state
 * is printed on stdout (table or --json). Running it again with the same stateDir resumes from
 * the journal.
 */
import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import pino from "pino";
import { AgentConfigError, loadAgentConfig } from "../../agent/config.js";
import { AgentFeedError } from "../../agent/feeds.js";
import { AgentHttpConfigError } from "../../agent/http.js";
import { createAgentLogger } from "../../agent/logger.js";
import type { AgentState } from "../../agent/loop.js";
import { AgentStoreError, runAgentFromConfig } from "../../agent/run.js";
import { AgentLockedError } from "../../agent/stateLock.js";
import {
  CliError,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  formatNumber,
  formatTable,
  output,
  parseNumberOption,
} from "../io.js";

/** The command's flags as commander gives them. */
interface AgentFlags {
  config: string;
  maxSteps?: string;
  logFile?: string;
  logLevel: string;
  progress?: boolean;
  json?: boolean;
}

/** The flags parsed and checked (exit 2 naming the flag). */
interface AgentOptions {
  readonly config: string;
  readonly maxSteps: number | undefined;
  readonly logFile: string | undefined;
  readonly level: string;
  readonly progress: boolean;
  readonly json: boolean;
}

function parseAgentOptions(o: AgentFlags): AgentOptions {
  const maxSteps = o.maxSteps === undefined ? undefined : parseNumberOption("max-steps", String(o.maxSteps));
  if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps > 0))
    throw new CliError(`--max-steps must be a positive integer, got ${o.maxSteps}`, EXIT_USAGE);
  const level = String(o.logLevel);
  if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(level))
    throw new CliError(`--log-level must be debug, info, warn or error, got "${level}"`, EXIT_USAGE);
  return {
    config: String(o.config),
    maxSteps,
    logFile: o.logFile ? String(o.logFile) : undefined,
    level,
    progress: Boolean(o.progress),
    json: Boolean(o.json),
  };
}

type AgentConfig = Awaited<ReturnType<typeof loadAgentConfig>>;

/** The config file; a bad config is exit 2 naming the file (an unreadable file: exit 3 by describeError). */
async function loadConfig(file: string): Promise<AgentConfig> {
  try {
    return await loadAgentConfig(file);
  } catch (err) {
    if (err instanceof AgentConfigError) throw new CliError(`${file}: ${err.message}`, EXIT_USAGE);
    throw err;
  }
}

/** One progress line of a tick (--progress). */
const tickLine = (s: AgentState): string =>
  `tick ${s.step} ${s.mode} delta ${(s.risk?.greeks.deltaUnderlyingCoin ?? 0).toFixed(3)} coin vega ${(s.risk?.greeks.vegaUsdPerVolPt ?? 0).toFixed(1)} USD/vol pt orders ${s.ordersSent} fills ${s.fills}\n`;

/**
 * Runs the agent with its logger until it stops; the log is flushed and closed either way. A
 * refused endpoint token is exit 2; a feed, store or state-lock failure (another agent holds the
 * stateDir) exit 3, one line naming it.
 */
async function runAgent(config: AgentConfig, o: AgentOptions): Promise<AgentState> {
  const logStream = o.logFile ? createWriteStream(o.logFile, { flags: "a" }) : undefined;
  const logger = createAgentLogger({
    level: o.level,
    ...(logStream ? { destination: logStream } : { destination: pino.destination(2) }),
  });
  try {
    return await runAgentFromConfig(config, {
      logger,
      ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
      onListening: (url, tokenFile) =>
        process.stderr.write(
          `agent endpoint: ${url}/state${tokenFile ? ` (POST /kill and /resume need the bearer token in ${tokenFile})` : ""}\n`,
        ),
      ...(o.progress ? { onTick: (s: AgentState) => process.stderr.write(tickLine(s)) } : {}),
    });
  } catch (err) {
    if (err instanceof AgentHttpConfigError) throw new CliError(err.message, EXIT_USAGE);
    if (err instanceof AgentFeedError || err instanceof AgentStoreError || err instanceof AgentLockedError)
      throw new CliError(err.message, EXIT_UNAVAILABLE);
    throw err;
  } finally {
    logger.flush();
    if (logStream) await new Promise((r) => logStream.end(r));
  }
}

/** The final state as text: ticks, orders, risk on the last chain, positions, cash, journal. */
function agentText(config: AgentConfig, state: AgentState): string {
  const positions = Object.values(state.book.positions).filter((p) => p.quantity !== 0);
  const risk = state.risk;
  const g = risk?.greeks;
  return [
    `run ${config.runId}: ${state.step + 1} ticks done, mode ${state.mode}${state.modeReasons.length ? ` (${state.modeReasons.join("; ")})` : ""}`,
    `orders sent ${state.ordersSent}, fills ${state.fills}, blocked by limits ${state.limitRejections}` +
      (state.recovered
        ? `; resumed at tick ${state.recovered.fromStep} (${state.recovered.ordersFromBroker} orders found at the broker, ${state.recovered.ordersResent} re-sent)`
        : ""),
    risk && g
      ? `on the ${g.underlying} chain of ${risk.valuationTimeIso} (index ${formatNumber(risk.indexPriceUsd)} USD): delta ${formatNumber(g.deltaUnderlyingCoin)} ${g.underlying} (Black forward delta), vega ${formatNumber(g.vegaUsdPerVolPt)} USD per vol point, theta ${formatNumber(g.thetaUsdPerDay)} USD per day, equity ${formatNumber(risk.equity.equityUsd)} USD`
      : "not valued yet (no healthy tick)",
    ...(risk && risk.unpriced.length > 0
      ? [
          `unpriced (left out of every figure; reduce-only): ${risk.unpriced.map((u) => `${u.instrument} ${u.quantity} (${u.reason}: ${u.detail})`).join("; ")}`,
        ]
      : []),
    ...(state.settlements.length > 0
      ? [`settled: ${state.settlements.map((x) => x.detail).join("; ")}`]
      : []),
    "",
    positions.length
      ? formatTable(positions.map((p) => ({ instrument: p.instrument, quantity: p.quantity })))
      : "(no open positions)",
    `cash: ${
      Object.entries(state.book.cash)
        .map(([c, x]) => `${formatNumber(x)} ${c}`)
        .join(", ") || "none"
    }`,
    `journal: ${config.stateDir}/journal.jsonl`,
  ].join("\n");
}

/** `volfolio agent`: parse, load the config, run, print the final state. */
async function agentCommand(flags: AgentFlags): Promise<void> {
  const o = parseAgentOptions(flags);
  const config = await loadConfig(o.config);
  const state = await runAgent(config, o);
  output(o.json, { runId: config.runId, stateDir: config.stateDir, ...state }, () =>
    agentText(config, state),
  );
}

export function register(program: Command): void {
  program
    .command("agent")
    .description(
      "Run the agent: watch a feed, check limits, rebalance a paper (or Deribit) account; resumes from its journal",
    )
    .requiredOption("--config <file>", "agent config JSON (see examples/agent.json)")
    .option(
      "--max-steps <n>",
      "stop at tick N, counted from the run's first tick (a resumed run continues to N; default: the feed's end or Ctrl-C)",
    )
    .option("--log-file <file>", "write the JSON log lines here instead of stderr")
    .option("--log-level <level>", "pino level: debug, info, warn, error", "info")
    .option("--progress", "print one line per tick on stderr")
    .option("--json", "print the final state as JSON")
    .addHelpText(
      "after",
      `
Examples:
  volfolio agent --config examples/agent.json --max-steps 200
  volfolio agent --config examples/agent.json --log-file agent.log --json
  touch .volfolio/agent/KILL      # kill switch: the agent stops trading at the next tick
  curl -s 127.0.0.1:PORT/state    # when the config has "http": {"port": PORT}
  curl -s -X POST -H "Authorization: Bearer $(cat .volfolio/agent/agent.token)" 127.0.0.1:PORT/kill

Feeds (config "feed"): synthetic (seeded replay), files (a directory of chain snapshots, replayed
at "speed" x real time, 0 = as fast as possible), deribit (public WebSocket, live).
The Deribit broker reads DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET from the environment, uses the
testnet unless "testnet": false, and sends nothing unless "enabled": true.`,
    )
    .action(agentCommand);
}
