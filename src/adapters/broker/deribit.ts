/**
 * Deribit broker (JSON-RPC over HTTPS POST to /api/v2): `public/auth` with client credentials,
 * `private/buy` / `private/sell` (immediate-or-cancel, the client order id as the order `label`),
 * `private/get_order_state_by_label` to find an order after a crash.
 *
 * Safety: disabled unless `enabled: true`; testnet (test.deribit.com) unless `testnet: false`.
 * Credentials come only from the environment (DERIBIT_CLIENT_ID, DERIBIT_CLIENT_SECRET), are sent
 * only in POST bodies (never in URLs), and never appear in errors or logs.
 *
 * Amounts: Deribit's `amount` is in coins for options (contracts x contract size) and in USD for
 * inverse futures (contracts x contract size USD).
 */
import { z } from "zod";
import type { Instrument } from "../../core/instruments/types.js";
import type { Broker, Fill, OrderRequest, OrderState, OrderStatus, TopOfBook } from "./types.js";

export const DERIBIT_MAINNET = "https://www.deribit.com";
export const DERIBIT_TESTNET = "https://test.deribit.com";

export class BrokerDisabledError extends Error {
  constructor() {
    super(
      "the Deribit broker is disabled: set broker.enabled = true in the agent config to send real orders",
    );
    this.name = "BrokerDisabledError";
  }
}

export class DeribitBrokerError extends Error {
  constructor(
    readonly method: string,
    detail: string,
  ) {
    super(`Deribit ${method} failed: ${detail}`);
    this.name = "DeribitBrokerError";
  }
}

const tradeSchema = z.object({
  amount: z.number(),
  price: z.number(),
  fee: z.number(),
  fee_currency: z.string(),
  timestamp: z.number(),
});
const orderSchema = z.object({
  order_id: z.string(),
  order_state: z.string(),
  label: z.string().optional().default(""),
  amount: z.number(),
  filled_amount: z.number(),
  average_price: z.number().optional().default(0),
  direction: z.enum(["buy", "sell"]),
  instrument_name: z.string(),
  creation_timestamp: z.number().optional(),
});
const envelope = z.object({
  result: z.unknown().optional(),
  error: z.object({ code: z.number(), message: z.string() }).optional(),
});

export interface DeribitBrokerOptions {
  readonly enabled: boolean;
  readonly testnet?: boolean;
  /** Overrides the host (tests point it at 127.0.0.1). */
  readonly baseUrl?: string;
  readonly resolveInstrument: (name: string) => Instrument;
  /** Settlement currency of the account's orders ("BTC", "ETH", "USDC"). */
  readonly currency: string;
  /** Environment to read credentials from (default process.env). */
  readonly env?: Record<string, string | undefined>;
  readonly timeoutMs?: number;
}

export class DeribitBroker implements Broker {
  readonly name = "deribit";
  readonly baseUrl: string;
  private token: { value: string; expiresAt: number } | null = null;
  private nextId = 1;

  constructor(private readonly options: DeribitBrokerOptions) {
    this.baseUrl = options.baseUrl ?? (options.testnet === false ? DERIBIT_MAINNET : DERIBIT_TESTNET);
  }

  async placeOrder(order: OrderRequest, _quote: TopOfBook): Promise<OrderState> {
    if (!this.options.enabled) throw new BrokerDisabledError();
    const existing = await this.getOrder(order.clientOrderId);
    if (existing) return existing; // idempotent on the label
    const instrument = this.options.resolveInstrument(order.instrument);
    const params: Record<string, unknown> = {
      instrument_name: order.instrument,
      amount: order.quantity * instrument.contractSize,
      type: order.limitPrice === null ? "market" : "limit",
      time_in_force: "immediate_or_cancel",
      label: order.clientOrderId,
    };
    if (order.limitPrice !== null) params.price = order.limitPrice;
    const result = z
      .object({ order: orderSchema, trades: z.array(tradeSchema).default([]) })
      .parse(await this.call(`private/${order.side}`, params, true));
    return this.toState(result.order, result.trades, instrument, order.clientOrderId);
  }

