/**
 * Wires an agent from its config: feed, broker, journal, kill switch, HTTP endpoint, logger;
 * runs it until the feed ends, the tick limit, or SIGINT/SIGTERM (graceful: the current tick
 * finishes and is journaled first).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { DeribitBroker } from "../adapters/broker/deribit.js";
import { PaperBroker } from "../adapters/broker/paper.js";
import type { Broker } from "../adapters/broker/types.js";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import type { AgentConfig } from "./config.js";
import { buildFeed } from "./feeds.js";
import { AgentHttpConfigError, MIN_TOKEN_LENGTH, startAgentHttp } from "./http.js";
import { KillSwitch } from "./killSwitch.js";
import { Agent, type AgentDeps, type AgentFeed, type AgentState } from "./loop.js";
import { acquireStateLock } from "./stateLock.js";
import { JournalStoreMirror, MirroredJournal, openAgentStore } from "./storeMirror.js";

/** The configured store could not be opened (unreachable server, bad directory). */
export class AgentStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentStoreError";
  }
}

export interface RunAgentOptions {
  readonly logger: Logger;
  readonly env?: Record<string, string | undefined>;
  /** Stop after this many ticks. */
  readonly maxSteps?: number;
  /** Called once the HTTP endpoint listens, with the file holding a generated token (else null). */
  readonly onListening?: (url: string, tokenFile: string | null) => void;
  /** Called after every tick with the agent's state (e.g. a progress line). */
  readonly onTick?: (state: AgentState) => void;
}

/**
 * GET /state: the agent's state, its `risk` recomputed by agentRiskReport (valuation.ts) on the
 * last valued tick's chain and the current book (the same figures the loop stored at that tick's
 * end).
 */
export function agentHttpState(
  agent: Agent,
  o: { readonly runId: string; readonly broker: string; readonly killSwitch: KillSwitch },
): Record<string, unknown> {
  return {
    runId: o.runId,
    broker: o.broker,
    killSwitch: o.killSwitch.engaged(),
    ...agent.state,
    risk: agent.currentRisk(),
  };
}

export async function runAgentFromConfig(config: AgentConfig, options: RunAgentOptions): Promise<AgentState> {
  const stateDir = resolve(config.stateDir);
  mkdirSync(stateDir, { recursive: true });
  // One agent per stateDir (stateLock.ts): a second one throws AgentLockedError here.
  const lock = acquireStateLock(stateDir, config.runId);
  if (lock.replaced)
    options.logger.warn(
      { lockFile: lock.file, staleOwner: lock.replaced },
      `replaced a stale lock: agent pid ${lock.replaced.pid} (started ${lock.replaced.startedAt}) is gone`,
    );
  try {
    return await runLocked(config, options, stateDir);
  } finally {
    lock.release();
  }
}

/** The file a generated endpoint token is written to (mode 0600). */
export const TOKEN_FILE = "agent.token";

/**
 * The endpoint's token: VOLFOLIO_AGENT_TOKEN (at least 16 characters, else AgentHttpConfigError),
 * or a new random one written to `<stateDir>/agent.token` with mode 0600 (its path is returned
 * for the operator; the token itself is never printed or logged).
 */
export function endpointToken(
  stateDir: string,
  env: Record<string, string | undefined>,
): { token: string; file: string | null } {
  const given = env.VOLFOLIO_AGENT_TOKEN;
  if (given !== undefined && given !== "") {
    if (given.length < MIN_TOKEN_LENGTH)
      throw new AgentHttpConfigError(
        `VOLFOLIO_AGENT_TOKEN is ${given.length} characters; the agent endpoint needs at least ${MIN_TOKEN_LENGTH} (or unset it to have one generated)`,
      );
    return { token: given, file: null };
  }
  const token = randomBytes(24).toString("base64url");
  const file = join(stateDir, TOKEN_FILE);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an older file keeps its mode on overwrite
  return { token, file };
}

