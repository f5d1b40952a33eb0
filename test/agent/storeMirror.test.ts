/**
 * The journal's store mirror under store failures (issue 19 item 6), in process, on the real DuckDB
 * store behind a fault switch (like the journal tests' fault-injecting write wrapper: the store's
 * calls fail while the switch is on, as a server that went away does). The mirror must never throw
 * into the agent, log an outage once (not per tick), keep the unmirrored records, back off, catch
 * up in journal order on reconnect, and leave every journal record in the store exactly once.
 * The real-server version (PostgreSQL stopped and restarted under a running agent) is pgOutage.test.ts.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal } from "../../src/adapters/journal.js";
import { DuckDbSnapshotStore } from "../../src/adapters/store/duckdb.js";
import type { SnapshotStore } from "../../src/adapters/store/types.js";
import type { JournalRecord } from "../../src/agent/loop.js";
import { JournalStoreMirror, MirroredJournal } from "../../src/agent/storeMirror.js";
import { chainAt, T0 } from "./helpers.js";
import { tempDir } from "./tmp.js";

/** The real store, whose every call fails with ECONNREFUSED while `down` is true. */
function faultyStore(inner: SnapshotStore) {
  const state = { down: false, calls: 0, failed: 0 };
  const guard = async <T>(f: () => Promise<T>): Promise<T> => {
    state.calls++;
    if (state.down) {
      state.failed++;
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    }
    return f();
  };
  const store: SnapshotStore = {
    saveChain: (s) => guard(() => inner.saveChain(s)),
    listSnapshots: (q) => guard(() => inner.listSnapshots(q)),
    loadChain: (u, t) => guard(() => inner.loadChain(u, t)),
    query: (sql) => guard(() => inner.query(sql)),
    appendRecord: (t, k, j) => guard(() => inner.appendRecord(t, k, j)),
    readRecords: (t) => guard(() => inner.readRecords(t)),
    close: () => inner.close(),
  };
  return { store, state };
}

