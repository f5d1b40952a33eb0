/**
 * Deribit snapshot CSV files (deribit/files.ts) into the history store, read by DuckDB's own
 * CSV/gzip reader: every file of a group (same header, same compression) in ONE read_csv over the
 * file list (filename=true), the project's validation expressed in SQL, the accepted rows written
 * straight to Parquet.
 *
 * The SQL rules (a CASE per row giving the loader's reject reason, in the loader's order):
 *  - invalid-field: a field the loader's zod schema refuses. Numbers follow csvFields.ts
 *    parseCsvNumber exactly: DuckDB's DOUBLE cast reads every decimal literal the loader reads,
 *    with the same value (surrounding blanks included), and more, which the rule excludes: "1_000"
 *    (no underscore in a literal), "inf"/"nan" and overflow (not finite). The strike is a positive
 *    number; timestamps are ISO instants with a zone (YYYY-MM-DDTHH:MM:SS[.f](Z|+HH:MM)) read by
 *    DuckDB's TIMESTAMPTZ cast as Date.parse reads them; option_type is call/put; instrument_name
 *    and currency are present;
 *  - bad-instrument-name: the name does not parse as an option (core parseInstrumentName, run once
 *    per distinct name and joined);
 *  - name-mismatch: strike, type, expiry or (inverse options) currency differ from the name's;
 *  - missing-index: index_price absent or not positive.
 * Forms only the loader's looser rules can judge (Date.parse of a date without a zone, a strike
 * like "0x10" that Number() reads, names or fields with surrounding blanks, non-ASCII text) get the
 * reason "check": those rows, and every rejected row, go to the loader's own row validator
 * (createDeribitCsvAccumulator), which gives the detail in its wording, and decides the "check"
 * rows. Its reason must equal the SQL one (else the ingest stops with an internal error).
 * Then the file-level rule: rows farther than the tolerance from the file's dominant (lower-median)
 * timestamp are `timestamp-outlier`; the index price is the upper median per coin; futures are the
 * first row quoting each dated future, as in deribit/files.ts.
 */
import { basename } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { parseInstrumentName } from "../../core/instruments/names.js";
import { bidAskWarnings, outlierDetail } from "../csvFields.js";
import { createDeribitCsvAccumulator, type RejectedRow } from "../deribit/files.js";
import { HISTORY_COLUMNS, OPTION_QUOTE_COLUMNS, sqlStr } from "./historyLayout.js";
import { appendRows, type Cell, createTemp, type IngestSource, rows, STAGE } from "./ingestSql.js";

/** The optional number fields of a row (csvOptionalNumber in deribit/files.ts). */
const NUMS = [
  "underlying",
  "bid_price",
  "ask_price",
  "mark_price",
  "futures_price",
  "implied_volatility",
  "open_interest",
  "volume",
  "index_price",
] as const;

const BLANKS = "' ' || chr(9)";

/** SQL of the typed cells of a raw CSV row (inner query: every cast done once). */
const sv = (c: string) => `s_${c}`;
const dv = (c: string) => `d_${c}`;
/** An optional number cell the loader reads as a number or as empty. */
const numOk = (c: string) =>
  `coalesce(${sv(c)} IS NULL OR ${sv(c)} = '' OR (isfinite(${dv(c)}) AND NOT contains(${sv(c)}, '_')), false)`;
/** A number cell the loader certainly refuses (text it cannot trim to empty, ASCII so its trim is ours). */
const numBad = (c: string) =>
  `(NOT ${numOk(c)} AND trim(${sv(c)}, ${BLANKS}) <> '' AND NOT regexp_matches(${sv(c)}, '[^ -~]'))`;
