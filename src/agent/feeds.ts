/**
 * Feeds for the agent, chosen by the config:
 *  - `synthetic`: the seeded synthetic market through time (Bates index, SSVI chains), replayed
 *    at `speed` times real time (0 = as fast as possible);
 *  - `files`: a directory of stored chain snapshots (Deribit CSV/.csv.gz, Deribit API JSON,
 *    Tardis CSV, one snapshot per file), in name order, replayed at `speed` on a replay clock:
 *    tick N is decided at start + N x stepMinutes (defaults: the first snapshot's time and the
 *    gap between the first two), never at the snapshot's own time, so feed health sees a
 *    repeated, out-of-order or old snapshot for what it is;
 *  - `store`: the history store of `volfolio store ingest` (DuckDB + Parquet), one tick per
 *    stored chain of the underlying, on the same replay clock as `files`;
 *  - `deribit`: Deribit's public market data, polled every `intervalSeconds` over the public
 *    WebSocket JSON-RPC API (or REST), no key needed; it also answers the delivery (settlement)
 *    price of an expired expiry (public/get_delivery_prices, the index's 30-minute average
 *    before 08:00 UTC on the expiry's date), which the agent settles expired options at. The
 *    replay feeds have none: the agent settles at the chain's index then, and says so.
 * Each gives the feed, how to resolve instrument names, the decision clock and the pacing.
 * A feed never throws for bad data: a tick it cannot build is `null` (the agent goes safe).
 */
import { access, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadChainFile } from "../adapters/chainFile.js";
import { instrumentFromName } from "../core/instruments/names.js";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { utcDateRange } from "../core/time.js";
import { syntheticSeries } from "../core/market/syntheticSeries.js";
import { abortableSleep } from "./abortableSleep.js";
import type { AgentConfig } from "./config.js";
import { deribitFeed } from "./deribitFeed.js";
import type { BuiltFeed } from "./agentTypes.js";
import type { AgentFeed, AgentLogger } from "./loop.js";

export type { BuiltFeed } from "./agentTypes.js";

/** Thrown when the feed cannot start at all (no such directory, no snapshot files). */
export class AgentFeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentFeedError";
  }
}

/** Instrument names resolve from the name itself (Deribit naming: expiry at 08:00 UTC). */
const resolveByName = (name: string): Instrument => instrumentFromName(name);

/** Waits `ms / speed` (speed 0: not at all); the wait is part of the replay, not the decision. */
function replayPause(intervalMs: (step: number) => number, speed: number) {
  if (!(speed > 0)) return undefined;
  return async (step: number, signal?: AbortSignal) => {
    const ms = intervalMs(step) / speed;
    if (ms > 0) await abortableSleep(ms, signal);
  };
}

export async function buildFeed(
  config: AgentConfig,
  options: { logger?: AgentLogger; wallClock?: () => number } = {},
): Promise<BuiltFeed> {
  const feedConfig = config.feed;
  switch (feedConfig.type) {
    case "synthetic": {
      const start = Date.parse(feedConfig.start);
      const stepMs = feedConfig.stepMinutes * 60_000;
      const series = syntheticSeries({
        underlying: config.underlying,
        start,
        steps: feedConfig.steps,
        stepMs,
        seed: feedConfig.seed,
      });
      const cache = new Map<number, ChainSnapshot>();
      const at = async (step: number) => {
        if (step < 0 || step >= feedConfig.steps) return null;
        let chain = cache.get(step);
        if (!chain) {
          chain = series.chainAt(step);
          remember(cache, step, chain);
        }
        return chain;
      };
      const pause = replayPause(() => stepMs, config.speed);
      return {
        feed: { steps: feedConfig.steps, at },
        resolveInstrument: resolveByName,
        now: (step) => start + step * stepMs,
        ...(pause ? { pause } : {}),
        describe: `synthetic ${config.underlying}, ${feedConfig.steps} steps of ${feedConfig.stepMinutes} min, seed ${feedConfig.seed}`,
        close: async () => undefined,
      };
    }
    case "files":
      return filesFeed(config, feedConfig, options.logger);
    case "store":
      return storeFeed(config, feedConfig, options.logger);
    case "deribit":
      return deribitFeed(config, feedConfig, options);
  }
}

/**
 * The replay clock of a stored-snapshot feed: `start` and `stepMinutes` when configured, else the
 * first readable snapshot's time and the gap between the first two.
 */
async function replayClock(
  feedConfig: { readonly start?: string | undefined; readonly stepMinutes?: number | undefined },
  steps: number,
  at: (step: number) => Promise<ChainSnapshot | null>,
): Promise<{ start: number; stepMs: number }> {
  const firstTimes: number[] = [];
  if (feedConfig.start === undefined || feedConfig.stepMinutes === undefined)
    for (let i = 0; i < steps && firstTimes.length < 2; i++) {
      const c = await at(i);
      if (c && Number.isFinite(c.valuationTime)) firstTimes.push(c.valuationTime);
    }
  const start = feedConfig.start !== undefined ? Date.parse(feedConfig.start) : (firstTimes[0] ?? Number.NaN);
  const [t0, t1] = firstTimes;
  const stepMs =
    feedConfig.stepMinutes !== undefined
      ? feedConfig.stepMinutes * 60_000
      : t0 !== undefined && t1 !== undefined
        ? t1 - t0
        : 0;
  return { start, stepMs };
}

