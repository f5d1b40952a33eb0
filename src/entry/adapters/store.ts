/**
 * `volfolio/adapters/store`: the snapshot store (DuckDB embedded, PostgreSQL shared) and the backtest data
 * loaders; loads @duckdb/node-api and pg.
 */
export type {
  ListSnapshotsQuery,
  SnapshotRef,
  SnapshotStore,
  StoredRecord,
} from "../../adapters/store/types.js";
export { DuckDbSnapshotStore } from "../../adapters/store/duckdb.js";
export { PostgresSnapshotStore } from "../../adapters/store/postgres.js";
export type { PostgresStoreOptions } from "../../adapters/store/postgres.js";
export { loadBacktestData, loadBacktestStore } from "../../adapters/backtestData.js";
export type { BacktestDataResult, BacktestStoreResult } from "../../adapters/backtestData.js";
