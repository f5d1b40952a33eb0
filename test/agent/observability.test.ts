import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import { Journal } from "../../src/adapters/journal.js";
import { startAgentHttp } from "../../src/agent/http.js";
import { KillSwitch } from "../../src/agent/killSwitch.js";
import { createAgentLogger } from "../../src/agent/logger.js";
import { Agent, type JournalRecord } from "../../src/agent/loop.js";
import { replayFeed, resolveInstrument, testLimits, testPolicy, TICK_MS } from "./fixtures/replay.js";
import { T0 } from "./helpers.js";
import { tempDir } from "./tmp.js";

describe("agent logs", () => {
  it("never contain the secrets, wherever they would appear", async () => {
    const dir = tempDir("agent-log");
    const logFile = join(dir, "agent.log");
    const env = {
      DERIBIT_CLIENT_ID: "id-AAAA-1234",
      DERIBIT_CLIENT_SECRET: "secret-BBBB-5678",
      VOLFOLIO_AGENT_TOKEN: "token-CCCC-9012",
    };
    const logger = createAgentLogger({ env, destination: pino.destination({ dest: logFile, sync: true }) });
    // Hostile cases: a secret in a message, in a nested field, in an error.
    logger.warn({ config: { clientSecret: env.DERIBIT_CLIENT_SECRET } }, "config loaded");
    logger.error(
      { err: new Error(`auth failed for ${env.DERIBIT_CLIENT_ID}:${env.DERIBIT_CLIENT_SECRET}`) },
      "broker error",
    );
    logger.info({ header: `Bearer ${env.VOLFOLIO_AGENT_TOKEN}` }, `token is ${env.VOLFOLIO_AGENT_TOKEN}`);
    const agent = new Agent({
      runId: "log",
      feed: replayFeed(30),
      broker: new PaperBroker({ statePath: join(dir, "b.jsonl"), resolveInstrument }),
      journal: new Journal<JournalRecord>(join(dir, "j.jsonl")),
      resolveInstrument,
      policy: testPolicy,
      limits: testLimits,
      now: (s) => T0 + s * TICK_MS,
      killed: () => false,
      logger,
    });
    await agent.run();
    logger.flush();
    const text = readFileSync(logFile, "utf8");
    for (const secret of Object.values(env)) expect(text).not.toContain(secret);
    expect(text).toContain("[redacted]");
    // Structured per-tick metrics are there.
    const ticks = text
      .split("\n")
      .filter((l) => l.includes('"msg":"tick"'))
      .map((l) => JSON.parse(l));
    expect(ticks).toHaveLength(30);
    expect(ticks[0].ms.total).toBeGreaterThanOrEqual(0);
    expect(ticks[0]).toHaveProperty("delta");
  });
});

describe("agent HTTP control", () => {
  const TOKEN = "FAKE-agent-token-7f3c9d2e1b";
  const auth = { authorization: `Bearer ${TOKEN}` };

  it("serves state on 127.0.0.1; the kill switch stops and resumes trading with the token", async () => {
    const dir = tempDir("agent-http");
    const kill = new KillSwitch(join(dir, "KILL"));
    const { app, url } = await startAgentHttp({
      token: TOKEN,
      state: () => ({ mode: kill.engaged() ? "killed" : "trading" }),
      killSwitch: kill,
    });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${url}/state`)).json()).toEqual({ mode: "trading" });
      // State-changing requests need the token even on loopback.
      expect((await fetch(`${url}/kill`, { method: "POST" })).status).toBe(401);
      expect(kill.engaged()).toBe(false);
      expect((await fetch(`${url}/kill`, { method: "POST", headers: auth })).status).toBe(200);
      expect(kill.engaged()).toBe(true);
      expect(await (await fetch(`${url}/state`)).json()).toEqual({ mode: "killed" });
      await fetch(`${url}/resume`, { method: "POST", headers: auth });
      expect(kill.engaged()).toBe(false);
    } finally {
      await app.close();
    }
  });

  it("refuses short tokens on any bind, and non-loopback reads without the token", async () => {
    const kill = new KillSwitch(join(tempDir("agent-http"), "KILL"));
    for (const host of ["127.0.0.1", "0.0.0.0"])
      for (const token of ["", "x", "fifteen-chars-1"])
        await expect(startAgentHttp({ host, token, state: () => ({}), killSwitch: kill })).rejects.toThrow(
          /at least 16 characters/,
        );
    const { app, url } = await startAgentHttp({
      host: "0.0.0.0",
      token: TOKEN,
      state: () => ({ ok: 1 }),
      killSwitch: kill,
    });
    try {
      const port = new URL(url).port;
      expect((await fetch(`http://127.0.0.1:${port}/state`)).status).toBe(401);
      expect(
        (
          await fetch(`http://127.0.0.1:${port}/state`, {
            headers: { authorization: "Bearer wrong-token-of-some-length" },
          })
        ).status,
      ).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/state`, { headers: auth })).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("refuses DNS-rebound Host names and cross-site requests, even with the token", async () => {
    const kill = new KillSwitch(join(tempDir("agent-http"), "KILL"));
    const { app, url } = await startAgentHttp({ token: TOKEN, state: () => ({ ok: 1 }), killSwitch: kill });
    const port = new URL(url).port;
    // Raw requests: fetch does not let a caller set Host.
    const raw = (path: string, method: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((done, fail) => {
        const req = httpRequest({ host: "127.0.0.1", port: Number(port), path, method, headers }, (res) => {
          let body = "";
          res.on("data", (d) => {
            body += d;
          });
          res.on("end", () => done({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", fail);
        req.end();
      });
    try {
      expect((await raw("/state", "GET", { host: `localhost:${port}` })).status).toBe(200);
      expect((await raw("/state", "GET", { host: `[::1]:${port}` })).status).toBe(200);
      // DNS rebinding: attacker.example resolves to 127.0.0.1; the browser sends its own Host.
      const rebound = await raw("/state", "GET", { host: `attacker.example:${port}` });
      expect(rebound.status).toBe(403);
      expect((await raw("/resume", "POST", { host: `attacker.example:${port}`, ...auth })).status).toBe(403);
      // A cross-site form POST from any page (Origin names the page's site), with or without the token.
      kill.engage("test");
      for (const headers of <Record<string, string>[]>[
        { host: `127.0.0.1:${port}`, origin: "https://evil.example" },
        { host: `127.0.0.1:${port}`, origin: "https://evil.example", ...auth },
        { host: `127.0.0.1:${port}`, origin: "null", ...auth },
        { host: `127.0.0.1:${port}`, "sec-fetch-site": "cross-site", ...auth },
      ]) {
        const r = await raw("/resume", "POST", headers);
        expect(r.status).toBe(403);
        expect(r.body).not.toContain(TOKEN);
      }
      expect(kill.engaged()).toBe(true);
      // Same-origin with the token is answered.
      expect(
        (
          await raw("/resume", "POST", {
            host: `127.0.0.1:${port}`,
            origin: `http://127.0.0.1:${port}`,
            ...auth,
          })
        ).status,
      ).toBe(200);
      expect(kill.engaged()).toBe(false);
    } finally {
      await app.close();
    }
  });
});