const strikeOk = `coalesce(${dv("strike")} > 0 AND isfinite(${dv("strike")}) AND NOT contains(${sv("strike")}, '_'), false)`;
/** Number() refuses it too: missing or blank, or a number DuckDB reads (so Number() reads it alike) that is not positive. */
const strikeBad = `(NOT ${strikeOk} AND (${sv("strike")} IS NULL OR trim(${sv("strike")}, ${BLANKS}) = '' OR (${dv("strike")} IS NOT NULL AND NOT contains(${sv("strike")}, '_'))))`;
/** An ISO instant with a UTC zone (YYYY-MM-DDTHH:MM:SS[.f] then Z or +00:00), which Date.parse reads alike. */
const timeOk = (c: string) =>
  `(${dv(c)} IS NOT NULL AND substr(${sv(c)}, 11, 1) = 'T' AND ${sv(c)} >= '1970' AND (ends_with(${sv(c)}, '+00:00') OR ends_with(${sv(c)}, 'Z')))`;
const reqBad = (c: string) => `(${sv(c)} IS NULL OR trim(${sv(c)}, ${BLANKS}) = '')`;
/** A text cell without surrounding blanks or tabs (the loader trims them: such rows go to the loader). */
const plain = (c: string) =>
  `(${sv(c)} IS NULL OR NOT (starts_with(${sv(c)}, ' ') OR ends_with(${sv(c)}, ' ') OR contains(${sv(c)}, chr(9))))`;

export interface DeribitGroupResult {
  /** Rows read per file name (src). */
  readonly read: Map<string, number>;
  readonly warnings: Map<string, string[]>;
}

/** A group's read_csv over `list` (an SQL list of paths): every column as text, the file name kept. */
function readCsvSql(header: readonly string[], gzip: boolean, list: string): string {
  const columns = `{${header.map((c) => `${sqlStr(c)}: 'VARCHAR'`).join(", ")}}`;
  const opts = `header=true, auto_detect=false, delim=',', quote='"', escape='"', null_padding=true, strict_mode=false, nullstr='\u0001'`;
  return `read_csv(${list}, columns=${columns}, ${opts}, compression=${gzip ? "'gzip'" : "'none'"}, filename=true)`;
}

/** The field-level reason of a row (NULL when every field passes): invalid-field, or check. */
function fieldReasonSql(): string {
  const ok = [
    timeOk("timestamp"),
    timeOk("expiry_datetime"),
    `${sv("instrument_name")} <> ''`,
    `${sv("option_type")} IN ('call', 'put')`,
    strikeOk,
    ...NUMS.map(numOk),
    `${sv("currency")} <> ''`,
    ...["instrument_name", "underlying_name", "futures_instrument_name", "currency"].map(plain),
  ];
  const refused = [
    reqBad("timestamp"),
    reqBad("expiry_datetime"),
    reqBad("instrument_name"),
    `coalesce(trim(${sv("option_type")}, ${BLANKS}) NOT IN ('call', 'put'), true)`,
    strikeBad,
    ...NUMS.map(numBad),
    reqBad("currency"),
  ];
  return `CASE WHEN ${ok.join(" AND ")} THEN NULL WHEN ${refused.join(" OR ")} THEN 'invalid-field' ELSE 'check' END`;
}

/** The inner query: raw cells (s_*), their casts (d_*) and the file's hash, per row of the group. */
function castSql(header: readonly string[], gzip: boolean, fileList: string): string {
  const col = (c: string) => (header.includes(c) ? JSON.stringify(c) : "NULL::VARCHAR");
  const text = ["instrument_name", "option_type", "currency", "underlying_name", "futures_instrument_name"];
  const cells = [
    ...["timestamp", "expiry_datetime"].map(
      (c) => `${col(c)} AS ${sv(c)}, TRY_CAST(${col(c)} AS TIMESTAMPTZ) AS ${dv(c)}`,
    ),
    ...["strike", ...NUMS].map((c) => `${col(c)} AS ${sv(c)}, TRY_CAST(${col(c)} AS DOUBLE) AS ${dv(c)}`),
    ...text.map((c) => `${col(c)} AS ${sv(c)}`),
  ];
  return `SELECT hash(filename) AS fh, ${cells.join(", ")} FROM ${readCsvSql(header, gzip, fileList)}`;
}

