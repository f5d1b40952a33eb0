/**
 * The agent's live feed (`feed.type: "deribit"`): Deribit's public market data polled every
 * `intervalSeconds` over the public WebSocket JSON-RPC API (or REST), no key needed. It also
 * answers the delivery (settlement) price of an expired expiry (public/get_delivery_prices, the
 * index's 30-minute average before 08:00 UTC on the expiry's date), which the agent settles
 * expired options at. A failed pull is missing data for the tick (null: the agent goes safe and
 * says why) and drops the socket, so the next tick reconnects.
 */
import { z } from "zod";
import { deribitEntriesToChains } from "../adapters/deribit/apiShapes.js";
import { DeribitRestClient, fetchDeribitChain } from "../adapters/deribit/client.js";
import { DeribitWsClient } from "../adapters/deribit/ws.js";
import { instrumentFromName } from "../core/instruments/names.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { abortableSleep } from "./abortableSleep.js";
import type { AgentConfig } from "./config.js";
import type { BuiltFeed } from "./agentTypes.js";
import type { AgentLogger } from "./loop.js";

type DeribitFeedConfig = Extract<AgentConfig["feed"], { type: "deribit" }>;

/** public/get_delivery_prices: { data: [{ date: "2026-01-09", delivery_price: 91234.5 }, ...] } (newest first). */
const deliveryPricesSchema = z.object({
  data: z.array(z.object({ date: z.string(), delivery_price: z.number().positive() })),
});

/** One WebSocket connection, opened on first use; a failed one is dropped and reopened next call. */
class DeribitSocket {
  private ws: DeribitWsClient | null = null;

  constructor(
    private readonly url: string | undefined,
    private readonly logger: AgentLogger | undefined,
  ) {}

  async connected(): Promise<DeribitWsClient> {
    if (!this.ws) {
      this.ws = new DeribitWsClient({
        ...(this.url ? { url: this.url } : {}),
        onEvent: (e) => this.logger?.info({ event: e.type, detail: e.detail }, "deribit websocket"),
      });
      await this.ws.connect();
    }
    return this.ws;
  }

  /** Drops a failed socket; the next call reconnects. */
  async drop(): Promise<void> {
    const old = this.ws;
    if (old) {
      this.ws = null;
      await old.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.ws) await this.ws.close();
  }
}

/** The underlying's chain from the options' and futures' book summaries over the socket. */
async function chainOverWs(socket: DeribitSocket, currency: string): Promise<ChainSnapshot | null> {
  const client = await socket.connected();
  const entries: unknown[] = [];
  for (const kind of ["option", "future"]) {
    const r = await client.call("public/get_book_summary_by_currency", { currency, kind });
    if (Array.isArray(r)) entries.push(...r);
  }
  const chains = deribitEntriesToChains(entries);
  return chains.chains.find((c) => c.underlying === currency) ?? null;
}

async function chainOverRest(feedConfig: DeribitFeedConfig, currency: string): Promise<ChainSnapshot | null> {
  const r = await fetchDeribitChain({
    currency,
    ...(feedConfig.baseUrl ? { baseUrl: feedConfig.baseUrl } : {}),
    maxRetries: 1,
  });
  return r.chain;
}

/** The raw answer of get_delivery_prices for `params`, over the feed's transport. */
async function rawDeliveryPrices(
  feedConfig: DeribitFeedConfig,
  socket: DeribitSocket,
  params: { index_name: string; offset: number; count: number },
): Promise<unknown> {
  if ((feedConfig.transport ?? "ws") === "ws")
    return (await socket.connected()).call("public/get_delivery_prices", params);
  return new DeribitRestClient({
    ...(feedConfig.baseUrl ? { baseUrl: feedConfig.baseUrl } : {}),
    maxRetries: 1,
  }).call("get_delivery_prices", params, deliveryPricesSchema);
}

/**
 * Deribit's delivery price of `currency` for an expiry (08:00 UTC on its date), USD, or null
 * (another coin, not published among the last 10, or the request failed: logged).
 */
async function deliveryPriceOf(
  feedConfig: DeribitFeedConfig,
  socket: DeribitSocket,
  currency: string,
  logger: AgentLogger | undefined,
  expiry: number,
): Promise<number | null> {
  const params = { index_name: `${currency.toLowerCase()}_usd`, offset: 0, count: 10 };
  try {
    const parsed = deliveryPricesSchema.safeParse(await rawDeliveryPrices(feedConfig, socket, params));
    if (!parsed.success) {
      logger?.warn(
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
    logger?.warn(
      { expiry: new Date(expiry).toISOString(), error: (err as Error).message },
      "deribit feed: no delivery price",
    );
    if ((feedConfig.transport ?? "ws") === "ws") await socket.drop();
    return null;
  }
}

export async function deribitFeed(
  config: AgentConfig,
  feedConfig: DeribitFeedConfig,
  options: { logger?: AgentLogger; wallClock?: () => number },
): Promise<BuiltFeed> {
  const clock = options.wallClock ?? Date.now;
  const currency = config.underlying;
  const intervalMs = feedConfig.intervalSeconds * 1000;
  const transport = feedConfig.transport ?? "ws";
  const socket = new DeribitSocket(feedConfig.wsUrl, options.logger);
  const at = async (step: number): Promise<ChainSnapshot | null> => {
    try {
      return transport === "ws"
        ? await chainOverWs(socket, currency)
        : await chainOverRest(feedConfig, currency);
    } catch (err) {
      // A failed pull is missing data for this tick: the agent goes safe and says why.
      options.logger?.warn({ step, error: (err as Error).message }, "deribit feed: no snapshot this tick");
      await socket.drop();
      return null;
    }
  };
  const deliveryPrice = async (underlying: string, expiry: number): Promise<number | null> =>
    underlying === currency ? deliveryPriceOf(feedConfig, socket, currency, options.logger, expiry) : null;
  return {
    feed: { steps: null, at, deliveryPrice },
    resolveInstrument: (name) => instrumentFromName(name),
    now: () => clock(),
    pause: async (_step, signal) => {
      await abortableSleep(intervalMs, signal);
    },
    describe: `Deribit public ${transport === "ws" ? "WebSocket" : "REST"} ${currency}, every ${feedConfig.intervalSeconds} s`,
    close: () => socket.close(),
  };
}