async function runLocked(
  config: AgentConfig,
  options: RunAgentOptions,
  stateDir: string,
): Promise<AgentState> {
  const env = options.env ?? process.env;
  // Checked before anything starts: a too-short token is refused on any bind.
  const endpoint = config.http ? endpointToken(stateDir, env) : null;
  const built = await buildFeed(config, { logger: options.logger });
  const tracked = trackingFeed(built.feed);
  const journal = new MirroredJournal(join(stateDir, "journal.jsonl"));
  const mirror = await openMirror(config, env, journal, options.logger, built);
  // SIGINT/SIGTERM end the wait between ticks at once (a live feed waits intervalSeconds, a slow
  // replay up to a step): the run stops after the current tick, not after the wait.
  const stopping = new AbortController();
  const pause = async (step: number) => {
    await mirror?.flush(tracked.last());
    options.onTick?.(agent.state);
    if (built.pause && !stopping.signal.aborted) await built.pause(step, stopping.signal);
  };
  const broker = buildBroker(config, stateDir, built.resolveInstrument, env);
  const killSwitch = new KillSwitch(
    config.killSwitchFile ? resolve(config.killSwitchFile) : join(stateDir, "KILL"),
  );
  const agent = new Agent({
    ...agentDepsFromConfig(config, options),
    feed: tracked.feed,
    broker,
    journal,
    resolveInstrument: built.resolveInstrument,
    now: built.now,
    killed: () => killSwitch.engaged(),
    pause,
  });
  const http = endpoint
    ? await startEndpoint(config, options, endpoint, {
        state: () => agentHttpState(agent, { runId: config.runId, broker: broker.name, killSwitch }),
        killSwitch,
      })
    : null;
  const stop = () => {
    agent.stop();
    stopping.abort();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  options.logger.info(
    { runId: config.runId, broker: broker.name, feed: built.describe, stateDir, killSwitch: killSwitch.file },
    "agent starting",
  );
  try {
    const state = await agent.run();
    await mirror?.flush(tracked.last());
    if (mirror)
      options.logger.info(
        { mirrored: mirror.mirrored, snapshotsSaved: mirror.snapshotsSaved },
        "journal mirrored to the store",
      );
    return state;
  } finally {
    await mirror?.close();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    journal.close();
    if (broker instanceof PaperBroker) broker.close();
    await http?.app.close();
    await built.close();
  }
}

/** The feed, remembering the last snapshot it served (the store mirror saves it). */
function trackingFeed(inner: AgentFeed): { feed: AgentFeed; last: () => ChainSnapshot | null } {
  let lastSnapshot: ChainSnapshot | null = null;
  return {
    feed: {
      steps: inner.steps,
      at: async (step) => {
        lastSnapshot = await inner.at(step);
        return lastSnapshot;
      },
    },
    last: () => lastSnapshot,
  };
}

/** The store mirror of the journal when a store is configured, caught up with the journal. */
async function openMirror(
  config: AgentConfig,
  env: Record<string, string | undefined>,
  journal: MirroredJournal,
  logger: Logger,
  built: { close(): Promise<void> },
): Promise<JournalStoreMirror | null> {
  if (!config.store) return null;
  let mirror: JournalStoreMirror;
  try {
    mirror = new JournalStoreMirror(await openAgentStore(config.store, env), journal, {
      runId: config.runId,
      table: config.store.table,
      saveSnapshots: config.store.saveSnapshots,
      logger,
    });
  } catch (err) {
    await built.close();
    throw new AgentStoreError(`store (${config.store.type}): ${(err as Error).message}`);
  }
  await mirror.syncAll();
  return mirror;
}

/** The configured broker: the paper broker (its own journal in stateDir) or Deribit. */
function buildBroker(
  config: AgentConfig,
  stateDir: string,
  resolveInstrument: (name: string) => Instrument,
  env: Record<string, string | undefined>,
): Broker {
  if (config.broker.type === "paper")
    return new PaperBroker({
      statePath: join(stateDir, "paper-broker.jsonl"),
      resolveInstrument,
      slippageBps: config.broker.slippageBps,
    });
  return new DeribitBroker({
    enabled: config.broker.enabled,
    testnet: config.broker.testnet,
    ...(config.broker.baseUrl ? { baseUrl: config.broker.baseUrl } : {}),
    resolveInstrument,
    currency: config.underlying,
    env,
    timeoutMs: config.brokerPolicy.timeoutMs,
  });
}

/** The agent's settings read straight from the config and the run options. */
function agentDepsFromConfig(
  config: AgentConfig,
  options: RunAgentOptions,
): Omit<AgentDeps, "feed" | "broker" | "journal" | "resolveInstrument" | "now" | "killed"> {
  return {
    runId: config.runId,
    policy: config.policy,
    limits: config.limits,
    health: config.health,
    maxDecisionAgeMs: config.recovery.maxDecisionAgeMs,
    brokerPolicy: config.brokerPolicy,
    logger: options.logger,
    ...(config.analytics ? { analytics: config.analytics } : {}),
    ...(config.regime ? { regime: config.regime } : {}),
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
  };
}

/** Starts the HTTP endpoint and tells the operator where a generated token is. */
async function startEndpoint(
  config: AgentConfig,
  options: RunAgentOptions,
  endpoint: { token: string; file: string | null },
  o: { state: () => Record<string, unknown>; killSwitch: KillSwitch },
): Promise<Awaited<ReturnType<typeof startAgentHttp>> | null> {
  if (!config.http) return null;
  const http = await startAgentHttp({
    host: config.http.host,
    port: config.http.port,
    token: endpoint.token,
    state: o.state,
    killSwitch: o.killSwitch,
  });
  if (endpoint.file)
    options.logger.info(
      { tokenFile: endpoint.file },
      `agent endpoint token generated: send 'Authorization: Bearer <the contents of ${endpoint.file}>'`,
    );
  options.onListening?.(http.url, endpoint.file ?? null);
  return http;
}
