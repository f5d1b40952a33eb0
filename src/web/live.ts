/**
 * Live refresh of the dashboard's chain (`volfolio serve --live --refresh <s>`, issue 23 item 4):
 * every interval the chain is pulled over Deribit's public WebSocket JSON-RPC API
 * (public/get_book_summary_by_currency for options and futures, adapters/deribit/ws.ts, the
 * agent's live feed calls) and the builder's market is rebuilt from it (web/builder.ts
 * builderMarket: the same market step), so the chain table and the builder's marks follow it.
 * The status says when the data was last refreshed, its age, and marks it stale when no refresh
 * succeeded for two intervals (the last good market stays in use and the page says so).
 * Times: epoch ms; ages in ms.
 */
import { deribitEntriesToChains } from "../adapters/deribit/apiShapes.js";
import { DERIBIT_WS_MAINNET_URL, DeribitWsClient } from "../adapters/deribit/ws.js";
import type { ChainSnapshot } from "../core/market/types.js";

export interface LiveStatus {
  readonly live: true;
  readonly source: string;
  readonly intervalMs: number;
  /** Last successful refresh (wall clock), ISO; null before the first. */
  readonly updatedAt: string | null;
  /** Wall-clock age of the last successful refresh, ms (null before the first). */
  readonly ageMs: number | null;
  /** True when no refresh succeeded for two intervals. */
  readonly stale: boolean;
  /** Successful refreshes so far. */
  readonly updates: number;
  /** The last failure, if the last attempt failed. */
  readonly error: string | null;
}

/** Pulls `currency`'s chain over the WebSocket every `intervalMs` and hands it to `onChain`. */
export class LiveChainRefresher {
  private client: DeribitWsClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private updatedAt: number | null = null;
  private updates = 0;
  private error: string | null = null;
  private stopped = false;
  private readonly url: string;

  constructor(
    private readonly o: {
      readonly currency: string;
      readonly intervalMs: number;
      /** ws URL (default env VOLFOLIO_DERIBIT_WS_URL, else Deribit mainnet). */
      readonly wsUrl?: string;
      readonly onChain: (chain: ChainSnapshot) => void;
      readonly clock?: () => number;
      /** Time of the initial (REST) load, counted as the first refresh. */
      readonly initialAt?: number;
    },
  ) {
    this.url = o.wsUrl ?? process.env.VOLFOLIO_DERIBIT_WS_URL ?? DERIBIT_WS_MAINNET_URL;
    if (o.initialAt !== undefined) this.updatedAt = o.initialAt;
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  /** One pull; never throws (a failure is recorded and the socket dropped). */
  async refresh(): Promise<boolean> {
    try {
      if (!this.client) {
        this.client = new DeribitWsClient({
          url: this.url,
          requestTimeoutMs: Math.max(1000, this.o.intervalMs),
        });
        await this.client.connect();
      }
      const entries: unknown[] = [];
      for (const kind of ["option", "future"]) {
        const r = await this.client.call("public/get_book_summary_by_currency", {
          currency: this.o.currency,
          kind,
        });
        if (Array.isArray(r)) entries.push(...r);
      }
      const chain = deribitEntriesToChains(entries).chains.find((c) => c.underlying === this.o.currency);
      if (!chain) throw new Error(`no ${this.o.currency} options in the answer`);
      this.o.onChain(chain);
      this.updatedAt = this.now();
      this.updates++;
      this.error = null;
      return true;
    } catch (e) {
      this.error = (e as Error).message.split("\n")[0] ?? "refresh failed";
      const c = this.client;
      this.client = null;
      await c?.close().catch(() => undefined);
      return false;
    }
  }

  /** Starts the loop (first pull after one interval). */
  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      await this.refresh();
      if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs);
    };
    this.timer = setTimeout(tick, this.o.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.client?.close().catch(() => undefined);
  }

  status(): LiveStatus {
    const age = this.updatedAt === null ? null : this.now() - this.updatedAt;
    return {
      live: true,
      source: `Deribit WebSocket ${this.url}, ${this.o.currency}, every ${(this.o.intervalMs / 1000).toFixed(1)} s`,
      intervalMs: this.o.intervalMs,
      updatedAt: this.updatedAt === null ? null : new Date(this.updatedAt).toISOString(),
      ageMs: age,
      stale: age === null || age > 2 * this.o.intervalMs,
      updates: this.updates,
      error: this.error,
    };
  }
}
