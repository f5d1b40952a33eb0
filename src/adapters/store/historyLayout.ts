/**
 * Layout of the columnar history in a DuckDB store directory (src/adapters/store/duckdb.ts):
 *
 *   history/<table>/<batch>.parquet   one Parquet file per table per ingest run ("batch")
 *   store.duckdb: history_files       the manifest: one row per source file (its name, the batch
 *                                     holding its rows, rows read / accepted / rejected, warnings)
 *
 * Tables (all instants epoch ms UTC, prices as the venue quotes them):
 *   quotes      one row per accepted option row: src, batch, line, underlying, valuation_time,
 *               instrument, ts, expiry, strike, kind, bid, ask, mark (coin for inverse options),
 *               mark_iv (decimal), underlying_price (USD), underlying_name, open_interest, volume;
 *               Tardis rows also bid_size, ask_size, bid_iv, ask_iv (tardis = true)
 *   chains      one row per (file, underlying): valuation_time, index_price (USD)
 *   futures     dated futures quoted by the rows of a chain: name, expiry, ts, mark (USD)
 *   rejects     one row per rejected row: src, line, reason, detail, row_json (the raw fields)
 *   perpetuals  perpetual prices (USD) per instant: underlying, time, name, price, bid, ask
 *   delivery    venue delivery (settlement) prices: underlying, expiry, price (USD), source
 * Re-ingesting a file of the same name supersedes its earlier rows: readers see a row only when
 * (src, batch) is the file's current batch in history_files (the views below).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const HISTORY_TABLES = ["quotes", "chains", "futures", "rejects", "perpetuals", "delivery"] as const;
export type HistoryTable = (typeof HISTORY_TABLES)[number];

export const sqlStr = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Column types of one option quote as the history stores it (the quotes table) and as the SQL
 * ingest of Deribit files stages it (ingestDeribit.ts ACC_COLUMNS): one list, so the two agree.
 */
export const OPTION_QUOTE_COLUMNS = {
  expiry: "BIGINT",
  strike: "DOUBLE",
  kind: "VARCHAR",
  bid: "DOUBLE",
  ask: "DOUBLE",
  mark: "DOUBLE",
  mark_iv: "DOUBLE",
  underlying_price: "DOUBLE",
  underlying_name: "VARCHAR",
  open_interest: "DOUBLE",
  volume: "DOUBLE",
} as const;

/** Column types of each table (also the empty view when no Parquet file exists yet). */
export const HISTORY_COLUMNS: Record<HistoryTable, Record<string, string>> = {
  quotes: {
    src: "VARCHAR",
    batch: "VARCHAR",
    line: "BIGINT",
    underlying: "VARCHAR",
    valuation_time: "BIGINT",
    instrument: "VARCHAR",
    ts: "BIGINT",
    ...OPTION_QUOTE_COLUMNS,
    bid_size: "DOUBLE",
    ask_size: "DOUBLE",
    bid_iv: "DOUBLE",
    ask_iv: "DOUBLE",
    /** true for a Tardis quote (sizes and side IVs, no volume), false for a Deribit snapshot row. */
    tardis: "BOOLEAN",
  },
  chains: {
    src: "VARCHAR",
    batch: "VARCHAR",
    underlying: "VARCHAR",
    valuation_time: "BIGINT",
    index_price: "DOUBLE",
    quotes: "BIGINT",
  },
  futures: {
    src: "VARCHAR",
    batch: "VARCHAR",
    underlying: "VARCHAR",
    valuation_time: "BIGINT",
    name: "VARCHAR",
    expiry: "BIGINT",
    ts: "BIGINT",
    mark: "DOUBLE",
  },
  rejects: {
    src: "VARCHAR",
    batch: "VARCHAR",
    line: "BIGINT",
    reason: "VARCHAR",
    detail: "VARCHAR",
    row_json: "VARCHAR",
  },
  perpetuals: {
    src: "VARCHAR",
    batch: "VARCHAR",
    underlying: "VARCHAR",
    time: "BIGINT",
    name: "VARCHAR",
    price: "DOUBLE",
    bid: "DOUBLE",
    ask: "DOUBLE",
  },
  delivery: {
    src: "VARCHAR",
    batch: "VARCHAR",
    underlying: "VARCHAR",
    expiry: "BIGINT",
    price: "DOUBLE",
  },
};

/** The manifest's columns (history_files; the Postgres store's volfolio_h_files). */
export const MANIFEST_COLUMNS: Readonly<Record<string, string>> = {
  src: "VARCHAR",
  path: "VARCHAR",
  format: "VARCHAR",
  batch: "VARCHAR",
  rows_read: "BIGINT",
  accepted: "BIGINT",
  rejected: "BIGINT",
  warnings: "VARCHAR",
  ingested_at: "BIGINT",
  superseded: "BIGINT",
};

export const MANIFEST_DDL = `CREATE TABLE IF NOT EXISTS history_files (
  src VARCHAR PRIMARY KEY, path VARCHAR, format VARCHAR, batch VARCHAR, rows_read BIGINT,
  accepted BIGINT, rejected BIGINT, warnings VARCHAR, ingested_at BIGINT, superseded BIGINT DEFAULT 0)`;

export const historyDir = (storeDir: string, table: HistoryTable): string => join(storeDir, "history", table);

/** SQL creating the view h_<table> over the current batches of `table` (an empty view when none). */
export function historyViewSql(storeDir: string, table: HistoryTable): string {
  const dir = historyDir(storeDir, table);
  const cols = HISTORY_COLUMNS[table];
  const hasFiles = existsSync(dir) && readdirSync(dir).some((f) => f.endsWith(".parquet"));
  if (!hasFiles) {
    const sel = Object.entries(cols)
      .map(([c, t]) => `NULL::${t} AS ${c}`)
      .join(", ");
    return `CREATE OR REPLACE VIEW h_${table} AS SELECT ${sel} WHERE false`;
  }
  return `CREATE OR REPLACE VIEW h_${table} AS SELECT t.* FROM read_parquet(${sqlStr(join(dir, "*.parquet"))}, union_by_name = true) t SEMI JOIN history_files f ON f.src = t.src AND f.batch = t.batch`;
}
