/**
 * Live Deribit REST client against a fake Deribit server on 127.0.0.1 (port 0) replaying the
 * hand-made documented response shapes in test/fixtures/deribit-api/.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { z } from "zod";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DeribitClientError,
  DeribitRestClient,
  fetchDeribitChain,
} from "../../../src/adapters/deribit/client.js";
import { DeribitTokenBucket } from "../../../src/adapters/deribit/rateLimit.js";

/** Deribit's API returns mark_iv in percent (63.4); dividing by 100 rounds once. */
const PERCENT_PARSE_DIGITS = 12;

const fx = (name: string) => readFileSync(resolve(__dirname, "../../fixtures/deribit-api", name), "utf8");

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;
let server: Server;
let base = "";
const log: { path: string; t: number }[] = [];
const overrides = new Map<string, Handler[]>();

function json(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const method = url.pathname.replace("/api/v2/public/", "");
    log.push({ path: `${method}?${url.searchParams}`, t: Date.now() });
    const queue = overrides.get(method);
    const h = queue?.shift();
    if (h) return h(req, res, url);
    const kind = url.searchParams.get("kind");
    if (method === "get_instruments") return json(res, 200, fx("get_instruments_btc_option.json"));
    if (method === "get_book_summary_by_currency")
      return json(
        res,
        200,
        fx(kind === "future" ? "get_book_summary_btc_future.json" : "get_book_summary_btc_option.json"),
      );
    if (method === "ticker") return json(res, 200, fx("ticker_btc_option.json"));
    if (method === "get_index_price") return json(res, 200, fx("get_index_price_btc_usd.json"));
    return json(res, 400, fx("error_invalid_params.json"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  log.length = 0;
  overrides.clear();
});

const fast = () =>
  new DeribitRestClient({ baseUrl: base, backoffBaseMs: 5, maxBackoffMs: 20, timeoutMs: 1000 });

describe("DeribitRestClient", () => {
  it("reads ticker and index price with values from the fixture", async () => {
    const c = fast();
    const t = await c.getTicker("BTC-27DEC24-100000-C");
    expect(t.best_bid_price).toBe(0.034);
    expect(t.greeks?.delta).toBe(0.42);
    const idx = await c.getIndexPrice("btc_usd");
    expect(idx.index_price).toBe(97001.12);
    expect(log.map((l) => l.path)).toEqual([
      "ticker?instrument_name=BTC-27DEC24-100000-C",
      "get_index_price?index_name=btc_usd",
    ]);
  });

  it("retries 429 then 503 and succeeds on the third attempt", async () => {
    overrides.set("get_index_price", [
      (_q, r) => json(r, 429, '{"jsonrpc":"2.0","error":{"code":10028,"message":"too_many_requests"}}'),
      (_q, r) => json(r, 503, "Service Unavailable"),
    ]);
    const c = fast();
    const idx = await c.getIndexPrice("btc_usd");
    expect(idx.index_price).toBe(97001.12);
    expect(c.attempts).toBe(3);
  });

  it("does not retry a 400 and surfaces the JSON-RPC error", async () => {
    const c = fast();
    const err = (await c.call("no_such_method", {}, z.unknown()).catch((e) => e)) as DeribitClientError;
    expect(err).toBeInstanceOf(DeribitClientError);
    expect(err.kind).toBe("api");
    expect(err.details.code).toBe(-32602);
    expect(c.attempts).toBe(1);
  });

  it("gives up after maxRetries on persistent 500 with kind http", async () => {
    overrides.set(
      "ticker",
      Array.from({ length: 5 }, () => (_q: IncomingMessage, r: ServerResponse) => json(r, 500, "{}")),
    );
    const c = new DeribitRestClient({ baseUrl: base, backoffBaseMs: 1, maxRetries: 2 });
    const err = await c.getTicker("BTC-27DEC24-100000-C").catch((e) => e);
    expect(err.kind).toBe("http");
    expect(err.details.status).toBe(500);
    expect(err.details.attempts).toBe(3);
  });

  it("times out a slow response (typed timeout error) and retries it", async () => {
    overrides.set("ticker", [
      (_q, r) => setTimeout(() => json(r, 200, fx("ticker_btc_option.json")), 400),
      (_q, r) => setTimeout(() => json(r, 200, fx("ticker_btc_option.json")), 400),
    ]);
    const c = new DeribitRestClient({ baseUrl: base, timeoutMs: 100, maxRetries: 1, backoffBaseMs: 1 });
    const err = await c.getTicker("BTC-27DEC24-100000-C").catch((e) => e);
    expect(err).toBeInstanceOf(DeribitClientError);
    expect(err.kind).toBe("timeout");
    expect(err.details.attempts).toBe(2);
    // with a larger timeout the next (default) response succeeds
    const ok = await fast().getTicker("BTC-27DEC24-100000-C");
    expect(ok.mark_iv).toBe(55.12);
  });

  it("malformed JSON and wrong shapes are typed 'malformed' errors, not retried", async () => {
    overrides.set("ticker", [
      (_q, r) => json(r, 200, '{"jsonrpc":"2.0","result":{"instrument_name":'),
      (_q, r) => json(r, 200, '{"jsonrpc":"2.0","result":{"instrument_name":"X","timestamp":"soon"}}'),
    ]);
    const c = fast();
    const e1 = await c.getTicker("X").catch((e) => e);
    expect(e1.kind).toBe("malformed");
    expect(e1.message).toMatch(/not JSON/);
    const e2 = await c.getTicker("X").catch((e) => e);
    expect(e2.kind).toBe("malformed");
    expect(e2.message).toMatch(/timestamp/);
    expect(c.attempts).toBe(2);
  });

  it("network failure (nothing listening) is kind 'network' after retries", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = new DeribitRestClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1, backoffBaseMs: 1 });
    const err = await c.getIndexPrice("btc_usd").catch((e) => e);
    expect(err.kind).toBe("network");
    expect(err.details.attempts).toBe(2);
  });

  it("rate limiter spaces requests once the burst is spent (observed at the server)", async () => {
    // 500 credits per request, pool of 1,000 (burst of 2), refill 5,000/s => then one every 100 ms.
    const limiter = new DeribitTokenBucket({ capacity: 1000, refillPerSecond: 5000 });
    const c = new DeribitRestClient({ baseUrl: base, rateLimiter: limiter });
    await Promise.all(Array.from({ length: 7 }, () => c.getIndexPrice("btc_usd")));
    expect(log).toHaveLength(7);
    // Spacing between the 3rd and the 7th arrival: 4 paced requests, 100 ms each (timer
    // granularity allowance of a few ms). Not from the 1st arrival: the burst requests also open
    // the connections, so under load their arrival lags by tens of ms and shortens the span.
    const span = (log[6]?.t ?? 0) - (log[2]?.t ?? 0);
    expect(span).toBeGreaterThanOrEqual(4 * 100 - 15);
    expect(span).toBeLessThan(2000);
    // waits are computed from the credits refilled so far, so they sum to a bit under 500 ms
    expect(limiter.waitedMs).toBeGreaterThanOrEqual(400);
  });
});

describe("fetchDeribitChain", () => {
  it("builds a ChainSnapshot from instruments + book summaries", async () => {
    const r = await fetchDeribitChain({ currency: "btc", baseUrl: base });
    expect(r.chain.underlying).toBe("BTC");
    expect(r.chain.quotes).toHaveLength(5);
    expect(r.chain.indexPrice).toBe(97001.12);
    expect(r.chain.valuationTime).toBe(1734681600000);
    expect(r.chain.futures?.map((f) => f.name)).toEqual(["BTC-27DEC24", "BTC-PERPETUAL"]);
    const q = r.chain.quotes.find((x) => x.instrument.name === "BTC-27DEC24-120000-C");
    expect(q?.bid).toBeNull();
    expect(q?.ask).toBe(0.0035);
    expect(q?.markIv).toBeCloseTo(0.634, PERCENT_PARSE_DIGITS);
    expect(r.instrumentsListed).toBe(5);
    expect(r.missingFromSummary).toEqual([]);
    expect(r.requests).toBe(3);
    expect(r.result.rejected).toEqual([]);
  });
});
