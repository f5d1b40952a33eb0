/**
 * The columnar history (historyLayout.ts) in Postgres: the shared-server store, with the same
 * schema. One table per history table, volfolio_h_<table>, with the columns of HISTORY_COLUMNS
 * (the DDL is generated from them, so the two stores cannot drift: VARCHAR -> TEXT, DOUBLE ->
 * DOUBLE PRECISION, BIGINT and BOOLEAN as they are), and the manifest volfolio_h_files (the
 * columns of DuckDB's history_files). Rows are validated once, by the DuckDB ingest (ingest.ts:
 * the same SQL rules, rejects and counts) into a throwaway DuckDB store, then copied; a file
 * ingested again replaces its rows (delete by src, insert, in one transaction).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { DuckDbSnapshotStore } from "./duckdb.js";
import { HISTORY_COLUMNS, HISTORY_TABLES, type HistoryTable, MANIFEST_COLUMNS } from "./historyLayout.js";
import { type IngestOptions, type IngestReport, ingestHistory } from "./ingest.js";

const PG_TYPE: Readonly<Record<string, string>> = {
  VARCHAR: "TEXT",
  BIGINT: "BIGINT",
  INTEGER: "INTEGER",
  DOUBLE: "DOUBLE PRECISION",
  BOOLEAN: "BOOLEAN",
};

/** The Postgres table of a history table (or of the manifest, "files"). */
export const pgHistoryTable = (t: HistoryTable | "files"): string => `volfolio_h_${t}`;

function pgType(t: string): string {
  const out = PG_TYPE[t];
  if (!out) throw new Error(`store: no Postgres type for ${t}`);
  return out;
}

/** DDL of the Postgres history tables, from HISTORY_COLUMNS (same names, same order). */
export function pgHistoryDdl(): string {
  const table = (name: string, cols: Readonly<Record<string, string>>, key = "") =>
    `CREATE TABLE IF NOT EXISTS ${name} (${Object.entries(cols)
      .map(([c, t]) => `${c} ${pgType(t)}`)
      .join(", ")}${key});`;
  const tables = HISTORY_TABLES.map((t) => table(pgHistoryTable(t), HISTORY_COLUMNS[t]));
  const index = HISTORY_TABLES.map(
    (t) => `CREATE INDEX IF NOT EXISTS ${pgHistoryTable(t)}_src ON ${pgHistoryTable(t)} (src);`,
  );
  return [...tables, ...index, table(pgHistoryTable("files"), MANIFEST_COLUMNS, ", PRIMARY KEY (src)")].join(
    "\n",
  );
}

/** A client of the Postgres store (its pool's), for one transaction. */
export type PgClient = Pick<pg.PoolClient, "query">;

const BATCH_ROWS = 5000;

/** Rows of a DuckDB query, BIGINT read as numbers (epoch ms and counts fit a double exactly). */
async function duckRows(
  duck: DuckDbSnapshotStore,
  from: string,
  cols: Readonly<Record<string, string>>,
): Promise<Record<string, unknown[]>> {
  const sel = Object.entries(cols)
    .map(([c, t]) => (t === "BIGINT" ? `${c}::DOUBLE AS ${c}` : c))
    .join(", ");
  const r = await duck.connection.runAndReadAll(`SELECT ${sel} FROM ${from}`);
  return r.getColumnsObjectJS() as Record<string, unknown[]>;
}

/** Inserts column arrays into a Postgres table, BATCH_ROWS at a time (one unnest per batch). */
async function insertColumns(
  c: PgClient,
  table: string,
  types: Readonly<Record<string, string>>,
  cols: Record<string, unknown[]>,
): Promise<void> {
  const names = Object.keys(types);
  const n = cols[names[0] ?? ""]?.length ?? 0;
  const unnest = names.map((name, i) => `$${i + 1}::${pgType(types[name] ?? "")}[]`).join(", ");
  for (let start = 0; start < n; start += BATCH_ROWS) {
    const params = names.map((name) => (cols[name] ?? []).slice(start, start + BATCH_ROWS));
    await c.query(`INSERT INTO ${table} (${names.join(", ")}) SELECT * FROM unnest(${unnest})`, params);
  }
}

/** Copies the current history rows of `duck`'s files into Postgres, replacing those files' rows. */
async function copyHistory(c: PgClient, duck: DuckDbSnapshotStore, srcs: readonly string[]): Promise<void> {
  for (const t of [...HISTORY_TABLES, "files" as const])
    await c.query(`DELETE FROM ${pgHistoryTable(t)} WHERE src = ANY($1::text[])`, [srcs]);
  for (const t of HISTORY_TABLES)
    await insertColumns(
      c,
      pgHistoryTable(t),
      HISTORY_COLUMNS[t],
      await duckRows(duck, `h_${t}`, HISTORY_COLUMNS[t]),
    );
  const manifest = await duckRows(duck, "history_files", MANIFEST_COLUMNS);
  await insertColumns(c, pgHistoryTable("files"), MANIFEST_COLUMNS, manifest);
}

/** What the Postgres history needs of the store: a transaction on one client. */
export interface PgHistoryTarget {
  transaction<T>(fn: (c: PgClient) => Promise<T>): Promise<T>;
}

/**
 * Ingests `inputs` into the Postgres history: validated by the DuckDB ingest (same rules, rejects
 * and counts: its report is returned) in a throwaway store, then copied in one transaction.
 */
export async function ingestHistoryPostgres(
  target: PgHistoryTarget,
  inputs: readonly string[],
  options: IngestOptions = {},
): Promise<IngestReport> {
  const dir = mkdtempSync(join(tmpdir(), "volfolio-pg-ingest-"));
  const duck = await DuckDbSnapshotStore.open(dir);
  try {
    const report = await ingestHistory(duck, inputs, options);
    await target.transaction(async (c) => {
      await c.query(pgHistoryDdl());
      await copyHistory(
        c,
        duck,
        report.files.map((f) => f.src),
      );
    });
    return report;
  } finally {
    await duck.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
