/**
 * `volfolio store ingest`: chain history files into the columnar store (historyLayout.ts).
 *
 * Deribit snapshot CSV files go through DuckDB's own CSV/gzip reader, every file of a group (same
 * header and compression) in one read_csv, with the project's validation expressed in SQL and the
 * loader's own row validator for the wording of each reject (ingestDeribit.ts). Every row read is
 * accepted or lands in `rejects` with its line (1-based, header = 1), reason, detail and raw
 * fields, and accepted + rejected = rows read is checked per file before anything is written.
 *
 * Also stored: Tardis options_chain files (through the Tardis loader itself), Deribit perpetual
 * prices (../shared/data/deribit/perpetual_futures_prices.csv: the perpetual's mark, else the
 * 1-minute candle price accepted under its max gap) and delivery prices (CSV
 * index_name,date,delivery_price as Deribit's public/get_delivery_prices gives them, settled at
 * 08:00 UTC). Files of other kinds are listed as skipped with the reason.
 */
import { open, readdir, stat } from "node:fs/promises";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { constants as zc, gunzipSync } from "node:zlib";
import type { DuckDBConnection } from "@duckdb/node-api";
import { detectChainFormat } from "../chainFile.js";
import { csvRecords, parseCsvNumber, TIMESTAMP_OUTLIER_TOLERANCE_MS } from "../csvFields.js";
import { BadInputFileError, inputFileError, inputFileStream } from "../inputFile.js";
import { loadTardisOptionsChainFile } from "../tardis/optionsChain.js";
import type { DuckDbSnapshotStore } from "./duckdb.js";
import {
  HISTORY_COLUMNS,
  HISTORY_TABLES,
  type HistoryTable,
  historyDir,
  MANIFEST_COLUMNS,
  sqlStr,
} from "./historyLayout.js";
import { ingestDeribitGroup, type NameCache } from "./ingestDeribit.js";
import {
  appendRows,
  type Cell,
  createTemp,
  type IngestFormat,
  type IngestSource,
  ingestConnection,
  rows,
  STAGE,
  STAGE_DB,
} from "./ingestSql.js";

export type { IngestFormat } from "./ingestSql.js";

export interface IngestFileReport {
  readonly src: string;
  readonly path: string;
  readonly format: IngestFormat;
  readonly rowsRead: number;
  readonly accepted: number;
  /** Tardis: valid updates replaced by a later one of the same symbol (accepted + superseded + rejected = rows read). */
  readonly superseded: number;
  readonly rejected: number;
  readonly byReason: Readonly<Record<string, number>>;
  readonly warnings: readonly string[];
}

export interface IngestReport {
  readonly batch: string;
  readonly files: readonly IngestFileReport[];
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
  readonly rowsRead: number;
  readonly accepted: number;
  readonly superseded: number;
  readonly rejected: number;
  /** Wall time of the ingest, ms. */
  readonly ms: number;
}

export interface IngestOptions {
  /** Deribit rows farther than this from the file's dominant timestamp are `timestamp-outlier`. */
  readonly timestampToleranceMs?: number;
  /** Progress lines (stage names and counts). */
  readonly onProgress?: (message: string) => void;
}

