/**
 * Issue 23 defects in real Chromium, through the CLI: `volfolio serve --host 0.0.0.0 --token T`
 * opened as /?token=T renders every tab (before the fix plotly.min.js and app.js were requested
 * without the token and got 401: a blank page); the token never appears in the process's output;
 * a token under 16 characters is refused before any work. The report is computed on the real
 * sample chain with the daily chain history (../shared/data; a synthetic market when absent):
 * rich/cheap never flags a quote without a bid as rich, the Backtest tab runs on that chain's
 * history up to its date and says so. Screenshots: test-output/dashboard/token-*.png.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import type { BrowserContext } from "playwright-core";
import { CHROMIUM as exe, launchChromium } from "./browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemoPipeline } from "../../src/web/pipeline.js";
import type { DemoReport } from "../../src/web/report.js";

// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const window: any;
// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate
declare const document: any;

if (!exe)
  console.warn(
    "test/web/tokenPage: skipped, no chromium (set VOLFOLIO_CHROMIUM or install /usr/bin/chromium)",
  );
const ROOT = resolve(__dirname, "../..");
const SHOTS = resolve(ROOT, "test-output/dashboard");
const SAMPLE = resolve(ROOT, "../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv");
const DAILY = resolve(ROOT, "../shared/data/deribit/daily");
const real = existsSync(SAMPLE) && existsSync(DAILY);
/**
 * History tab's fixed-tenor ATM vol (the fitted surface) vs the same tenor from Deribit's raw marks,
 * in vol points, measured on all 233 BTC days of ../shared/data/deribit/daily (2025-12-30 to
 * 2026-08-22): at 30/60/90 days median 0.14/0.09/0.09, worst 0.54/0.38/0.35; at 7 days median
 * 0.25, worst 1.08 (the fit smooths the short expiries' smiles most). Per-day bounds 0.6 and 1.2.
 * Mean over 30-90 days on the test's 8 days: 0.13 (season 0.12, worst block of 8 consecutive days
 * 0.23): bound 0.25. Interpolating linearly in vol instead of total variance gives 0.29 on the same
 * days, worst 1.23 on one day (2026-07-20, 90 days), and fails both.
 */
const ATM_VS_MARKS_PTS = 0.6;
const ATM_VS_MARKS_7D_PTS = 1.2;
const ATM_VS_MARKS_MEAN_PTS = 0.25;

/**
 * ATM vol per tenor (days -> decimal) from the day's raw snapshot file: for each BTC expiry the
 * out-of-the-money marks' implied_volatility interpolated linearly in ln(K / F) to K = F (F the
 * row's underlying column), then ATM total variance linear in days between the two listed expiries
 * around the tenor. Days = (expiry - snapshot timestamp) / 1 day.
 */
