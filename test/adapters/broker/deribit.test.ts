/**
 * The Deribit broker against a local fake of Deribit's JSON-RPC API on 127.0.0.1 (shapes from
 * Deribit's API v2 documentation: public/auth, private/buy|sell, private/get_order_state_by_label,
 * private/get_user_trades_by_order).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerDisabledError, DeribitBroker, DERIBIT_TESTNET } from "../../../src/adapters/broker/deribit.js";
import { chainAt, PERP, registerChain, resolveInstrument, T0 } from "../../agent/helpers.js";

const SECRET = "s3cr3t-do-not-log";
const env = { DERIBIT_CLIENT_ID: "client-id-1", DERIBIT_CLIENT_SECRET: SECRET };
type Order = {
  order_id: string;
  label: string;
  instrument_name: string;
  direction: "buy" | "sell";
  amount: number;
  filled_amount: number;
  order_state: string;
  average_price: number;
};

let server: Server;
let baseUrl = "";
const orders: Order[] = [];
const seenUrls: string[] = [];
let buyCalls = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    seenUrls.push(req.url ?? "");
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const rpc = JSON.parse(body) as { id: number; method: string; params: Record<string, unknown> };
      const reply = (result: unknown) => res.end(JSON.stringify({ jsonrpc: "2.0", id: rpc.id, result }));
      const fail = (code: number, message: string) =>
        res.end(JSON.stringify({ jsonrpc: "2.0", id: rpc.id, error: { code, message } }));
      if (rpc.method === "public/auth") {
        if (rpc.params.client_secret !== SECRET) return fail(13004, "invalid_credentials");
        return reply({
          access_token: "tok-1",
          expires_in: 900,
          refresh_token: "r",
          scope: "trade:read_write",
          token_type: "bearer",
        });
      }
      if (req.headers.authorization !== "Bearer tok-1") return fail(13009, "unauthorized");
      if (rpc.method === "private/buy" || rpc.method === "private/sell") {
        buyCalls++;
        const o: Order = {
          order_id: `o${orders.length + 1}`,
          label: String(rpc.params.label),
          instrument_name: String(rpc.params.instrument_name),
          direction: rpc.method === "private/buy" ? "buy" : "sell",
          amount: Number(rpc.params.amount),
          filled_amount: Number(rpc.params.amount),
          order_state: "filled",
          average_price: 0.05,
        };
        orders.push(o);
        return reply({
          order: o,
          trades: [{ amount: o.amount, price: 0.05, fee: 0.0003, fee_currency: "BTC", timestamp: T0 }],
        });
      }
      if (rpc.method === "private/get_order_state_by_label")
        return reply(orders.filter((o) => o.label === rpc.params.label));
      if (rpc.method === "private/get_user_trades_by_order") {
        const o = orders.find((x) => x.order_id === rpc.params.order_id)!;
        return reply([{ amount: o.amount, price: 0.05, fee: 0.0003, fee_currency: "BTC", timestamp: T0 }]);
      }
      return fail(-32601, "method not found");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("Deribit broker", () => {
  const chain = chainAt(T0, 100_000);
  registerChain(chain);
  const name = chain.quotes[0]!.instrument.name;
  const touch = {
    bid: 0.04,
    ask: 0.05,
    bidSize: null,
    askSize: null,
    underlyingPrice: 100_000,
    timestamp: T0,
  };

  it("is disabled unless enabled, and defaults to testnet", async () => {
    const b = new DeribitBroker({ enabled: false, resolveInstrument, currency: "BTC", env });
    expect(b.baseUrl).toBe(DERIBIT_TESTNET);
    await expect(
      b.placeOrder(
        { clientOrderId: "x", instrument: name, side: "buy", quantity: 1, limitPrice: null },
        touch,
      ),
    ).rejects.toBeInstanceOf(BrokerDisabledError);
  });

  it("authenticates from the environment, places IOC orders labelled with the client id, and is idempotent", async () => {
    const b = new DeribitBroker({ enabled: true, baseUrl, resolveInstrument, currency: "BTC", env });
    const s = await b.placeOrder(
      { clientOrderId: "run-1-0", instrument: name, side: "buy", quantity: 2, limitPrice: 0.06 },
      touch,
    );
    expect(s).toMatchObject({ status: "filled", filledQuantity: 2, clientOrderId: "run-1-0" });
    expect(s.fills[0]).toMatchObject({ price: 0.05, fee: 0.0003, feeCurrency: "BTC" });
    const again = await b.placeOrder(
      { clientOrderId: "run-1-0", instrument: name, side: "buy", quantity: 2, limitPrice: 0.06 },
      touch,
    );
    expect(again.status).toBe("filled");
    expect(buyCalls).toBe(1);
    const perp = await b.placeOrder(
      { clientOrderId: "run-1-1", instrument: PERP.name, side: "sell", quantity: 30, limitPrice: null },
      touch,
    );
    expect(orders.at(-1)?.amount).toBe(300); // USD amount = 30 contracts x 10 USD
    expect(perp.filledQuantity).toBe(30);
    expect(await b.getOrder("never-sent")).toBeNull();
  });

  it("never puts the secret in a URL or an error message", async () => {
    expect(seenUrls.some((u) => u.includes(SECRET))).toBe(false);
    const bad = new DeribitBroker({
      enabled: true,
      baseUrl,
      resolveInstrument,
      currency: "BTC",
      env: { ...env, DERIBIT_CLIENT_SECRET: "wrong-secret" },
    });
    const err = await bad.getOrder("x").catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/invalid_credentials/);
    expect(String((err as Error).message)).not.toMatch(/wrong-secret/);
    const missing = new DeribitBroker({
      enabled: true,
      baseUrl,
      resolveInstrument,
      currency: "BTC",
      env: {},
    });
    await expect(missing.getOrder("x")).rejects.toThrow(
      /DERIBIT_CLIENT_ID and DERIBIT_CLIENT_SECRET must be set/,
    );
  });
});

describe("Deribit broker errors", () => {
  it("scrub the client id and secret a venue error echoes back", async () => {
    const id = "FAKE-SECRET-id-0a1b2c";
    const secret = "FAKE-SECRET-secret-3d4e5f";
    const echo = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        const rpc = JSON.parse(body) as { id: number; params: Record<string, unknown> };
        res.end(
          JSON.stringify({
            jsonrpc: "2.0",
            id: rpc.id,
            error: {
              code: 13004,
              message: `invalid_credentials for ${rpc.params.client_id}:${rpc.params.client_secret}`,
            },
          }),
        );
      });
    });
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
    try {
      const broker = new DeribitBroker({
        enabled: true,
        testnet: true,
        baseUrl: `http://127.0.0.1:${(echo.address() as AddressInfo).port}`,
        resolveInstrument,
        currency: "BTC",
        env: { DERIBIT_CLIENT_ID: id, DERIBIT_CLIENT_SECRET: secret },
      });
      const err = await broker.getOrder("x").catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      const message = (err as Error).message;
      expect(message).toMatch(/13004 invalid_credentials for \[redacted\]:\[redacted\]/);
      expect(message).not.toContain("FAKE-SECRET");
    } finally {
      await new Promise((r) => echo.close(r));
    }
  });
});
