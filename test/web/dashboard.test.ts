import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { BrowserContext, Page } from "playwright-core";
// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const window: any;
// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const document: any;
import { CHROMIUM as exe, launchChromium } from "./browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemoPipeline } from "../../src/web/pipeline.js";
import type { DemoReport } from "../../src/web/report.js";
import { startDashboardServer } from "../../src/web/server.js";

/** Frontier ends are re-solved LPs (frontier.ts): the first at the minimum CVaR nudged up 1e-9 relative, the last at the unconstrained CVaR as its limit; each equals its end to the LP's tolerance on ~1e3-1e4 USD: 3 digits (5e-4 USD). */
const FRONTIER_END_DIGITS = 3;

/** The surface grid's k points drawn for an expiry are those its section kept inside kRange: 1e-12 covers an ulp of that comparison. */
const K_RANGE_EPS = 1e-12;

/** Fit curve ends vs the quoted strikes: the curve's strikes are F * exp(k) with k from log(K/F), a few ulp off the strike; 1e-9 relative. */
const STRIKE_RANGE_REL = 1e-9;

/** Each frontier point honours its CVaR limit to the LP's feasibility tolerance (1e-7 relative on the scenario sums): 1e-6 relative plus 1e-6 USD. */
const CVAR_LIMIT_REL = 1e-6;

if (!exe)
  console.warn(
    "test/web/dashboard: skipped, no chromium (set VOLFOLIO_CHROMIUM or install /usr/bin/chromium)",
  );
/** Screenshots of every tab, one per test run (README "Dashboard" names this folder). */
const shots = resolve(__dirname, "../../test-output/dashboard");
/** BTC history that ends 2024-03-31: the regime panel must flag it stale for a 2026 valuation. */
const OLD_HISTORY = resolve(__dirname, "../../../shared/data/prices/BTC-USD_daily.csv");

/** What a running agent's GET /state returns (src/agent/run.ts: runId, broker, killSwitch + AgentState). */
const AGENT_TOKEN = "fake-agent-token-123456";
const agentState = {
  runId: "demo-run-7",
  broker: "paper",
  killSwitch: false,
  step: 412,
  mode: "safe",
  modeReasons: ["feed stale for 3 ticks"],
  book: {
    positions: {
      "BTC-27MAR26-100000-C": { instrument: "BTC-27MAR26-100000-C", quantity: -12.5, cost: -0.41 },
      "BTC-PERPETUAL": { instrument: "BTC-PERPETUAL", quantity: 3, cost: 291000 },
    },
    cash: { BTC: 1.2345 },
    fills: 9,
  },
  delta: 0.1234,
  // Per 1.00 vol (the state's raw alias); the tab shows risk.greeks.vegaUsdPerVolPt instead.
  vega: -4325,
  risk: {
    greeks: {
      deltaUnderlyingCoin: 0.1234,
      deltaPremiumAdjustedCoin: 0.0987,
      vegaUsdPerVolPt: -43.25,
      thetaUsdPerDay: 61.5,
    },
    equity: { equityUsd: 250000 },
    unpriced: [
      { instrument: "BTC-25DEC26-300000-C", quantity: 1, reason: "outside-expiry-range", detail: "" },
    ],
  },
  ordersSent: 17,
  fills: 9,
  limitRejections: 2,
  lastStepMs: { total: 12 },
  recovered: null,
  marginUsd: 123456,
  cvarUsd: 54321,
  varUsd: 32100,
  surface: { rmseVolPts: 0.321, ageTicks: 0, refitted: true },
  lastOptimizer: { step: 400, status: "optimal", summary: "sell 2 BTC-27MAR26-110000-C", diagnosis: null },
};