/** The first `size` bytes of a file. */
async function readStart(path: string, size: number): Promise<Buffer> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw inputFileError(e, path, "history file");
  }
  try {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The text at the start of a (possibly gzipped) file's bytes. */
function startText(path: string, bytes: Buffer, gzip: boolean): string {
  if (!gzip) return bytes.toString("utf8");
  try {
    return gunzipSync(bytes, { finishFlush: zc.Z_SYNC_FLUSH }).toString("utf8");
  } catch (e) {
    throw inputFileError({ code: "EBADGZIP", message: (e as Error).message }, path, "history file");
  }
}

/**
 * The first line of a (possibly gzipped) file, and whether it is gzip. The first 4 KiB hold a
 * header line (233 files: 4 KiB each is a tenth of the time of 64 KiB); 64 KiB when they do not.
 */
async function readHeader(path: string): Promise<{ header: string; gzip: boolean }> {
  let bytes = await readStart(path, 4096);
  const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  let text = startText(path, bytes, gzip);
  if (!/\r?\n/.test(text) && bytes.length === 4096) {
    bytes = await readStart(path, 65_536);
    text = startText(path, bytes, gzip);
  }
  return { header: (text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "").trim(), gzip };
}

function headerColumns(line: string): string[] {
  return line.split(",").map((s) => s.trim().replace(/^"|"$/g, ""));
}

async function classify(path: string): Promise<IngestSource> {
  const { header, gzip } = await readHeader(path);
  const cols = headerColumns(header);
  const src = basename(path);
  const has = (c: string) => cols.includes(c);
  const base = { path, src, gzip, header: cols };
  if (has("snapshot_timestamp_ms") && has("candle_price_used") && has("perp_futures_mark_price"))
    return { ...base, format: "perpetual-csv" };
  if (has("index_name") && has("date") && has("delivery_price")) return { ...base, format: "delivery-csv" };
  if (has("term_mark_price_final"))
    return {
      ...base,
      format: null,
      reason:
        "dated-futures marks file: not stored (each chain carries its expiries' futures from the option rows)",
    };
  const f = detectChainFormat(header);
  if (f === "deribit-csv") return { ...base, format: "deribit-csv" };
  if (f === "tardis-csv") return { ...base, format: "tardis-csv" };
  return {
    ...base,
    format: null,
    reason: `unknown file format (first line: ${JSON.stringify(header.slice(0, 80))})`,
  };
}

/** The files of `inputs` (a directory: its *.csv / *.csv.gz files, sorted). */
export async function expandIngestPaths(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of inputs) {
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(p);
    } catch (e) {
      throw inputFileError(e, p, "history file or directory");
    }
    if (s.isDirectory()) {
      const names = (await readdir(p)).filter((f) => f.endsWith(".csv") || f.endsWith(".csv.gz")).sort();
      for (const n of names) out.push(join(p, n));
    } else out.push(p);
  }
  return out;
}

function newBatch(): string {
  return `${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, "0")}`;
}

/**
 * A Tardis options_chain file: the file loader itself (tardis/optionsChain.ts, its rules and
 * wording: latest update per symbol at the end of the file, outliers, superseded updates), its
 * chains staged as quotes with their sizes and side IVs. A JS path (csv-parse): Tardis days are
 * large, but the semantics are the loader's exactly.
 */
async function ingestTardis(
  conn: DuckDBConnection,
  f: IngestSource,
  batch: string,
): Promise<{ read: number; superseded: number; warnings: string[] }> {
  const r = await loadTardisOptionsChainFile(f.path);
  const q: Cell[][] = [];
  const c: Cell[][] = [];
  for (const chain of r.chains) {
    for (const [i, x] of chain.quotes.entries())
      q.push([
        f.src,
        batch,
        i + 2,
        chain.underlying,
        chain.valuationTime,
        x.instrument.name,
        x.timestamp,
        x.instrument.expiry,
        x.instrument.type === "option" ? x.instrument.strike : null,
        x.instrument.type === "option" ? x.instrument.kind : null,
        x.bid,
        x.ask,
        x.mark,
        x.markIv ?? null,
        x.underlyingPrice ?? null,
        x.underlyingName ?? null,
        x.openInterest ?? null,
        null,
        x.bidSize ?? null,
        x.askSize ?? null,
        x.bidIv ?? null,
        x.askIv ?? null,
        true,
      ]);
    c.push([f.src, batch, chain.underlying, chain.valuationTime, chain.indexPrice, chain.quotes.length]);
  }
  await appendRows(conn, STAGE.quotes, Object.values(HISTORY_COLUMNS.quotes), q);
  await appendRows(conn, STAGE.chains, Object.values(HISTORY_COLUMNS.chains), c);
  await appendRows(
    conn,
    STAGE.rejects,
    Object.values(HISTORY_COLUMNS.rejects),
    r.rejected.map((x) => [f.src, batch, x.line, x.reason, x.detail, JSON.stringify(x.row)]),
  );
  return { read: r.rowsRead, superseded: r.superseded, warnings: r.warnings };
}

/** A small CSV row's outcome: the stored cells, or a reject reason and detail. */
type RowOutcome = { readonly cells: Cell[] } | { readonly reason: string; readonly detail: string };

/**
 * Reads a small CSV file row by row in JS, stores each accepted row's cells in `table` and each
 * rejected one in the rejects table with its line; returns the rows read.
 */
