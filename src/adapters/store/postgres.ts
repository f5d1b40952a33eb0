/**
 * Postgres snapshot store (pg) behind the same SnapshotStore interface as the DuckDB backend.
 * Tables (created on first use): volfolio_chains (one row per snapshot, chain_json = index price
 * and futures), volfolio_quotes (one row per option quote: queryable columns + exact quote_json),
 * volfolio_records (append-only keyed JSON rows). Text JSON keeps a saved chain deep-equal on load.
 * The connection string comes from the caller (e.g. env VOLFOLIO_PG_URL) and is never logged.
 * The columnar history of `volfolio store ingest` has its Postgres tables (same schema) in
 * postgresHistory.ts, written through `transaction`.
 *
 * A server that goes away (restart, failover, network cut, pg_terminate_backend) never crashes
 * the process: pg emits 'error' on idle pooled connections and on a checked-out client between
 * queries, and an unhandled 'error' event ends a Node process, so the pool and every checked-out
 * client have a listener (the error is kept as `lastError` and passed to `onError`). The failed
 * call rejects, the broken connection is discarded, and the next call connects anew (the pool
 * reconnects on demand; callers choose their retry policy, e.g. agent/storeMirror.ts backs off).
 * A black-holed server cannot hang a call forever: connections time out after
 * `connectTimeoutMs` and queries after `queryTimeoutMs`, and TCP keepalive is on.
 */
import pg from "pg";
import { z } from "zod";
import type { ChainSnapshot } from "../../core/market/types.js";
import type { ListSnapshotsQuery, SnapshotRef, SnapshotStore, StoredRecord } from "./types.js";

const ident = z.string().regex(/^[A-Za-z0-9_]{1,63}$/, "letters, digits and _ only");

const SCHEMA = `
CREATE TABLE IF NOT EXISTS volfolio_chains (
  underlying TEXT NOT NULL, valuation_time BIGINT NOT NULL, date DATE NOT NULL,
  index_price DOUBLE PRECISION NOT NULL, chain_json TEXT NOT NULL, quotes INT NOT NULL,
  PRIMARY KEY (underlying, valuation_time));
CREATE TABLE IF NOT EXISTS volfolio_quotes (
  underlying TEXT NOT NULL, valuation_time BIGINT NOT NULL, seq INT NOT NULL,
  instrument TEXT NOT NULL, expiry BIGINT, strike DOUBLE PRECISION, kind TEXT,
  bid DOUBLE PRECISION, ask DOUBLE PRECISION, mark DOUBLE PRECISION, mark_iv DOUBLE PRECISION,
  quote_json TEXT NOT NULL, PRIMARY KEY (underlying, valuation_time, seq));
CREATE TABLE IF NOT EXISTS volfolio_records (
  tbl TEXT NOT NULL, key TEXT NOT NULL, seq BIGSERIAL, json TEXT NOT NULL, PRIMARY KEY (tbl, key));`;

export interface PostgresStoreOptions {
  /** Called with each connection error the pool reports outside a call (never thrown). */
  readonly onError?: (err: Error) => void;
  /** Connection timeout, ms (default 3,000). */
  readonly connectTimeoutMs?: number;
  /** Client-side query timeout, ms (default 30,000). */
  readonly queryTimeoutMs?: number;
}

export class PostgresSnapshotStore implements SnapshotStore {
  /** The last connection error reported outside a call (idle or checked-out connection lost). */
  lastError: Error | null = null;
  private readonly onClientError: (err: Error) => void;

  private constructor(
    private readonly pool: pg.Pool,
    onError?: (err: Error) => void,
  ) {
    this.onClientError = (err: Error) => {
      this.lastError = err;
      try {
        onError?.(err);
      } catch {
        // A listener must not turn a connection error into a crash.
      }
    };
    pool.on("error", this.onClientError);
  }

  /** Connects and creates the tables if needed. */
  static async open(
    connectionString: string,
    options: PostgresStoreOptions = {},
  ): Promise<PostgresSnapshotStore> {
    const pool = new pg.Pool({
      connectionString,
      max: 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      query_timeout: options.queryTimeoutMs ?? 30_000,
      keepAlive: true,
    });
    const store = new PostgresSnapshotStore(pool, options.onError);
    try {
      await pool.query(SCHEMA);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  /**
   * Runs `fn` in one transaction on one pooled client: committed when it returns, rolled back when
   * it throws (the connection may be gone: the transaction then ended with it, and the client is
   * discarded, not returned to the pool).
   */
  async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    // A checked-out client has no pool listener: without this one a lost connection between two
    // queries would be an unhandled 'error' event.
    c.on("error", this.onClientError);
    let failure: Error | undefined;
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      failure = err as Error;
      await c.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      c.off("error", this.onClientError);
      c.release(failure);
    }
  }

