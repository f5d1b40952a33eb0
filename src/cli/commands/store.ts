/**
 * `volfolio store ingest DIR|FILE...` (chain history into the DuckDB store, Parquet on disk) and
 * `volfolio store info` (days, chains, rows, rejects by reason). Parse -> library -> format; the
 * store is src/adapters/store (ingest.ts, historyRead.ts). `store ingest --pg URL` writes the same
 * tables to the shared Postgres store instead (postgresHistory.ts).
 */
import type { Command } from "commander";
import type { HistoryInfo } from "../../adapters/store/historyRead.js";
import type { IngestReport } from "../../adapters/store/ingest.js";
import { output, formatTable } from "../io.js";

type Opts = Record<string, string | boolean | undefined>;

/** The store directory: --store, else VOLFOLIO_STORE, else ./volfolio-store. */
export function storeDir(o: Opts): string {
  return String(o.store ?? process.env.VOLFOLIO_STORE ?? "volfolio-store");
}

const iso = (t: number | null) => (t === null ? "-" : new Date(t).toISOString().slice(0, 16));

/** The ingest summary: rows/s, counts, the files with rejects or warnings, the skipped files. */
function formatIngest(r: IngestReport, where: string): string {
  const rate = Math.round((r.rowsRead * 1000) / Math.max(r.ms, 1)).toLocaleString("en-US");
  const sup = r.superseded ? ` + ${r.superseded} superseded (Tardis updates replaced by a later one)` : "";
  const lines = [
    `ingested ${r.files.length} files into ${where} in ${(r.ms / 1000).toFixed(2)} s (${rate} rows/s): ${r.rowsRead} rows read = ${r.accepted} accepted + ${r.rejected} rejected${sup}`,
  ];
  const bad = r.files.filter((f) => f.rejected > 0 || f.warnings.length > 0);
  if (bad.length > 0)
    lines.push(
      formatTable(
        bad.map((f) => ({
          file: f.src,
          read: f.rowsRead,
          accepted: f.accepted,
          superseded: f.superseded,
          rejected: f.rejected,
          reasons: Object.entries(f.byReason)
            .map(([k, v]) => `${k} ${v}`)
            .join(", "),
          warnings: f.warnings.join("; "),
        })),
      ),
    );
  for (const sk of r.skipped) lines.push(`skipped ${sk.path}: ${sk.reason}`);
  return lines.join("\n");
}

/** `store ingest`: into the DuckDB store, or the Postgres one with --pg. */
async function ingestAction(paths: string[], o: Opts): Promise<void> {
  const { expandIngestPaths, ingestHistory } = await import("../../adapters/store/ingest.js");
  await expandIngestPaths(paths); // a missing input fails before a store is created
  const onProgress = (m: string) => process.stderr.write(`${m}\n`);
  if (typeof o.pg === "string") {
    const { PostgresSnapshotStore } = await import("../../adapters/store/postgres.js");
    const { ingestHistoryPostgres } = await import("../../adapters/store/postgresHistory.js");
    const pgStore = await PostgresSnapshotStore.open(o.pg);
    try {
      const r = await ingestHistoryPostgres(pgStore, paths, { onProgress });
      output(Boolean(o.json), { store: "postgres", ...r }, () => formatIngest(r, "the Postgres store"));
    } finally {
      await pgStore.close();
    }
    return;
  }
  const { DuckDbSnapshotStore } = await import("../../adapters/store/duckdb.js");
  const s = await DuckDbSnapshotStore.open(storeDir(o));
  try {
    const r = await ingestHistory(s, paths, { onProgress });
    output(Boolean(o.json), { store: storeDir(o), ...r }, () => formatIngest(r, storeDir(o)));
  } finally {
    await s.close();
  }
}

/** The `store info` text. */
function formatInfo(dir: string, i: HistoryInfo): string {
  const formats = Object.entries(i.formats)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
  const sup = i.superseded ? ` + superseded ${i.superseded}` : "";
  return [
    `store ${dir}: ${i.files} files (${formats}), ${i.days} days ${iso(i.first)} .. ${iso(i.last)}`,
    `rows read ${i.rowsRead} = accepted ${i.accepted} + rejected ${i.rejected}${sup}; perpetual prices ${i.perpetualPrices}, delivery prices ${i.deliveryPrices}`,
    "",
    formatTable(i.chains.map((c) => ({ underlying: c.underlying, chains: c.chains, quotes: c.quotes }))),
    "",
    Object.keys(i.rejectsByReason).length === 0
      ? "rejects: none"
      : formatTable(Object.entries(i.rejectsByReason).map(([reason, rows]) => ({ reason, rows }))),
  ].join("\n");
}

/** `store info`: what an existing store holds (never creates one). */
async function infoAction(o: Opts): Promise<void> {
  const { existsSync } = await import("node:fs");
  const { CliError, EXIT_UNAVAILABLE } = await import("../io.js");
  const dir = storeDir(o);
  if (!existsSync(dir)) throw new CliError(`store not found: ${dir}`, EXIT_UNAVAILABLE);
  if (!existsSync(`${dir}/store.duckdb`))
    throw new CliError(`not a volfolio store (no store.duckdb): ${dir}`, EXIT_UNAVAILABLE);
  const { DuckDbSnapshotStore } = await import("../../adapters/store/duckdb.js");
  const { historyInfo } = await import("../../adapters/store/historyRead.js");
  const s = await DuckDbSnapshotStore.open(dir);
  try {
    const i = await historyInfo(s);
    output(Boolean(o.json), { store: dir, ...i }, () => formatInfo(dir, i));
  } finally {
    await s.close();
  }
}

export function register(program: Command): void {
  const store = program
    .command("store")
    .description(
      "The embedded history store (DuckDB, Parquet files): ingest chain files, show what it holds",
    );
  store
    .command("ingest")
    .description(
      "Ingest Deribit snapshot files (*.csv, *.csv.gz; directories: their files), the perpetual prices file and delivery-price files into the store",
    )
    .argument("<paths...>", "files or directories")
    .option("--store <dir>", "store directory (default: $VOLFOLIO_STORE or ./volfolio-store)")
    .option("--pg <url>", "write to the shared Postgres store instead (same tables: volfolio_h_*)")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `
Every row read is accepted or kept in the store's rejects with its line, reason and detail (the
same reasons as the file loader); accepted + rejected = rows read per file. A file ingested again
(same name) replaces its earlier rows. DuckDB's own CSV/gzip reader reads every file of a
directory in one statement, the validation in SQL.

Examples:
  volfolio store ingest ../shared/data/deribit/daily ../shared/data/deribit/perpetual_futures_prices.csv --store /tmp/vf
  volfolio store ingest ../shared/data/deribit/daily --pg "$VOLFOLIO_PG_URL"
  volfolio store info --store /tmp/vf`,
    )
    .action(ingestAction);
  store
    .command("info")
    .description("What the store holds: days, chains, rows, rejects by reason")
    .option("--store <dir>", "store directory (default: $VOLFOLIO_STORE or ./volfolio-store)")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `
Prints the files by format, the days and chains per underlying, rows read = accepted + rejected
(+ superseded Tardis updates), the stored perpetual and delivery prices, and the rejects by reason
(each rejected row is in the view h_rejects with its file, line, detail and raw fields).

Examples:
  volfolio store info --store /tmp/vf
  volfolio store info --store /tmp/vf --json`,
    )
    .action(infoAction);
}
