/**
 * The position builder in real Chromium (issue 23 items 1 and 5): legs added and removed through
 * the page, sliders moved, and the figures the page shows checked against the library's own
 * figures for the same book on the same market (valueBookOnChains + bookGreeks = `volfolio risk`,
 * bookMargin = `volfolio margin`, applyScenario + valuePortfolio for T+n P&L), and the payoff at
 * expiry against the intrinsic payoff written out here. Screenshots go to test-output/dashboard
 * (README "Dashboard"). Skips without Chromium (VOLFOLIO_CHROMIUM or /usr/bin/chromium).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { BrowserContext, Page } from "playwright-core";
import { CHROMIUM as exe, launchChromium } from "./browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instrumentFromName } from "../../src/core/instruments/names.js";
import type { OptionContract, Position } from "../../src/core/instruments/types.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { applyScenario } from "../../src/core/risk/scenario.js";
import { valuePortfolio } from "../../src/core/risk/valuation.js";
import { DAY_MS } from "../../src/core/time.js";
import { bookGreeks, bookMargin, syntheticChainsFor, valueBookOnChains } from "../../src/web/bookMarket.js";
import { type BuilderChainRow, builderChain, builderMarket, evaluateBuilder } from "../../src/web/builder.js";
import type { DemoReport } from "../../src/web/report.js";
import { startDashboardServer } from "../../src/web/server.js";

// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const window: any;
// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const document: any;

if (!exe)
  console.warn("test/web/builder: skipped, no chromium (set VOLFOLIO_CHROMIUM or install /usr/bin/chromium)");
/** Screenshots of every tab (README "Dashboard" names this folder). */
export const SHOTS = resolve(__dirname, "../../test-output/dashboard");

const T0 = Date.UTC(2026, 1, 2, 8);
const CASH = { BTC: 3 };
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
/** Page figures (data-v: the server's evaluateBuilder doubles through JSON, exact) against the library on the same legs: only summation order differs, ulps; 1e-9 relative (floor 1 USD) leaves ample room. */
const SHOWN_REL = 1e-9;
/** evaluateBuilder called in-process against the library on the same single leg: the same operations, 1e-12 absorbs a reordered sum. */
const SAME_CALL_REL = 1e-12;
/** Expiry payoff chart (the builder's valuation at expiry) vs the intrinsics written out here at the chart's spots: rounding on USD figures of the index's size; 1e-6 of the index. */
const PAYOFF_CURVE_REL = 1e-6;
/** Breakevens are zeros interpolated linearly between the 1001-point log grid's neighbours (a step is ~0.1% of the index near the money): the payoff there is within 1e-3 of the index. */
const BREAKEVEN_REL = 1e-3;
/** Max loss is the builder's payoff at its scan's lowest spot, exp(log 1e-4) - 1 (1e-4 to an ulp), through the valuation path vs the payoff written out here: 1e-6 relative. */
const MAX_LOSS_REL = 1e-6;

/** A minimal report: the builder tab does not need the pipeline's sections. */
const REPORT: DemoReport = {
  generatedBy: "test",
  seed: 7,
  source: "synthetic BTC chain (seed 7)",
  valuationTime: new Date(T0).toISOString(),
  timings: [],
  unavailable: Object.fromEntries(
    [
      "surface",
      "greeks",
      "scenarios",
      "stress",
      "margin",
      "optimizer",
      "backtest",
      "volIndex",
      "regime",
      "agent",
    ].map((s) => [s, "not computed in the builder test"]),
  ),
};