/**
 * Pass 1, one statement over every file of the group: each row's file (fh, the hash of its path:
 * one hash per row instead of a list lookup; offs maps it to the file's index fid, 1-based, and
 * first rowid), its field-level reason and its typed values. Insertion order is file order, so
 * rowid gives lines.
 */
async function readGroup(conn: DuckDBConnection, files: readonly IngestSource[]): Promise<void> {
  const header = files[0]?.header ?? [];
  const fileList = `[${files.map((f) => sqlStr(f.path)).join(", ")}]`;
  const fmap = files.map((f, i) => `(${i + 1}, hash(${sqlStr(f.path)}), ${sqlStr(f.src)})`).join(", ");
  await conn.run(`CREATE OR REPLACE TEMP TABLE fmap AS SELECT * FROM (VALUES ${fmap}) v(fid, fh, src)`);
  const distinct = await rows(conn, "SELECT count(DISTINCT fh)::INTEGER AS n FROM fmap");
  if (Number(distinct[0]?.n) !== files.length) throw new Error("store ingest: file path hashes collide");
  await conn.run(`CREATE OR REPLACE TEMP TABLE chk AS SELECT fh, ${fieldReasonSql()} AS reason0,
      epoch_ms(${dv("timestamp")}) AS ts, epoch_ms(${dv("expiry_datetime")}) AS expiry_v, ${dv("strike")} AS strike_v,
      ${NUMS.map((c) => `${dv(c)} AS n_${c}`).join(", ")}, ${sv("instrument_name")} AS inst, ${sv("option_type")} AS otype,
      ${sv("currency")} AS currency, nullif(${sv("underlying_name")}, '') AS underlying_name, ${sv("futures_instrument_name")} AS fname
    FROM (${castSql(header, files[0]?.gzip ?? false, fileList)})`);
  await conn.run(
    "CREATE OR REPLACE TEMP TABLE offs AS SELECT m.fid::INTEGER AS fid, c.fh, min(c.rowid) AS r0, count(*)::BIGINT AS n FROM chk c JOIN fmap m USING (fh) GROUP BY m.fid, c.fh",
  );
}

/** Instrument names parsed by the core parser, kept for the other parts of an ingest (names recur across days). */
export type NameCache = Map<string, ReturnType<typeof parseInstrumentName>>;

function parseCached(cache: NameCache, name: string): ReturnType<typeof parseInstrumentName> {
  let r = cache.get(name);
  if (r === undefined) {
    r = parseInstrumentName(name);
    cache.set(name, r);
  }
  return r;
}

/** Distinct option and future names of the group, parsed once each by the core parser. */
async function stageNames(conn: DuckDBConnection, cache: NameCache): Promise<void> {
  const optionRows: Cell[][] = [];
  for (const { n } of await rows(conn, "SELECT DISTINCT inst AS n FROM chk WHERE reason0 IS NULL")) {
    const name = String(n);
    const r = parseCached(cache, name);
    if (r.ok && r.value.type === "option") {
      const v = r.value;
      optionRows.push([name, "option", v.underlying, v.settlement, v.expiry, v.strike, v.kind]);
    } else optionRows.push([name, "bad", null, null, null, null, null]);
  }
  const onames = {
    name: "VARCHAR",
    status: "VARCHAR",
    coin: "VARCHAR",
    settlement: "VARCHAR",
    expiry: "BIGINT",
    strike: "DOUBLE",
    kind: "VARCHAR",
  };
  await createTemp(conn, "onames", onames);
  await appendRows(conn, "onames", Object.values(onames), optionRows);
  const futureRows: Cell[][] = [];
  const fsql =
    "SELECT DISTINCT fname AS n FROM chk WHERE reason0 IS NULL AND fname <> '' AND NOT starts_with(fname, 'SYN.')";
  for (const { n } of await rows(conn, fsql)) {
    const r = parseCached(cache, String(n));
    if (r.ok && r.value.type === "future") futureRows.push([String(n), r.value.expiry]);
  }
  await createTemp(conn, "fnames", { name: "VARCHAR", expiry: "BIGINT" });
  await appendRows(conn, "fnames", ["VARCHAR", "BIGINT"], futureRows);
}