  async getOrder(clientOrderId: string): Promise<OrderState | null> {
    if (!this.options.enabled) throw new BrokerDisabledError();
    const orders = z
      .array(orderSchema)
      .parse(
        await this.call(
          "private/get_order_state_by_label",
          { currency: this.options.currency, label: clientOrderId },
          true,
        ),
      );
    const o = orders.find((x) => x.label === clientOrderId);
    if (!o) return null;
    const trades = z
      .array(tradeSchema)
      .parse(await this.call("private/get_user_trades_by_order", { order_id: o.order_id }, true));
    return this.toState(o, trades, this.options.resolveInstrument(o.instrument_name), clientOrderId);
  }

  private toState(
    o: z.infer<typeof orderSchema>,
    trades: z.infer<typeof tradeSchema>[],
    instrument: Instrument,
    clientOrderId: string,
  ): OrderState {
    const fills: Fill[] = trades.map((t) => ({
      clientOrderId,
      instrument: o.instrument_name,
      side: o.direction,
      quantity: t.amount / instrument.contractSize,
      price: t.price,
      fee: t.fee,
      feeCurrency: t.fee_currency,
      timestamp: t.timestamp,
    }));
    const filled = o.filled_amount / instrument.contractSize;
    const requested = o.amount / instrument.contractSize;
    const status: OrderStatus =
      o.order_state === "rejected"
        ? "rejected"
        : filled >= requested && filled > 0
          ? "filled"
          : filled > 0
            ? "partially-filled"
            : o.order_state === "open"
              ? "open"
              : "cancelled";
    return {
      clientOrderId,
      instrument: o.instrument_name,
      side: o.direction,
      requestedQuantity: requested,
      status,
      filledQuantity: filled,
      fills,
      ...(status !== "filled" ? { reason: `Deribit order ${o.order_id} ${o.order_state}` } : {}),
    };
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now() + 30_000) return this.token.value;
    const env = this.options.env ?? process.env;
    const clientId = env.DERIBIT_CLIENT_ID;
    const clientSecret = env.DERIBIT_CLIENT_SECRET;
    if (!clientId || !clientSecret) {
      throw new DeribitBrokerError(
        "public/auth",
        "DERIBIT_CLIENT_ID and DERIBIT_CLIENT_SECRET must be set in the environment",
      );
    }
    const r = z
      .object({ access_token: z.string(), expires_in: z.number() })
      .parse(
        await this.call(
          "public/auth",
          { grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret },
          false,
        ),
      );
    this.token = { value: r.access_token, expiresAt: Date.now() + r.expires_in * 1000 };
    return r.access_token;
  }

  /** `text` with the client id, client secret and access token replaced by [redacted]. */
  private scrub(text: string): string {
    const env = this.options.env ?? process.env;
    const secrets = [env.DERIBIT_CLIENT_ID, env.DERIBIT_CLIENT_SECRET, this.token?.value].filter(
      (v): v is string => typeof v === "string" && v.length >= 4,
    );
    return secrets.reduce((t, v) => t.split(v).join("[redacted]"), text);
  }

  private async call(
    method: string,
    params: Record<string, unknown>,
    authenticated: boolean,
  ): Promise<unknown> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (authenticated) headers.authorization = `Bearer ${await this.accessToken()}`;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v2/${method}`, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      // The message of a fetch error names only the host; the body (with secrets) is never echoed.
      throw new DeribitBrokerError(
        method,
        this.scrub(`cannot reach ${this.baseUrl}: ${(err as Error).message}`),
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new DeribitBrokerError(method, `HTTP ${response.status} with a non-JSON body`);
    }
    const parsed = envelope.safeParse(body);
    if (!parsed.success)
      throw new DeribitBrokerError(method, `unexpected response shape (HTTP ${response.status})`);
    if (parsed.data.error)
      // The venue's message may echo what it was sent (client id, secret, token): scrubbed.
      throw new DeribitBrokerError(
        method,
        this.scrub(`${parsed.data.error.code} ${parsed.data.error.message}`),
      );
    if (!response.ok) throw new DeribitBrokerError(method, `HTTP ${response.status}`);
    return parsed.data.result;
  }
}
