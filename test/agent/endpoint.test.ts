/**
 * The agent endpoint from the CLI, as an operator runs it (issue 19): without VOLFOLIO_AGENT_TOKEN
 * a token is generated into <stateDir>/agent.token (mode 0600) and only that path is printed;
 * POST /kill needs it; a token under 16 characters is refused (exit 2) without being echoed.
 * Recognisable fake secrets are grepped in every output: stdout, stderr, the log file, the
 * journal and every other file of the state directory.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./tmp.js";

const root = resolve(__dirname, "../..");
const tsx = join(root, "node_modules/.bin/tsx");
const main = join(root, "src/cli/main.ts");
const example = JSON.parse(readFileSync(join(root, "examples/agent.json"), "utf8"));

function setup(prefix: string) {
  const dir = tempDir(prefix);
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, "agent.json");
  // 60-minute steps at 36,000x: 100 ms per tick.
  writeFileSync(
    cfg,
    JSON.stringify({
      ...example,
      stateDir: join(dir, "state"),
      feed: { ...example.feed, steps: 400 },
      speed: 36_000,
    }),
  );
  return { dir, cfg, state: join(dir, "state"), log: join(dir, "agent.log") };
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && k !== "VOLFOLIO_AGENT_TOKEN") env[k] = v;
  return { ...env, ...extra };
}

/** Starts the agent, waits for its endpoint line, runs `during`, waits for the end; returns every output. */
async function runWithEndpoint(
  s: ReturnType<typeof setup>,
  env: Record<string, string>,
  during: (url: string, line: string) => Promise<void>,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(tsx, [main, "agent", "--config", s.cfg, "--json", "--log-file", s.log], {
    cwd: root,
    env: cleanEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const line = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no endpoint line: ${err}`)), 60_000);
    child.stderr.on("data", (d) => {
      err += d;
      const m = /agent endpoint: .*\n/.exec(err);
      if (m) {
        clearTimeout(timer);
        done(m[0]);
      }
    });
  });
  const url = (/agent endpoint: (http:\/\/[^ ]+)\/state/.exec(line) as RegExpExecArray)[1] as string;
  try {
    await during(url, line);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return { code: await exited, out, err };
}

/** Every output of a run as one text: stdout, stderr, the log file and the state directory's files. */
function allOutputs(
  s: ReturnType<typeof setup>,
  r: { out: string; err: string },
  skip: string[] = [],
): string {
  const files = readdirSync(s.state)
    .filter((f) => !skip.includes(f))
    .map((f) => join(s.state, f))
    .filter((f) => statSync(f).isFile());
  return [
    r.out,
    r.err,
    existsSync(s.log) ? readFileSync(s.log, "utf8") : "",
    ...files.map((f) => readFileSync(f, "utf8")),
  ].join("\n");
}

describe("agent endpoint (CLI)", () => {
  it("generates a token into a 0600 file, prints only its path, and POST /kill needs it", async () => {
    const s = setup("agent-ep-gen");
    let token = "";
    const r = await runWithEndpoint(s, {}, async (url, line) => {
      const file = join(s.state, "agent.token");
      expect(line).toContain(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      token = readFileSync(file, "utf8").trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect((await fetch(`${url}/state`)).status).toBe(200); // loopback read
      expect((await fetch(`${url}/kill`, { method: "POST" })).status).toBe(401);
      expect(existsSync(join(s.state, "KILL"))).toBe(false);
      const ok = await fetch(`${url}/kill`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(ok.status).toBe(200);
      expect(existsSync(join(s.state, "KILL"))).toBe(true);
    });
    expect(r.code, `${r.err.slice(-3000)}\n${r.out.slice(-500)}`).toBe(0);
    expect(JSON.parse(r.out).book).toHaveProperty("cash");
    expect(allOutputs(s, r, ["agent.token"])).not.toContain(token);
  }, 120_000);

  it("never prints a configured token or a venue secret, and refuses a short token with exit 2", async () => {
    const secrets = {
      VOLFOLIO_AGENT_TOKEN: "FAKE-SECRET-agent-token-4b1d7e",
      DERIBIT_CLIENT_ID: "FAKE-SECRET-client-id-93ac",
      DERIBIT_CLIENT_SECRET: "FAKE-SECRET-client-secret-58fe",
    };
    const s = setup("agent-ep-env");
    const r = await runWithEndpoint(s, secrets, async (url, line) => {
      expect(line).not.toContain("agent.token"); // nothing generated
      expect((await fetch(`${url}/kill`, { method: "POST" })).status).toBe(401);
      const ok = await fetch(`${url}/kill`, {
        method: "POST",
        headers: { authorization: `Bearer ${secrets.VOLFOLIO_AGENT_TOKEN}` },
      });
      expect(ok.status).toBe(200);
    });
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(s.state, "agent.token"))).toBe(false);
    const text = allOutputs(s, r);
    for (const v of Object.values(secrets)) expect(text).not.toContain(v);
    expect(text).not.toContain("FAKE-SECRET");

    const short = setup("agent-ep-short");
    const bad = spawnSync(tsx, [main, "agent", "--config", short.cfg], {
      cwd: root,
      env: cleanEnv({ VOLFOLIO_AGENT_TOKEN: "FAKE-SECRET-1" }),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/at least 16/);
    expect(bad.stdout + bad.stderr).not.toContain("FAKE-SECRET");
  }, 120_000);
});