  async saveChain(snapshot: ChainSnapshot): Promise<SnapshotRef> {
    const { quotes, ...rest } = snapshot;
    await this.transaction(async (c) => {
      const key = [snapshot.underlying, snapshot.valuationTime];
      await c.query("DELETE FROM volfolio_quotes WHERE underlying = $1 AND valuation_time = $2", key);
      await c.query("DELETE FROM volfolio_chains WHERE underlying = $1 AND valuation_time = $2", key);
      await c.query(
        "INSERT INTO volfolio_chains VALUES ($1, $2::bigint, (to_timestamp($2::bigint / 1000.0) AT TIME ZONE 'UTC')::date, $3, $4, $5)",
        [
          snapshot.underlying,
          snapshot.valuationTime,
          snapshot.indexPrice,
          JSON.stringify(rest),
          quotes.length,
        ],
      );
      const cols = 12;
      for (let start = 0; start < quotes.length; start += 500) {
        const part = quotes.slice(start, start + 500);
        const values: unknown[] = [];
        const tuples = part.map((q, j) => {
          values.push(
            snapshot.underlying,
            snapshot.valuationTime,
            start + j,
            q.instrument.name,
            q.instrument.expiry,
          );
          values.push(
            q.instrument.strike,
            q.instrument.kind,
            q.bid,
            q.ask,
            q.mark,
            q.markIv ?? null,
            JSON.stringify(q),
          );
          return `(${Array.from({ length: cols }, (_, k) => `$${j * cols + k + 1}`).join(",")})`;
        });
        await c.query(`INSERT INTO volfolio_quotes VALUES ${tuples.join(",")}`, values);
      }
    });
    return { underlying: snapshot.underlying, valuationTime: snapshot.valuationTime, quotes: quotes.length };
  }

  async listSnapshots(query: ListSnapshotsQuery = {}): Promise<SnapshotRef[]> {
    const r = await this.pool.query(
      `SELECT underlying, valuation_time, quotes FROM volfolio_chains
       WHERE ($1::text IS NULL OR underlying = $1) AND ($2::bigint IS NULL OR valuation_time >= $2)
         AND ($3::bigint IS NULL OR valuation_time <= $3) ORDER BY underlying, valuation_time`,
      [query.underlying ?? null, query.from ?? null, query.to ?? null],
    );
    return r.rows.map((x) => ({
      underlying: String(x.underlying),
      valuationTime: Number(x.valuation_time),
      quotes: Number(x.quotes),
    }));
  }

  async loadChain(underlying: string, valuationTime: number): Promise<ChainSnapshot | null> {
    const head = await this.pool.query(
      "SELECT chain_json FROM volfolio_chains WHERE underlying = $1 AND valuation_time = $2",
      [underlying, valuationTime],
    );
    if (head.rows.length === 0) return null;
    const q = await this.pool.query(
      "SELECT quote_json FROM volfolio_quotes WHERE underlying = $1 AND valuation_time = $2 ORDER BY seq",
      [underlying, valuationTime],
    );
    const rest = JSON.parse(String(head.rows[0].chain_json)) as Omit<ChainSnapshot, "quotes">;
    return { ...rest, quotes: q.rows.map((r) => JSON.parse(String(r.quote_json))) } as ChainSnapshot;
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    return (await this.pool.query(sql)).rows;
  }

  async appendRecord(table: string, key: string, json: unknown): Promise<boolean> {
    const r = await this.pool.query(
      "INSERT INTO volfolio_records (tbl, key, json) VALUES ($1, $2, $3) ON CONFLICT (tbl, key) DO NOTHING",
      [ident.parse(table), key, JSON.stringify(json)],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async readRecords(table: string): Promise<StoredRecord[]> {
    const r = await this.pool.query("SELECT key, json FROM volfolio_records WHERE tbl = $1 ORDER BY seq", [
      ident.parse(table),
    ]);
    return r.rows.map((x) => ({ key: String(x.key), json: JSON.parse(String(x.json)) }));
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
