/**
 * `volfolio agent --config FILE` end to end, in a child process (as a user runs it): a synthetic
 * replay trades and journals; a second run with the same state directory resumes and ends with
 * the same book as one uninterrupted run; a replay of stored snapshot files; the kill switch; bad
 * configs answered with one line and a stable exit code.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal } from "../../src/adapters/journal.js";
import { formatDeribitCsvRows, DERIBIT_CSV_COLUMNS } from "../../src/adapters/deribit/files.js";
import { DuckDbSnapshotStore } from "../../src/adapters/store/duckdb.js";
import { syntheticSeries } from "../../src/core/market/syntheticSeries.js";
import { CLI_LIMITS, CLI_POLICY } from "./helpers.js";
import { tempDir } from "./tmp.js";

const root = resolve(__dirname, "../..");
const tsx = join(root, "node_modules/.bin/tsx");
const main = join(root, "src/cli/main.ts");
const dataDir = resolve(root, "../shared/data/deribit/daily");

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(tsx, [main, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function config(dir: string, overrides: Record<string, unknown> = {}) {
  return {
    runId: "cli-test",
    underlying: "BTC",
    feed: { type: "synthetic", steps: 120, stepMinutes: 60, seed: 3 },
    stateDir: join(dir, "state"),
    broker: { type: "paper", slippageBps: 1 },
    policy: CLI_POLICY,
    limits: CLI_LIMITS,
    ...overrides,
  };
}

function writeConfig(dir: string, cfg: unknown): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "agent.json");
  writeFileSync(path, JSON.stringify(cfg));
  return path;
}

const openPositions = (state: { book: { positions: Record<string, { quantity: number }> } }) =>
  Object.fromEntries(
    Object.entries(state.book.positions)
      .filter(([, p]) => p.quantity !== 0)
      .map(([k, p]) => [k, Number(p.quantity.toFixed(8))]),
  );

describe("volfolio agent (CLI)", () => {
  it("trades a synthetic replay, logs JSON lines per tick, and a resumed run equals an uninterrupted one", () => {
    const a = tempDir("agent-cli-a");
    const b = tempDir("agent-cli-b");
    const cfgA = writeConfig(a, config(a));
    const first = cli(["agent", "--config", cfgA, "--max-steps", "60", "--json"]);
    expect(first.code, first.err).toBe(0);
    const s1 = JSON.parse(first.out);
    expect(s1.step).toBe(59);
    expect(s1.ordersSent).toBeGreaterThan(0);
    expect(s1.fills).toBeGreaterThan(0);
    // Logs: one JSON line per tick with step timings; nothing else on stderr.
    const lines = first.err
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const ticks = lines.filter((l) => l.msg === "tick");
    expect(ticks.map((t) => t.step)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(ticks.every((t) => t.ms.total >= 0 && Number.isFinite(t.delta))).toBe(true);
    // Every order in the journal was preceded by its decision (write-ahead).
    const journal = readFileSync(join(a, "state/journal.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const decided = new Set<string>();
    for (const r of journal) {
      if (r.type === "decision") for (const o of r.orders) decided.add(o.clientOrderId);
      if (r.type === "order") expect(decided.has(r.state.clientOrderId)).toBe(true);
    }

    const second = cli(["agent", "--config", cfgA, "--max-steps", "120", "--json"]);
    expect(second.code, second.err).toBe(0);
    const s2 = JSON.parse(second.out);
    expect(s2.recovered.fromStep).toBe(60);
    expect(s2.step).toBe(119);

    const whole = cli(["agent", "--config", writeConfig(b, config(b)), "--json"]);
    expect(whole.code, whole.err).toBe(0);
    const s3 = JSON.parse(whole.out);
    expect(s3.step).toBe(119);
    expect(openPositions(s2)).toEqual(openPositions(s3));
    expect(s2.ordersSent + s1.ordersSent).toBe(s3.ordersSent);
  }, 240_000); // child processes: slow on a loaded machine

  it("replays a directory of snapshot files and stops trading while the kill switch file exists", () => {
    const dir = tempDir("agent-cli-files");
    const snaps = join(dir, "snapshots");
    mkdirSync(snaps);
    const series = syntheticSeries({ start: Date.UTC(2026, 0, 5, 9), steps: 6, stepMs: 3_600_000, seed: 5 });
    for (let i = 0; i < 6; i++) {
      const rows = formatDeribitCsvRows(series.chainAt(i));
      writeFileSync(
        join(snaps, `snap_${String(i).padStart(3, "0")}.csv`),
        [DERIBIT_CSV_COLUMNS.join(","), ...rows].join("\n"),
      );
    }
    writeFileSync(join(snaps, "snap_003.csv"), "garbage\n"); // a bad file: that tick goes safe
    const cfg = writeConfig(dir, config(dir, { feed: { type: "files", dir: snaps } }));
    const r = cli(["agent", "--config", cfg, "--json"]);
    expect(r.code, r.err).toBe(0);
    const state = JSON.parse(r.out);
    expect(state.step).toBe(5);
    expect(state.ordersSent).toBeGreaterThan(0);
    const journal = readFileSync(join(dir, "state/journal.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const modes = journal.filter((x) => x.type === "mode");
    expect(modes.some((m) => m.step === 3 && m.mode === "safe")).toBe(true);
    expect(modes.some((m) => m.step === 4 && m.mode === "trading")).toBe(true);
    expect(journal.filter((x) => x.type === "decision" && x.step === 3)).toEqual([]);

    // Kill switch: a fresh state dir with the KILL file present: no order at all.
    const killed = tempDir("agent-cli-kill");
    const kcfg = writeConfig(killed, config(killed, { feed: { type: "files", dir: snaps } }));
    mkdirSync(join(killed, "state"), { recursive: true });
    writeFileSync(join(killed, "state/KILL"), "test\n");
    const k = cli(["agent", "--config", kcfg, "--json"]);
    expect(k.code, k.err).toBe(0);
    const ks = JSON.parse(k.out);
    expect(ks.mode).toBe("killed");
    expect(ks.ordersSent).toBe(0);
  }, 240_000); // child processes: slow on a loaded machine

  it.skipIf(!existsSync(dataDir))("replays the first real Deribit daily snapshots", () => {
    const dir = tempDir("agent-cli-real");
    // Daily snapshots taken at varying times of day: a replay clock of one day per tick from
    // the evening of the first file, and a staleness limit of a day (a snapshot is that old at most).
    const cfg = writeConfig(
      dir,
      config(dir, {
        feed: { type: "files", dir: dataDir, start: "2025-12-30T18:00:00Z", stepMinutes: 1440 },
        health: { maxStalenessMs: 86_400_000 },
      }),
    );
    const r = cli(["agent", "--config", cfg, "--max-steps", "4", "--json"]);
    expect(r.code, r.err).toBe(0);
    const state = JSON.parse(r.out);
    expect(state.step).toBe(3);
    expect(state.ordersSent).toBeGreaterThan(0);
    expect(Number.isFinite(state.vega)).toBe(true);
  });
  if (!existsSync(dataDir)) console.warn(`skipping the real-data agent replay: ${dataDir} is absent`);

  it("mirrors the journal into the DuckDB store (SQL-queryable), idempotently across a restart", async () => {
    const dir = tempDir("agent-cli-store");
    const storeDir = join(dir, "store");
    const cfg = writeConfig(
      dir,
      config(dir, { store: { type: "duckdb", dir: storeDir, saveSnapshots: true } }),
    );
    expect(cli(["agent", "--config", cfg, "--max-steps", "20"]).code).toBe(0);
    const again = cli(["agent", "--config", cfg, "--max-steps", "30"]);
    expect(again.code, again.err).toBe(0);
    // The journal's records (framed lines: the header and each line's length/checksum are not mirrored).
    const lines = new Journal<{ type: string }>(join(dir, "state/journal.jsonl")).read().records;
    const store = await DuckDbSnapshotStore.open(storeDir);
    try {
      const records = await store.readRecords("agent_journal");
      expect(records.map((r) => r.json)).toEqual(lines);
      expect(records.map((r) => r.key)).toEqual(lines.map((_, i) => `cli-test:${i}`));
      const orders = await store.query(
        "SELECT count(*)::INT AS n FROM records WHERE tbl = 'agent_journal' AND json LIKE '{\"type\":\"order\"%'",
      );
      expect(Number(orders[0]?.n)).toBe(lines.filter((l) => l.type === "order").length);
      expect((await store.listSnapshots({ underlying: "BTC" })).length).toBe(30);
    } finally {
      await store.close();
    }
  });

  it("runs the analytics example config: surface fit, margin, CVaR, optimizer decisions with reasons", () => {
    const dir = tempDir("agent-cli-analytics");
    const example = JSON.parse(readFileSync(join(root, "examples/agent-analytics.json"), "utf8"));
    const cfg = {
      ...example,
      stateDir: join(dir, "state"),
      http: undefined,
      feed: { ...example.feed, steps: 24 },
    };
    const run = cli(["agent", "--config", writeConfig(dir, cfg), "--json"]);
    expect(run.code, run.err).toBe(0);
    const state = JSON.parse(run.out);
    expect(state.step).toBe(23);
    expect(state.surface.model).toBe("ssvi");
    expect(state.surface.rmseVolPts).toBeLessThan(2);
    expect(state.marginUsd).toBeGreaterThan(0);
    // The example's limits hold at the end of the run.
    expect(state.marginUsd).toBeLessThanOrEqual(cfg.limits.maxMarginUsd);
    expect(state.cvarUsd).toBeGreaterThan(0);
    expect(state.cvarUsd).toBeLessThanOrEqual(cfg.analytics.maxCvarUsd);
    const journal = readFileSync(join(dir, "state/journal.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const optimizerOrders = journal
      .filter((r) => r.type === "decision")
      .flatMap((r) => r.orders)
      .filter((o) => o.rule === "optimizer");
    expect(optimizerOrders.length).toBeGreaterThan(0);
    expect(optimizerOrders[0].why).toMatch(/target -1500/);
    // Tick logs carry the analytics timings.
    const ticks = run.err
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === "tick");
    expect(ticks).toHaveLength(24);
    expect(ticks.some((t) => t.ms["analytics.fit"] > 0)).toBe(true);
  }, 240_000); // child processes: slow on a loaded machine

  it("answers bad configs with one line and a stable exit code", () => {
    const dir = tempDir("agent-cli-bad");
    const missing = cli(["agent", "--config", join(dir, "nope.json")]);
    expect(missing.code).toBe(3);
    expect(missing.err.trim().split("\n")).toHaveLength(1);
    expect(missing.err).toMatch(/nope\.json/);

    const { policy: _p, ...noPolicy } = config(dir);
    const bad = cli([
      "agent",
      "--config",
      writeConfig(dir, { ...noPolicy, limits: { maxOptionContracts: -1 } }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split("\n")).toHaveLength(1);
    expect(bad.err).toMatch(/policy/);
    expect(bad.err).toMatch(/limits\.maxOptionContracts/);
    expect(bad.err).not.toMatch(/\n\s+at /);

    const noDir = cli([
      "agent",
      "--config",
      writeConfig(join(dir, "x"), config(dir, { feed: { type: "files", dir: join(dir, "absent") } })),
    ]);
    expect(noDir.code).toBe(3);
    expect(noDir.err).toMatch(/feed\.dir .*absent/);

    const steps = cli(["agent", "--config", join(dir, "agent.json"), "--max-steps", "0"]);
    expect(steps.code).toBe(2);
  }, 240_000); // child processes: slow on a loaded machine
});
