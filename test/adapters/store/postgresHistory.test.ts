/**
 * The history in Postgres (src/adapters/store/postgresHistory.ts), the shared-server store: same
 * schema as the DuckDB store (HISTORY_COLUMNS, checked in information_schema) and, for the same
 * small files ingested into both, the same rows in every table (quotes, chains, futures, rejects
 * with their reasons, perpetual and delivery prices) and the same manifest counts. A real
 * PostgreSQL (pgCluster.ts); skipped, with a warning, when none can be had.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDbSnapshotStore } from "../../../src/adapters/store/duckdb.js";
import {
  HISTORY_COLUMNS,
  HISTORY_TABLES,
  MANIFEST_COLUMNS,
} from "../../../src/adapters/store/historyLayout.js";
import { ingestHistory } from "../../../src/adapters/store/ingest.js";
import { PostgresSnapshotStore } from "../../../src/adapters/store/postgres.js";
import { ingestHistoryPostgres, pgHistoryTable } from "../../../src/adapters/store/postgresHistory.js";
import { craftedCsv } from "./historyFixtures.js";
import { type TestPostgres, testPostgres } from "./pgCluster.js";

const server = await testPostgres();
if (typeof server === "string") console.warn(`postgres history tests skipped: ${server}`);

/** The small files: the crafted Deribit CSV (plain and gzipped), perpetual and delivery prices. */
function writeInputs(dir: string): string {
  const inDir = join(dir, "in");
  mkdirSync(inDir, { recursive: true });
  const { text } = craftedCsv();
  writeFileSync(join(inDir, "deribit_options_snapshot_20260110T091409Z.csv"), text);
  const day2 = text.replaceAll("2026-01-10T09:14:09", "2026-01-11T09:14:09");
  writeFileSync(join(inDir, "deribit_options_snapshot_20260111T091409Z.csv.gz"), gzipSync(Buffer.from(day2)));
  const t = Date.UTC(2026, 0, 10, 9, 14, 9);
  const perpHeader =
    "snapshot_timestamp_ms,coin,instrument_name,accepted_under_max_gap,candle_price_used,perp_futures_mark_price,perp_futures_best_bid,perp_futures_best_ask";
  const perp = [
    perpHeader,
    `${t},BTC,BTC-PERPETUAL,True,90550.5,90551,90550,90552`,
    `${t},BTC,ETH-PERPETUAL,True,1,,,`,
  ];
  writeFileSync(join(inDir, "perpetual_futures_prices.csv"), `${perp.join("\n")}\n`);
  writeFileSync(
    join(inDir, "delivery_prices.csv"),
    "index_name,date,delivery_price\nbtc_usd,2026-03-27,91000.5\nbtc_usd,x,1\n",
  );
  return inDir;
}

/** Every row of a table as text (numbers by value), `batch` left out, sorted. */
function canonical(
  rows: readonly Record<string, unknown>[],
  types: Readonly<Record<string, string>>,
): string[] {
  const cols = Object.keys(types).filter((c) => c !== "batch" && c !== "ingested_at" && c !== "path");
  return rows
    .map((r) =>
      JSON.stringify(
        cols.map((c) => {
          const v = r[c];
          if (v === null || v === undefined) return null;
          return types[c] === "VARCHAR" || types[c] === "BOOLEAN" ? String(v) : Number(v);
        }),
      ),
    )
    .sort();
}

describe.skipIf(typeof server === "string")("history in Postgres: same schema, same rows as DuckDB", () => {
  const pgServer = server as TestPostgres;
  let dir = "";
  let duck: DuckDbSnapshotStore;
  let store: PostgresSnapshotStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "volfolio-pghistory-"));
    duck = await DuckDbSnapshotStore.open(join(dir, "duck"));
    store = await PostgresSnapshotStore.open(pgServer.url);
    const tables = [...HISTORY_TABLES, "files" as const].map(pgHistoryTable).join(", ");
    await store.query(`DROP TABLE IF EXISTS ${tables}`);
  }, 60_000);
  afterAll(async () => {
    await duck?.close();
    await store?.close();
    await pgServer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ingests the same files into both: same tables, columns, rows, rejects and counts", async () => {
    const inDir = writeInputs(dir);
    const a = await ingestHistory(duck, [inDir]);
    const b = await ingestHistoryPostgres(store, [inDir]);
    expect(b.files.map((f) => [f.src, f.rowsRead, f.accepted, f.rejected])).toEqual(
      a.files.map((f) => [f.src, f.rowsRead, f.accepted, f.rejected]),
    );
    expect(a.rejected).toBeGreaterThan(20);
    for (const t of HISTORY_TABLES) {
      const cols = await store.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${pgHistoryTable(t)}' ORDER BY ordinal_position`,
      );
      expect(cols.map((c) => c.column_name)).toEqual(Object.keys(HISTORY_COLUMNS[t]));
      const mine = canonical(await duck.query(`SELECT * FROM h_${t}`), HISTORY_COLUMNS[t]);
      const theirs = canonical(await store.query(`SELECT * FROM ${pgHistoryTable(t)}`), HISTORY_COLUMNS[t]);
      expect({ t, rows: theirs }).toEqual({ t, rows: mine });
    }
    const manifest = await store.query(`SELECT * FROM ${pgHistoryTable("files")}`);
    expect(canonical(manifest, MANIFEST_COLUMNS)).toEqual(
      canonical(await duck.query("SELECT * FROM history_files"), MANIFEST_COLUMNS),
    );
  }, 60_000);

  it("a file ingested again replaces its rows (no duplicates)", async () => {
    const inDir = join(dir, "in");
    await ingestHistoryPostgres(store, [join(inDir, "delivery_prices.csv")]);
    const n = await store.query(`SELECT count(*)::int AS n FROM ${pgHistoryTable("delivery")}`);
    expect(n[0]?.n).toBe(1);
    const r = await store.query(
      `SELECT count(*)::int AS n FROM ${pgHistoryTable("rejects")} WHERE src = 'delivery_prices.csv'`,
    );
    expect(r[0]?.n).toBe(1);
  }, 60_000);
});