describe.skipIf(!exe)("dashboard in chromium", () => {
  let report: DemoReport;
  let app: FastifyInstance;
  let url: string;
  let browser: BrowserContext;
  let page: Page;
  let fakeAgent: Server;
  const agentAuth: (string | undefined)[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    report = await runDemoPipeline({
      seed: 7,
      frontierPoints: 4,
      ...(existsSync(OLD_HISTORY) ? { priceHistoryFile: OLD_HISTORY } : {}),
    });
    fakeAgent = createServer((req, res) => {
      agentAuth.push(req.headers.authorization);
      const ok = req.url === "/state" && req.headers.authorization === `Bearer ${AGENT_TOKEN}`;
      res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
      res.end(JSON.stringify(ok ? agentState : { error: "missing or wrong bearer token" }));
    });
    await new Promise<void>((r) => fakeAgent.listen(0, "127.0.0.1", r));
    const agentUrl = `http://127.0.0.1:${(fakeAgent.address() as AddressInfo).port}`;
    ({ app, url } = await startDashboardServer({ report, port: 0, agentUrl, agentToken: AGENT_TOKEN }));
    browser = await launchChromium({
      viewport: { width: 1400, height: 1000 },
      extraArgs: ["--disable-quic", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage();
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(
      () => (window as unknown as { volfolioReady?: boolean }).volfolioReady === true,
    );
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await new Promise<void>((r) => (fakeAgent ? fakeAgent.close(() => r()) : r()));
  });

  /** Plotly traces of a div: per trace, x/y/z arrays as plain data. */
  const traces = (id: string) =>
    page.evaluate((i) => {
      const el = document.getElementById(i) as unknown as { data?: Record<string, unknown>[] };
      return (el.data ?? []).map((t) => ({
        type: t.type,
        name: t.name,
        meta: t.meta,
        x: t.x,
        y: t.y,
        z: t.z,
      })) as {
        type?: string;
        name?: string;
        meta?: string;
        x: unknown[];
        y: unknown[];
        z?: number[][];
      }[];
    }, id);
  const tab = async (name: string) => {
    await page.click(`nav button[data-tab="${name}"]`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: resolve(shots, `dashboard-${name}.png`), fullPage: true });
  };

  it("surface tab: 3D grid, smiles with bid/ask/fit, term structure, rich/cheap", async () => {
    await tab("surface");
    const s = report.surface;
    expect(s, report.unavailable.surface).toBeDefined();
    if (!s) return;
    const [surf] = await traces("surface3d");
    expect(surf?.type).toBe("surface");
    expect(surf?.z).toEqual(s.grid.vol);
    // Every expiry on the 3D surface (issue 23: expiries under 13 days were left out), each row
    // drawn over its own quoted range.
    expect(surf?.y).toEqual(s.expiries.map((e) => e.timeToExpiry));
    expect(s.expiries.some((e) => e.timeToExpiry < 7 / 365)).toBe(true);
    s.expiries.forEach((e, i) => {
      const row = s.grid.vol[i] ?? [];
      const drawn = s.grid.k.filter((_, j) => row[j] !== null);
      expect(drawn.length, e.expiry).toBeGreaterThan(0);
      expect(Math.min(...drawn)).toBeGreaterThanOrEqual(e.kRange[0] - K_RANGE_EPS);
      expect(Math.max(...drawn)).toBeLessThanOrEqual(e.kRange[1] + K_RANGE_EPS);
    });
    // Smiles: selectable over every expiry (issue 23: only the four shortest), each over its
    // quoted strike range: every clean quote's bid/ask/mark vol by strike and the fit across them.
    const options = await page.locator("#smile-expiry option").count();
    expect(options).toBe(s.expiries.length + 1);
    for (const i of [0, Math.floor(s.expiries.length / 2), s.expiries.length - 1]) {
      const e = s.expiries[i];
      if (!e) continue;
      await page.selectOption("#smile-expiry", String(i));
      const sm = await traces("smiles");
      expect(sm.map((t) => t.meta)).toEqual(["bidVol", "askVol", "markVol", "fit"]);
      expect(sm[0]?.x).toEqual(e.quotes.map((q) => q.strike));
      expect(sm[0]?.y).toEqual(e.quotes.map((q) => q.bidVol));
      expect(sm[1]?.y).toEqual(e.quotes.map((q) => q.askVol));
      const ks = e.quotes.map((q) => q.strike);
      const fx = sm[3]?.x as number[];
      expect(Math.min(...fx)).toBeLessThanOrEqual(Math.min(...ks) * (1 + STRIKE_RANGE_REL));
      expect(Math.max(...fx)).toBeGreaterThanOrEqual(Math.max(...ks) * (1 - STRIKE_RANGE_REL));
    }
    await page.selectOption("#smile-expiry", "all");
    expect((await traces("smiles")).length).toBe(s.expiries.length);
    await page.selectOption("#smile-expiry", "0");
    const term = await traces("term");
    expect(term[0]?.y).toEqual(s.term.map((t) => t.atmVol));
    const rows = await page.locator("#richcheap tbody tr").count();
    expect(rows).toBe(s.richCheap.length);
    // No quote without a bid is flagged "rich" (it cannot be sold): it says "no bid".
    for (const x of s.richCheap) if (x.bidVol === null) expect(x.signal).not.toBe("rich");
    const cells = await page.locator("#richcheap tbody tr").allTextContents();
    s.richCheap.forEach((x, i) => {
      if (x.bidVol === null) expect(cells[i]).toContain("no bid");
    });
    // The surface's static-arbitrage check (core surfaceArbitrageReport) is shown.
    expect(await page.locator("#arbitrage-status").textContent()).toContain(
      s.arbitrage.free ? "arbitrage-free" : "static arbitrage found",
    );
  });

  it("risk tab: greeks by expiry, spot x vol heat map, stress and margin tables", async () => {
    await tab("risk");
    const sc = report.scenarios;
    expect(sc).toBeDefined();
    const [heat] = await traces("heatmap");
    expect(heat?.type).toBe("heatmap");
    expect(heat?.z).toEqual(sc?.pnl);
    expect(heat?.x).toEqual(sc?.spotShocks);
    const greeks = await traces("greeks");
    expect(greeks[0]?.y).toEqual(report.greeks?.rows.map((r) => r.cashDeltaUsd));
    expect(await page.locator("#stress tbody tr").count()).toBe(report.stress?.length);
    // Margin: the figures of `volfolio margin` (report.margin): one row per settlement currency with
    // the PM components and Deribit's worst cell, one per account, one liquidation row per account + pooled.
    const m = report.margin;
    expect(m, report.unavailable.margin).toBeDefined();
    const marginText = (await page.locator("#margin").textContent()) ?? "";
    expect(marginText).toContain("spot down (sticky-strike)");
    for (const r of m?.byCurrency ?? []) expect(marginText).toContain(r.pmWorstCell);
    expect(await page.locator("#margin-liquidation tbody tr").count()).toBe(m?.liquidationByAccount.length);
    const liqRows = await page.locator("#margin-liquidation tbody tr td:first-child").allTextContents();
    expect(liqRows).toEqual(m?.liquidationByAccount.map((a) => a.account));
    expect(liqRows.at(-1)).toBe("pooled");
    // The book card: which market the figures are of, one row per valued option with its vol source.
    const b = report.book;
    expect(await page.locator("#book").textContent()).toContain(
      `${b?.valued} of ${b?.positions} positions valued`,
    );
    expect(await page.locator("#book tbody tr").count()).toBe(b?.options.length);
  });

  it("optimizer tab: before/after bars and the trade table", async () => {
    await tab("optimizer");
    const o = report.optimizer;
    expect(o, report.unavailable.optimizer).toBeDefined();
    // One panel per measure: [before, after] of each of the proposal's greeks and risk figures.
    const ba = await traces("beforeafter");
    if (!o) return;
    expect(ba.map((t) => t.meta)).toEqual(Object.keys(o.before));
    for (const t of ba) {
      expect(t.x).toEqual(["before", "after"]);
      expect(t.y).toEqual([o.before[t.meta as string], o.after[t.meta as string]]);
    }
    expect(Object.keys(o.before)).toEqual(
      expect.arrayContaining(["deltaCoin", "vegaUsdPerVolPt", "cvarUsd", "marginUsd"]),
    );
    expect(await page.locator("#trades").textContent()).toContain(`Status: ${o?.status}`);
    // Efficient frontier: objective vs the CVaR of each point, the proposal marked, vega on y2.
    const f = o.frontier;
    expect(f, o.notes.join("; ")).toBeTruthy();
    if (!f) return;
    expect(f.points.length).toBe(4);
    const fr = await traces("frontier");
    expect(fr.map((t) => t.meta)).toEqual(["frontier", "proposal", "vega"]);
    expect(fr[0]?.x).toEqual(f.points.map((p) => p.cvarUsd));
    expect(fr[0]?.y).toEqual(f.points.map((p) => p.objectiveUsd));
    expect(fr[1]?.x).toEqual([o.after.cvarUsd]);
    expect(fr[1]?.y).toEqual([o.objectiveUsd]);
    expect(fr[2]?.y).toEqual(f.points.map((p) => p.vegaUsdPerVolPt));
    // The sweep runs from the minimum CVaR to the unconstrained one, and each point honours its limit.
    expect(f.points[0]?.cvarUsd).toBeCloseTo(f.minCvarUsd, FRONTIER_END_DIGITS);
    expect(f.points.at(-1)?.cvarUsd).toBeCloseTo(f.unconstrainedCvarUsd, FRONTIER_END_DIGITS);
    for (const p of f.points)
      expect(p.cvarUsd).toBeLessThanOrEqual(
        p.cvarLimitUsd + CVAR_LIMIT_REL * Math.abs(p.cvarLimitUsd) + CVAR_LIMIT_REL,
      );
  });

  it("backtest tab: equity, drawdown, attribution", async () => {
    await tab("backtest");
    const b = report.backtest;
    expect(b, report.unavailable.backtest).toBeDefined();
    // Labelled with its data and dates, none past the valuation date (issue 23: an unlabelled
    // synthetic 90-day run from 2026-01-01 whatever the market).
    const label = (await page.locator("#backtest-source").textContent()) ?? "";
    expect(label).toContain(b?.dataSource ?? "(none)");
    expect(label).toContain("Synthetic market");
    expect(b?.dataSource).toContain("BTC");
    expect(Date.parse(b?.dates.at(-1) ?? "")).toBeLessThanOrEqual(Date.parse(report.valuationTime));
    expect(label).toContain(`to ${report.valuationTime.slice(0, 10)}`);
    expect((await traces("equity"))[0]?.y).toEqual(b?.equityUsd);
    expect((await traces("drawdown"))[0]?.y).toEqual(b?.drawdown);
    expect((await traces("attribution"))[0]?.y).toEqual(b?.attribution.map((a) => a.usd));
  });

  it("regime tab: vol index term structure and regime probabilities (or the stated reason)", async () => {
    await tab("regime");
    // A history ending long before the valuation is flagged with its last date (issue 23).
    if (existsSync(OLD_HISTORY)) {
      expect(report.regime?.stale?.lastDate).toBe("2024-03-31");
      expect(await page.locator("#regime-stale").textContent()).toContain(
        "stale price history: it ends 2024-03-31",
      );
    } else console.warn("test/web/dashboard: stale-history check skipped, no ../shared/data/prices");
    if (report.volIndex)
      expect((await traces("volindex"))[0]?.y).toEqual(report.volIndex.term.map((t) => t.vol));
    else expect(await page.locator("#volindex").textContent()).toContain("not available:");
    if (report.regime) expect((await traces("regime"))[2]?.y).toEqual(report.regime.highVolProbability);
    else expect(await page.locator("#regime").textContent()).toContain("not available:");
    // The one pipeline test that builds the forecast panel (the others pass forecast: false).
    const f = report.regime?.forecast;
    if (f) expect((await traces("forecast"))[2]?.y).toEqual(f.forecastVol.har);
    else expect(await page.locator("#forecast").textContent()).toContain("not available:");
  });

  it("agent tab: the running agent's mode, greeks, limits, positions, last decision; no console errors", async () => {
    await tab("agent");
    expect(agentAuth).toContain(`Bearer ${AGENT_TOKEN}`);
    expect(await page.locator("#agent-mode").textContent()).toBe("safe: feed stale for 3 ticks");
    const greeks = await page.locator("#agent-greeks").textContent();
    // Vega per vol point (issue 23: it showed the per-1.00-vol figure, 100x too large), both deltas
    // named, the unpriced leg listed.
    for (const v of [
      "0.1234",
      "0.0987",
      "-43.25",
      "61.50",
      "250,000",
      "123,456",
      "54,321",
      "32,100",
      "0.321",
    ])
      expect(greeks).toContain(v);
    expect(greeks).not.toContain("-4,325");
    expect(greeks).toContain("BTC-25DEC26-300000-C: outside-expiry-range");
    const limits = await page.locator("#agent-limits").textContent();
    expect(limits).toContain("orders sent17");
    expect(limits).toContain("orders rejected by limits2");
    const rows = await page.locator("#agent-positions table").first().locator("tbody tr").allTextContents();
    expect(rows).toEqual(["BTC-27MAR26-100000-C-12.50-0.410000", "BTC-PERPETUAL3.00291,000.000000"]);
    const dec = await page.locator("#agent-decisions").textContent();
    expect(dec).toContain("optimal");
    expect(dec).toContain("sell 2 BTC-27MAR26-110000-C");
    expect(errors).toEqual([]);
  });

  it("an absent section shows 'not available: <why>'", async () => {
    const partial: DemoReport = {
      ...report,
      unavailable: { ...report.unavailable, backtest: "backtest failed: test" },
    };
    delete partial.backtest;
    const s2 = await startDashboardServer({ report: partial, port: 0 });
    try {
      const p = await browser.newPage();
      await p.goto(s2.url);
      await p.waitForFunction(
        () => (window as unknown as { volfolioReady?: boolean }).volfolioReady === true,
      );
      expect(await p.locator("#equity").textContent()).toBe("not available: backtest failed: test");
      // No --agent-url: the agent tab says how to start one.
      expect(await p.locator("#agent").textContent()).toContain("--agent-url http://127.0.0.1:8788");
      await p.close();
    } finally {
      await s2.app.close();
    }
  });
});
