import { readFileSync } from "node:fs";
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
  it("serves state on 127.0.0.1 and the kill switch stops and resumes trading", async () => {
    const dir = tempDir("agent-http");
    const kill = new KillSwitch(join(dir, "KILL"));
    const { app, url } = await startAgentHttp({
      state: () => ({ mode: kill.engaged() ? "killed" : "trading" }),
      killSwitch: kill,
    });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${url}/state`)).json()).toEqual({ mode: "trading" });
      await fetch(`${url}/kill`, { method: "POST" });
      expect(kill.engaged()).toBe(true);
      expect(await (await fetch(`${url}/state`)).json()).toEqual({ mode: "killed" });
      await fetch(`${url}/resume`, { method: "POST" });
      expect(kill.engaged()).toBe(false);
    } finally {
      await app.close();
    }
  });

  it("refuses a non-loopback bind without a token, and checks the token when given", async () => {
    const kill = new KillSwitch(join(tempDir("agent-http"), "KILL"));
    await expect(startAgentHttp({ host: "0.0.0.0", state: () => ({}), killSwitch: kill })).rejects.toThrow(
      /requires a token/,
    );
    const { app, url } = await startAgentHttp({ token: "t0k3n", state: () => ({ ok: 1 }), killSwitch: kill });
    try {
      expect((await fetch(`${url}/state`)).status).toBe(401);
      expect((await fetch(`${url}/state`, { headers: { authorization: "Bearer t0k3n" } })).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