function atmFromRawMarks(date: string): Map<number, number> {
  const name = readdirSync(DAILY).find((f) => f.includes(`_${date.replaceAll("-", "")}T`));
  if (!name) throw new Error(`no raw snapshot for ${date}`);
  const lines = gunzipSync(readFileSync(join(DAILY, name)))
    .toString("utf8")
    .trim()
    .split("\n");
  const head = (lines[0] ?? "").split(",");
  const at = (r: string[], col: string) => r[head.indexOf(col)] ?? "";
  const rows = lines
    .slice(1)
    .map((l) => l.split(","))
    .filter((r) => at(r, "currency") === "BTC");
  const t0 = Date.parse(at(rows[0] ?? [], "timestamp"));
  const byExpiry = new Map<string, string[][]>();
  for (const r of rows)
    byExpiry.set(at(r, "expiry_datetime"), [...(byExpiry.get(at(r, "expiry_datetime")) ?? []), r]);
  const slices = [...byExpiry]
    .map(([expiry, rs]) => {
      const forward = Number(at(rs[0] ?? [], "underlying"));
      const otm = rs
        .filter((r) => (at(r, "option_type") === "call") === Number(at(r, "strike")) >= forward)
        .map((r) => ({
          k: Math.log(Number(at(r, "strike")) / forward),
          vol: Number(at(r, "implied_volatility")),
        }))
        .sort((a, b) => a.k - b.k);
      const above = otm.findIndex((p) => p.k >= 0);
      const lo = otm[above - 1];
      const hi = otm[above];
      const vol = lo && hi ? lo.vol + ((hi.vol - lo.vol) * -lo.k) / (hi.k - lo.k) : Number.NaN;
      return { days: (Date.parse(expiry) - t0) / 86_400_000, vol };
    })
    .sort((a, b) => a.days - b.days);
  const out = new Map<number, number>();
  for (const t of [7, 30, 60, 90]) {
    const above = slices.findIndex((x) => x.days >= t);
    const a = slices[above - 1];
    const b = slices[above];
    if (!a || !b || !Number.isFinite(a.vol) || !Number.isFinite(b.vol)) continue;
    const wa = a.vol ** 2 * a.days;
    const wb = b.vol ** 2 * b.days;
    out.set(t, Math.sqrt((wa + ((wb - wa) * (t - a.days)) / (b.days - a.days)) / t));
  }
  return out;
}
if (!real) console.warn("test/web/tokenPage: ../shared/data absent, report on a synthetic market");
const TOKEN = "tok-issue23-0123456789abcdef";

/** Runs the CLI (tsx) with args; resolves when `ready` matches stdout (or on exit). */
function cli(args: string[], ready?: RegExp) {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", resolve(ROOT, "src/cli/main.ts"), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, VOLFOLIO_TOKEN: "" },
    },
  );
  const out = { stdout: "", stderr: "", code: null as number | null };
  const done = new Promise<void>((r) =>
    child.on("exit", (c) => {
      out.code = c;
      r();
    }),
  );
  const started = new Promise<void>((r) => {
    child.stdout?.on("data", (d) => {
      out.stdout += String(d);
      if (ready?.test(out.stdout)) r();
    });
    child.stderr?.on("data", (d) => {
      out.stderr += String(d);
    });
    done.then(() => r());
  });
  return { child, out, done, started };
}

