/**
 * Deribit option-chain snapshot files (CSV, optionally gzip-compressed), as in
 * ../shared/data/deribit (see its README). One row per option:
 *
 *   timestamp, instrument_name, underlying (USD price of the future or synthetic forward used
 *   for the mark), underlying_name (future name or SYN.<expiry>), option_type, strike,
 *   expiry_datetime, time_to_maturity, bid_price / ask_price / mark_price / mid_price (coin per
 *   option on one coin), futures_price, futures_instrument_name, implied_volatility (mark IV,
 *   decimal), delta, vega, open_interest, volume, bid_ask_spread, currency, index_price (USD),
 *   volume_usd
 *
 * Rows are validated with zod and streamed (constant memory per row). A row is rejected, with
 * its line number and reason, when a required field is missing or wrong, or when the fields
 * contradict each other (name vs strike/type/expiry); accepted + rejected = rows read, always.
 * An empty or zero bid/ask is a missing side (null), not a price of 0.
 *
 * Valuation time: a file is ONE snapshot, so its chains' valuation time is the file's dominant
 * timestamp (the lower median of the valid rows' timestamps; csvFields.ts), never the latest row:
 * a row farther than `timestampToleranceMs` (default 10 min) from it is rejected as
 * `timestamp-outlier` (a row stamped 2100-01-01 used to set the valuation time and mark every
 * other quote expired). `valuationTime` overrides the chains' valuation time (outliers are still
 * judged against the dominant timestamp).
 *
 * Missing bid/ask columns: a file without `bid_price` and/or `ask_price` is loaded, its quotes
 * kept MARK-ONLY, and the result's `warnings` says so naming the missing columns (as does a file
 * whose every row has an empty bid and ask). The CLI prints every warning on stderr.
 */
import type { Readable } from "node:stream";
import {
  bidAskWarnings,
  csvOptionalNumber,
  csvRecords,
  csvSidePrice,
  dominantTimestamp,
  outlierDetail,
  TIMESTAMP_OUTLIER_TOLERANCE_MS,
} from "../csvFields.js";
import { z } from "zod";
import { parseInstrumentName } from "../../core/instruments/names.js";
import type { OptionContract } from "../../core/instruments/types.js";
import { checkInputFile, inputFileStream } from "../inputFile.js";
import type { ChainSnapshot, FutureQuote, OptionQuote } from "../../core/market/types.js";

export type DeribitRowRejection =
  | "bad-instrument-name"
  | "invalid-field"
  | "name-mismatch"
  | "missing-index"
  | "timestamp-outlier";

export interface RejectedRow {
  /** 1-based line in the file (the header is line 1). */
  readonly line: number;
  readonly reason: DeribitRowRejection;
  readonly detail: string;
  readonly row: Record<string, string>;
}

export interface DeribitFileResult {
  /** One chain per currency (underlying), sorted by name. */
  readonly chains: ChainSnapshot[];
  readonly rejected: RejectedRow[];
  readonly rowsRead: number;
  /** The dominant (lower-median) timestamp of the valid rows, epoch ms; null without valid rows. */
  readonly dominantTime: number | null;
  /** Problems that did not reject rows but change what the chain is (e.g. no bid/ask columns). */
  readonly warnings: string[];
}

export interface DeribitCsvOptions {
  /** The chains' valuation time, epoch ms UTC (default: the file's dominant timestamp). */
  readonly valuationTime?: number;
  /** Rows farther than this from the dominant timestamp are `timestamp-outlier` (default 10 min). */
  readonly timestampToleranceMs?: number;
  /** The file's header (default: the keys of the first record); used to report missing columns. */
  readonly columns?: readonly string[];
  /** Names the file in warnings (default "chain file"). */
  readonly source?: string;
}

const requiredPositive = z.string().transform((s, ctx) => {
  const x = Number(s);
  if (s.trim() === "" || !(x > 0) || !Number.isFinite(x)) {
    ctx.addIssue({ code: "custom", message: `must be a positive number, got "${s}"` });
    return z.NEVER;
  }
  return x;
});
const instant = z.string().transform((s, ctx) => {
  const t = Date.parse(s);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: "custom", message: `not an ISO timestamp: "${s}"` });
    return z.NEVER;
  }
  return t;
});