/** The row-level reason (SQL over chk c LEFT JOIN onames n): NULL for an accepted row. */
export const ROW_REASON_SQL = `CASE WHEN c.reason0 IS NOT NULL THEN c.reason0
  WHEN n.status IS NULL THEN 'check'
  WHEN n.status <> 'option' THEN 'bad-instrument-name'
  WHEN n.strike <> c.strike_v OR n.kind <> c.otype OR n.expiry <> c.expiry_v OR (n.settlement = 'inverse' AND n.coin <> c.currency) THEN 'name-mismatch'
  WHEN NOT coalesce(c.n_index_price > 0, false) THEN 'missing-index' END`;

/** Columns of an accepted row (the view accv and the rows the loader accepted, t2acc). */
const ACC_COLUMNS = {
  fid: "INTEGER",
  line: "BIGINT",
  ts: "BIGINT",
  instrument: "VARCHAR",
  coin: "VARCHAR",
  ...OPTION_QUOTE_COLUMNS,
  index_price: "DOUBLE",
  fut_name: "VARCHAR",
  fut_expiry: "BIGINT",
  fut_price: "DOUBLE",
} as const;

/**
 * The accepted rows, those the SQL rules accept and the loader's (t2acc): the view accv (every
 * column, read once by the Parquet write) and the table acc (the few columns the dominant
 * timestamp, the outliers, the chains, the futures and the counts need). Materializing every
 * column costs more than the Parquet write's second pass over the joins.
 */
async function createAccepted(conn: DuckDBConnection): Promise<void> {
  const fut = "c.n_futures_price > 0 AND f.name IS NOT NULL";
  await conn.run(`CREATE OR REPLACE TEMP VIEW accv AS SELECT o.fid, c.rowid - o.r0 + 2 AS line, c.ts,
      c.inst AS instrument, n.coin, c.expiry_v AS expiry, c.strike_v AS strike, c.otype AS kind,
      CASE WHEN c.n_bid_price > 0 THEN c.n_bid_price END AS bid, CASE WHEN c.n_ask_price > 0 THEN c.n_ask_price END AS ask,
      c.n_mark_price AS mark, c.n_implied_volatility AS mark_iv, c.n_underlying AS underlying_price, c.underlying_name,
      c.n_open_interest AS open_interest, c.n_volume AS volume, c.n_index_price AS index_price,
      CASE WHEN ${fut} THEN f.name END AS fut_name, CASE WHEN ${fut} THEN f.expiry END AS fut_expiry,
      CASE WHEN ${fut} THEN c.n_futures_price END AS fut_price
    FROM chk c JOIN offs o ON o.fh = c.fh JOIN onames n ON n.name = c.inst LEFT JOIN fnames f ON f.name = c.fname
    WHERE (${ROW_REASON_SQL}) IS NULL
    UNION ALL SELECT * FROM t2acc`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE acc AS SELECT fid, line, ts, coin, index_price, fut_name, fut_expiry,
      fut_price, (bid IS NOT NULL)::INTEGER + (ask IS NOT NULL)::INTEGER AS sides FROM accv`);
}

/** The raw fields of some rows (fid, line) of the group, by reading their files again. */
async function rawRows(
  conn: DuckDBConnection,
  files: readonly IngestSource[],
  keys: readonly { fid: number; line: number }[],
): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (keys.length === 0) return out;
  const header = files[0]?.header ?? [];
  const fids = [...new Set(keys.map((k) => k.fid))];
  const list = `[${fids.map((i) => sqlStr(files[i - 1]?.path ?? "")).join(", ")}]`;
  const cols = header.map((c, i) => `${JSON.stringify(c)} AS c${i}`).join(", ");
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE raw AS SELECT filename AS path, ${cols} FROM ${readCsvSql(header, files[0]?.gzip ?? false, list)}`,
  );
  const want = new Set(keys.map((k) => `${files[k.fid - 1]?.path}|${k.line}`));
  const res = await conn.runAndReadAll(
    `SELECT r.path, r.rowid - m.r0 + 2 AS line, ${header.map((_, i) => `r.c${i}`).join(", ")} FROM raw r JOIN (SELECT path, min(rowid) AS r0 FROM raw GROUP BY path) m USING (path)`,
  );
  for (const r of res.getRowsJS()) {
    const key = `${String(r[0])}|${Number(r[1])}`;
    if (!want.has(key)) continue;
    const record: Record<string, string> = {};
    for (const [i, c] of header.entries()) {
      const v = r[i + 2];
      if (v !== null && v !== undefined) record[c] = String(v).trim();
    }
    out.set(key, record);
  }
  await conn.run("DROP TABLE raw");
  return out;
}

