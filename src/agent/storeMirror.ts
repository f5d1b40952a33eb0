/**
 * Mirrors the agent's journal into the snapshot store (DuckDB or Postgres) so decisions,
 * orders and fills can be queried with SQL next to the chains they were made on. The journal
 * file stays the write-ahead log (fsync'ed before any order is sent); the mirror follows each
 * tick. Records are keyed `${runId}:${line}` (line = the record's 0-based index in the journal)
 * and the store's append is insert-if-absent, so a restart or a catch-up re-sends without
 * duplicating anything.
 *
 * The store is never on the agent's critical path (issue 19 item 6):
 * - nothing here throws into the agent: every store error is caught;
 * - a failing store starts an outage, logged once ("store mirror failed ...", with the error and
 *   the records buffered), not once per tick; the records not yet in the store stay buffered (in
 *   memory, and beyond `maxBuffered` records re-read from the journal file, which has them all);
 * - during an outage the mirror retries with exponential backoff (1 s doubling to 30 s); a retry
 *   runs in the background, the tick does not wait for it; when one succeeds the mirror catches up
 *   in journal order and logs "store mirror reconnected" once (outage length, attempts, records
 *   caught up);
 * - while the store is healthy a flush waits for its writes (at most `flushWaitMs`, so a hung
 *   server cannot stall the loop); chain snapshots (not journal records) missed in an outage are
 *   not back-filled: the latest one is saved on reconnect and the others are counted as skipped;
 * - `close` makes a last attempt (even in backoff) for at most `closeWaitMs`; whatever is still
 *   unmirrored is logged and mirrored by the next start's `syncAll` from the journal.
 */
import { Journal, type JournalRead } from "../adapters/journal.js";
import type { SnapshotStore } from "../adapters/store/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import type { AgentConfig } from "./config.js";
import type { AgentLogger, JournalRecord } from "./loop.js";

/** A journal that remembers what it appended since the last flush. */
export class MirroredJournal extends Journal<JournalRecord> {
  private pending: JournalRecord[] = [];
  private base = 0;

  override read(options: { repair?: boolean } = {}): JournalRead<JournalRecord> {
    const r = super.read(options);
    this.base = r.records.length;
    this.pending = [];
    return r;
  }

  override append(record: JournalRecord): void {
    super.append(record);
    this.pending.push(record);
  }

  /** Records appended since the last call, with their line index in the journal. */
  take(): { index: number; record: JournalRecord }[] {
    const out = this.pending.map((record, k) => ({ index: this.base + k, record }));
    this.base += this.pending.length;
    this.pending = [];
    return out;
  }
}

export async function openAgentStore(
  store: NonNullable<AgentConfig["store"]>,
  env: Record<string, string | undefined>,
): Promise<SnapshotStore> {
  // DuckDB or pg is loaded here, only when the config has a store block (issue 25: lazy service deps).
  if (store.type === "duckdb") {
    const { DuckDbSnapshotStore } = await import("../adapters/store/duckdb.js");
    return DuckDbSnapshotStore.open(store.dir);
  }
  const url = store.url ?? env.VOLFOLIO_PG_URL;
  if (!url) throw new Error("store.url is missing and VOLFOLIO_PG_URL is not set");
  const { PostgresSnapshotStore } = await import("../adapters/store/postgres.js");
  return PostgresSnapshotStore.open(url);
}

export interface JournalStoreMirrorOptions {
  readonly runId: string;
  readonly table: string;
  readonly saveSnapshots: boolean;
  readonly logger: AgentLogger;
  /** First retry delay after a failure, ms (default 1,000); doubles up to `retryMaxMs`. */
  readonly retryInitialMs?: number;
  /** Longest retry delay, ms (default 30,000). */
  readonly retryMaxMs?: number;
  /** Longest a healthy flush waits for the store, ms (default 2,000). */
  readonly flushWaitMs?: number;
  /** Longest `close` waits for a last catch-up and for the store to close, ms (default 10,000). */
  readonly closeWaitMs?: number;
  /** Records kept in memory during an outage before the mirror re-reads the journal instead (default 50,000). */
  readonly maxBuffered?: number;
  /** Wall clock (tests), default Date.now. */
  readonly clock?: () => number;
}

