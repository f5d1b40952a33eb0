/**
 * Live refresh (issue 23 item 4) against a local fake Deribit WebSocket server: the builder's chain
 * and marks follow the server's public/get_book_summary_by_currency answers (a mark moved on the
 * server appears as the leg's price in the page), the page shows the data's age, and when the
 * server stops answering the data is marked stale. The answers are a seeded synthetic chain in
 * Deribit's book-summary shape. Skips without Chromium.
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { BrowserContext, Page } from "playwright-core";
import { CHROMIUM as exe, launchChromium } from "./browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { deribitEntriesToChains } from "../../src/adapters/deribit/apiShapes.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { syntheticChainsFor } from "../../src/web/bookMarket.js";
import { type BuilderMarket, builderMarket } from "../../src/web/builder.js";
import { LiveChainRefresher } from "../../src/web/live.js";
import type { DemoReport } from "../../src/web/report.js";
import { startDashboardServer } from "../../src/web/server.js";

/** The leg's price is the chain's mark written into data-v as a JS number string (round-trips exactly); 12 digits only absorb a coin-to-USD display conversion. */
const DATA_V_DIGITS = 12;

// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const window: any;

if (!exe)
  console.warn(
    "test/web/liveRefresh: skipped, no chromium (set VOLFOLIO_CHROMIUM or install /usr/bin/chromium)",
  );

const T0 = Date.UTC(2026, 1, 2, 8);
const INTERVAL_MS = 500;

/** A chain as Deribit's book summaries (options and futures), with one mark scaled. */
function summaries(
  chain: ChainSnapshot,
  kind: string,
  bump: { name: string; factor: number } | null,
  t: number,
) {
  if (kind === "future")
    return (chain.futures ?? []).map((f) => ({
      instrument_name: f.name,
      creation_timestamp: t,
      mark_price: f.mark,
      estimated_delivery_price: chain.indexPrice,
      base_currency: chain.underlying,
    }));
  return chain.quotes.map((q) => ({
    instrument_name: q.instrument.name,
    creation_timestamp: t,
    mark_price: (q.mark ?? 0) * (bump && q.instrument.name === bump.name ? bump.factor : 1),
    mark_iv: q.markIv === null || q.markIv === undefined ? null : 100 * q.markIv,
    bid_price: q.bid,
    ask_price: q.ask,
    underlying_price: q.underlyingPrice ?? null,
    underlying_index: q.underlyingName ?? null,
    estimated_delivery_price: chain.indexPrice,
    base_currency: chain.underlying,
  }));
}

describe.skipIf(!exe)("live refresh over a fake Deribit WebSocket", () => {
  let wss: WebSocketServer;
  let chain: ChainSnapshot;
  let answer = true;
  let bump: { name: string; factor: number } | null = null;
  let current: BuilderMarket;
  let refresher: LiveChainRefresher;
  let app: FastifyInstance;
  let url: string;
  let browser: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  let leg = "";

  beforeAll(async () => {
    chain = syntheticChainsFor(["BTC"], { seed: 11, valuationTime: T0 }).chains[0] as ChainSnapshot;
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    wss.on("connection", (s) => {
      s.on("message", (raw) => {
        const m = JSON.parse(String(raw));
        if (!answer) return s.terminate();
        const result =
          m.method === "public/get_book_summary_by_currency"
            ? summaries(chain, m.params.kind, bump, T0)
            : "ok";
        s.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result }));
      });
    });
    // The initial market from the same answer shape (as the CLI's initial load).
    const first = deribitEntriesToChains([
      ...summaries(chain, "option", null, T0),
      ...summaries(chain, "future", null, T0),
    ]).chains[0] as ChainSnapshot;
    current = builderMarket({
      chains: [first],
      label: "fake live BTC chain",
      book: { label: "cash", positions: [], cash: { BTC: 2 } },
    });
    refresher = new LiveChainRefresher({
      currency: "BTC",
      intervalMs: INTERVAL_MS,
      wsUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
      initialAt: Date.now(),
      onChain: (c) => {
        current = builderMarket({
          chains: [c],
          label: "fake live BTC chain (refreshed)",
          book: current.book,
        });
      },
    });
    refresher.start();
    const report: DemoReport = {
      generatedBy: "test",
      seed: 11,
      source: "fake live",
      valuationTime: new Date(T0).toISOString(),
      timings: [],
      unavailable: {},
    };
    ({ app, url } = await startDashboardServer({
      report,
      port: 0,
      builder: () => current,
      live: () => refresher.status(),
    }));
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => window.volfolioReady === true);
    await page.click('nav button[data-tab="builder"]');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await refresher?.stop();
    await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  });

  it("the leg's mark follows the server, the age is shown, and a silent server makes the data stale", async () => {
    // One leg at the mark: the expiry/strike the page selects by default, a call.
    await page.selectOption("#b-kind", "call");
    await page.click("#b-add");
    await page.waitForFunction(() => window.volfolioBuilderIdle === true);
    leg = ((await page.locator("#b-legs tbody tr td").first().textContent()) ?? "").trim();
    const q = chain.quotes.find((x) => x.instrument.name === leg);
    expect(q?.mark, leg).toBeGreaterThan(0);
    const price = async () =>
      Number(await page.locator("#b-leg-table tbody tr td:nth-child(3) span").first().getAttribute("data-v"));
    expect(await price()).toBeCloseTo(q?.mark as number, DATA_V_DIGITS);
    await page.waitForFunction(() => /^live: /.test(document.getElementById("b-live")?.textContent ?? ""));
    expect(await page.locator("#b-live").textContent()).toMatch(/age \d+ s/);
    // The server moves this option's mark by +10%: the page's leg price follows within a few intervals.
    bump = { name: leg, factor: 1.1 };
    const want = (q?.mark as number) * 1.1;
    await page.waitForFunction(
      (w: number) => {
        const el = document.querySelector("#b-leg-table tbody tr td:nth-child(3) span");
        return el !== null && Math.abs(Number(el.getAttribute("data-v")) - w) < 1e-12;
      },
      want,
      { timeout: 15_000 },
    );
    expect(refresher.status().updates).toBeGreaterThan(0);
    // The server goes silent: after two intervals without a refresh the page says STALE.
    answer = false;
    await page.waitForFunction(
      () => /^STALE: /.test(document.getElementById("b-live")?.textContent ?? ""),
      undefined,
      {
        timeout: 15_000,
      },
    );
    expect(refresher.status().stale).toBe(true);
    expect(refresher.status().error).not.toBeNull();
    expect(errors).toEqual([]);
  }, 60_000);
});

// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const document: any;
