/**
 * Deribit WebSocket JSON-RPC client (public channels, no key): request/response matching by id
 * with timeouts, `public/subscribe` to channels such as `ticker.{instrument}.100ms` or
 * `book.{instrument}.100ms`, heartbeat (`public/set_heartbeat`, answering each `test_request`
 * with `public/test`), and reconnect with exponential backoff + jitter that resubscribes every
 * channel. Notifications are validated as { method: "subscription", params: { channel, data } };
 * ticker data can be parsed further with deribitTickerSchema (./apiShapes.ts). Times in ms.
 */
import WebSocket from "ws";
import { z } from "zod";

export const DERIBIT_WS_MAINNET_URL = "wss://www.deribit.com/ws/api/v2";

const messageSchema = z.looseObject({
  id: z.number().optional(),
  method: z.string().optional(),
  result: z.unknown().optional(),
  error: z.looseObject({ code: z.number(), message: z.string() }).optional(),
  params: z
    .looseObject({
      channel: z.string().optional(),
      data: z.unknown().optional(),
      type: z.string().optional(),
    })
    .optional(),
});

export interface DeribitWsOptions {
  /** ws URL (default wss://www.deribit.com/ws/api/v2). */
  readonly url?: string;
  /** Per-request timeout (default 10,000 ms). */
  readonly requestTimeoutMs?: number;
  /** Heartbeat interval in seconds sent with public/set_heartbeat (default 30; 0 disables). */
  readonly heartbeatSeconds?: number;
  /** Reconnect backoff: uniform(0, min(max, base * 2^n)) ms (defaults 250 / 10,000). */
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
  readonly random?: () => number;
  /** Called for each subscription notification. */
  readonly onNotification?: (channel: string, data: unknown) => void;
  /** Called for problems that do not throw (bad message, reconnect). */
  readonly onEvent?: (event: { type: "malformed" | "reconnecting" | "connected"; detail: string }) => void;
}

export class DeribitWsClient {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly channels = new Set<string>();
  private closed = false;
  private attempt = 0;
  /** Successful connections (1 + reconnects). */
  connections = 0;

  constructor(private readonly options: DeribitWsOptions = {}) {}

  get url(): string {
    return this.options.url ?? DERIBIT_WS_MAINNET_URL;
  }

  /** Opens the socket, sets the heartbeat and (re)subscribes known channels. */
  async connect(): Promise<void> {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("message", (raw) => this.onMessage(String(raw)));
    ws.on("close", () => this.onClose(ws));
    ws.on("error", () => undefined);
    this.connections++;
    this.attempt = 0;
    this.options.onEvent?.({ type: "connected", detail: this.url });
    const hb = this.options.heartbeatSeconds ?? 30;
    if (hb > 0) await this.call("public/set_heartbeat", { interval: hb });
    if (this.channels.size > 0) await this.call("public/subscribe", { channels: [...this.channels] });
  }

  /** JSON-RPC request; resolves with `result`, rejects on error object, timeout or disconnect. */
  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`${method}: not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no response within ${this.options.requestTimeoutMs ?? 10_000} ms`));
      }, this.options.requestTimeoutMs ?? 10_000);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  /** Subscribes channels (remembered for resubscription after a reconnect). */
  async subscribe(channels: readonly string[]): Promise<unknown> {
    for (const c of channels) this.channels.add(c);
    return this.call("public/subscribe", { channels });
  }

  private onMessage(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.options.onEvent?.({ type: "malformed", detail: `not JSON: ${text.slice(0, 80)}` });
      return;
    }
    const m = messageSchema.safeParse(json);
    if (!m.success) {
      this.options.onEvent?.({ type: "malformed", detail: m.error.issues[0]?.message ?? "bad message" });
      return;
    }
    const msg = m.data;
    if (msg.id !== undefined && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(`Deribit error ${msg.error.code}: ${msg.error.message}`));
      else p.resolve(msg.result);
      return;
    }
    if (msg.method === "heartbeat" && msg.params?.type === "test_request") {
      this.call("public/test").catch(() => undefined);
      return;
    }
    if (msg.method === "subscription" && msg.params?.channel) {
      this.options.onNotification?.(msg.params.channel, msg.params.data);
    }
  }

  private onClose(ws: WebSocket): void {
    if (this.ws !== ws) return;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error("connection closed"));
      this.pending.delete(id);
    }
    if (this.closed) return;
    const base = this.options.reconnectBaseMs ?? 250;
    const cap = Math.min(this.options.reconnectMaxMs ?? 10_000, base * 2 ** this.attempt++);
    const delay = Math.floor((this.options.random ?? Math.random)() * cap);
    this.options.onEvent?.({ type: "reconnecting", detail: `in ${delay} ms` });
    setTimeout(() => {
      if (this.closed) return;
      this.connect().catch(() => this.onClose(this.ws as WebSocket));
    }, delay);
  }

  /** Closes for good (no reconnect). */
  async close(): Promise<void> {
    this.closed = true;
    this.ws?.close();
  }
}