function recordingLogger() {
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    lines.push({ level, msg: msg ?? "", obj: obj as Record<string, unknown> });
  return { logger: { info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

const mode = (step: number): JournalRecord => ({
  type: "mode",
  step,
  mode: "trading",
  reasons: [`tick ${step}`],
});

async function setup(options: { maxBuffered?: number; saveSnapshots?: boolean } = {}) {
  const dir = tempDir("mirror");
  const inner = await DuckDbSnapshotStore.open(join(dir, "store"));
  const { store, state } = faultyStore(inner);
  const journal = new MirroredJournal(join(dir, "journal.jsonl"));
  const { logger, lines } = recordingLogger();
  let now = 1_000_000;
  const mirror = new JournalStoreMirror(store, journal, {
    runId: "m",
    table: "agent_journal",
    saveSnapshots: options.saveSnapshots ?? false,
    logger,
    clock: () => now,
    retryInitialMs: 1_000,
    retryMaxMs: 8_000,
    ...(options.maxBuffered !== undefined ? { maxBuffered: options.maxBuffered } : {}),
  });
  const advance = (ms: number) => {
    now += ms;
  };
  /** Waits for a background retry started by a flush to settle. */
  const settle = () => mirror.settled();
  return { dir, inner, state, journal, mirror, lines, advance, settle };
}

async function storedKeys(store: SnapshotStore): Promise<string[]> {
  return (await store.readRecords("agent_journal")).map((r) => r.key);
}

describe("journal store mirror under store failures", () => {
  it("logs an outage once, buffers, backs off, and catches up in order on reconnect", async () => {
    const { inner, state, journal, mirror, lines, advance, settle } = await setup();
    await mirror.syncAll();
    journal.read({ repair: true });
    let step = 0;
    for (; step < 5; step++) {
      journal.append(mode(step));
      await mirror.flush(null);
    }
    expect(mirror.mirrored).toBe(5);

    state.down = true;
    // 40 ticks of 250 ms with the store down: never throws, one error line, retries spaced by backoff.
    for (; step < 45; step++) {
      journal.append(mode(step));
      await expect(mirror.flush(null)).resolves.toBeUndefined();
      await settle();
      advance(250);
    }
    const errors = lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/^store mirror failed/);
    expect(errors[0]?.obj.error).toMatch(/ECONNREFUSED/);
    expect(mirror.outage).toBe(true);
    expect(mirror.unmirrored).toBe(40);
    // 10 s of outage with retries after 1, 2, 4 s (then 8 s): 4 attempts, not 40.
    expect(state.failed).toBe(4);

    state.down = false;
    advance(8_000);
    journal.append(mode(step++));
    await mirror.flush(null);
    await settle();
    expect(mirror.outage).toBe(false);
    const back = lines.filter((l) => l.msg.startsWith("store mirror reconnected"));
    expect(back).toHaveLength(1);
    expect(back[0]?.obj.caughtUp).toBe(41);
    expect(back[0]?.obj.attempts).toBe(4);
    expect(mirror.unmirrored).toBe(0);
    expect(await storedKeys(inner)).toEqual(journalKeys(journal));
    // Another outage is logged again, once.
    state.down = true;
    journal.append(mode(step++));
    await mirror.flush(null);
    journal.append(mode(step++));
    await mirror.flush(null);
    expect(lines.filter((l) => l.level === "error")).toHaveLength(2);
    expect(mirror.outages).toBe(2);
    state.down = false;
    await mirror.close(); // the last attempt ignores the backoff
    expect(mirror.unmirrored).toBe(0);
    const reopened = await DuckDbSnapshotStore.open(join(journal.path, "../store"));
    try {
      const keys = (await reopened.readRecords("agent_journal")).map((r) => r.key);
      expect(keys).toEqual(journalKeys(journal));
    } finally {
      await reopened.close();
    }
  });

  it("beyond maxBuffered records re-reads the journal file and still mirrors each record once", async () => {
    const { inner, state, journal, mirror, advance, settle } = await setup({ maxBuffered: 10 });
    await mirror.syncAll();
    journal.read({ repair: true });
    state.down = true;
    for (let step = 0; step < 60; step++) {
      journal.append(mode(step));
      await mirror.flush(null);
      await settle();
      advance(100);
    }
    expect(mirror.unmirrored).toBe(60);
    state.down = false;
    advance(60_000);
    await mirror.flush(null);
    await settle();
    const keys = await storedKeys(inner);
    expect(keys).toEqual(journalKeys(journal));
    expect(new Set(keys).size).toBe(60);
    const stored = await inner.readRecords("agent_journal");
    expect(stored.map((r) => r.json)).toEqual(journal.read().records);
    await mirror.close();
  });

  it("a store that fails at close leaves the rest to the next start, which mirrors it without duplicates", async () => {
    const { dir, state, journal, mirror, lines } = await setup({ saveSnapshots: true });
    await mirror.syncAll();
    journal.read({ repair: true });
    for (let step = 0; step < 3; step++) {
      journal.append(mode(step));
      await mirror.flush(chainAt(T0 + step * 60_000, 100_000));
    }
    expect(mirror.snapshotsSaved).toBe(3);
    state.down = true;
    for (let step = 3; step < 8; step++) {
      journal.append(mode(step));
      await mirror.flush(chainAt(T0 + step * 60_000, 100_000));
    }
    await expect(mirror.close()).resolves.toBeUndefined();
    expect(lines.some((l) => l.msg.startsWith("store mirror incomplete at exit"))).toBe(true);

    // The next start: syncAll re-sends the whole journal; only the missing records are inserted.
    const store = await DuckDbSnapshotStore.open(join(dir, "store"));
    const journal2 = new MirroredJournal(journal.path);
    const { logger } = recordingLogger();
    const next = new JournalStoreMirror(store, journal2, {
      runId: "m",
      table: "agent_journal",
      saveSnapshots: false,
      logger,
    });
    await next.syncAll();
    expect(next.mirrored).toBe(5);
    const stored = await store.readRecords("agent_journal");
    expect(stored.map((r) => r.key)).toEqual(journalKeys(journal2));
    await next.close();
  });
});

/** The keys every record of the journal file must have in the store, in order. */
function journalKeys(journal: MirroredJournal): string[] {
  return new Journal<JournalRecord>(journal.path).read().records.map((_, i) => `m:${i}`);
}