interface Item {
  readonly index: number;
  readonly record: JournalRecord;
}

const timeout = (ms: number) =>
  new Promise<"timeout">((done) => {
    const t = setTimeout(() => done("timeout"), ms);
    t.unref?.();
  });

export class JournalStoreMirror {
  /** Records inserted into the store by this process (records already there are not counted). */
  mirrored = 0;
  snapshotsSaved = 0;
  /** Chain snapshots not saved because the store was down at their tick. */
  snapshotsSkipped = 0;
  /** Outages seen (each logged once). */
  outages = 0;
  private lastSavedTime = Number.NaN;
  /** Records waiting for the store, in journal order, from `head`. */
  private queue: Item[] = [];
  private head = 0;
  /** 1 + the highest journal index queued or known to be in the store. */
  private queuedTo = 0;
  /** Every journal index below this one is in the store. */
  private storedTo = 0;
  /** The buffer overflowed: the records from `storedTo` on are re-read from the journal file. */
  private fromJournal = false;
  private pendingSnapshot: ChainSnapshot | null = null;
  private down: { since: number; attempts: number; buffered: number } | null = null;
  private retryAt = 0;
  private delay: number;
  private draining: Promise<void> | null = null;
  private readonly clock: () => number;

  constructor(
    private readonly store: SnapshotStore,
    private readonly journal: MirroredJournal,
    private readonly options: JournalStoreMirrorOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.delay = options.retryInitialMs ?? 1_000;
  }

  /** Records not yet in the store (buffered or to re-read from the journal). */
  get unmirrored(): number {
    return this.fromJournal ? Math.max(0, this.queuedTo - this.storedTo) : this.queue.length - this.head;
  }

  /** True while the store is failing. */
  get outage(): boolean {
    return this.down !== null;
  }

  /** Resolves when no store write is in flight (a background retry included); never rejects. */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Copies every journal line to the store (idempotent); used at start, before the loop. */
  async syncAll(): Promise<void> {
    let records: JournalRecord[];
    try {
      records = this.journal.read().records;
    } catch (err) {
      // A corrupt journal is the agent's to report (its own read fails with the line).
      this.options.logger.error({ error: (err as Error).message }, "store mirror: journal unreadable");
      return;
    }
    this.queue = records.map((record, index) => ({ index, record }));
    this.head = 0;
    this.queuedTo = records.length;
    this.storedTo = 0;
    this.fromJournal = false;
    await this.wait(this.kick(), this.options.flushWaitMs ?? 2_000);
  }

  /** Copies what was appended since the last flush, and the tick's chain when asked to. */
  async flush(snapshot: ChainSnapshot | null): Promise<void> {
    try {
      this.enqueue(this.journal.take());
      if (this.options.saveSnapshots && snapshot && snapshot.valuationTime !== this.lastSavedTime) {
        if (this.pendingSnapshot && this.pendingSnapshot.valuationTime !== snapshot.valuationTime)
          this.snapshotsSkipped++;
        this.pendingSnapshot = snapshot;
      }
      if (this.down && this.clock() < this.retryAt) return; // backing off: the store is not touched
      const drain = this.kick();
      // A retry during an outage runs in the background; a healthy flush waits (bounded).
      if (!this.down) await this.wait(drain, this.options.flushWaitMs ?? 2_000);
    } catch (err) {
      this.options.logger.error({ error: (err as Error).message }, "store mirror: flush failed");
    }
  }