/** The loader's row validator on one record: its reject, or the accepted row's cells (ACC_COLUMNS). */
function loaderRow(
  header: readonly string[],
  record: Record<string, string>,
  fid: number,
  line: number,
): { reject: RejectedRow } | { cells: Cell[] } {
  const a = createDeribitCsvAccumulator({ columns: header, timestampToleranceMs: Number.POSITIVE_INFINITY });
  a.add(record, line);
  const res = a.finish();
  const reject = res.rejected[0];
  if (reject) return { reject };
  const chain = res.chains[0];
  const q = chain?.quotes[0];
  if (!chain || !q || q.instrument.type !== "option") throw new Error(`store ingest: row ${line} lost`);
  const i = q.instrument;
  const fut = chain.futures?.[0];
  const cells: Cell[] = [fid, line, q.timestamp, i.name, i.underlying, i.expiry, i.strike, i.kind];
  cells.push(q.bid, q.ask, q.mark, q.markIv ?? null, q.underlyingPrice ?? null, q.underlyingName ?? null);
  cells.push(q.openInterest ?? null, q.volume ?? null, chain.indexPrice);
  cells.push(fut?.name ?? null, fut?.expiry ?? null, fut?.mark ?? null);
  return { cells };
}

/**
 * Tier 2: the rows the SQL rules reject or leave to the loader, through the loader's row
 * validator: rejects (its reason and detail) to the staging rejects, its accepted rows to t2acc.
 * The loader's reason must be the SQL one for every row the SQL rules decided.
 */
async function loaderTier(
  conn: DuckDBConnection,
  files: readonly IngestSource[],
  batch: string,
): Promise<void> {
  const header = files[0]?.header ?? [];
  const keys = (
    await rows(
      conn,
      `SELECT o.fid, c.rowid - o.r0 + 2 AS line, ${ROW_REASON_SQL} AS reason FROM chk c JOIN offs o ON o.fh = c.fh
       LEFT JOIN onames n ON n.name = c.inst WHERE (${ROW_REASON_SQL}) IS NOT NULL ORDER BY o.fid, line`,
    )
  ).map((k) => ({ fid: Number(k.fid), line: Number(k.line), reason: String(k.reason) }));
  const raw = await rawRows(conn, files, keys);
  const rejects: Cell[][] = [];
  const accepted: Cell[][] = [];
  for (const k of keys) {
    const path = files[k.fid - 1]?.path ?? "";
    const record = raw.get(`${path}|${k.line}`) ?? {};
    const out = loaderRow(header, record, k.fid, k.line);
    const reason = "reject" in out ? out.reject.reason : null;
    if (k.reason !== "check" && k.reason !== reason)
      throw new Error(
        `store ingest: ${path} line ${k.line}: SQL reason ${k.reason}, the loader's ${reason ?? "accepted"}`,
      );
    if ("reject" in out)
      rejects.push([
        basename(path),
        batch,
        k.line,
        out.reject.reason,
        out.reject.detail,
        JSON.stringify(record),
      ]);
    else accepted.push(out.cells);
  }
  await createTemp(conn, "t2acc", ACC_COLUMNS);
  await appendRows(conn, "t2acc", Object.values(ACC_COLUMNS), accepted);
  await appendRows(conn, STAGE.rejects, Object.values(HISTORY_COLUMNS.rejects), rejects);
}

