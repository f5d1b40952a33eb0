/**
 * Mirrors the agent's journal into the snapshot store (DuckDB or Postgres) so decisions,
 * orders and fills can be queried with SQL next to the chains they were made on. The journal
 * file stays the write-ahead log (fsync'ed before any order is sent); the mirror follows each
 * tick. Records are keyed `${runId}:${line}` and the store's append is insert-if-absent, so a
 * restart re-mirrors the whole journal without duplicating anything.
 */
import { Journal, type JournalRead } from "../adapters/journal.js";
import { DuckDbSnapshotStore } from "../adapters/store/duckdb.js";
import { PostgresSnapshotStore } from "../adapters/store/postgres.js";
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
  if (store.type === "duckdb") return DuckDbSnapshotStore.open(store.dir);
  const url = store.url ?? env.VOLFOLIO_PG_URL;
  if (!url) throw new Error("store.url is missing and VOLFOLIO_PG_URL is not set");
  return PostgresSnapshotStore.open(url);
}

export class JournalStoreMirror {
  mirrored = 0;
  snapshotsSaved = 0;
  private lastSavedTime = Number.NaN;

  constructor(
    private readonly store: SnapshotStore,
    private readonly journal: MirroredJournal,
    private readonly options: { runId: string; table: string; saveSnapshots: boolean; logger: AgentLogger },
  ) {}

  /** Copies every journal line to the store (idempotent); used at start, before the loop. */
  async syncAll(): Promise<void> {
    const { records } = this.journal.read();
    for (let i = 0; i < records.length; i++) await this.put(i, records[i] as JournalRecord);
  }

  /** Copies what was appended since the last flush, and the tick's chain when asked to. */
  async flush(snapshot: ChainSnapshot | null): Promise<void> {
    try {
      for (const { index, record } of this.journal.take()) await this.put(index, record);
      if (this.options.saveSnapshots && snapshot && snapshot.valuationTime !== this.lastSavedTime) {
        await this.store.saveChain(snapshot);
        this.lastSavedTime = snapshot.valuationTime;
        this.snapshotsSaved++;
      }
    } catch (err) {
      // The journal is authoritative; a store outage is logged and the next syncAll repairs it.
      this.options.logger.error({ error: (err as Error).message }, "store mirror failed");
    }
  }

  private async put(index: number, record: JournalRecord): Promise<void> {
    if (await this.store.appendRecord(this.options.table, `${this.options.runId}:${index}`, record))
      this.mirrored++;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
