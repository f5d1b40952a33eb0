import { describe, expect, it } from "vitest";
import type { DemoReport } from "../../src/web/report.js";
import { isLoopback, renderReportHtml, startDashboardServer } from "../../src/web/server.js";

const report: DemoReport = {
  generatedBy: "test",
  seed: 1,
  source: "test",
  valuationTime: "2026-02-02T08:00:00.000Z",
  timings: [],
  unavailable: { surface: "test: not built" },
};

describe("dashboard server", () => {
  it("binds 127.0.0.1 by default and serves the page, plotly and the report", async () => {
    const { app, url } = await startDashboardServer({ report, port: 0 });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(url)).headers.get("content-type")).toContain("text/html");
      expect((await fetch(`${url}vendor/plotly.min.js`)).status).toBe(200);
      expect(await (await fetch(`${url}api/report`)).json()).toEqual(report);
      expect(await (await fetch(`${url}api/agent`)).json()).toEqual({ running: false });
    } finally {
      await app.close();
    }
  });

  it("refuses a non-loopback host without a token", async () => {
    await expect(startDashboardServer({ report, host: "0.0.0.0", port: 0 })).rejects.toThrow(
      /requires --token/,
    );
    await expect(startDashboardServer({ report, host: "0.0.0.0", port: 0, token: "short" })).rejects.toThrow(
      /at least 16/,
    );
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("0.0.0.0")).toBe(false);
  });

  it("with a token every request needs Authorization: Bearer", async () => {
    const token = "0123456789abcdef0123";
    const { app, url } = await startDashboardServer({ report, port: 0, token });
    try {
      expect((await fetch(`${url}api/report`)).status).toBe(401);
      expect(
        (await fetch(`${url}api/report`, { headers: { authorization: "Bearer wrong-token-xxxxxx" } })).status,
      ).toBe(401);
      const ok = await fetch(`${url}api/report`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("report.html is self-contained: plotly and data inlined, no external script", async () => {
    const html = await renderReportHtml(report);
    expect(html).not.toContain('src="/vendor/plotly.min.js"');
    expect(html).not.toContain('src="/app.js"');
    expect(html).toContain("window.VOLFOLIO_REPORT = ");
    expect(html).toContain("test: not built");
    expect(html.length).toBeGreaterThan(1_000_000);
  });
});