/** A replay feed over `steps` stored snapshots read by `at` (files or the history store). */
function storedReplay(
  config: AgentConfig,
  steps: number,
  at: (step: number) => Promise<ChainSnapshot | null>,
  clock: { start: number; stepMs: number },
  describe: string,
  close: () => Promise<void>,
): BuiltFeed {
  const { start, stepMs } = clock;
  const pause = replayPause(() => stepMs, config.speed);
  return {
    feed: { steps, at },
    resolveInstrument: resolveByName,
    // The replay clock (module comment), whatever the snapshot says.
    now: (step) => (Number.isFinite(start) ? start + step * stepMs : 0),
    ...(pause
      ? {
          pause: async (step: number, signal?: AbortSignal) => {
            if (step + 1 < steps) await at(step + 1);
            await pause(step, signal);
          },
        }
      : {}),
    describe: `${describe}, replay clock from ${Number.isFinite(start) ? new Date(start).toISOString() : "?"} every ${(stepMs / 60_000).toFixed(2)} min`,
    close,
  };
}

async function filesFeed(
  config: AgentConfig,
  feedConfig: Extract<AgentConfig["feed"], { type: "files" }>,
  logger?: AgentLogger,
): Promise<BuiltFeed> {
  const dir = resolve(feedConfig.dir);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => /\.(csv|csv\.gz|json)$/i.test(f)).sort();
  } catch (err) {
    throw new AgentFeedError(
      `feed.dir ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (names.length === 0)
    throw new AgentFeedError(`feed.dir ${dir}: no snapshot files (*.csv, *.csv.gz, *.json)`);
  // Snapshot files are sorted by name (the stored layouts put the date in the name); a file whose
  // snapshot is not after the previous one's is flagged by feed health (out-of-order, repeated).
  const cache = new Map<number, ChainSnapshot | null>();
  const at = async (step: number): Promise<ChainSnapshot | null> => {
    if (step < 0 || step >= names.length) return null;
    if (cache.has(step)) return cache.get(step) ?? null;
    const file = join(dir, names[step] as string);
    let chain: ChainSnapshot | null = null;
    try {
      const loaded = await loadChainFile(file);
      chain = loaded.chains.find((c) => c.underlying === config.underlying) ?? null;
      const other = loaded.chains[0];
      if (!chain && other) {
        // The file was read but has no chain of our underlying: feed health says
        // missing-underlying (no index price, no quotes) rather than a bare missing tick.
        logger?.warn({ step, file }, `no ${config.underlying} chain in snapshot file`);
        chain = {
          underlying: config.underlying,
          valuationTime: other.valuationTime,
          indexPrice: Number.NaN,
          quotes: [],
        };
      } else if (!chain) logger?.warn({ step, file }, `no ${config.underlying} chain in snapshot file`);
      else if (loaded.rejected.length > 0)
        logger?.info(
          { step, file, rejectedRows: loaded.rejected.length },
          "snapshot rows rejected by the loader",
        );
    } catch (err) {
      logger?.warn({ step, file, error: (err as Error).message }, "snapshot file unreadable");
    }
    remember(cache, step, chain);
    return chain;
  };
  const { start, stepMs } = await replayClock(feedConfig, names.length, at);
  if (!Number.isFinite(start))
    logger?.warn(
      { dir },
      "files feed: no readable snapshot to start the replay clock at; every tick is stale",
    );
  return storedReplay(
    config,
    names.length,
    at,
    { start, stepMs },
    `${names.length} snapshot files in ${dir}`,
    async () => undefined,
  );
}

/**
 * The history store (`volfolio store ingest`) as a replay: one tick per stored chain of the
 * underlying. The store is opened by dynamic import (the agent loads DuckDB only when asked) and
 * never created: a directory without store.duckdb is refused.
 */
async function storeFeed(
  config: AgentConfig,
  feedConfig: Extract<AgentConfig["feed"], { type: "store" }>,
  logger?: AgentLogger,
): Promise<BuiltFeed> {
  const dir = resolve(feedConfig.dir);
  try {
    await access(join(dir, "store.duckdb"));
  } catch {
    throw new AgentFeedError(
      `feed.dir ${dir}: not a volfolio store (no store.duckdb): run \`volfolio store ingest\` first`,
    );
  }
  const { DuckDbSnapshotStore } = await import("../adapters/store/duckdb.js");
  const { historyChainTimes, loadHistoryChains } = await import("../adapters/store/historyRead.js");
  const store = await DuckDbSnapshotStore.open(dir);
  const query = { underlying: config.underlying, ...utcDateRange(feedConfig) };
  const times = await historyChainTimes(store, query);
  if (times.length === 0) {
    await store.close();
    throw new AgentFeedError(
      `feed.dir ${dir}: no stored ${config.underlying} chain${feedConfig.from || feedConfig.to ? " in the from/to range" : ""}`,
    );
  }
  const cache = new Map<number, ChainSnapshot | null>();
  const at = async (step: number): Promise<ChainSnapshot | null> => {
    const t = times[step];
    if (t === undefined) return null; // before the first or after the last stored chain
    if (cache.has(step)) return cache.get(step) ?? null;
    let chain: ChainSnapshot | null = null;
    try {
      chain =
        (
          await loadHistoryChains(store, {
            underlying: config.underlying,
            from: t,
            to: t,
            withPerpetual: true,
          })
        ).chains[0] ?? null;
    } catch (err) {
      logger?.warn({ step, error: (err as Error).message }, "stored chain unreadable");
    }
    remember(cache, step, chain);
    return chain;
  };
  const clock = await replayClock(feedConfig, times.length, at);
  return storedReplay(
    config,
    times.length,
    at,
    clock,
    `${times.length} stored ${config.underlying} chains in ${dir}`,
    () => store.close(),
  );
}

/** Keeps a replay's chain cache at its last 4 steps: stores `chain`, drops the oldest (Map order). */
function remember<V>(cache: Map<number, V>, step: number, chain: V): void {
  cache.set(step, chain);
  for (const oldest of cache.keys()) {
    if (cache.size <= 4) break;
    cache.delete(oldest);
  }
}
