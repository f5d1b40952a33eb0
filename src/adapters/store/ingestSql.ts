/**
 * Small DuckDB helpers of the history ingest (ingest.ts, ingestDeribit.ts): staging tables,
 * appending JS rows, reading rows back, per-statement timing (VOLFOLIO_STORE_TIMING=1).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { HistoryTable } from "./historyLayout.js";

export type IngestFormat = "deribit-csv" | "tardis-csv" | "perpetual-csv" | "delivery-csv";

/** One input file, classified by its header. */
export interface IngestSource {
  readonly path: string;
  /** The file's name: its key in the manifest (a file ingested again replaces its rows). */
  readonly src: string;
  readonly gzip: boolean;
  readonly header: readonly string[];
  readonly format: IngestFormat | null;
  readonly reason?: string;
}

/**
 * The in-memory database of the staging tables, attached to the store's instance for the time of
 * an ingest: unlike TEMP tables (one connection's), every connection of the ingest appends to them.
 */
export const STAGE_DB = "volfolio_ingest";

/** Staging tables of one batch (in STAGE_DB), written to Parquet at the end. */
export const STAGE: Record<HistoryTable, string> = {
  quotes: `${STAGE_DB}.stage_quotes`,
  chains: `${STAGE_DB}.stage_chains`,
  futures: `${STAGE_DB}.stage_futures`,
  rejects: `${STAGE_DB}.stage_rejects`,
  perpetuals: `${STAGE_DB}.stage_perpetuals`,
  delivery: `${STAGE_DB}.stage_delivery`,
};

export type Cell = string | number | boolean | null;

/** A table `name` (TEMP unless qualified by a database, e.g. STAGE's) with these columns. */
export async function createTemp(
  conn: DuckDBConnection,
  name: string,
  cols: Readonly<Record<string, string>>,
): Promise<void> {
  const list = Object.entries(cols)
    .map(([c, t]) => `${c} ${t}`)
    .join(", ");
  const temp = name.includes(".") ? "" : "TEMP ";
  await conn.run(`CREATE OR REPLACE ${temp}TABLE ${name} (${list})`);
}

/** Appends rows (values in column order; numbers to DOUBLE/BIGINT/INTEGER by the table's types). */
export async function appendRows(
  conn: DuckDBConnection,
  table: string,
  types: readonly string[],
  rows: readonly (readonly Cell[])[],
): Promise<void> {
  if (rows.length === 0) return;
  const [db, name] = table.includes(".") ? table.split(".", 2) : [null, table];
  const app = await conn.createAppender(name ?? table, null, db);
  for (const r of rows) {
    for (const [i, v] of r.entries()) {
      const t = types[i];
      if (v === null || v === undefined) app.appendNull();
      else if (t === "BIGINT") app.appendBigInt(BigInt(v));
      else if (t === "INTEGER") app.appendInteger(Number(v));
      else if (t === "DOUBLE") app.appendDouble(Number(v));
      else if (t === "BOOLEAN") app.appendBoolean(Boolean(v));
      else app.appendVarchar(String(v));
    }
    app.endRow();
  }
  app.flushSync();
  app.closeSync();
}

export async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

const TIMING = process.env.VOLFOLIO_STORE_TIMING === "1";

async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const c0 = process.cpuUsage();
  const r = await f();
  const c = process.cpuUsage(c0);
  const what = label.replace(/\s+/g, " ").slice(0, 90);
  const cpu = ((c.user + c.system) / 1000).toFixed(0);
  process.stderr.write(`  ${(performance.now() - t).toFixed(0)} ms cpu ${cpu} ms ${what}\n`);
  return r;
}

/** The connection, printing each statement's wall and CPU time on stderr when VOLFOLIO_STORE_TIMING=1. */
export function ingestConnection(c: DuckDBConnection): DuckDBConnection {
  if (!TIMING) return c;
  return new Proxy(c, {
    get(target, prop, recv) {
      const v: unknown = Reflect.get(target, prop, recv);
      if (typeof v !== "function") return v;
      if (prop === "run" || prop === "runAndReadAll")
        return (sql: string, ...rest: unknown[]) => timed(sql, () => v.call(target, sql, ...rest));
      return v.bind(target);
    },
  });
}