/** The file-level rule: each file's dominant timestamp (dom); the rows too far from it rejected, the others kept. */
async function timestampOutliers(
  conn: DuckDBConnection,
  files: readonly IngestSource[],
  batch: string,
  tol: number,
): Promise<void> {
  await conn.run(
    "CREATE OR REPLACE TEMP TABLE dom AS SELECT a.fid, m.src, quantile_disc(a.ts, 0.5) AS dominant FROM acc a JOIN fmap m USING (fid) GROUP BY a.fid, m.src",
  );
  const outliers = (
    await rows(
      conn,
      `SELECT a.fid, a.line, a.ts, d.dominant FROM acc a JOIN dom d USING (fid) WHERE abs(a.ts - d.dominant) > ${tol} ORDER BY a.fid, a.line`,
    )
  ).map((r) => ({
    fid: Number(r.fid),
    line: Number(r.line),
    ts: Number(r.ts),
    dominant: Number(r.dominant),
  }));
  for (const [view, from] of [
    ["kept", "acc"],
    ["keptv", "accv"],
  ])
    await conn.run(
      `CREATE OR REPLACE TEMP VIEW ${view} AS SELECT a.*, d.src, d.dominant FROM ${from} a JOIN dom d USING (fid) WHERE abs(a.ts - d.dominant) <= ${tol}`,
    );
  if (outliers.length === 0) return;
  const raw = await rawRows(conn, files, outliers);
  const rejects = outliers.map((r): Cell[] => {
    const path = files[r.fid - 1]?.path ?? "";
    const detail = outlierDetail(r.ts, r.dominant, tol);
    const row = JSON.stringify(raw.get(`${path}|${r.line}`) ?? {});
    return [basename(path), batch, r.line, "timestamp-outlier", detail, row];
  });
  await appendRows(conn, STAGE.rejects, Object.values(HISTORY_COLUMNS.rejects), rejects);
}

/** The accepted rows to Parquet (`quotesFile`), the chains (index price) and futures staged. */
async function writeAccepted(conn: DuckDBConnection, batch: string, quotesFile: string): Promise<void> {
  const b = sqlStr(batch);
  await conn.run(`COPY (SELECT a.src, ${b} AS batch, a.line, a.coin AS underlying, a.dominant AS valuation_time,
      a.instrument, a.ts, a.expiry, a.strike, a.kind, a.bid, a.ask, a.mark, a.mark_iv, a.underlying_price,
      a.underlying_name, a.open_interest, a.volume, NULL::DOUBLE AS bid_size, NULL::DOUBLE AS ask_size,
      NULL::DOUBLE AS bid_iv, NULL::DOUBLE AS ask_iv, false AS tardis FROM keptv a)
    TO ${sqlStr(quotesFile)} (FORMAT PARQUET)`);
  await conn.run(`INSERT INTO ${STAGE.chains} SELECT a.src, ${b}, a.coin, any_value(a.dominant),
      list_sort(list(a.index_price))[(count(*) // 2) + 1], count(*) FROM kept a GROUP BY a.src, a.fid, a.coin`);
  await conn.run(`INSERT INTO ${STAGE.futures} SELECT a.src, ${b}, a.coin, any_value(a.dominant),
      a.fut_name, any_value(a.fut_expiry), arg_min(a.ts, a.line), arg_min(a.fut_price, a.line)
      FROM kept a WHERE a.fut_name IS NOT NULL GROUP BY a.src, a.fid, a.coin, a.fut_name`);
}