async function ingestSmallCsv(
  conn: DuckDBConnection,
  f: IngestSource,
  batch: string,
  table: { readonly stage: string; readonly columns: readonly string[] },
  validate: (r: Record<string, string>) => RowOutcome,
): Promise<number> {
  const { records } = csvRecords(inputFileStream(f.path, { gzip: f.gzip, what: "history file" }));
  const ok: Cell[][] = [];
  const rej: Cell[][] = [];
  let line = 1;
  for await (const r of records as AsyncIterable<Record<string, string>>) {
    line++;
    const out = validate(r);
    if ("cells" in out) ok.push([f.src, batch, ...out.cells]);
    else rej.push([f.src, batch, line, out.reason, out.detail, JSON.stringify(r)]);
  }
  await appendRows(conn, table.stage, [...table.columns], ok);
  await appendRows(conn, STAGE.rejects, Object.values(HISTORY_COLUMNS.rejects), rej);
  return line - 1;
}

/** Perpetual prices file (see the module comment); rows validated in JS (a few hundred). */
function ingestPerpetuals(conn: DuckDBConnection, f: IngestSource, batch: string): Promise<number> {
  const table = { stage: STAGE.perpetuals, columns: Object.values(HISTORY_COLUMNS.perpetuals) };
  return ingestSmallCsv(conn, f, batch, table, (r) => {
    const t = parseCsvNumber(r.snapshot_timestamp_ms ?? "");
    const coin = (r.coin ?? "").trim();
    const name = (r.instrument_name ?? "").trim();
    const mark = parseCsvNumber(r.perp_futures_mark_price ?? "");
    const candle = parseCsvNumber(r.candle_price_used ?? "");
    const candleOk = (r.accepted_under_max_gap ?? "").trim().toLowerCase() === "true";
    const price =
      mark !== null && mark > 0 ? mark : candleOk && candle !== null && candle > 0 ? candle : null;
    const bid = parseCsvNumber(r.perp_futures_best_bid ?? "");
    const ask = parseCsvNumber(r.perp_futures_best_ask ?? "");
    const bad =
      t === null || !Number.isInteger(t) || t <= 0
        ? `snapshot_timestamp_ms: must be epoch milliseconds, got ${JSON.stringify(r.snapshot_timestamp_ms ?? null)}`
        : !/^[A-Z0-9]{1,20}$/.test(coin)
          ? `coin: must be a coin code, got ${JSON.stringify(r.coin ?? null)}`
          : name !== `${coin}-PERPETUAL`
            ? `instrument_name: ${JSON.stringify(name)} is not ${coin}-PERPETUAL`
            : price === null
              ? `no price: perp_futures_mark_price ${JSON.stringify(r.perp_futures_mark_price ?? null)}, candle_price_used ${JSON.stringify(r.candle_price_used ?? null)} (accepted_under_max_gap ${JSON.stringify(r.accepted_under_max_gap ?? null)})`
              : null;
    if (bad) return { reason: price === null && t !== null ? "no-price" : "invalid-field", detail: bad };
    return {
      cells: [
        coin,
        t,
        name,
        price,
        bid !== null && bid > 0 ? bid : null,
        ask !== null && ask > 0 ? ask : null,
      ],
    };
  });
}

/** Delivery prices: index_name (btc_usd), date (YYYY-MM-DD, settled 08:00 UTC), delivery_price. */
function ingestDelivery(conn: DuckDBConnection, f: IngestSource, batch: string): Promise<number> {
  const table = { stage: STAGE.delivery, columns: Object.values(HISTORY_COLUMNS.delivery) };
  return ingestSmallCsv(conn, f, batch, table, (r) => {
    const m = /^([a-z0-9]{1,20})_(usd|usdc)$/i.exec((r.index_name ?? "").trim());
    const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec((r.date ?? "").trim());
    const expiry = d ? Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), 8) : Number.NaN;
    const price = parseCsvNumber(r.delivery_price ?? "");
    const bad = !m
      ? `index_name: must be like btc_usd, got ${JSON.stringify(r.index_name ?? null)}`
      : !d || new Date(expiry).toISOString().slice(0, 10) !== d[0]
        ? `date: must be YYYY-MM-DD, got ${JSON.stringify(r.date ?? null)}`
        : price === null || !(price > 0)
          ? `delivery_price: must be a positive number, got ${JSON.stringify(r.delivery_price ?? null)}`
          : null;
    if (bad) return { reason: "invalid-field", detail: bad };
    return { cells: [(m?.[1] ?? "").toUpperCase(), expiry, price] };
  });
}

