/**
 * The agent replays the history store (issue 22 item 3): `feed.type: "store"` over the chains of
 * `volfolio store ingest` gives the same ticks, decisions and final book as the files feed over
 * the files that were ingested. A directory that is not a store is refused, and none is created.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { DERIBIT_CSV_COLUMNS, formatDeribitCsvRows } from "../../src/adapters/deribit/files.js";
import { DuckDbSnapshotStore } from "../../src/adapters/store/duckdb.js";
import { ingestHistory } from "../../src/adapters/store/ingest.js";
import { parseAgentConfig } from "../../src/agent/config.js";
import { AgentFeedError, buildFeed } from "../../src/agent/feeds.js";
import { createAgentLogger } from "../../src/agent/logger.js";
import { runAgentFromConfig } from "../../src/agent/run.js";
import { syntheticSeries } from "../../src/core/market/syntheticSeries.js";
import { tempDir } from "./tmp.js";

const silent = () =>
  createAgentLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: "warn" });

/** The shipped example config (policy, limits, health) on `feed`, without its HTTP endpoint. */
function config(dir: string, feed: Record<string, unknown>, name: string) {
  const { http: _http, ...example } = JSON.parse(
    readFileSync(join(__dirname, "../../examples/agent.json"), "utf8"),
  );
  return parseAgentConfig({ ...example, runId: "store-feed", feed, stateDir: join(dir, name) });
}

describe("agent feed: the history store", () => {
  it("replays the stored chains as the files feed replays the files: same ticks, orders and book", async () => {
    const dir = tempDir("agent-store-feed");
    const snaps = join(dir, "snapshots");
    mkdirSync(snaps);
    const series = syntheticSeries({ start: Date.UTC(2026, 0, 5, 9), steps: 8, stepMs: 3_600_000, seed: 5 });
    for (let i = 0; i < 8; i++)
      writeFileSync(
        join(snaps, `deribit_options_snapshot_${String(i).padStart(3, "0")}.csv`),
        [DERIBIT_CSV_COLUMNS.join(","), ...formatDeribitCsvRows(series.chainAt(i))].join("\n"),
      );
    const storeDir = join(dir, "store");
    const store = await DuckDbSnapshotStore.open(storeDir);
    try {
      const report = await ingestHistory(store, [snaps]);
      expect(report.rejected).toBe(0);
    } finally {
      await store.close();
    }
    const files = config(dir, { type: "files", dir: snaps }, "files");
    const stored = config(dir, { type: "store", dir: storeDir }, "store");
    const a = await buildFeed(files);
    const b = await buildFeed(stored);
    try {
      expect(b.feed.steps).toBe(a.feed.steps);
      for (let step = 0; step < (a.feed.steps ?? 0); step++) {
        expect(b.now(step, null)).toBe(a.now(step, null));
        const [ca, cb] = [await a.feed.at(step), await b.feed.at(step)];
        expect(cb?.valuationTime).toBe(ca?.valuationTime);
        expect(cb?.indexPrice).toBe(ca?.indexPrice);
        expect(cb?.quotes).toEqual(ca?.quotes);
      }
    } finally {
      await a.close();
      await b.close();
    }
    const ra = await runAgentFromConfig(files, { logger: silent(), env: {} });
    const rb = await runAgentFromConfig(stored, { logger: silent(), env: {} });
    expect(ra.ordersSent).toBeGreaterThan(0);
    expect(rb.ordersSent).toBe(ra.ordersSent);
    expect(rb.book).toEqual(ra.book);
  }, 240_000);

  it("refuses a directory without store.duckdb and creates nothing", async () => {
    const dir = tempDir("agent-store-feed-absent");
    const cfg = config(dir, { type: "store", dir: join(dir, "nothing") }, "state");
    await expect(buildFeed(cfg)).rejects.toThrow(AgentFeedError);
    await expect(buildFeed(cfg)).rejects.toThrow(/not a volfolio store/);
    expect(existsSync(join(dir, "nothing", "store.duckdb"))).toBe(false);
  });
});
