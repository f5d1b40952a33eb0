/**
 * `volfolio demo --live` against a fake Deribit public API on 127.0.0.1 (VOLFOLIO_DERIBIT_URL):
 * the book summaries are a seeded synthetic chain written in Deribit's documented
 * get_book_summary_by_currency shape, so the whole pipeline runs on a chain that came over HTTP.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureCli } from "../cli/capture.js";
import { apiOptionRows } from "../helpers/deribitApi.js";
import { syntheticChain } from "../../src/core/market/synthetic.js";

const T0 = Date.UTC(2026, 1, 2, 8);
const chain = syntheticChain({ underlying: "BTC", valuationTime: T0, seed: 11, spot: 95_000 });
const options = apiOptionRows(chain);
const futures = (chain.futures ?? []).map((f) => ({
  instrument_name: f.name,
  creation_timestamp: f.timestamp,
  mark_price: f.mark,
  bid_price: f.bid ?? null,
  ask_price: f.ask ?? null,
  estimated_delivery_price: chain.indexPrice,
  base_currency: "BTC",
  quote_currency: "USD",
}));
const instruments = chain.quotes.map((q) => ({
  instrument_name: q.instrument.name,
  kind: "option",
  is_active: true,
}));

let server: Server;
let base = "";
const requests: string[] = [];

const capture = captureCli;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(`${url.pathname}?${url.searchParams}`);
    const method = url.pathname.replace("/api/v2/public/", "");
    const kind = url.searchParams.get("kind");
    const result =
      method === "get_instruments"
        ? instruments
        : method === "get_book_summary_by_currency"
          ? kind === "future"
            ? futures
            : options
          : null;
    res.writeHead(result ? 200 : 400, { "content-type": "application/json" });
    res.end(
      JSON.stringify(
        result
          ? { jsonrpc: "2.0", result, usIn: 1, usOut: 2 }
          : { jsonrpc: "2.0", error: { code: 10019, message: "unknown method" } },
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("volfolio demo --live", () => {
  it("fetches the chain over the Deribit public API and runs the pipeline on it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "volfolio-demo-live-"));
    const r = await capture(["demo", "--live", "--currency", "BTC", "--no-serve", "--json", "--out", dir], {
      VOLFOLIO_DERIBIT_URL: base,
    });
    expect(r.code, r.err).toBe(0);
    expect(requests).toEqual(
      expect.arrayContaining([
        "/api/v2/public/get_instruments?currency=BTC&kind=option&expired=false",
        "/api/v2/public/get_book_summary_by_currency?currency=BTC&kind=option",
        "/api/v2/public/get_book_summary_by_currency?currency=BTC&kind=future",
      ]),
    );
    const report = JSON.parse(r.out);
    expect(JSON.parse(readFileSync(join(dir, "report.json"), "utf8"))).toEqual(report);
    expect(report.source).toBe(`live Deribit BTC chain from ${base} (${chain.quotes.length} options)`);
    expect(r.err).toContain(`[demo] live BTC chain from ${base}: ${chain.quotes.length} options`);
    // The chain's time is the served creation_timestamp, not the book's or the wall clock.
    expect(report.valuationTime).toBe(new Date(T0).toISOString());
    // The surface was fitted on the served quotes: every market point's k is ln(K/F) of a served strike.
    const s = report.surface;
    expect(s, report.unavailable.surface).toBeDefined();
    expect(s.underlying).toBe("BTC");
    const strikes = new Set(chain.quotes.map((q) => q.instrument.strike));
    const first = s.expiries[0];
    for (const p of first.points) {
      const K = first.forwardUsd * Math.exp(p.k);
      expect([...strikes].some((x) => Math.abs(x - K) < 1e-6 * K)).toBe(true);
    }
    // Risk, stress and margin value the sample book placed on the live chain, at its marks.
    expect(report.book.label).toMatch(
      /^default demo book: the BTC legs of examples\/book\.json placed on the loaded chain/,
    );
    expect(report.book.market).toBe(`BTC chain at ${new Date(T0).toISOString()} (index 95000)`);
    expect(report.book.valued).toBe(report.book.positions);
    expect(report.book.options.map((o: { source: string }) => o.source)).toEqual(Array(5).fill("chain-mark"));
    // The optimizer and the vol index ran on the live chain too.
    expect(report.optimizer ?? report.unavailable.optimizer).toBeDefined();
    expect(report.volIndex, report.unavailable.volIndex).toBeDefined();
  }, 60_000);

  it("an unreachable API is one line and exit 3", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const url = `http://127.0.0.1:${port}`;
    const r = await capture(["demo", "--live", "--no-serve", "--timeout", "2000"], {
      VOLFOLIO_DERIBIT_URL: url,
    });
    expect(r.code).toBe(3);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^volfolio: --live: cannot reach ${url}: .*no internet access`));
    expect(r.out).toBe("");
  }, 30_000);

  it("bad --currency is a usage error (exit 2) before any request", async () => {
    requests.length = 0;
    const r = await capture(["demo", "--live", "--currency", "DOGE", "--no-serve"], {
      VOLFOLIO_DERIBIT_URL: base,
    });
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('volfolio: --currency must be BTC or ETH, got "DOGE"');
    expect(requests).toEqual([]);
  });
});

describe("demo / serve: bind address and agent URL", () => {
  it("a non-loopback --host without a token is exit 2, one line, before any computation", async () => {
    const a = await capture(["demo", "--host", "0.0.0.0"], { VOLFOLIO_TOKEN: "" });
    expect(a.code).toBe(2);
    expect(a.err.trim()).toBe(
      "volfolio: binding 0.0.0.0 requires --token (or VOLFOLIO_TOKEN) of at least 16 characters",
    );
    const file = join(mkdtempSync(join(tmpdir(), "volfolio-serve-")), "report.json");
    writeFileSync(
      file,
      JSON.stringify({
        generatedBy: "t",
        seed: 1,
        source: "t",
        valuationTime: "",
        timings: [],
        unavailable: {},
      }),
    );
    const b = await capture(["serve", "--report", file, "--host", "0.0.0.0", "--port", "0"], {
      VOLFOLIO_TOKEN: "",
    });
    expect(b.code).toBe(2);
    expect(b.err.trim()).toBe(
      "volfolio: binding 0.0.0.0 requires --token (or VOLFOLIO_TOKEN) of at least 16 characters",
    );
    const c = await capture(["serve", "--report", file, "--host", "0.0.0.0", "--token", "short"], {});
    expect(c.code).toBe(2);
  });

  it("a malformed --agent-url is exit 2 naming the value", async () => {
    const r = await capture(["demo", "--no-serve", "--agent-url", "ftp://agent"], {});
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('volfolio: --agent-url must be an http(s) URL, got "ftp://agent"');
  });
});
