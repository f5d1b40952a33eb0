/**
 * One agent per state directory (src/agent/stateLock.ts): a second `volfolio agent` on the same
 * stateDir refuses to start with one line and exit code 3 while the first runs; the first ends
 * cleanly on SIGTERM and removes its lock; a lock left by a dead process is replaced (logged).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireStateLock, AgentLockedError, LOCK_FILE } from "../../src/agent/stateLock.js";
import { tempDir } from "./tmp.js";

const root = resolve(__dirname, "../..");
const tsx = join(root, "node_modules/.bin/tsx");
const main = join(root, "src/cli/main.ts");
const example = JSON.parse(readFileSync(join(root, "examples/agent.json"), "utf8"));

function writeConfig(dir: string, overrides: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "agent.json");
  const { http: _http, ...rest } = example;
  writeFileSync(path, JSON.stringify({ ...rest, stateDir: join(dir, "state"), ...overrides }));
  return path;
}

const waitFor = async (cond: () => boolean, ms: number) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("state directory lock", () => {
  it("a second agent on the same stateDir refuses to start (exit 3, one line); the first is unaffected", async () => {
    const dir = tempDir("agent-lock");
    // 60-minute steps at 36,000x: 100 ms per tick, so the first agent runs for a while.
    const cfg = writeConfig(dir, { feed: { ...example.feed, steps: 400 }, speed: 36_000 });
    // node --import tsx, not the tsx wrapper (whose signal relay can turn an early SIGTERM into
    // exit 143): the signal reaches the agent itself.
    const first = spawn(process.execPath, ["--import", "tsx", main, "agent", "--config", cfg, "--json"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    first.stdout.on("data", (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((done) => first.on("exit", (code) => done(code)));
    const lockFile = join(dir, "state", LOCK_FILE);
    await waitFor(() => existsSync(lockFile), 60_000);
    const owner = JSON.parse(readFileSync(lockFile, "utf8"));
    expect(owner.runId).toBe(example.runId);

    const second = spawnSync(tsx, [main, "agent", "--config", cfg, "--json"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(second.status).toBe(3);
    expect(second.stdout).toBe("");
    const lines = second.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/state directory is in use: agent pid \d+ on .* holds .*agent\.lock/);
    expect(lines[0]).toContain(`pid ${owner.pid} `);

    first.kill("SIGTERM"); // ends after the current tick
    expect(await exited).toBe(0);
    expect(JSON.parse(out).step).toBeLessThan(399);
    expect(existsSync(lockFile)).toBe(false);
  }, 120_000);

  it("replaces a stale lock (its pid is dead) and refuses a live one", async () => {
    const dir = tempDir("agent-lock-stale");
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({
        pid: dead,
        host: (await import("node:os")).hostname(),
        startedAt: "2026-01-01T00:00:00.000Z",
        runId: "old",
      }),
    );
    const lock = acquireStateLock(dir, "new");
    expect(lock.replaced?.pid).toBe(dead);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"))).toMatchObject({
      pid: process.pid,
      runId: "new",
    });
    expect(() => acquireStateLock(dir, "other")).toThrow(AgentLockedError);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    acquireStateLock(dir, "again").release();
  });
});
