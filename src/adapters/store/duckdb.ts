/**
 * Embedded snapshot store on DuckDB (@duckdb/node-api).
 *
 * Layout under `dir`:
 *   chains/underlying=BTC/date=YYYY-MM-DD/<valuationTime>.parquet  one Parquet file per snapshot
 *   store.duckdb                                                  append-only records table
 * One Parquet row per option quote with queryable columns (instrument, expiry, strike, kind,
 * bid/ask/mark in the quote currency, vols decimal) plus `quote_json` (the exact quote) and
 * `chain_json` (index price, futures) so a saved chain loads back deep-equal (nulls kept).
 * SQL sees all snapshots as the view `chains` (read_parquet(..., hive_partitioning=true)).
 *
 * The columnar chain history (`volfolio store ingest`, ingest.ts) lives beside it under history/
 * (historyLayout.ts), with its manifest `history_files` in store.duckdb and the views h_quotes,
 * h_chains, h_futures, h_rejects, h_perpetuals, h_delivery.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import type { ChainSnapshot } from "../../core/market/types.js";
import { HISTORY_TABLES, historyViewSql, MANIFEST_DDL } from "./historyLayout.js";
import type { ListSnapshotsQuery, SnapshotRef, SnapshotStore, StoredRecord } from "./types.js";

const sqlStr = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = z.string().regex(/^[A-Za-z0-9_]{1,63}$/, "letters, digits and _ only");
const underlyingSchema = z.string().regex(/^[A-Z0-9_]{1,20}$/, "upper-case coin code");

/** UTC calendar date YYYY-MM-DD of an epoch-ms instant (the partition key). */
export function storeDatePartition(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class DuckDbSnapshotStore implements SnapshotStore {
  private constructor(
    readonly dir: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /** The store's DuckDB connection (history ingest and reads; one connection per store). */
  get connection(): DuckDBConnection {
    return this.conn;
  }

  /** Another connection to the store's database (parallel ingest work); the caller closes it. */
  connectMore(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  /** Re-creates the h_* views over the current history batches (after an ingest). */
  async refreshHistoryViews(): Promise<void> {
    for (const t of HISTORY_TABLES) await this.conn.run(historyViewSql(this.dir, t));
  }

  /** Opens (creating) a store in `dir`. */
  static async open(dir: string): Promise<DuckDbSnapshotStore> {
    mkdirSync(join(dir, "chains"), { recursive: true });
    const instance = await DuckDBInstance.create(join(dir, "store.duckdb"));
    const conn = await instance.connect();
    await conn.run(
      "CREATE TABLE IF NOT EXISTS records (tbl VARCHAR, key VARCHAR, seq BIGINT, json VARCHAR, PRIMARY KEY (tbl, key))",
    );
    await conn.run("CREATE SEQUENCE IF NOT EXISTS records_seq");
    await conn.run(MANIFEST_DDL);
    // stores made before Tardis files were ingestible have no superseded column
    await conn.run("ALTER TABLE history_files ADD COLUMN IF NOT EXISTS superseded BIGINT DEFAULT 0");
    const s = new DuckDbSnapshotStore(dir, instance, conn);
    await s.refreshView();
    await s.refreshHistoryViews();
    return s;
  }

  private files(): string[] {
    return readdirSync(join(this.dir, "chains"), { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".parquet"),
    );
  }

  private async refreshView(): Promise<void> {
    if (this.files().length === 0) {
      await this.conn.run(
        "CREATE OR REPLACE VIEW chains AS SELECT NULL::VARCHAR AS underlying, NULL::VARCHAR AS date, NULL::BIGINT AS valuation_time, NULL::VARCHAR AS instrument, NULL::VARCHAR AS quote_json, NULL::VARCHAR AS chain_json, NULL::BIGINT AS file_row_number WHERE false",
      );
      return;
    }
    const glob = join(this.dir, "chains", "**", "*.parquet");
    await this.conn.run(
      `CREATE OR REPLACE VIEW chains AS SELECT * FROM read_parquet(${sqlStr(glob)}, hive_partitioning=true, union_by_name=true, file_row_number=true)`,
    );
  }

  async saveChain(snapshot: ChainSnapshot): Promise<SnapshotRef> {
    const u = underlyingSchema.parse(snapshot.underlying);
    const date = storeDatePartition(snapshot.valuationTime);
    const partDir = join(this.dir, "chains", `underlying=${u}`, `date=${date}`);
    mkdirSync(partDir, { recursive: true });
    const { quotes, ...rest } = snapshot;
    const chainJson = JSON.stringify(rest);
    const tmp = join(partDir, `${snapshot.valuationTime}.ndjson.tmp`);
    const lines = quotes.map((q) =>
      JSON.stringify({
        valuation_time: snapshot.valuationTime,
        index_price: snapshot.indexPrice,
        instrument: q.instrument.name,
        expiry: q.instrument.expiry,
        strike: q.instrument.strike,
        kind: q.instrument.kind,
        bid: q.bid,
        ask: q.ask,
        mark: q.mark,
        mark_iv: q.markIv ?? null,
        quote_json: JSON.stringify(q),
        chain_json: chainJson,
      }),
    );
    // a chain without quotes is kept as one row with instrument NULL
    if (lines.length === 0)
      lines.push(
        JSON.stringify({
          valuation_time: snapshot.valuationTime,
          index_price: snapshot.indexPrice,
          chain_json: chainJson,
        }),
      );
    writeFileSync(tmp, `${lines.join("\n")}\n`);
    const out = join(partDir, `${snapshot.valuationTime}.parquet`);
    try {
      await this.conn.run(
        `COPY (SELECT * FROM read_json(${sqlStr(tmp)}, format='newline_delimited', columns={valuation_time:'BIGINT', index_price:'DOUBLE', instrument:'VARCHAR', expiry:'BIGINT', strike:'DOUBLE', kind:'VARCHAR', bid:'DOUBLE', ask:'DOUBLE', mark:'DOUBLE', mark_iv:'DOUBLE', quote_json:'VARCHAR', chain_json:'VARCHAR'})) TO ${sqlStr(out)} (FORMAT PARQUET)`,
      );
    } finally {
      rmSync(tmp, { force: true });
    }
    await this.refreshView();
    return { underlying: u, valuationTime: snapshot.valuationTime, quotes: quotes.length };
  }

  async listSnapshots(query: ListSnapshotsQuery = {}): Promise<SnapshotRef[]> {
    const where: string[] = [];
    if (query.underlying) where.push(`underlying = ${sqlStr(underlyingSchema.parse(query.underlying))}`);
    if (query.from !== undefined) where.push(`valuation_time >= ${Math.floor(query.from)}`);
    if (query.to !== undefined) where.push(`valuation_time <= ${Math.floor(query.to)}`);
    const rows = await this.query(
      `SELECT underlying, valuation_time, count(instrument) AS quotes FROM chains ${where.length ? `WHERE ${where.join(" AND ")}` : ""} GROUP BY ALL ORDER BY underlying, valuation_time`,
    );
    return rows.map((r) => ({
      underlying: String(r.underlying),
      valuationTime: Number(r.valuation_time),
      quotes: Number(r.quotes),
    }));
  }

  async loadChain(underlying: string, valuationTime: number): Promise<ChainSnapshot | null> {
    const u = underlyingSchema.parse(underlying);
    const rows = await this.query(
      `SELECT quote_json, chain_json FROM chains WHERE underlying = ${sqlStr(u)} AND valuation_time = ${Math.floor(valuationTime)} ORDER BY file_row_number`,
    );
    if (rows.length === 0) return null;
    const rest = JSON.parse(String(rows[0]?.chain_json)) as Omit<ChainSnapshot, "quotes">;
    const quotes = rows.filter((r) => r.quote_json !== null).map((r) => JSON.parse(String(r.quote_json)));
    return { ...rest, quotes } as ChainSnapshot;
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.conn.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  async appendRecord(table: string, key: string, json: unknown): Promise<boolean> {
    const t = ident.parse(table);
    const before = await this.conn.runAndReadAll(
      `SELECT count(*)::INT AS n FROM records WHERE tbl = $1 AND key = $2`,
      [t, key],
    );
    if (Number(before.getRowObjectsJson()[0]?.n) > 0) return false;
    await this.conn.run(
      "INSERT INTO records VALUES ($1, $2, nextval('records_seq'), $3) ON CONFLICT DO NOTHING",
      [t, key, JSON.stringify(json)],
    );
    return true;
  }

  async readRecords(table: string): Promise<StoredRecord[]> {
    const t = ident.parse(table);
    const r = await this.conn.runAndReadAll("SELECT key, json FROM records WHERE tbl = $1 ORDER BY seq", [t]);
    return r.getRowObjectsJson().map((row) => ({ key: String(row.key), json: JSON.parse(String(row.json)) }));
  }

  async close(): Promise<void> {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