describe.skipIf(!exe)("token page and real-market defects in chromium (issue 23)", () => {
  let report: DemoReport;
  let reportFile: string;
  let server: ReturnType<typeof cli>;
  let browser: BrowserContext;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    report = await runDemoPipeline({
      seed: 7,
      frontierPoints: 3,
      forecast: false, // the panel is built and checked in dashboard.test.ts (saves ~1 s CPU)
      ...(real ? { chainFile: SAMPLE, backtestDataDir: DAILY, historyDir: DAILY, historyMaxDays: 8 } : {}),
    });
    const dir = mkdtempSync(join(tmpdir(), "volfolio-token-"));
    reportFile = join(dir, "report.json");
    writeFileSync(reportFile, JSON.stringify(report));
    server = cli(
      ["serve", "--report", reportFile, "--host", "0.0.0.0", "--port", "0", "--token", TOKEN],
      /dashboard: http/,
    );
    await server.started;
    browser = await launchChromium({ viewport: { width: 1400, height: 1000 } });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server?.out.code === null) {
      server.child.kill("SIGTERM");
      await server.done;
    }
  });

  it("/?token= renders every tab (assets via the cookie, token out of the URL); no 401, no console error; token not in the output", async () => {
    const port = /:(\d+)\//.exec(server.out.stdout)?.[1];
    expect(port, server.out.stderr).toBeDefined();
    const page = await browser.newPage();
    const errors: string[] = [];
    const statuses: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("response", (r) => r.status() >= 400 && statuses.push(`${r.status()} ${r.url()}`));
    await page.goto(`http://127.0.0.1:${port}/?token=${TOKEN}`);
    await page.waitForFunction(() => window.volfolioReady === true, undefined, { timeout: 30_000 });
    expect(statuses).toEqual([]);
    expect(page.url()).toBe(`http://127.0.0.1:${port}/`);
    // Every tab draws its report section (plotly loaded: the page was blank before).
    const drawn = (id: string) =>
      page.evaluate((i: string) => (document.getElementById(i)?.data ?? []).length as number, id);
    for (const [tab, id] of [
      ["surface", "surface3d"],
      ["risk", "heatmap"],
      ["optimizer", "beforeafter"],
      ["backtest", "equity"],
      ["regime", "volindex"],
      ...(real ? ([["history", "h-atm"]] as const) : []),
    ] as const) {
      await page.click(`nav button[data-tab="${tab}"]`);
      await page.waitForTimeout(200);
      expect(
        await drawn(id),
        `${tab}: ${report.unavailable[tab === "regime" ? "volIndex" : tab] ?? ""}`,
      ).toBeGreaterThan(0);
      await page.screenshot({ path: resolve(SHOTS, `token-${tab}.png`), fullPage: true });
    }
    // Builder and Agent tabs answer (no market in a --report server: the builder says how to get one).
    expect(await page.locator("#builder").textContent()).toContain("not available: no market loaded");
    expect(await page.locator("#agent").textContent()).toContain("not available");
    // Without the cookie the API is closed.
    expect((await fetch(`http://127.0.0.1:${port}/app.js`)).status).toBe(401);
    expect(errors).toEqual([]);
    await page.close();
    server.child.kill("SIGTERM");
    await server.done;
    expect(server.out.stdout + server.out.stderr).not.toContain(TOKEN);
    expect(server.out.stdout).toContain("/?token=<your token>");
  }, 120_000);

  it("rich/cheap: a quote without a bid is never 'rich'; the backtest runs on the loaded chain's history", async () => {
    const s = report.surface;
    expect(s, report.unavailable.surface).toBeDefined();
    if (!s) return;
    const noBid = s.richCheap.filter((x) => x.bidVol === null);
    if (real) expect(noBid.length).toBeGreaterThan(0); // the sample chain's top 15 has no-bid quotes
    for (const x of noBid) expect(["no bid", "cheap", "no bid / no ask"]).toContain(x.signal);
    for (const x of s.richCheap.filter((y) => y.signal === "rich")) expect(x.bidVol).not.toBeNull();
    const b = report.backtest;
    expect(b, report.unavailable.backtest).toBeDefined();
    if (real) {
      expect(b?.kind).toBe("chain-history");
      expect(b?.dataSource).toContain("Deribit BTC daily chains");
      expect(b?.to.slice(0, 10)).toBe("2026-01-10");
      expect(Date.parse(b?.to ?? "")).toBeLessThanOrEqual(Date.parse(report.valuationTime));
    }
  });

  it.skipIf(!real)(
    "history tab: the stored days on every chart, date picker over them, DVOL beside the index",
    async () => {
      const h = report.history;
      expect(h, report.unavailable.history).toBeDefined();
      if (!h) return;
      expect(h.days.length).toBe(8);
      expect(h.days.at(-1)?.date).toBe("2026-08-22");
      // Fixed-tenor ATM vols against Deribit's own marks, read from the raw files (no surface fit):
      // per expiry the OTM marks' IV interpolated to the forward in log-strike, then total variance
      // vol^2 T linear in T between the listed expiries around the tenor (the market's convention).
      let checked = 0;
      const gaps: number[] = [];
      for (const d of h.days) {
        expect(d.surface.length).toBeGreaterThan(5);
        const marks = atmFromRawMarks(d.date);
        for (const t of [7, 30, 60, 90]) {
          const want = marks.get(t);
          const got = d.atm[t];
          if (want === undefined || got === null || got === undefined) continue;
          const bound = t === 7 ? ATM_VS_MARKS_7D_PTS : ATM_VS_MARKS_PTS;
          expect(Math.abs(got - want) * 100, `${d.date} ${t}d: ${got} vs marks ${want}`).toBeLessThan(bound);
          if (t !== 7) gaps.push(Math.abs(got - want) * 100);
          checked++;
        }
      }
      expect(gaps.reduce((x, y) => x + y, 0) / gaps.length).toBeLessThan(ATM_VS_MARKS_MEAN_PTS);
      expect(checked).toBeGreaterThan(20);
      const srv = await import("../../src/web/server.js");
      const s2 = await srv.startDashboardServer({ report, port: 0 });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(e.message));
      try {
        await page.goto(s2.url);
        await page.waitForFunction(() => window.volfolioReady === true);
        await page.click('nav button[data-tab="history"]');
        await page.waitForTimeout(300);
        const tr = (id: string) =>
          page.evaluate(
            (i: string) =>
              (
                (document.getElementById(i)?.data ?? []) as { meta: string; x: unknown[]; y: unknown[] }[]
              ).map((t) => ({
                meta: t.meta,
                x: t.x,
                y: t.y,
              })),
            id,
          );
        const atm = await tr("h-atm");
        expect(atm.map((t) => t.meta)).toEqual(h.tenors.map((t) => `atm${t}`));
        expect(atm[1]?.x).toEqual(h.days.map((d) => d.date));
        expect(atm[1]?.y).toEqual(h.days.map((d) => d.atm[30]));
        const skew = await tr("h-skew");
        expect(skew[0]?.y).toEqual(h.days.map((d) => d.rr25[30]));
        expect(skew[1]?.y).toEqual(h.days.map((d) => d.bf25[30]));
        const idx = await tr("h-index");
        expect(idx.map((t) => t.meta)).toEqual(["index", "rv30", "dvol"]);
        expect(idx[0]?.y).toEqual(h.volIndex.map((d) => d.index));
        expect(idx[1]?.y).toEqual(h.volIndex.map((d) => d.realizedVol30));
        expect(idx[2]?.y).toEqual(h.volIndex.map((d) => d.dvol));
        // DVOL on every stored day its file covers (it ends 2026-08-20; the last stored day is 08-22).
        expect(h.volIndex.filter((d) => d.dvol !== null).map((d) => d.date)).toEqual(
          h.volIndex.map((d) => d.date).filter((d) => d <= "2026-08-20"),
        );
        const cone = await tr("h-cone");
        expect(cone.find((t) => t.meta === "implied")?.y).toEqual(h.cone?.rows.map((q) => q.impliedAtm));
        for (const q of h.cone?.rows ?? []) {
          expect(q.p10).toBeLessThanOrEqual(q.p50);
          expect(q.p50).toBeLessThanOrEqual(q.p90);
        }
        // Date picker: any stored day's surface, in delta space and log-moneyness.
        expect(await page.locator("#h-date option").count()).toBe(h.days.length);
        await page.selectOption("#h-date", "0");
        const dl = await tr("h-delta");
        expect(dl.length).toBe(h.days[0]?.surface.length);
        expect(dl[0]?.x).toEqual(["10P", "25P", "50C", "25C", "10C"]);
        expect(dl[0]?.y).toEqual(h.days[0]?.surface[0]?.deltaVols);
        await page.screenshot({ path: resolve(SHOTS, "history.png"), fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await page.close();
        await s2.app.close();
      }
    },
    60_000,
  );

  it("a short token is refused before any work; the token is not echoed", async () => {
    const short = "shorttok123";
    const a = cli(["demo", "--host", "0.0.0.0", "--port", "0", "--token", short, "--out", tmpdir()]);
    await a.done;
    expect(a.out.code).toBe(2);
    expect(a.out.stderr).toContain("at least 16 characters");
    expect(a.out.stderr).not.toContain("[demo]");
    expect(a.out.stderr + a.out.stdout).not.toContain(short);
    const b = cli(["serve", "--report", reportFile, "--token", short]);
    await b.done;
    expect(b.out.code).toBe(2);
    expect(b.out.stderr + b.out.stdout).not.toContain(short);
  }, 60_000);
});
