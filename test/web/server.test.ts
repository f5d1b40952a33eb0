import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAgentHttp } from "../../src/agent/http.js";
import { KillSwitch } from "../../src/agent/killSwitch.js";
import type { DemoReport } from "../../src/web/report.js";
import {
  AGENT_HINT,
  isLoopback,
  parseAgentUrl,
  renderReportHtml,
  startDashboardServer,
} from "../../src/web/server.js";

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
      expect(await (await fetch(`${url}api/agent`)).json()).toEqual({
        running: false,
        source: null,
        hint: AGENT_HINT,
      });
      expect(AGENT_HINT).toContain("--agent-url");
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

  it("binding a non-loopback address with a 16+ char token works, and then needs the token", async () => {
    const token = "0123456789abcdef0123";
    const { app, url } = await startDashboardServer({ report, host: "0.0.0.0", port: 0, token });
    try {
      expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
      const local = url.replace("0.0.0.0", "127.0.0.1");
      expect((await fetch(`${local}api/report`)).status).toBe(401);
      expect((await fetch(`${local}api/report?token=${token}`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("/api/agent proxies a running agent's GET /state with its bearer token", async () => {
    const agentToken = "agent-secret-token-0001";
    const state = { runId: "r1", mode: "safe", modeReasons: ["feed stale"], delta: 0.25, vega: -120 };
    // Bound off loopback, the agent answers even GET /state only with the token (on 127.0.0.1 a
    // read-only GET needs none since the issue-19 endpoint rules; POSTs always do).
    const agent = await startAgentHttp({
      host: "0.0.0.0",
      port: 0,
      token: agentToken,
      state: () => state,
      killSwitch: new KillSwitch(join(mkdtempSync(join(tmpdir(), "volfolio-ks-")), "KILL")),
    });
    const agentUrl = agent.url.replace("localhost", "127.0.0.1").replace("0.0.0.0", "127.0.0.1");
    const good = await startDashboardServer({ report, port: 0, agentUrl: `${agentUrl}/`, agentToken });
    const bad = await startDashboardServer({ report, port: 0, agentUrl });
    try {
      expect(await (await fetch(`${good.url}api/agent`)).json()).toEqual({
        running: true,
        source: `${agentUrl}/state`,
        state,
      });
      const noToken = (await (await fetch(`${bad.url}api/agent`)).json()) as {
        running: boolean;
        error?: string;
      };
      expect(noToken.running).toBe(false);
      expect(noToken.error).toMatch(/answered 401: set VOLFOLIO_AGENT_TOKEN/);
    } finally {
      await Promise.all([good.app.close(), bad.app.close(), agent.app.close()]);
    }
  });

  it("/api/agent says why when the agent cannot be reached; bad --agent-url is refused", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const { app, url } = await startDashboardServer({
      report,
      port: 0,
      agentUrl: `http://127.0.0.1:${port}`,
    });
    try {
      const a = await (await fetch(`${url}api/agent`)).json();
      expect(a).toEqual({
        running: false,
        source: `http://127.0.0.1:${port}/state`,
        error: `cannot reach http://127.0.0.1:${port}/state: ECONNREFUSED`,
      });
    } finally {
      await app.close();
    }
    expect(() => parseAgentUrl("ftp://x")).toThrow(/--agent-url must be an http\(s\) URL, got "ftp:\/\/x"/);
    expect(() => parseAgentUrl("not a url")).toThrow(/--agent-url/);
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