/** Rows read per file and the loader's bid/ask warnings (no bid/ask columns, or every quote mark-only). */
async function groupCounts(
  conn: DuckDBConnection,
  files: readonly IngestSource[],
): Promise<DeribitGroupResult> {
  const header = files[0]?.header ?? [];
  const missing = ["bid_price", "ask_price"].filter((c) => !header.includes(c));
  const counts = await rows(
    conn,
    "SELECT o.fid, o.n AS read, count(a.line)::BIGINT AS n, coalesce(sum(a.sides), 0)::BIGINT AS sides FROM offs o LEFT JOIN kept a USING (fid) GROUP BY o.fid, o.n",
  );
  const warnings = new Map<string, string[]>();
  const read = new Map<string, number>();
  for (const f of files) read.set(f.src, 0);
  for (const c of counts) {
    const f = files[Number(c.fid) - 1];
    if (!f) continue;
    read.set(f.src, Number(c.read));
    const side = Number(c.sides) === 0 ? null : 1;
    const quotes = Array.from({ length: Number(c.n) }, () => ({ bid: side, ask: side }));
    const w = bidAskWarnings(f.path, missing, quotes);
    if (w.length > 0) warnings.set(f.src, w);
  }
  return { read, warnings };
}

/** Temporary tables of a group, dropped when it is done. */
const GROUP_TABLES = ["chk", "offs", "onames", "fnames", "t2acc", "acc", "fmap", "dom"];

async function dropGroup(conn: DuckDBConnection): Promise<void> {
  for (const v of ["keptv", "kept", "accv"]) await conn.run(`DROP VIEW IF EXISTS ${v}`);
  for (const t of GROUP_TABLES) await conn.run(`DROP TABLE IF EXISTS ${t}`);
}

/**
 * One group of Deribit files sharing a header and compression, validated (see the module comment)
 * and staged; its accepted rows written to `quotesFile`, its rejects to the staging rejects.
 * `names`: the parsed names of the ingest's other parts.
 */
export async function ingestDeribitGroup(
  conn: DuckDBConnection,
  files: readonly IngestSource[],
  batch: string,
  tol: number,
  quotesFile: string,
  names: NameCache = new Map(),
): Promise<DeribitGroupResult> {
  await readGroup(conn, files);
  await stageNames(conn, names);
  await loaderTier(conn, files, batch);
  await createAccepted(conn);
  await timestampOutliers(conn, files, batch, tol);
  await writeAccepted(conn, batch, quotesFile);
  const out = await groupCounts(conn, files);
  await dropGroup(conn);
  return out;
}

/**
 * The SQL reason of every row of some Deribit files (all with one header and compression), before
 * the loader's tier: by file path, the reason per line (null = accepted by the SQL rules, "check" =
 * left to the loader). For tests comparing the SQL rules with the loader's validator.
 */
export async function deribitSqlReasons(
  conn: DuckDBConnection,
  files: readonly IngestSource[],
): Promise<Map<string, (string | null)[]>> {
  await readGroup(conn, files);
  await stageNames(conn, new Map());
  const out = new Map<string, (string | null)[]>(files.map((f) => [f.path, []]));
  const res = await rows(
    conn,
    `SELECT o.fid, ${ROW_REASON_SQL} AS reason FROM chk c JOIN offs o ON o.fh = c.fh LEFT JOIN onames n ON n.name = c.inst ORDER BY c.rowid`,
  );
  for (const r of res)
    out.get(files[Number(r.fid) - 1]?.path ?? "")?.push(r.reason === null ? null : String(r.reason));
  await dropGroup(conn);
  return out;
}
