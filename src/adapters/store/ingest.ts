/**
 * `volfolio store ingest`: chain history files into the columnar store (historyLayout.ts), read
 * by DuckDB's own CSV/gzip reader, with the project's validation and its wording.
 *
 * Deribit snapshot CSV (deribit/files.ts), the validation in two tiers:
 *  1. SQL, over every row at once: a STRICT version of each check of deribit/files.ts (decimal
 *     literals by the csvFields.ts regex, ISO instants with a zone by a regex and a TIMESTAMPTZ
 *     cast, call/put, strike > 0, the instrument name parsed by core parseInstrumentName (once per
 *     distinct name, in JS) and compared with strike/type/expiry/currency, index > 0). A row that
 *     passes is accepted by construction: strict implies the loader's rules.
 *  2. Every other row is handed to the loader's own row validator (createDeribitCsvAccumulator),
 *     which either accepts it (a row only the loose rule passes, e.g. "5." or a date without a
 *     zone) or gives the reason and detail the file loader gives (invalid-field,
 *     bad-instrument-name, name-mismatch, missing-index), so the wording is the loader's.
 *  Then the file-level timestamp-outlier rule (csvFields.ts: rows farther than 10 min from the
 *  file's dominant = lower-median timestamp), index price (upper median per coin), futures (first
 *  row quoting each dated future) as in deribit/files.ts. Every row read is accepted or lands in
 *  `rejects` with its line (1-based, header = 1), reason, detail and raw fields, and
 *  accepted + rejected = rows read is checked per file before anything is written.
 *
 * Also stored: Deribit perpetual prices (../shared/data/deribit/perpetual_futures_prices.csv:
 * the perpetual's mark, else the 1-minute candle price accepted under its max gap) and delivery
 * prices (CSV index_name,date,delivery_price as Deribit's public/get_delivery_prices gives them,
 * settled at 08:00 UTC). Files of other kinds are listed as skipped with the reason.
 */
import { open, readdir, stat } from "node:fs/promises";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { constants as zc, gunzipSync } from "node:zlib";
import type { DuckDBConnection } from "@duckdb/node-api";
import { parseInstrumentName } from "../../core/instruments/names.js";
import { detectChainFormat } from "../chainFile.js";
import {
  bidAskWarnings,
  csvRecords,
  outlierDetail,
  parseCsvNumber,
  TIMESTAMP_OUTLIER_TOLERANCE_MS,
} from "../csvFields.js";
import { createDeribitCsvAccumulator } from "../deribit/files.js";
import { BadInputFileError, inputFileError, inputFileStream } from "../inputFile.js";
import { loadTardisOptionsChainFile } from "../tardis/optionsChain.js";
import type { DuckDbSnapshotStore } from "./duckdb.js";
import { HISTORY_COLUMNS, HISTORY_TABLES, type HistoryTable, historyDir, sqlStr } from "./historyLayout.js";

export type IngestFormat = "deribit-csv" | "tardis-csv" | "perpetual-csv" | "delivery-csv";

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

/** A decimal literal (csvFields.ts parseCsvNumber's rule). */
const DEC = "[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?";
/** An ISO instant with a zone, which Date.parse and DuckDB's TIMESTAMPTZ read alike. */
const ISO =
  "(19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})";

const MACROS = [
  `CREATE OR REPLACE TEMP MACRO vf_num(s) AS CASE WHEN regexp_full_match(s, '${DEC}') THEN TRY_CAST(s AS DOUBLE) END`,
  `CREATE OR REPLACE TEMP MACRO vf_num_ok(s) AS s IS NULL OR s = '' OR coalesce(isfinite(vf_num(s)), false)`,
  `CREATE OR REPLACE TEMP MACRO vf_time(s) AS CASE WHEN regexp_full_match(s, '${ISO}') THEN epoch_ms(TRY_CAST(s AS TIMESTAMPTZ)) END`,
];

interface Classified {
  path: string;
  src: string;
  gzip: boolean;
  header: string[];
  format: IngestFormat | null;
  reason?: string;
}

