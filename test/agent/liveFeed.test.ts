/**
 * The agent's live Deribit feed over the public WebSocket JSON-RPC API, against a fake server on
 * 127.0.0.1 replaying recorded get_book_summary_by_currency answers (test/fixtures/deribit-api):
 * a tick builds the chain; a dropped server makes the tick null (the agent goes safe), and the
 * next tick reconnects.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { parseAgentConfig } from "../../src/agent/config.js";
import { buildFeed } from "../../src/agent/feeds.js";

const fixture = (name: string) =>
  JSON.parse(readFileSync(resolve(__dirname, "../fixtures/deribit-api", name), "utf8")).result;
const options = fixture("get_book_summary_btc_option.json");
const futures = fixture("get_book_summary_btc_future.json");

let wss: WebSocketServer;
let url = "";
let answer = true;
const methods: string[] = [];

beforeAll(async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  wss.on("connection", (s) => {
    s.on("message", (raw) => {
      const m = JSON.parse(String(raw));
      methods.push(`${m.method}${m.params?.kind ? `:${m.params.kind}` : ""}`);
      if (!answer) return s.terminate();
      const result =
        m.method === "public/set_heartbeat"
          ? "ok"
          : m.method === "public/get_delivery_prices"
            ? {
                data: [
                  { date: "2026-01-09", delivery_price: 90_512.25 },
                  { date: "2026-01-08", delivery_price: 91_003.5 },
                ],
                records_total: 2,
              }
            : m.method === "public/get_book_summary_by_currency"
              ? m.params.kind === "option"
                ? options
                : futures
              : null;
      s.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result }));
    });
  });
});
afterAll(() => new Promise<void>((r) => wss.close(() => r())));

const config = () =>
  parseAgentConfig({
    runId: "live",
    feed: { type: "deribit", intervalSeconds: 1, wsUrl: url },
    stateDir: "/tmp/unused",
    policy: {
      deltaBand: 0.2,
      hedgeInstrument: "BTC-PERPETUAL",
      vegaTargetPerVolPoint: 0,
      vegaTolerancePerVolPoint: 10,
      maxOrderContracts: 1,
    },
    limits: {
      maxOptionContracts: 1,
      maxFutureContracts: 1,
      maxOrderNotionalUsd: 1,
      maxAbsDelta: 1,
      maxAbsVegaPerVolPoint: 1,
    },
  });

describe("live Deribit feed (WebSocket)", () => {
  it("builds a chain per tick from the public API, goes null on a dropped socket, then reconnects", async () => {
    const built = await buildFeed(config(), { wallClock: () => Date.UTC(2026, 0, 10) });
    try {
      expect(built.feed.steps).toBeNull();
      const chain = await built.feed.at(0);
      expect(chain?.underlying).toBe("BTC");
      expect(chain?.quotes.length).toBe(options.length);
      expect(methods).toEqual([
        "public/set_heartbeat",
        "public/get_book_summary_by_currency:option",
        "public/get_book_summary_by_currency:future",
      ]);
      expect(built.resolveInstrument(chain?.quotes[0]?.instrument.name ?? "").type).toBe("option");
      expect(built.now(0, chain ?? null)).toBe(Date.UTC(2026, 0, 10));

      // The delivery price of an expiry (the agent settles expired options at it).
      expect(await built.feed.deliveryPrice?.("BTC", Date.UTC(2026, 0, 9, 8))).toBe(90_512.25);
      expect(await built.feed.deliveryPrice?.("BTC", Date.UTC(2026, 0, 2, 8))).toBeNull();
      expect(await built.feed.deliveryPrice?.("ETH", Date.UTC(2026, 0, 9, 8))).toBeNull();
      expect(methods).toContain("public/get_delivery_prices");

      answer = false;
      expect(await built.feed.at(1)).toBeNull();
      answer = true;
      const again = await built.feed.at(2);
      expect(again?.quotes.length).toBe(options.length);
    } finally {
      await built.close();
    }
  });
});
