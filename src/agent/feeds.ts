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
import { setTimeout as sleep } from "node:timers/promises";
import { loadChainFile } from "../adapters/chainFile.js";
import { z } from "zod";
import { DeribitRestClient, fetchDeribitChain } from "../adapters/deribit/client.js";
import { deribitEntriesToChains } from "../adapters/deribit/apiShapes.js";
import { DeribitWsClient } from "../adapters/deribit/ws.js";
import { instrumentFromName } from "../core/instruments/names.js";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { utcDateRange } from "../core/time.js";
import { syntheticSeries } from "../core/market/syntheticSeries.js";
import type { AgentConfig } from "./config.js";
import type { AgentFeed, AgentLogger } from "./loop.js";

export interface BuiltFeed {
  readonly feed: AgentFeed;
  readonly resolveInstrument: (name: string) => Instrument;
  readonly now: (step: number, snapshot: ChainSnapshot | null) => number;
  /** The wait after a tick; `signal` ends it early (SIGTERM during a long wait). */
  readonly pause?: (step: number, signal?: AbortSignal) => Promise<void>;
  /** What the feed is, for the start log line. */
  readonly describe: string;
  /** Releases connections. */
  readonly close: () => Promise<void>;
}

/** Thrown when the feed cannot start at all (no such directory, no snapshot files). */
export class AgentFeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentFeedError";
  }
}

/** public/get_delivery_prices: { data: [{ date: "2026-01-09", delivery_price: 91234.5 }, ...] } (newest first). */
const deliveryPricesSchema = z.object({
  data: z.array(z.object({ date: z.string(), delivery_price: z.number().positive() })),
});

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

/** Waits `ms`, or less when `signal` aborts (the timer is cleared: nothing keeps the process up). */
async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  await sleep(ms, undefined, signal ? { signal } : {}).catch((err: unknown) => {
    if ((err as Error).name !== "AbortError") throw err;
  });
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

async function deribitFeed(
  config: AgentConfig,
  feedConfig: Extract<AgentConfig["feed"], { type: "deribit" }>,
  options: { logger?: AgentLogger; wallClock?: () => number },
): Promise<BuiltFeed> {
  const clock = options.wallClock ?? Date.now;
  const currency = config.underlying;
  const intervalMs = feedConfig.intervalSeconds * 1000;
  let ws: DeribitWsClient | null = null;
  const transport = feedConfig.transport ?? "ws";

  const connected = async (): Promise<DeribitWsClient> => {
    if (!ws) {
      ws = new DeribitWsClient({
        ...(feedConfig.wsUrl ? { url: feedConfig.wsUrl } : {}),
        onEvent: (e) => options.logger?.info({ event: e.type, detail: e.detail }, "deribit websocket"),
      });
      await ws.connect();
    }
    return ws;
  };
  /** Drops a failed socket; the next call reconnects. */
  const dropSocket = async () => {
    if (ws) {
      const old = ws as DeribitWsClient;
      ws = null;
      await old.close().catch(() => undefined);
    }
  };
  const fetchWs = async (): Promise<ChainSnapshot | null> => {
    const client = await connected();
    const entries: unknown[] = [];
    for (const kind of ["option", "future"]) {
      const r = await client.call("public/get_book_summary_by_currency", { currency, kind });
      if (Array.isArray(r)) entries.push(...r);
    }
    const chains = deribitEntriesToChains(entries);
    return chains.chains.find((c) => c.underlying === currency) ?? null;
  };
  const fetchRest = async (): Promise<ChainSnapshot | null> => {
    const r = await fetchDeribitChain({
      currency,
      ...(feedConfig.baseUrl ? { baseUrl: feedConfig.baseUrl } : {}),
      maxRetries: 1,
    });
    return r.chain;
  };

  const at = async (step: number): Promise<ChainSnapshot | null> => {
    try {
      return transport === "ws" ? await fetchWs() : await fetchRest();
    } catch (err) {
      // A failed pull is missing data for this tick: the agent goes safe and says why.
      options.logger?.warn({ step, error: (err as Error).message }, "deribit feed: no snapshot this tick");
      await dropSocket();
      return null;
    }
  };
  /**
   * Deribit's delivery price of `currency` for an expiry (08:00 UTC on its date), USD, or null
   * (another coin, not published among the last 10, or the request failed: logged).
   */
  const deliveryPrice = async (underlying: string, expiry: number): Promise<number | null> => {
    if (underlying !== currency) return null;
    const params = { index_name: `${currency.toLowerCase()}_usd`, offset: 0, count: 10 };
    try {
      let raw: unknown;
      if (transport === "ws") raw = await (await connected()).call("public/get_delivery_prices", params);
      else
        raw = await new DeribitRestClient({
          ...(feedConfig.baseUrl ? { baseUrl: feedConfig.baseUrl } : {}),
          maxRetries: 1,
        }).call("get_delivery_prices", params, deliveryPricesSchema);
      const parsed = deliveryPricesSchema.safeParse(raw);
      if (!parsed.success) {
        options.logger?.warn(
          {
            expiry: new Date(expiry).toISOString(),
            problems: parsed.error.issues.map((i) => i.path.join(".")),
          },
          "deribit feed: malformed delivery prices",
        );
        return null;
      }
      const date = new Date(expiry).toISOString().slice(0, 10);
      return parsed.data.data.find((d) => d.date === date)?.delivery_price ?? null;
    } catch (err) {
      options.logger?.warn(
        { expiry: new Date(expiry).toISOString(), error: (err as Error).message },
        "deribit feed: no delivery price",
      );
      if (transport === "ws") await dropSocket();
      return null;
    }
  };
  return {
    feed: { steps: null, at, deliveryPrice },
    resolveInstrument: resolveByName,
    now: () => clock(),
    pause: async (_step, signal) => {
      await abortableSleep(intervalMs, signal);
    },
    describe: `Deribit public ${transport === "ws" ? "WebSocket" : "REST"} ${currency}, every ${feedConfig.intervalSeconds} s`,
    close: async () => {
      if (ws) await (ws as DeribitWsClient).close();
    },
  };
}

/** Keeps a replay's chain cache at its last 4 steps: stores `chain`, drops the oldest (Map order). */
function remember<V>(cache: Map<number, V>, step: number, chain: V): void {
  cache.set(step, chain);
  for (const oldest of cache.keys()) {
    if (cache.size <= 4) break;
    cache.delete(oldest);
  }
}
