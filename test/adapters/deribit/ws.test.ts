/** Deribit WS JSON-RPC client against a fake ws server on 127.0.0.1 (port 0). */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { deribitTickerSchema } from "../../../src/adapters/deribit/apiShapes.js";
import { DeribitWsClient } from "../../../src/adapters/deribit/ws.js";

const ticker = JSON.parse(
  readFileSync(resolve(__dirname, "../../fixtures/deribit-api/ticker_btc_option.json"), "utf8"),
).result;

let wss: WebSocketServer;
let url = "";
const received: { method: string; params: Record<string, unknown> }[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  wss.on("connection", (s) => {
    sockets.push(s);
    s.on("message", (raw) => {
      const m = JSON.parse(String(raw));
      received.push({ method: m.method, params: m.params });
      if (m.method === "public/set_heartbeat") {
        s.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: "ok" }));
        s.send(JSON.stringify({ jsonrpc: "2.0", method: "heartbeat", params: { type: "test_request" } }));
      } else if (m.method === "public/subscribe") {
        s.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: m.params.channels }));
        for (const ch of m.params.channels)
          s.send(
            JSON.stringify({ jsonrpc: "2.0", method: "subscription", params: { channel: ch, data: ticker } }),
          );
      } else if (m.method === "public/test") {
        s.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: { version: "1.2.26" } }));
      } else if (m.method === "public/slow") {
        // never answers
      } else {
        s.send(
          JSON.stringify({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "Method not found" } }),
        );
      }
    });
  });
});
afterAll(() => new Promise<void>((r) => wss.close(() => r())));

const until = async (cond: () => boolean, ms = 3000) => {
  const t = Date.now();
  while (!cond()) {
    if (Date.now() - t > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("DeribitWsClient", () => {
  it("subscribes, answers test_request, reconnects and resubscribes after a disconnect", async () => {
    const notes: { channel: string; data: unknown }[] = [];
    const c = new DeribitWsClient({
      url,
      heartbeatSeconds: 10,
      reconnectBaseMs: 20,
      requestTimeoutMs: 300,
      onNotification: (channel, data) => notes.push({ channel, data }),
    });
    await c.connect();
    const ch = "ticker.BTC-27DEC24-100000-C.100ms";
    expect(await c.subscribe([ch])).toEqual([ch]);
    await until(() => notes.length === 1 && received.some((m) => m.method === "public/test"));
    const t = deribitTickerSchema.parse(notes[0]?.data);
    expect(t.best_bid_price).toBe(0.034);
    expect(received.find((m) => m.method === "public/set_heartbeat")?.params).toEqual({ interval: 10 });

    // server drops the connection: the client reconnects, sets the heartbeat and resubscribes
    sockets[0]?.terminate();
    await until(() => c.connections === 2 && notes.length === 2);
    const subs = received.filter((m) => m.method === "public/subscribe");
    expect(subs).toHaveLength(2);
    expect(subs[1]?.params).toEqual({ channels: [ch] });

    await expect(c.call("public/nope")).rejects.toThrow(/-32601/);
    await expect(c.call("public/slow")).rejects.toThrow(/no response within 300 ms/);
    await c.close();
  });
});