/** The first line of a (possibly gzipped) file, and whether it is gzip. */
async function readHeader(path: string): Promise<{ header: string; gzip: boolean }> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw inputFileError(e, path, "history file");
  }
  try {
    const buf = Buffer.alloc(65_536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const bytes = buf.subarray(0, bytesRead);
    const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    let text: string;
    if (gzip) {
      try {
        text = gunzipSync(bytes, { finishFlush: zc.Z_SYNC_FLUSH }).toString("utf8");
      } catch (e) {
        throw inputFileError({ code: "EBADGZIP", message: (e as Error).message }, path, "history file");
      }
    } else text = bytes.toString("utf8");
    return { header: (text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "").trim(), gzip };
  } finally {
    await fh.close();
  }
}

function headerColumns(line: string): string[] {
  return line.split(",").map((s) => s.trim().replace(/^"|"$/g, ""));
}

async function classify(path: string): Promise<Classified> {
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

const colList = (t: HistoryTable) => Object.keys(HISTORY_COLUMNS[t]).join(", ");

async function createTemp(conn: DuckDBConnection, name: string, cols: Record<string, string>): Promise<void> {
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${name} (${Object.entries(cols)
      .map(([c, t]) => `${c} ${t}`)
      .join(", ")})`,
  );
}

type Cell = string | number | boolean | null;
/** Appends rows (values in column order; numbers to DOUBLE/BIGINT by the table's types). */
async function appendRows(
  conn: DuckDBConnection,
  table: string,
  types: readonly string[],
  rows: readonly Cell[][],
): Promise<void> {
  if (rows.length === 0) return;
  const app = await conn.createAppender(table);
  for (const r of rows) {
    for (const [i, v] of r.entries()) {
      const t = types[i];
      if (v === null || v === undefined) app.appendNull();
      else if (t === "BIGINT") app.appendBigInt(BigInt(v as number));
      else if (t === "INTEGER") app.appendInteger(v as number);
      else if (t === "DOUBLE") app.appendDouble(v as number);
      else if (t === "BOOLEAN") app.appendBoolean(v as boolean);
      else app.appendVarchar(String(v));
    }
    app.endRow();
  }
  app.flushSync();
  app.closeSync();
}

/** Staging tables of one batch, written to Parquet at the end. */
const STAGE: Record<HistoryTable, string> = {
  quotes: "stage_quotes",
  chains: "stage_chains",
  futures: "stage_futures",
  rejects: "stage_rejects",
  perpetuals: "stage_perpetuals",
  delivery: "stage_delivery",
};

const TIMING = process.env.VOLFOLIO_STORE_TIMING === "1";
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  if (!TIMING) return f();
  const t = performance.now();
  const r = await f();
  process.stderr.write(
    `  ${(performance.now() - t).toFixed(0)} ms ${label.replace(/\s+/g, " ").slice(0, 90)}\n`,
  );
  return r;
}

/** A connection whose statements print their time on stderr (VOLFOLIO_STORE_TIMING=1). */
function timedConnection(c: DuckDBConnection): DuckDBConnection {
  return new Proxy(c, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (prop === "run" || prop === "runAndReadAll")
        return (sql: string, ...rest: unknown[]) =>
          timed(sql, () => (v as (...a: unknown[]) => Promise<unknown>).call(target, sql, ...rest));
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/**
 * One group of Deribit files sharing a header and compression, validated and staged (see the
 * module comment); its quotes written to `quotesFile`. Returns rows read and warnings per file.
 */
async function ingestDeribitGroup(
  conn: DuckDBConnection,
  files: Classified[],
  batch: string,
  tol: number,
  quotesFile: string,
): Promise<{ read: Map<string, number>; warnings: Map<string, string[]> }> {
  const header = files[0]?.header ?? [];
  const gzip = files[0]?.gzip ?? false;
  const colSpec = `{${header.map((c) => `${sqlStr(c)}: 'VARCHAR'`).join(", ")}}`;
  const fileList = `[${files.map((f) => sqlStr(f.path)).join(", ")}]`;
  /** The raw column of a used field (NULL when the file has no such column). */
  const col = (c: string) => (header.includes(c) ? JSON.stringify(c) : "NULL::VARCHAR");
  const readCsv = (list: string) =>
    `read_csv(${list}, columns=${colSpec}, header=true, auto_detect=false, delim=',', quote='"', escape='"', null_padding=true, strict_mode=false, nullstr='\u0001', compression=${gzip ? "'gzip'" : "'none'"}, filename=true)`;
  // Tier 1, pass 1 (a projection of the CSV scan, so insertion order = file order and rowid gives
  // each row's line): every field parsed once by the strict rules.
  const opt = [
    "underlying",
    "bid_price",
    "ask_price",
    "mark_price",
    "futures_price",
    "implied_volatility",
    "open_interest",
    "volume",
    "index_price",
  ];
  const typed = opt.map(
    (c) => `vf_num(${col(c)}) AS n_${c}, (${col(c)} IS NULL OR ${col(c)} = '') AS e_${c}`,
  );
  const blankless = (c: string) => `coalesce(${col(c)} = trim(${col(c)}), true)`;
  // Files by index (fid, 1-based): the per-row file name is a constant per scanned chunk, so
  // list_position costs one lookup per chunk, and rows carry a small integer, not the path.
  await createTemp(conn, "fmap", { fid: "INTEGER", path: "VARCHAR", src: "VARCHAR" });
  await appendRows(
    conn,
    "fmap",
    ["INTEGER", "VARCHAR", "VARCHAR"],
    files.map((f, i) => [i + 1, f.path, f.src]),
  );
  const pathOf = (fid: unknown) => (files[Number(fid) - 1] as Classified).path;
  await conn.run(`CREATE OR REPLACE TEMP TABLE chk AS SELECT list_position(${fileList}, filename)::INTEGER AS fid, vf_time(${col("timestamp")}) AS ts,
      vf_time(${col("expiry_datetime")}) AS expiry_v, vf_num(${col("strike")}) AS strike_v, ${typed.join(", ")},
      ${col("instrument_name")} AS inst, ${col("option_type")} AS otype, ${col("currency")} AS currency,
      nullif(coalesce(${col("underlying_name")}, ''), '') AS underlying_name, ${col("futures_instrument_name")} AS fname,
      ${blankless("underlying_name")} AND ${blankless("futures_instrument_name")} AND ${blankless("currency")} AS names_plain
    FROM ${readCsv(fileList)}`);
  await conn.run(
    "CREATE OR REPLACE TEMP TABLE offs AS SELECT fid, min(rowid) AS r0, count(*)::BIGINT AS n FROM chk GROUP BY fid",
  );
  // Distinct option and future names, parsed by the core parser (names with surrounding blanks
  // are left to the row validator, which trims them as the CSV loader does).
  const names = await rows(conn, "SELECT DISTINCT inst AS n FROM chk WHERE inst IS NOT NULL");
  const nameRows: Cell[][] = [];
  for (const { n } of names) {
    const name = String(n);
    const r = parseInstrumentName(name);
    if (name === name.trim() && r.ok && r.value.type === "option")
      nameRows.push([
        name,
        r.value.underlying,
        r.value.settlement,
        r.value.expiry,
        r.value.strike,
        r.value.kind,
      ]);
  }
  await createTemp(conn, "onames", {
    name: "VARCHAR",
    coin: "VARCHAR",
    settlement: "VARCHAR",
    expiry: "BIGINT",
    strike: "DOUBLE",
    kind: "VARCHAR",
  });
  await appendRows(
    conn,
    "onames",
    ["VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "DOUBLE", "VARCHAR"],
    nameRows,
  );
  const fnames = await rows(
    conn,
    "SELECT DISTINCT fname AS n FROM chk WHERE fname IS NOT NULL AND fname <> '' AND NOT starts_with(fname, 'SYN.')",
  );
  const fRows: Cell[][] = [];
  for (const { n } of fnames) {
    const name = String(n);
    const r = parseInstrumentName(name);
    if (name === name.trim() && r.ok && r.value.type === "future") fRows.push([name, r.value.expiry]);
  }
  await createTemp(conn, "fnames", { name: "VARCHAR", expiry: "BIGINT" });
  await appendRows(conn, "fnames", ["VARCHAR", "BIGINT"], fRows);

  // Tier 1, pass 2: names and cross-field checks; the typed values of the rows that pass.
  const okOpt = opt.map((c) => `(c.e_${c} OR isfinite(c.n_${c}))`).join(" AND ");
  await conn.run(`CREATE OR REPLACE TEMP TABLE acc AS SELECT c.fid, c.rowid AS rid, c.rowid - o.r0 + 2 AS line, c.ts,
      c.inst AS instrument, n.coin, c.expiry_v AS expiry, c.strike_v AS strike, c.otype AS kind,
      CASE WHEN c.n_bid_price > 0 THEN c.n_bid_price END AS bid, CASE WHEN c.n_ask_price > 0 THEN c.n_ask_price END AS ask,
      c.n_mark_price AS mark, c.n_implied_volatility AS mark_iv, c.n_underlying AS underlying_price, c.underlying_name,
      c.n_open_interest AS open_interest, c.n_volume AS volume, c.n_index_price AS index_price,
      CASE WHEN c.n_futures_price > 0 THEN f.name END AS fut_name,
      CASE WHEN c.n_futures_price > 0 THEN f.expiry END AS fut_expiry,
      CASE WHEN c.n_futures_price > 0 AND f.name IS NOT NULL THEN c.n_futures_price END AS fut_price
    FROM chk c JOIN offs o ON o.fid = c.fid LEFT JOIN onames n ON n.name = c.inst LEFT JOIN fnames f ON f.name = c.fname
    WHERE coalesce(
        c.ts IS NOT NULL AND c.inst <> '' AND c.otype IN ('call', 'put') AND isfinite(c.strike_v) AND c.strike_v > 0
        AND c.expiry_v IS NOT NULL AND ${okOpt} AND c.currency <> '' AND n.coin IS NOT NULL AND n.strike = c.strike_v
        AND n.kind = c.otype AND n.expiry = c.expiry_v AND NOT (n.settlement = 'inverse' AND n.coin <> c.currency)
        AND c.n_index_price > 0 AND c.names_plain, false)`);
  // The raw fields of the rows that need them (suspects, outliers): their files read again.
  const suspectKeys = await rows(
    conn,
    "SELECT c.fid, c.rowid - o.r0 + 2 AS line FROM chk c JOIN offs o ON o.fid = c.fid WHERE NOT EXISTS (SELECT 1 FROM acc a WHERE a.rid = c.rowid) ORDER BY c.fid, line",
  );
  for (const k of suspectKeys) k.path = pathOf(k.fid);
  const rawRows = async (keys: readonly Record<string, unknown>[]): Promise<Map<string, unknown[]>> => {
    const out = new Map<string, unknown[]>();
    if (keys.length === 0) return out;
    const paths = [...new Set(keys.map((k) => String(k.path)))];
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE raw AS SELECT filename AS path, ${header.map((c, i) => `${JSON.stringify(c)} AS c${i}`).join(", ")} FROM ${readCsv(`[${paths.map(sqlStr).join(", ")}]`)}`,
    );
    const want = new Set(keys.map((k) => `${k.path}|${k.line}`));
    const res = await conn.runAndReadAll(
      `SELECT r.path, r.rowid - m.r0 + 2 AS line, ${header.map((_, i) => `r.c${i}`).join(", ")} FROM raw r JOIN (SELECT path, min(rowid) AS r0 FROM raw GROUP BY path) m USING (path)`,
    );
    for (const r of res.getRowsJS()) {
      const k = `${r[0]}|${Number(r[1])}`;
      if (want.has(k)) out.set(k, r.slice(2));
    }
    await conn.run("DROP TABLE raw");
    return out;
  };
  const recordOf = (r: readonly unknown[], from: number): Record<string, string> => {
    const record: Record<string, string> = {};
    for (const [i, c] of header.entries()) {
      const v = r[i + from];
      if (v !== null && v !== undefined) record[c] = String(v).trim();
    }
    return record;
  };
  // Tier 2: the loader's own row validator on the rest.
  const suspectRaw = await rawRows(suspectKeys);
  const rejRows: Cell[][] = [];
  const accRows: Cell[][] = [];
  for (const key of suspectKeys) {
    const path = String(key.path);
    const line = Number(key.line);
    const record = recordOf(suspectRaw.get(`${path}|${line}`) ?? [], 0);
    const a = createDeribitCsvAccumulator({
      columns: header,
      timestampToleranceMs: Number.POSITIVE_INFINITY,
    });
    a.add(record, line);
    const res = a.finish();
    const rej = res.rejected[0];
    if (rej) {
      rejRows.push([basename(path), batch, line, rej.reason, rej.detail, JSON.stringify(record)]);
      continue;
    }
    const chain = res.chains[0];
    const q = chain?.quotes[0];
    if (!chain || !q || q.instrument.type !== "option")
      throw new Error(`store ingest: row ${line} of ${path} lost`);
    const fut = chain.futures?.[0];
    accRows.push([
      Number(key.fid),
      null,
      line,
      q.timestamp,
      q.instrument.name,
      q.instrument.underlying,
      q.instrument.expiry,
      q.instrument.strike,
      q.instrument.kind,
      q.bid,
      q.ask,
      q.mark,
      q.markIv ?? null,
      q.underlyingPrice ?? null,
      q.underlyingName ?? null,
      q.openInterest ?? null,
      q.volume ?? null,
      chain.indexPrice,
      fut?.name ?? null,
      fut?.expiry ?? null,
      fut?.mark ?? null,
    ]);
  }
  const accTypes = [
    "INTEGER",
    "BIGINT",
    "BIGINT",
    "BIGINT",
    "VARCHAR",
    "VARCHAR",
    "BIGINT",
    "DOUBLE",
    "VARCHAR",
  ]
    .concat(["DOUBLE", "DOUBLE", "DOUBLE", "DOUBLE", "DOUBLE", "VARCHAR", "DOUBLE", "DOUBLE", "DOUBLE"])
    .concat(["VARCHAR", "BIGINT", "DOUBLE"]);
  await appendRows(conn, "acc", accTypes, accRows);
  await appendRows(conn, STAGE.rejects, Object.values(HISTORY_COLUMNS.rejects), rejRows);
  // File-level rule: timestamp outliers against the dominant (lower-median) timestamp.
  await conn.run(
    "CREATE OR REPLACE TEMP TABLE dom AS SELECT a.fid, m.src, quantile_disc(a.ts, 0.5) AS dominant FROM acc a JOIN fmap m USING (fid) GROUP BY a.fid, m.src",
  );
  const outliers = await rows(
    conn,
    `SELECT a.fid, a.line, a.ts, d.dominant FROM acc a JOIN dom d USING (fid) WHERE abs(a.ts - d.dominant) > ${tol} ORDER BY a.fid, a.line`,
  );
  for (const k of outliers) k.path = pathOf(k.fid);
  const outRaw = await rawRows(outliers);
  const outRows: Cell[][] = outliers.map((r) => [
    basename(String(r.path)),
    batch,
    Number(r.line),
    "timestamp-outlier",
    outlierDetail(Number(r.ts), Number(r.dominant), tol),
    JSON.stringify(recordOf(outRaw.get(`${r.path}|${Number(r.line)}`) ?? [], 0)),
  ]);
  await appendRows(conn, STAGE.rejects, Object.values(HISTORY_COLUMNS.rejects), outRows);
  if (outRows.length > 0)
    await conn.run(
      `DELETE FROM acc WHERE EXISTS (SELECT 1 FROM dom d WHERE d.fid = acc.fid AND abs(acc.ts - d.dominant) > ${tol})`,
    );
  const b = sqlStr(batch);
  const srcOf = "d.src";
  await conn.run(`COPY (SELECT ${srcOf} AS src, ${b} AS batch, a.line, a.coin AS underlying, d.dominant AS valuation_time,
      a.instrument, a.ts, a.expiry, a.strike, a.kind, a.bid, a.ask, a.mark, a.mark_iv, a.underlying_price,
      a.underlying_name, a.open_interest, a.volume, NULL::DOUBLE AS bid_size, NULL::DOUBLE AS ask_size,
      NULL::DOUBLE AS bid_iv, NULL::DOUBLE AS ask_iv, false AS tardis FROM acc a JOIN dom d USING (fid))
    TO ${sqlStr(quotesFile)} (FORMAT PARQUET)`);
  await conn.run(`INSERT INTO ${STAGE.chains} SELECT ${srcOf}, ${b}, a.coin, any_value(d.dominant),
      list_sort(list(a.index_price))[(count(*) // 2) + 1], count(*) FROM acc a JOIN dom d USING (fid) GROUP BY d.src, a.fid, a.coin`);
  await conn.run(`INSERT INTO ${STAGE.futures} SELECT ${srcOf}, ${b}, a.coin, any_value(d.dominant),
      a.fut_name, any_value(a.fut_expiry), arg_min(a.ts, a.line), arg_min(a.fut_price, a.line)
      FROM acc a JOIN dom d USING (fid) WHERE a.fut_name IS NOT NULL GROUP BY d.src, a.fid, a.coin, a.fut_name`);
  // Warnings as the loader words them (no bid/ask columns, or every quote mark-only).
  const missing = ["bid_price", "ask_price"].filter((c) => !header.includes(c));
  const counts = await rows(
    conn,
    "SELECT o.fid, o.n AS read, count(a.line)::BIGINT AS n, (count(a.bid) + count(a.ask))::BIGINT AS sides FROM offs o LEFT JOIN acc a USING (fid) GROUP BY o.fid, o.n",
  );
  const warnings = new Map<string, string[]>();
  const read = new Map<string, number>();
  for (const c of counts) {
    const path = pathOf(c.fid);
    read.set(basename(path), Number(c.read));
    const n = Number(c.n);
    const markOnly = Number(c.sides) === 0;
    const quotes = Array.from({ length: n }, () =>
      markOnly ? { bid: null, ask: null } : { bid: 1, ask: 1 },
    );
    const w = bidAskWarnings(path, missing, quotes);
    if (w.length > 0) warnings.set(basename(path), w);
  }
  return { read, warnings };
}

