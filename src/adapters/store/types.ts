/**
 * Snapshot store interface shared by the DuckDB (embedded, Parquet) and Postgres backends.
 * Instants are epoch ms UTC; a chain is identified by (underlying, valuationTime).
 */
import type { ChainSnapshot } from "../../core/market/types.js";

export interface SnapshotRef {
  readonly underlying: string;
  /** Epoch ms UTC. */
  readonly valuationTime: number;
  /** Option quotes saved. */
  readonly quotes: number;
}

export interface ListSnapshotsQuery {
  readonly underlying?: string;
  /** Inclusive lower bound, epoch ms. */
  readonly from?: number;
  /** Inclusive upper bound, epoch ms. */
  readonly to?: number;
}

export interface StoredRecord {
  readonly key: string;
  readonly json: unknown;
}

export interface SnapshotStore {
  /** Saves a chain (a chain with the same underlying and time is replaced). */
  saveChain(snapshot: ChainSnapshot): Promise<SnapshotRef>;
  listSnapshots(query?: ListSnapshotsQuery): Promise<SnapshotRef[]>;
  /** The chain saved for (underlying, time), or null. */
  loadChain(underlying: string, valuationTime: number): Promise<ChainSnapshot | null>;
  /** Runs SQL; rows as plain JSON objects. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Append-only: inserts (table, key) -> json if the key is absent; returns true when inserted. */
  appendRecord(table: string, key: string, json: unknown): Promise<boolean>;
  /** Records of a table in insertion order. */
  readRecords(table: string): Promise<StoredRecord[]>;
  close(): Promise<void>;
}