/** What the per-file ingest steps found: rows read, superseded Tardis updates, warnings, by file name. */
interface FileCounts {
  readonly read: Map<string, number>;
  readonly superseded: Map<string, number>;
  readonly warnings: Map<string, string[]>;
}

/** The files to ingest (a known format, first of its name) and the skipped ones with the reason. */
function selectSources(classified: readonly IngestSource[]): {
  todo: IngestSource[];
  skipped: { path: string; reason: string }[];
} {
  const skipped: { path: string; reason: string }[] = [];
  const seen = new Set<string>();
  const todo: IngestSource[] = [];
  for (const c of classified) {
    if (c.format === null) skipped.push({ path: c.path, reason: c.reason ?? "unknown format" });
    else if (seen.has(c.src))
      skipped.push({ path: c.path, reason: `another file named ${c.src} in this run` });
    else {
      seen.add(c.src);
      todo.push(c);
    }
  }
  return { todo, skipped };
}

/**
 * `files` cut into at most `n` runs of consecutive files of about equal bytes: consecutive days
 * share most instrument names, so each part's name table and joins stay small.
 */
function split(files: readonly IngestSource[], n: number): IngestSource[][] {
  const sizes = files.map((f) => statSync(f.path).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const parts: IngestSource[][] = [[]];
  let acc = 0;
  for (const [i, f] of files.entries()) {
    const last = parts[parts.length - 1] ?? [];
    if (last.length > 0 && parts.length < n && acc >= (total * parts.length) / n) parts.push([f]);
    else last.push(f);
    acc += sizes[i] ?? 0;
  }
  return parts;
}

/**
 * Deribit files, grouped by header and compression; each group split among the ingest's connections,
 * one DuckDB read per part, the parts run at once (one thread each: see ingestHistory); the quotes
 * files written (one per part).
 */
async function ingestDeribitFiles(
  conns: readonly DuckDBConnection[],
  storeDir: string,
  todo: readonly IngestSource[],
  run: {
    readonly batch: string;
    readonly tol: number;
    readonly say: (m: string) => void;
    /** DuckDB's threads for a group read by one connection. */
    readonly threads: number;
  },
  counts: FileCounts,
): Promise<string[]> {
  const groups = new Map<string, IngestSource[]>();
  for (const c of todo.filter((x) => x.format === "deribit-csv")) {
    const k = `${c.gzip}|${c.header.join(",")}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const quotesFiles: string[] = [];
  mkdirSync(historyDir(storeDir, "quotes"), { recursive: true });
  let done = 0;
  const names: NameCache = new Map();
  for (const g of groups.values()) {
    const parts = split(g, conns.length);
    await conns[0]?.run(`SET threads = ${parts.length > 1 ? 1 : run.threads}`);
    const jobs = parts.map((part, k) => {
      const qf = join(historyDir(storeDir, "quotes"), `${run.batch}.${quotesFiles.length}.parquet`);
      quotesFiles.push(qf);
      const conn = conns[k];
      if (!conn) throw new Error("store ingest: no connection for a part");
      return ingestDeribitGroup(conn, part, run.batch, run.tol, qf, names);
    });
    for (const r of await Promise.all(jobs)) {
      for (const [p, list] of r.warnings) counts.warnings.set(p, list);
      for (const [p, n] of r.read) counts.read.set(p, n);
    }
    done += g.length;
    run.say(`store ingest: ${done}/${todo.length} files validated`);
  }
  return quotesFiles;
}

/** Tardis, perpetual and delivery files (JS paths). */
async function ingestOtherFiles(
  conn: DuckDBConnection,
  todo: readonly IngestSource[],
  batch: string,
  counts: FileCounts,
  say: (m: string) => void,
): Promise<void> {
  for (const f of todo) {
    if (f.format === "tardis-csv") {
      const t = await ingestTardis(conn, f, batch);
      counts.read.set(f.src, t.read);
      counts.superseded.set(f.src, t.superseded);
      if (t.warnings.length > 0) counts.warnings.set(f.src, t.warnings);
      say(`store ingest: ${f.src} (Tardis) read`);
    } else if (f.format === "perpetual-csv") counts.read.set(f.src, await ingestPerpetuals(conn, f, batch));
    else if (f.format === "delivery-csv") counts.read.set(f.src, await ingestDelivery(conn, f, batch));
  }
}

/** Accepted rows per file (the group Parquet files and the staged rows). */
async function acceptedBySrc(
  conn: DuckDBConnection,
  quotesFiles: readonly string[],
): Promise<Map<string, number>> {
  const parts = [
    ...(quotesFiles.length > 0
      ? [`SELECT src FROM read_parquet([${quotesFiles.map(sqlStr).join(", ")}])`]
      : []),
    `SELECT src FROM ${STAGE.quotes}`,
    `SELECT src FROM ${STAGE.perpetuals}`,
    `SELECT src FROM ${STAGE.delivery}`,
  ];
  const acc = new Map<string, number>();
  const sql = `SELECT src, count(*)::BIGINT AS n FROM (${parts.join(" UNION ALL ")}) GROUP BY src`;
  for (const r of await rows(conn, sql)) acc.set(String(r.src), Number(r.n));
  return acc;
}

/** The per-file reports, checking accepted + superseded + rejected = rows read for each file. */
async function reconcile(
  conn: DuckDBConnection,
  todo: readonly IngestSource[],
  quotesFiles: readonly string[],
  counts: FileCounts,
): Promise<IngestFileReport[]> {
  const acc = await acceptedBySrc(conn, quotesFiles);
  const rej = new Map<string, Record<string, number>>();
  const sql = `SELECT src, reason, count(*)::BIGINT AS n FROM ${STAGE.rejects} GROUP BY src, reason`;
  for (const r of await rows(conn, sql)) {
    const m = rej.get(String(r.src)) ?? {};
    m[String(r.reason)] = Number(r.n);
    rej.set(String(r.src), m);
  }
  return todo.map((f): IngestFileReport => {
    const byReason = rej.get(f.src) ?? {};
    const rejected = Object.values(byReason).reduce((a, b) => a + b, 0);
    const accepted = acc.get(f.src) ?? 0;
    const read = counts.read.get(f.src) ?? 0;
    const sup = counts.superseded.get(f.src) ?? 0;
    if (accepted + sup + rejected !== read)
      throw new Error(
        `store ingest: ${f.path}: accepted ${accepted} + superseded ${sup} + rejected ${rejected} != rows read ${read}`,
      );
    const format = f.format ?? "deribit-csv";
    const warnings = counts.warnings.get(f.src) ?? [];
    return {
      src: f.src,
      path: f.path,
      format,
      rowsRead: read,
      accepted,
      superseded: sup,
      rejected,
      byReason,
      warnings,
    };
  });
}

const colList = (t: HistoryTable) => Object.keys(HISTORY_COLUMNS[t]).join(", ");

/** The batch's staged tables to Parquet (Deribit quotes were written per group). */
async function writeStaged(
  conn: DuckDBConnection,
  storeDir: string,
  batch: string,
  tardis: boolean,
): Promise<void> {
  for (const t of HISTORY_TABLES) {
    if (t === "quotes" && !tardis) continue;
    const dir = historyDir(storeDir, t);
    mkdirSync(dir, { recursive: true });
    const out = join(dir, `${batch}${t === "quotes" ? ".t" : ""}.parquet`);
    await conn.run(`COPY (SELECT ${colList(t)} FROM ${STAGE[t]}) TO ${sqlStr(out)} (FORMAT PARQUET)`);
  }
}

const MANIFEST = MANIFEST_COLUMNS;

/** The manifest rows of the batch (a file ingested again now points at this batch). */
async function writeManifest(
  conn: DuckDBConnection,
  files: readonly IngestFileReport[],
  batch: string,
): Promise<void> {
  const now = Date.now();
  await createTemp(conn, "stage_manifest", MANIFEST);
  const cells = files.map((f): Cell[] => [
    f.src,
    f.path,
    f.format,
    batch,
    f.rowsRead,
    f.accepted,
    f.rejected,
  ]);
  for (const [i, f] of files.entries()) cells[i]?.push(JSON.stringify(f.warnings), now, f.superseded);
  await appendRows(conn, "stage_manifest", Object.values(MANIFEST), cells);
  await conn.run(
    `INSERT OR REPLACE INTO history_files (${Object.keys(MANIFEST).join(", ")}) SELECT * FROM stage_manifest`,
  );
}

/** Removes the Parquet files of batches no manifest row points at any more (every file re-ingested). */
async function removeDeadBatches(conn: DuckDBConnection, storeDir: string): Promise<void> {
  const live = new Set(
    (await rows(conn, "SELECT DISTINCT batch FROM history_files")).map((r) => String(r.batch)),
  );
  for (const t of HISTORY_TABLES) {
    const dir = historyDir(storeDir, t);
    for (const name of readdirSync(dir))
      if (name.endsWith(".parquet") && !live.has(name.split(".")[0] ?? "")) rmSync(join(dir, name));
  }
}

/**
 * The ingest's connections: the store's and one more per core (at most MAX_WORKERS), and the
 * staging database attached. A Deribit group split in parts runs them side by side with DuckDB at
 * one thread per statement (ingestDeribitFiles), each part in file order: one thread inserting in
 * order is cheaper than two that must keep insertion order (line numbers come from it). DuckDB's
 * thread setting (`threads`, restored by release()) is the instance's: other connections of the
 * store get one thread while an ingest runs.
 */
async function ingestWorkers(
  store: DuckDbSnapshotStore,
  conn: DuckDBConnection,
): Promise<{ conns: DuckDBConnection[]; threads: number; release: () => Promise<void> }> {
  const threads = Number((await rows(conn, "SELECT current_setting('threads') AS t"))[0]?.t) || 1;
  const extra = await Promise.all(
    Array.from({ length: Math.min(availableParallelism(), MAX_WORKERS) - 1 }, () => store.connectMore()),
  );
  await conn.run(`ATTACH IF NOT EXISTS ':memory:' AS ${STAGE_DB}`);
  const release = async () => {
    for (const c of extra) c.closeSync();
    await conn.run(`SET threads = ${threads}`);
    await conn.run(`DETACH DATABASE IF EXISTS ${STAGE_DB}`);
  };
  return { conns: [conn, ...extra.map(ingestConnection)], threads, release };
}

/** Most connections an ingest runs at once (each holds its part's rows in memory). */
const MAX_WORKERS = 4;

/**
 * Ingests `inputs` (files or directories) into the store's history (see the module comment).
 * Throws a BadInputFileError when no input is an ingestible file.
 */
export async function ingestHistory(
  store: DuckDbSnapshotStore,
  inputs: readonly string[],
  options: IngestOptions = {},
): Promise<IngestReport> {
  const t0 = performance.now();
  const conn = ingestConnection(store.connection);
  const tol = options.timestampToleranceMs ?? TIMESTAMP_OUTLIER_TOLERANCE_MS;
  const say = options.onProgress ?? (() => {});
  const { todo, skipped } = selectSources(await Promise.all((await expandIngestPaths(inputs)).map(classify)));
  if (todo.length === 0) {
    const why = skipped.map((s) => `${s.path}: ${s.reason}`).join("; ");
    throw new BadInputFileError(inputs.join(" "), [`nothing to ingest${why ? `: ${why}` : ""}`]);
  }
  say(`store ingest: ${todo.length} files (${skipped.length} skipped)`);
  const batch = newBatch();
  const workers = await ingestWorkers(store, conn);
  let files: IngestFileReport[];
  try {
    for (const t of HISTORY_TABLES) await createTemp(conn, STAGE[t], HISTORY_COLUMNS[t]);
    const counts: FileCounts = { read: new Map(), superseded: new Map(), warnings: new Map() };
    const quotesFiles = await ingestDeribitFiles(
      workers.conns,
      store.dir,
      todo,
      { batch, tol, say, threads: workers.threads },
      counts,
    );
    await ingestOtherFiles(conn, todo, batch, counts, say);
    files = await reconcile(conn, todo, quotesFiles, counts);
    await writeStaged(
      conn,
      store.dir,
      batch,
      todo.some((f) => f.format === "tardis-csv"),
    );
    await writeManifest(conn, files, batch);
    await removeDeadBatches(conn, store.dir);
    await conn.run("DROP TABLE IF EXISTS stage_manifest");
  } finally {
    await workers.release();
  }
  await store.refreshHistoryViews();
  const sum = (k: "rowsRead" | "accepted" | "rejected" | "superseded") => files.reduce((s, f) => s + f[k], 0);
  const [rowsRead, accepted, superseded, rejected] = [
    sum("rowsRead"),
    sum("accepted"),
    sum("superseded"),
    sum("rejected"),
  ];
  return { batch, files, skipped, rowsRead, accepted, superseded, rejected, ms: performance.now() - t0 };
}