const rowSchema = z.object({
  timestamp: instant,
  instrument_name: z.string().min(1),
  underlying: csvOptionalNumber,
  underlying_name: z.string().optional().default(""),
  option_type: z.enum(["call", "put"]),
  strike: requiredPositive,
  expiry_datetime: instant,
  bid_price: csvSidePrice,
  ask_price: csvSidePrice,
  mark_price: csvOptionalNumber,
  futures_price: csvOptionalNumber,
  futures_instrument_name: z.string().optional().default(""),
  implied_volatility: csvOptionalNumber,
  open_interest: csvOptionalNumber,
  volume: csvOptionalNumber,
  currency: z.string().min(1),
  index_price: csvOptionalNumber,
});

/** A row that passed every per-row check; it becomes a quote unless its timestamp is an outlier. */
type ValidRow = {
  line: number;
  record: Record<string, string>;
  inst: OptionContract;
  r: z.infer<typeof rowSchema> & { index_price: number };
};

function describeIssue(error: z.ZodError, row: Record<string, string>): string {
  const issue = error.issues[0];
  const field = issue?.path.join(".") ?? "row";
  return `${field}: ${issue?.message ?? "invalid"} (value ${JSON.stringify(row[field] ?? null)})`;
}

/** Why a parsed row's columns disagree with its instrument name, or null. */
function nameMismatch(inst: OptionContract, r: z.infer<typeof rowSchema>): string | null {
  if (inst.strike !== r.strike) return `strike ${r.strike} vs name ${inst.strike}`;
  if (inst.kind !== r.option_type) return `option_type ${r.option_type} vs name ${inst.kind}`;
  if (inst.expiry !== r.expiry_datetime)
    return `expiry_datetime ${new Date(r.expiry_datetime).toISOString()} vs name ${new Date(inst.expiry).toISOString()}`;
  if (inst.underlying !== r.currency && inst.settlement === "inverse")
    return `currency ${r.currency} vs name ${inst.underlying}`;
  return null;
}

/** One CSV record checked field by field: a valid row, or the rejection with its reason. */
function validateDeribitRow(record: Record<string, string>, line: number): ValidRow | RejectedRow {
  const parsed = rowSchema.safeParse(record);
  if (!parsed.success)
    return { line, reason: "invalid-field", detail: describeIssue(parsed.error, record), row: record };
  const r = parsed.data;
  const name = parseInstrumentName(r.instrument_name);
  if (!name.ok) return { line, reason: "bad-instrument-name", detail: name.message, row: record };
  const inst = name.value;
  if (inst.type !== "option")
    return {
      line,
      reason: "bad-instrument-name",
      detail: `${r.instrument_name} is not an option`,
      row: record,
    };
  const mismatch = nameMismatch(inst, r);
  if (mismatch) return { line, reason: "name-mismatch", detail: mismatch, row: record };
  const index = r.index_price;
  if (index === null || !(index > 0))
    return {
      line,
      reason: "missing-index",
      detail: `index_price ${JSON.stringify(record.index_price ?? null)}`,
      row: record,
    };
  // index_price checked > 0 just above; a cast, not a copy, to keep the loader allocation-free per row.
  return { line, record, inst, r: r as ValidRow["r"] };
}

/** One currency's rows on the way to its chain. */
interface CurrencyRows {
  readonly quotes: OptionQuote[];
  readonly futures: Map<string, FutureQuote>;
  readonly indexPrices: number[];
}

/** Adds a valid row's quote, index and (first sighting of a listed) future to its currency. */
function addRow(acc: CurrencyRows, { inst, r }: ValidRow): void {
  acc.indexPrices.push(r.index_price);
  acc.quotes.push({
    instrument: inst,
    timestamp: r.timestamp,
    bid: r.bid_price,
    ask: r.ask_price,
    mark: r.mark_price,
    markIv: r.implied_volatility,
    underlyingPrice: r.underlying,
    underlyingName: r.underlying_name || null,
    openInterest: r.open_interest,
    volume: r.volume,
  });
  const fname = r.futures_instrument_name;
  const price = r.futures_price;
  if (!fname || fname.startsWith("SYN.") || price === null || !(price > 0) || acc.futures.has(fname)) return;
  const f = parseInstrumentName(fname);
  if (f.ok && f.value.type === "future")
    acc.futures.set(fname, {
      name: fname,
      underlying: inst.underlying,
      expiry: f.value.expiry,
      timestamp: r.timestamp,
      mark: price,
    });
}