describe.skipIf(!exe)("position builder in chromium", () => {
  let chains: ChainSnapshot[];
  let rows: BuilderChainRow[];
  let app: FastifyInstance;
  let url: string;
  let browser: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    chains = syntheticChainsFor(["BTC"], { seed: 7, valuationTime: T0 }).chains;
    const bm = builderMarket({
      chains,
      label: "synthetic BTC chain (seed 7)",
      book: { label: "cash only", positions: [], cash: CASH },
    });
    rows = builderChain(bm).rows;
    ({ app, url } = await startDashboardServer({ report: REPORT, port: 0, builder: bm }));
    browser = await launchChromium({ viewport: { width: 1400, height: 1100 }, acceptDownloads: true });
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
  });

  const idle = async () => {
    await page.waitForFunction(() => window.volfolioBuilderIdle === true, undefined, { timeout: 30_000 });
  };
  /** Full-precision value the page shows for data-k `key` inside `scope`. */
  const shown = async (sel: string) => Number(await page.locator(sel).first().getAttribute("data-v"));
  const setRange = async (id: string, v: number) => {
    await page.$eval(
      `#${id}`,
      (el: { value: string; dispatchEvent: (e: unknown) => void }, x: number) => {
        el.value = String(x);
        el.dispatchEvent(new window.Event("input"));
      },
      v,
    );
    await page.waitForTimeout(250);
    await idle();
  };
  const addLeg = async (o: { expiry: string; strike: number; kind: string; side: string; size: number }) => {
    await page.selectOption("#b-underlying", "BTC");
    await page.selectOption("#b-expiry", o.expiry);
    await page.selectOption("#b-strike", String(o.strike));
    await page.selectOption("#b-kind", o.kind);
    await page.selectOption("#b-side", o.side);
    await page.fill("#b-size", String(o.size));
    await page.click("#b-add");
    await page.waitForTimeout(50);
    await idle();
  };

  /** The library's figures for `legs` on the same chains (what `volfolio risk` / `margin` compute). */
  const library = (legs: Position[]) => {
    const v = valueBookOnChains({ source: "chain", label: "test", positions: legs, cash: CASH, chains });
    const before = valueBookOnChains({ source: "chain", label: "test", positions: [], cash: CASH, chains });
    return {
      v,
      greeks: bookGreeks(v).byUnderlying[0],
      margin: bookMargin(v),
      marginBefore: bookMargin(before),
    };
  };

  it("adds legs from the chain; greeks, margin, payoff at expiry and T+n P&L at three spots match the library", async () => {
    const expiries = [...new Set(rows.map((r) => r.expiry))].sort();
    // An expiry about a month out, two strikes around the forward: sell 2 puts, buy 1 call.
    const expiry = expiries.find((e) => Date.parse(e) - T0 > 20 * DAY_MS) as string;
    const chainRows = rows.filter((r) => r.expiry === expiry);
    const fwd = chainRows[0]?.forwardUsd as number;
    const strikes = [...new Set(chainRows.map((r) => r.strike))].sort((a, b) => a - b);
    const putK = strikes.filter((k) => k < fwd * 0.95).at(-1) as number;
    const callK = strikes.find((k) => k > fwd * 1.05) as number;
    await addLeg({ expiry, strike: putK, kind: "put", side: "sell", size: 2 });
    await addLeg({ expiry, strike: callK, kind: "call", side: "buy", size: 1 });
    expect(await page.locator("#b-legs tbody tr").count()).toBe(2);
    // The quote line shows the chain's bid/ask/mark and IVs of the selected option.
    expect(await page.locator("#b-quote").textContent()).toMatch(/bid .* ask .* mark .* IV bid .* mark /);

    const put = chainRows.find((r) => r.strike === putK && r.kind === "put") as BuilderChainRow;
    const call = chainRows.find((r) => r.strike === callK && r.kind === "call") as BuilderChainRow;
    const legs: Position[] = [
      { instrument: instrumentFromName(put.instrument), quantity: -2 },
      { instrument: instrumentFromName(call.instrument), quantity: 1 },
    ];
    const lib = library(legs);
    // Greeks: the totals row equals volfolio risk's byUnderlying row for the same book.
    for (const key of [
      "valueUsd",
      "valueCoin",
      "deltaBlackCoin",
      "deltaPremiumAdjustedCoin",
      "cashDeltaUsd",
      "cashGammaUsd",
      "vegaUsdPerVolPt",
      "thetaUsdPerDay",
    ] as const)
      expect(rel(await shown(`#b-greeks [data-k="${key}"]`), lib.greeks?.[key] as number), key).toBeLessThan(
        SHOWN_REL,
      );
    // Margin before (cash only) and after: volfolio margin's figures.
    expect(rel(await shown('[data-k="pmMM-after"]'), lib.margin.portfolioMaintenanceUsd)).toBeLessThan(
      SHOWN_REL,
    );
    expect(rel(await shown('[data-k="pmIM-after"]'), lib.margin.portfolioInitialUsd)).toBeLessThan(SHOWN_REL);
    expect(rel(await shown('[data-k="stdIM-after"]'), lib.margin.standardInitialUsd)).toBeLessThan(SHOWN_REL);
    expect(rel(await shown('[data-k="equity-after"]'), lib.margin.equityUsd)).toBeLessThan(SHOWN_REL);
    expect(rel(await shown('[data-k="pmMM-before"]'), lib.marginBefore.portfolioMaintenanceUsd)).toBeLessThan(
      SHOWN_REL,
    );
    expect(await shown('[data-k="pmMM-after"]')).toBeGreaterThan(0);

    // Premium and fees written out: at the mark (coin) x index; Deribit fee min(0.03% of the
    // underlying, 12.5% of the premium) per contract.
    const index = put.indexUsd;
    const prem = (-2 * (put.mark as number) + 1 * (call.mark as number)) * index;
    const fees =
      (2 * Math.min(0.0003, 0.125 * (put.mark as number)) + Math.min(0.0003, 0.125 * (call.mark as number))) *
      index;
    expect(rel(await shown('[data-k="premiumUsd"]'), prem)).toBeLessThan(SHOWN_REL);
    expect(rel(await shown('[data-k="feesUsd"]'), fees)).toBeLessThan(SHOWN_REL);
    // Payoff at expiry (both legs expire together): intrinsic in USD minus premium and fees.
    const payoff = (S: number) => -2 * Math.max(putK - S, 0) + Math.max(S - callK, 0) - prem - fees;
    const chart = await page.evaluate(() => {
      const d = (
        document.getElementById("b-payoff") as { data: { meta: string; x: number[]; y: number[] }[] }
      ).data;
      return d.map((t) => ({ meta: t.meta, x: t.x, y: t.y }));
    });
    const exp = chart.find((t) => t.meta === "expiry");
    expect(exp?.x.length).toBeGreaterThan(50);
    const worst = Math.max(...(exp?.x ?? []).map((S, i) => Math.abs((exp?.y[i] as number) - payoff(S))));
    expect(worst).toBeLessThan(PAYOFF_CURVE_REL * index);
    // Breakevens: where the written-out payoff crosses 0.
    const be = ((await page.locator('[data-k="breakevens"]').getAttribute("data-v")) ?? "")
      .split(",")
      .map(Number);
    expect(be.length).toBeGreaterThan(0);
    for (const b of be) expect(Math.abs(payoff(b))).toBeLessThan(BREAKEVEN_REL * index);
    // Max loss unbounded? No: long one call against two short puts: loss bounded at S = 0, profit unbounded.
    expect(await page.locator('[data-k="maxProfitUsd"]').textContent()).toBe("unbounded");
    // The builder scans spot from 0.01% to 500% of the index: the loss is largest at its low end.
    expect(rel(await shown('[data-k="maxLossUsd"]'), payoff(1e-4 * index))).toBeLessThan(MAX_LOSS_REL);

    // T+n P&L at three spots, moving the spot slider; the library value on the scenario market.
    await setRange("b-days", 10);
    const cost = prem + fees;
    for (const S of [index * 0.85, index, index * 1.1]) {
      await setRange("b-spot", S);
      const s = Number(await page.$eval("#b-spot", (el: { value: string }) => el.value));
      const m = applyScenario(lib.v.market, { spotShift: s / index - 1, volShift: 0, timeRollDays: 10 });
      const want = valuePortfolio(lib.v.positions, m).totalUsd - cost;
      expect(rel(await shown("#b-at-tn span"), want), `T+10 at ${s}`).toBeLessThan(SHOWN_REL);
    }
    // The vol slider: +10 vol points moves the T+0 figure to the library's value at vol + 0.10.
    await setRange("b-vol", 10);
    const s = Number(await page.$eval("#b-spot", (el: { value: string }) => el.value));
    const m = applyScenario(lib.v.market, { spotShift: s / index - 1, volShift: 0.1, timeRollDays: 0 });
    expect(
      rel(await shown("#b-at-t0 span"), valuePortfolio(lib.v.positions, m).totalUsd - cost),
    ).toBeLessThan(SHOWN_REL);
    await page.waitForTimeout(300);
    await page.screenshot({ path: resolve(SHOTS, "builder.png"), fullPage: true });

    // Export: the book file of the legs (entry price = the price paid) and the collateral.
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#b-export")]);
    const path = await dl.path();
    const book = JSON.parse(readFileSync(path, "utf8"));
    expect(book.positions).toEqual([
      { instrument: put.instrument, quantity: -2, entryPrice: put.mark },
      { instrument: call.instrument, quantity: 1, entryPrice: call.mark },
    ]);
    expect(book.cash).toEqual(CASH);

    // Remove the short puts: one leg left, greeks = the library's for the call alone.
    await page.locator("#b-legs .b-remove").first().click();
    await page.waitForTimeout(50);
    await idle();
    expect(await page.locator("#b-legs tbody tr").count()).toBe(1);
    const lib1 = library([legs[1] as Position]);
    expect(
      rel(await shown('#b-greeks [data-k="vegaUsdPerVolPt"]'), lib1.greeks?.vegaUsdPerVolPt as number),
    ).toBeLessThan(SHOWN_REL);
    expect(rel(await shown('[data-k="pmMM-after"]'), lib1.margin.portfolioMaintenanceUsd)).toBeLessThan(
      SHOWN_REL,
    );
    expect(errors).toEqual([]);
  }, 120_000);

  it("legs from a book file: its listed options added, the rest named", async () => {
    await page.click("#b-clear");
    await idle();
    const opts = rows.filter((r) => r.mark !== null).slice(40, 42);
    const file = join(mkdtempSync(join(tmpdir(), "volfolio-book-")), "book.json");
    writeFileSync(
      file,
      JSON.stringify({
        positions: [
          { instrument: opts[0]?.instrument, quantity: -4 },
          { instrument: opts[1]?.instrument, quantity: 2 },
          { instrument: "BTC-PERPETUAL", quantity: 1000 },
        ],
      }),
    );
    await page.setInputFiles("#b-file", file);
    await page.waitForTimeout(100);
    await idle();
    const legRows = await page.locator("#b-legs tbody tr td:first-child").allTextContents();
    expect(legRows).toEqual([opts[0]?.instrument, opts[1]?.instrument]);
    expect(await page.locator("#b-book-note").textContent()).toContain("BTC-PERPETUAL (not an option)");
    const lib = library([
      { instrument: instrumentFromName(opts[0]?.instrument as string), quantity: -4 },
      { instrument: instrumentFromName(opts[1]?.instrument as string), quantity: 2 },
    ]);
    expect(
      rel(await shown('#b-greeks [data-k="cashDeltaUsd"]'), lib.greeks?.cashDeltaUsd as number),
    ).toBeLessThan(SHOWN_REL);
    expect(errors).toEqual([]);
  }, 60_000);

  it("the endpoint validates its input with zod and names the field (400)", async () => {
    type Err = { field: string; error: string };
    const post = (body: unknown) =>
      fetch(`${url}api/builder/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const a = await post({ legs: [{ instrument: rows[0]?.instrument, quantity: "x" }] });
    expect(a.status).toBe(400);
    expect(((await a.json()) as Err).field).toBe("legs.0.quantity");
    const b = await post({ legs: [{ instrument: "BTC-1JAN20-1-C", quantity: 1 }] });
    expect(b.status).toBe(400);
    const jb = (await b.json()) as Err;
    expect(jb.field).toBe("legs.0.instrument");
    expect(jb.error).toContain("BTC-1JAN20-1-C");
    const c = await post({ legs: [], volShift: 9 });
    expect(c.status).toBe(400);
    expect(((await c.json()) as Err).field).toBe("volShift");
  });

  it("the evaluation equals the library for a book file's legs (same numbers as volfolio risk)", () => {
    const bm = builderMarket({ chains, label: "x", book: { label: "cash", positions: [], cash: CASH } });
    const opt = rows.find(
      (r) => r.kind === "call" && r.mark !== null && Date.parse(r.expiry) - T0 > 60 * DAY_MS,
    );
    const r = evaluateBuilder(bm, { legs: [{ instrument: opt?.instrument, quantity: -3 }], margin: false });
    const ins = instrumentFromName(opt?.instrument as string) as OptionContract;
    const lib = library([{ instrument: ins, quantity: -3 }]);
    expect(rel(r.totals[0]?.thetaUsdPerDay as number, lib.greeks?.thetaUsdPerDay as number)).toBeLessThan(
      SAME_CALL_REL,
    );
    expect(
      rel(r.valueUsd, lib.v.positions.length ? valuePortfolio(lib.v.positions, lib.v.market).totalUsd : 0),
    ).toBeLessThan(SAME_CALL_REL);
  });
});
