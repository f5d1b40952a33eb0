/**
 * Responsive at any replay speed (issue 19 item 6): a `speed: 0` replay (no timer between ticks,
 * the README's example) answers GET /state while it runs, and SIGTERM ends it cleanly after the
 * current tick: exit 0, the final state printed, the journal ending with that tick's `step-done`,
 * the lock removed. Before, the HTTP endpoint and the signal went unanswered until the replay ended.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal } from "../../src/adapters/journal.js";
import type { JournalRecord } from "../../src/agent/loop.js";
import { LOCK_FILE } from "../../src/agent/stateLock.js";
import { tempDir } from "./tmp.js";

const root = resolve(__dirname, "../..");
const main = join(root, "src/cli/main.ts");
const example = JSON.parse(readFileSync(join(root, "examples/agent.json"), "utf8"));

const getJson = (url: string) =>
  new Promise<{ status: number; body: Record<string, unknown> }>((done, fail) => {
    const req = get(url, (res) => {
      let b = "";
      res.on("data", (d) => {
        b += d;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body: JSON.parse(b) }));
    });
    req.on("error", fail);
    req.setTimeout(5_000, () => req.destroy(new Error("GET /state: no answer within 5 s")));
  });

/** Starts `volfolio agent` on a config; resolves once its endpoint line is printed. */
async function startAgent(dir: string, overrides: Record<string, unknown>) {
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, "agent.json");
  writeFileSync(
    cfg,
    JSON.stringify({ ...example, stateDir: join(dir, "state"), http: { port: 0 }, ...overrides }),
  );
  const child = spawn(process.execPath, ["--import", "tsx", main, "agent", "--config", cfg, "--json"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, VOLFOLIO_AGENT_TOKEN: "signals-test-token-0123456789" },
  });
  const io = { out: "", err: "" };
  child.stdout.on("data", (d) => {
    io.out += d;
  });
  child.stderr.on("data", (d) => {
    io.err += d;
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const t0 = Date.now();
  let url: string | null = null;
  while (!url) {
    if (Date.now() - t0 > 90_000) throw new Error(`no endpoint line: ${io.err.slice(-2000)}`);
    url = /agent endpoint: (http:\/\/\S+\/state)/.exec(io.err)?.[1] ?? null;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, io, exited, url };
}

describe("agent responsiveness at any speed", () => {
  it("answers GET /state during a speed-0 replay and ends cleanly on SIGTERM after the current tick", async () => {
    const dir = tempDir("agent-signals");
    // 20,000 ticks at speed 0: minutes of work, far longer than the test waits.
    const { child, io, exited, url } = await startAgent(dir, {
      feed: { ...example.feed, steps: 20_000 },
      speed: 0,
    });
    // The endpoint answers while the replay runs, and the replay moves on between answers.
    const steps: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await getJson(url);
      expect(r.status).toBe(200);
      steps.push(r.body.step as number);
      await new Promise((done) => setTimeout(done, 300));
    }
    expect(steps.at(-1) as number).toBeGreaterThan(steps[0] as number);
    const tKill = Date.now();
    child.kill("SIGTERM");
    const code = await exited;
    const stopMs = Date.now() - tKill;
    expect(code, io.err.slice(-2000)).toBe(0);
    const state = JSON.parse(io.out);
    expect(state.step).toBeGreaterThanOrEqual(steps.at(-1) as number);
    expect(state.step).toBeLessThan(19_999);
    // The run ended after a whole tick: the journal's last record closes the last tick.
    const records = new Journal<JournalRecord>(join(dir, "state", "journal.jsonl")).read().records;
    const last = records.at(-1);
    expect(last?.type).toBe("step-done");
    expect(last?.type === "step-done" && last.step).toBe(state.step);
    expect(existsSync(join(dir, "state", LOCK_FILE))).toBe(false);
    console.info(
      `speed 0: GET /state answered at steps ${steps.join(", ")}; SIGTERM -> exit 0 in ${stopMs} ms at step ${state.step}`,
    );
    expect(stopMs).toBeLessThan(15_000);
  }, 180_000);
});

describe("agent responsiveness during a long wait between ticks", () => {
  it("SIGTERM during an hour-long wait (speed 1, 60-minute steps) ends the run at once", async () => {
    const dir = tempDir("agent-signals-slow");
    const a = await startAgent(dir, { feed: { ...example.feed, steps: 50 }, speed: 1 });
    // Wait for the first tick to be journaled: the agent is then in its hour-long wait.
    const journal = join(dir, "state", "journal.jsonl");
    const t0 = Date.now();
    while (!(existsSync(journal) && readFileSync(journal, "utf8").includes('"step-done"'))) {
      if (Date.now() - t0 > 60_000) throw new Error("no tick");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await getJson(a.url)).status).toBe(200);
    const tKill = Date.now();
    a.child.kill("SIGTERM");
    const code = await a.exited;
    const stopMs = Date.now() - tKill;
    expect(code, a.io.err.slice(-2000)).toBe(0);
    expect(JSON.parse(a.io.out).step).toBe(0);
    console.info(`speed 1: SIGTERM during the wait after tick 0 -> exit 0 in ${stopMs} ms`);
    expect(stopMs).toBeLessThan(15_000);
  }, 180_000);
});