/** Valid rows grouped by currency; rows off the dominant time are timestamp outliers. */
function groupRows(
  valid: readonly ValidRow[],
  dominant: number | null,
  tolerance: number,
): { byCurrency: Map<string, CurrencyRows>; outliers: RejectedRow[] } {
  const byCurrency = new Map<string, CurrencyRows>();
  const outliers: RejectedRow[] = [];
  for (const row of valid) {
    const t = row.r.timestamp;
    if (dominant !== null && Math.abs(t - dominant) > tolerance) {
      const detail = outlierDetail(t, dominant, tolerance);
      outliers.push({ line: row.line, reason: "timestamp-outlier", detail, row: row.record });
      continue;
    }
    let acc = byCurrency.get(row.inst.underlying);
    if (!acc) {
      acc = { quotes: [], futures: new Map(), indexPrices: [] };
      byCurrency.set(row.inst.underlying, acc);
    }
    addRow(acc, row);
  }
  return { byCurrency, outliers };
}

/** One chain per currency: index = the median row index, futures by expiry. */
function currencyChains(
  byCurrency: ReadonlyMap<string, CurrencyRows>,
  valuationTime: number,
): ChainSnapshot[] {
  return [...byCurrency.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([underlying, acc]): ChainSnapshot => {
      const sorted = [...acc.indexPrices].sort((a, b) => a - b);
      return {
        underlying,
        valuationTime,
        indexPrice: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
        quotes: acc.quotes,
        futures: [...acc.futures.values()].sort((a, b) => (a.expiry ?? 0) - (b.expiry ?? 0)),
      };
    });
}

/**
 * Row-by-row builder of Deribit chains (what parseDeribitCsv does per record), for callers that
 * stream records themselves. `add` validates one CSV record; `finish` applies the
 * timestamp-outlier rule and returns the chains. Valid rows are held until `finish` (one snapshot).
 */
export function createDeribitCsvAccumulator(options: DeribitCsvOptions = {}): {
  add(record: Record<string, string>, line: number): void;
  finish(): DeribitFileResult;
} {
  const valid: ValidRow[] = [];
  const rejected: RejectedRow[] = [];
  let rowsRead = 0;
  let columns: readonly string[] | null = options.columns ?? null;
  const add = (record: Record<string, string>, line: number): void => {
    rowsRead++;
    if (columns === null) columns = Object.keys(record);
    const v = validateDeribitRow(record, line);
    if ("reason" in v) rejected.push(v);
    else valid.push(v);
  };
  const finish = (): DeribitFileResult => {
    const tolerance = options.timestampToleranceMs ?? TIMESTAMP_OUTLIER_TOLERANCE_MS;
    const dominant = dominantTimestamp(valid.map((v) => v.r.timestamp));
    const { byCurrency, outliers } = groupRows(valid, dominant, tolerance);
    const allRejected =
      outliers.length === 0 ? rejected : [...rejected, ...outliers].sort((a, b) => a.line - b.line);
    const chains = currencyChains(byCurrency, options.valuationTime ?? (dominant as number));
    const header = columns ?? [];
    const missing = rowsRead > 0 ? ["bid_price", "ask_price"].filter((c) => !header.includes(c)) : [];
    const warnings = bidAskWarnings(
      options.source ?? "chain file",
      missing,
      chains.flatMap((c) => c.quotes),
    );
    return { chains, rejected: allRejected, rowsRead, dominantTime: dominant, warnings };
  };
  return { add, finish };
}

