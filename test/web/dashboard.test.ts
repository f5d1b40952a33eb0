import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { type BrowserContext, chromium, type Page } from "playwright-core";
// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const window: any;
// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const document: any;
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemoPipeline } from "../../src/web/pipeline.js";
import type { DemoReport } from "../../src/web/report.js";
import { startDashboardServer } from "../../src/web/server.js";

const exe = process.env.VOLFOLIO_CHROMIUM ?? (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : "");
if (!exe)
  console.warn(
    "test/web/dashboard: skipped, no chromium (set VOLFOLIO_CHROMIUM or install /usr/bin/chromium)",
  );
const shots = resolve(__dirname, "../../test-output");

describe.skipIf(!exe)("dashboard in chromium", () => {
  let report: DemoReport;
  let app: FastifyInstance;
  let url: string;
  let browser: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    report = await runDemoPipeline({ seed: 7 });
    ({ app, url } = await startDashboardServer({ report, port: 0 }));
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "volfolio-chromium-")), {
      executablePath: exe,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
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
    const smiles = await traces("smiles");
    expect(smiles.length).toBe(3 * s.expiries.length);
    const first = s.expiries[0];
    expect(smiles[0]?.x.length).toBe(first?.points.length);
    expect(smiles[0]?.y).toEqual(first?.points.map((p) => p.bidVol));
    expect(smiles[1]?.y).toEqual(first?.points.map((p) => p.askVol));
    expect(smiles[2]?.y).toEqual(first?.fit.map((p) => p.vol));
    const term = await traces("term");
    expect(term[0]?.y).toEqual(s.term.map((t) => t.atmVol));
    const rows = await page.locator("#richcheap tbody tr").count();
    expect(rows).toBe(s.richCheap.length);
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
    expect(await page.locator("#margin").textContent()).toContain("spot down");
  });

  it("optimizer tab: before/after bars and the trade table", async () => {
    await tab("optimizer");
    const o = report.optimizer;
    expect(o, report.unavailable.optimizer).toBeDefined();
    const ba = await traces("beforeafter");
    expect(ba.map((t) => t.name)).toEqual(["before", "after"]);
    const keys = ba[0]?.x as string[];
    expect(ba[0]?.y).toEqual(keys.map((k) => o?.before[k]));
    expect(ba[1]?.y).toEqual(keys.map((k) => o?.after[k]));
    expect(await page.locator("#trades").textContent()).toContain(`Status: ${o?.status}`);
  });

  it("backtest tab: equity, drawdown, attribution", async () => {
    await tab("backtest");
    const b = report.backtest;
    expect(b, report.unavailable.backtest).toBeDefined();
    expect((await traces("equity"))[0]?.y).toEqual(b?.equityUsd);
    expect((await traces("drawdown"))[0]?.y).toEqual(b?.drawdown);
    expect((await traces("attribution"))[0]?.y).toEqual(b?.attribution.map((a) => a.usd));
  });

  it("regime tab: vol index term structure and regime probabilities (or the stated reason)", async () => {
    await tab("regime");
    if (report.volIndex)
      expect((await traces("volindex"))[0]?.y).toEqual(report.volIndex.term.map((t) => t.vol));
    else expect(await page.locator("#volindex").textContent()).toContain("not available:");
    if (report.regime) expect((await traces("regime"))[2]?.y).toEqual(report.regime.highVolProbability);
    else expect(await page.locator("#regime").textContent()).toContain("not available:");
  });

  it("agent tab states why it is empty; no console errors anywhere", async () => {
    await tab("agent");
    expect(await page.locator("#agent").textContent()).toContain("not available:");
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
      await p.close();
    } finally {
      await s2.app.close();
    }
  });
});