  /** A last catch-up (whatever the backoff), then the store is closed; never throws. */
  async close(): Promise<void> {
    const budget = this.options.closeWaitMs ?? 10_000;
    const deadline = this.clock() + budget;
    try {
      this.enqueue(this.journal.take());
      if (this.unmirrored > 0 || this.pendingSnapshot || this.draining) {
        // One last attempt even in backoff; a drain in flight is awaited first.
        if (this.draining) await this.wait(this.draining, budget);
        if (this.unmirrored > 0 || this.pendingSnapshot)
          await this.wait(this.kick(), Math.max(0, deadline - this.clock()));
      }
      if (this.unmirrored > 0)
        this.options.logger.warn(
          { unmirrored: this.unmirrored, fromLine: this.storedTo, mirrored: this.mirrored },
          "store mirror incomplete at exit: the journal keeps these records and the next start mirrors them",
        );
    } catch (err) {
      this.options.logger.error({ error: (err as Error).message }, "store mirror: close failed");
    }
    try {
      await this.wait(
        this.store.close().catch(() => undefined),
        Math.max(1_000, deadline - this.clock()),
      );
    } catch {
      // Closing a store that went away can fail; nothing is left to save.
    }
  }

  private async wait(p: Promise<unknown>, ms: number): Promise<void> {
    await Promise.race([p, timeout(ms)]);
  }

  private enqueue(items: readonly Item[]): void {
    for (const it of items) {
      if (it.index < this.queuedTo) continue; // already queued (or re-read from the journal)
      this.queuedTo = it.index + 1;
      if (!this.fromJournal) this.queue.push(it);
    }
    const max = this.options.maxBuffered ?? 50_000;
    if (!this.fromJournal && this.queue.length - this.head > max) {
      // The journal file has them all: stop holding them in memory.
      this.fromJournal = true;
      this.queue = [];
      this.head = 0;
    }
  }

  /** Starts a drain unless one is running; the promise never rejects. */
  private kick(): Promise<void> {
    if (!this.draining)
      this.draining = this.drain().finally(() => {
        this.draining = null;
      });
    return this.draining;
  }

  private async drain(): Promise<void> {
    let sent = 0;
    try {
      if (this.fromJournal) {
        const records = new Journal<JournalRecord>(this.journal.path).read().records;
        this.queue = [];
        this.head = 0;
        for (let i = this.storedTo; i < records.length; i++)
          this.queue.push({ index: i, record: records[i] as JournalRecord });
        this.queuedTo = Math.max(this.queuedTo, records.length);
        this.fromJournal = false;
      }
      while (this.head < this.queue.length) {
        const { index, record } = this.queue[this.head] as Item;
        if (await this.store.appendRecord(this.options.table, `${this.options.runId}:${index}`, record))
          this.mirrored++;
        sent++;
        this.head++;
        this.storedTo = index + 1;
        if (this.head > 4_096 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
      const snap = this.pendingSnapshot;
      if (snap) {
        await this.store.saveChain(snap);
        this.lastSavedTime = snap.valuationTime;
        this.snapshotsSaved++;
        if (this.pendingSnapshot === snap) this.pendingSnapshot = null;
      }
      if (this.down) {
        this.options.logger.warn(
          {
            outageMs: this.clock() - this.down.since,
            attempts: this.down.attempts,
            caughtUp: sent,
            bufferedAtFailure: this.down.buffered,
            snapshotsSkipped: this.snapshotsSkipped,
          },
          "store mirror reconnected: caught up from the journal",
        );
        this.down = null;
      }
      this.delay = this.options.retryInitialMs ?? 1_000;
    } catch (err) {
      const now = this.clock();
      if (!this.down) {
        this.down = { since: now, attempts: 1, buffered: this.unmirrored };
        this.outages++;
        this.options.logger.error(
          {
            error: (err as Error).message,
            unmirrored: this.unmirrored,
            retryInMs: this.delay,
          },
          "store mirror failed: records stay in the journal and are buffered; retrying with backoff (logged once per outage)",
        );
      } else this.down.attempts++;
      this.retryAt = now + this.delay;
      this.delay = Math.min(2 * this.delay, this.options.retryMaxMs ?? 30_000);
    }
  }
}