/**
 * A Tardis options_chain file: the file loader itself (tardis/optionsChain.ts, its rules and
 * wording: latest update per symbol at the end of the file, outliers, superseded updates), its
 * chains staged as quotes with their sizes and side IVs. A JS path (csv-parse): Tardis days are
 * large, but the semantics are the loader's exactly.
 */
async function ingestTardis(
  conn: DuckDBConnection,
  f: Classified,
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
  f: Classified,
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
function ingestPerpetuals(conn: DuckDBConnection, f: Classified, batch: string): Promise<number> {
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
function ingestDelivery(conn: DuckDBConnection, f: Classified, batch: string): Promise<number> {
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
  const conn = TIMING ? timedConnection(store.connection) : store.connection;
  const tol = options.timestampToleranceMs ?? TIMESTAMP_OUTLIER_TOLERANCE_MS;
  const say = options.onProgress ?? (() => {});
  const paths = await expandIngestPaths(inputs);
  const classified = await Promise.all(paths.map(classify));
  const skipped: { path: string; reason: string }[] = [];
  const seen = new Set<string>();
  const todo: Classified[] = [];
  for (const c of classified) {
    if (c.format === null) skipped.push({ path: c.path, reason: c.reason ?? "unknown format" });
    else if (seen.has(c.src))
      skipped.push({ path: c.path, reason: `another file named ${c.src} in this run` });
    else {
      seen.add(c.src);
      todo.push(c);
    }
  }
  if (todo.length === 0)
    throw new BadInputFileError(inputs.join(" "), [
      `nothing to ingest${skipped.length ? `: ${skipped.map((s) => `${s.path}: ${s.reason}`).join("; ")}` : ""}`,
    ]);
  say(`store ingest: ${todo.length} files (${skipped.length} skipped)`);
  const batch = newBatch();
  for (const m of await Promise.resolve(MACROS)) await conn.run(m);
  for (const t of HISTORY_TABLES) await createTemp(conn, STAGE[t], HISTORY_COLUMNS[t]);
  const warnings = new Map<string, string[]>();
  const rowsRead = new Map<string, number>();
  // Deribit files, grouped by header and compression: one DuckDB read per group.
  const groups = new Map<string, Classified[]>();
  for (const c of todo.filter((x) => x.format === "deribit-csv")) {
    const k = `${c.gzip}|${c.header.join(",")}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  let done = 0;
  const quotesFiles: string[] = [];
  mkdirSync(historyDir(store.dir, "quotes"), { recursive: true });
  for (const g of groups.values()) {
    const qf = join(historyDir(store.dir, "quotes"), `${batch}.${quotesFiles.length}.parquet`);
    quotesFiles.push(qf);
    const r = await ingestDeribitGroup(conn, g, batch, tol, qf);
    for (const [p, list] of r.warnings) warnings.set(p, list);
    for (const [p, n] of r.read) rowsRead.set(p, n);
    for (const f of g) if (!rowsRead.has(f.src)) rowsRead.set(f.src, 0);
    done += g.length;
    say(`store ingest: ${done}/${todo.length} files validated`);
  }
  const superseded = new Map<string, number>();
  for (const f of todo.filter((x) => x.format === "tardis-csv")) {
    const t = await ingestTardis(conn, f, batch);
    rowsRead.set(f.src, t.read);
    superseded.set(f.src, t.superseded);
    if (t.warnings.length > 0) warnings.set(f.src, t.warnings);
    say(`store ingest: ${f.src} (Tardis) read`);
  }
  for (const f of todo) {
    if (f.format === "perpetual-csv") rowsRead.set(f.src, await ingestPerpetuals(conn, f, batch));
    else if (f.format === "delivery-csv") rowsRead.set(f.src, await ingestDelivery(conn, f, batch));
  }
  // Reconcile per file before writing anything.
  const acc = new Map<string, number>();
  for (const r of await rows(
    conn,
    `SELECT src, count(*)::BIGINT AS n FROM (${[
      ...(quotesFiles.length > 0
        ? [`SELECT src FROM read_parquet([${quotesFiles.map(sqlStr).join(", ")}])`]
        : []),
      `SELECT src FROM ${STAGE.quotes}`,
      `SELECT src FROM ${STAGE.perpetuals}`,
      `SELECT src FROM ${STAGE.delivery}`,
    ].join(" UNION ALL ")}) GROUP BY src`,
  ))
    acc.set(String(r.src), Number(r.n));
  const rej = new Map<string, Record<string, number>>();
  for (const r of await rows(
    conn,
    `SELECT src, reason, count(*)::BIGINT AS n FROM ${STAGE.rejects} GROUP BY src, reason`,
  )) {
    const m = rej.get(String(r.src)) ?? {};
    m[String(r.reason)] = Number(r.n);
    rej.set(String(r.src), m);
  }
  const files: IngestFileReport[] = todo.map((f) => {
    const byReason = rej.get(f.src) ?? {};
    const rejected = Object.values(byReason).reduce((a, b) => a + b, 0);
    const accepted = acc.get(f.src) ?? 0;
    const read = rowsRead.get(f.src) ?? 0;
    const sup = superseded.get(f.src) ?? 0;
    if (accepted + sup + rejected !== read)
      throw new Error(
        `store ingest: ${f.path}: accepted ${accepted} + superseded ${sup} + rejected ${rejected} != rows read ${read}`,
      );
    return {
      src: f.src,
      path: f.path,
      format: f.format as IngestFormat,
      rowsRead: read,
      accepted,
      superseded: sup,
      rejected,
      byReason,
      warnings: warnings.get(f.src) ?? [],
    };
  });
  // Write the batch's Parquet files (quotes are written per group above), then the manifest.
  for (const t of HISTORY_TABLES) {
    // Deribit quotes were written per group above; the staged ones are Tardis quotes.
    if (t === "quotes" && !todo.some((f) => f.format === "tardis-csv")) continue;
    const dir = historyDir(store.dir, t);
    mkdirSync(dir, { recursive: true });
    await conn.run(
      `COPY (SELECT ${colList(t)} FROM ${STAGE[t]}) TO ${sqlStr(join(dir, `${batch}${t === "quotes" ? ".t" : ""}.parquet`))} (FORMAT PARQUET)`,
    );
  }
  const now = Date.now();
  await createTemp(conn, "stage_manifest", {
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
  });
  await appendRows(
    conn,
    "stage_manifest",
    ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "BIGINT", "VARCHAR", "BIGINT", "BIGINT"],
    files.map((f) => [
      f.src,
      f.path,
      f.format,
      batch,
      f.rowsRead,
      f.accepted,
      f.rejected,
      JSON.stringify(f.warnings),
      now,
      f.superseded,
    ]),
  );
  await conn.run(
    "INSERT OR REPLACE INTO history_files (src, path, format, batch, rows_read, accepted, rejected, warnings, ingested_at, superseded) SELECT * FROM stage_manifest",
  );
  // Batches no manifest row points at any more (every file re-ingested) are removed.
  const live = new Set(
    (await rows(conn, "SELECT DISTINCT batch FROM history_files")).map((r) => String(r.batch)),
  );
  for (const t of HISTORY_TABLES) {
    const dir = historyDir(store.dir, t);
    for (const name of readdirSync(dir))
      if (name.endsWith(".parquet") && !live.has(name.split(".")[0] ?? "")) rmSync(join(dir, name));
  }
  for (const t of [
    ...HISTORY_TABLES.map((x) => STAGE[x]),
    "stage_manifest",
    "offs",
    "chk",
    "fmap",
    "acc",
    "dom",
    "onames",
    "fnames",
  ])
    await conn.run(`DROP TABLE IF EXISTS ${t}`);
  await store.refreshHistoryViews();
  const sum = (k: "rowsRead" | "accepted" | "rejected" | "superseded") => files.reduce((s, f) => s + f[k], 0);
  return {
    batch,
    files,
    skipped,
    rowsRead: sum("rowsRead"),
    accepted: sum("accepted"),
    superseded: sum("superseded"),
    rejected: sum("rejected"),
    ms: performance.now() - t0,
  };
}