/** Parses a Deribit snapshot CSV stream (one snapshot; see the module comment). */
export async function parseDeribitCsv(
  input: Readable,
  options: DeribitCsvOptions = {},
): Promise<DeribitFileResult> {
  const { records, header } = csvRecords(input);
  let acc: ReturnType<typeof createDeribitCsvAccumulator> | null = null;
  let line = 1;
  for await (const record of records) {
    acc ??= createDeribitCsvAccumulator({ ...options, columns: header });
    acc.add(record, ++line);
  }
  return (acc ?? createDeribitCsvAccumulator({ ...options, columns: header })).finish();
}

/** Reads a Deribit snapshot file (.csv or .csv.gz). */
export async function loadDeribitCsvFile(
  path: string,
  options: DeribitCsvOptions = {},
): Promise<DeribitFileResult> {
  await checkInputFile(path, "chain file");
  return parseDeribitCsv(inputFileStream(path, { gzip: path.endsWith(".gz"), what: "chain file" }), {
    source: path,
    ...options,
  });
}

/** The columns of a Deribit snapshot file, in the order the real files use. */
export const DERIBIT_CSV_COLUMNS = [
  "timestamp",
  "instrument_name",
  "underlying",
  "underlying_name",
  "option_type",
  "strike",
  "expiry_datetime",
  "time_to_maturity",
  "bid_price",
  "ask_price",
  "mark_price",
  "mid_price",
  "futures_price",
  "futures_instrument_name",
  "implied_volatility",
  "delta",
  "vega",
  "open_interest",
  "volume",
  "bid_ask_spread",
  "currency",
  "index_price",
  "volume_usd",
] as const;

const csvCell = (x: number | string | null | undefined): string =>
  x === null || x === undefined ? "" : typeof x === "number" ? (Number.isFinite(x) ? String(x) : "") : x;

/**
 * One chain as Deribit snapshot CSV lines (no header; join DERIBIT_CSV_COLUMNS for it), the
 * inverse of parseDeribitCsv for the fields a ChainSnapshot holds (delta and vega are left
 * empty; a missing side is an empty cell). Every row carries the chain's valuation time.
 */
export function formatDeribitCsvRows(chain: ChainSnapshot): string[] {
  const ts = new Date(chain.valuationTime).toISOString();
  const futureByExpiry = new Map((chain.futures ?? []).map((f) => [f.expiry, f]));
  return chain.quotes.map((q) => {
    const i = q.instrument;
    const fut = futureByExpiry.get(i.expiry);
    const mid = q.bid !== null && q.ask !== null ? (q.bid + q.ask) / 2 : null;
    const cells = [
      ts,
      i.name,
      q.underlyingPrice ?? fut?.mark ?? null,
      q.underlyingName ?? fut?.name ?? "",
      i.kind,
      i.strike,
      new Date(i.expiry).toISOString(),
      (i.expiry - chain.valuationTime) / (365 * 86_400_000),
      q.bid,
      q.ask,
      q.mark,
      mid,
      fut?.mark ?? q.underlyingPrice ?? null,
      fut?.name ?? q.underlyingName ?? "",
      q.markIv ?? null,
      null,
      null,
      q.openInterest ?? null,
      q.volume ?? null,
      q.bid !== null && q.ask !== null ? q.ask - q.bid : null,
      i.underlying,
      chain.indexPrice,
      null,
    ];
    return cells.map(csvCell).join(",");
  });
}

/**
 * Streams a Deribit CSV holding many snapshots (rows grouped by timestamp, as when daily files are
 * concatenated) and yields one DeribitFileResult per timestamp group, so memory holds one
 * snapshot at a time. Line numbers in `rejected` refer to the whole stream.
 */
export async function* streamDeribitCsvSnapshots(
  input: Readable,
  options: Omit<DeribitCsvOptions, "columns" | "valuationTime"> = {},
): AsyncGenerator<DeribitFileResult> {
  const { records, header } = csvRecords(input);
  let acc: ReturnType<typeof createDeribitCsvAccumulator> | null = null;
  let currentTs: string | null = null;
  let line = 1;
  for await (const record of records) {
    line++;
    const ts = record.timestamp ?? "";
    if (acc === null || ts !== currentTs) {
      if (acc !== null) yield acc.finish();
      acc = createDeribitCsvAccumulator({ ...options, columns: header });
      currentTs = ts;
    }
    acc.add(record, line);
  }
  if (acc !== null) yield acc.finish();
}
