/**
 * Tardis.dev `options_chain` CSV (docs.tardis.dev, "downloadable CSV files", data type
 * options_chain), plain or gzip-compressed, streamed. Columns:
 *
 *   exchange, symbol, timestamp, local_timestamp (both MICROseconds since epoch), type (call|put),
 *   strike_price, expiration (MICROseconds), open_interest, last_price, bid_price, bid_amount,
 *   bid_iv, ask_price, ask_amount, ask_iv, mark_price, mark_iv, underlying_index,
 *   underlying_price, delta, gamma, vega, theta, rho
 *
 * Prices as the exchange quotes them (Deribit: coin for inverse options); IVs in PERCENT (divided
 * by 100 here); empty or zero bid/ask = missing side (null).
 *
 * The file is a stream of updates (one row per instrument change). `loadTardisOptionsChain`
 * keeps the latest row per symbol at or before `at` (default: end of file) and builds one chain
 * per underlying: every row read is accounted for as accepted (the latest per symbol),
 * superseded (an older update of a symbol, or one after `at`), or rejected with a reason:
 *   accepted + superseded + rejected = rowsRead.
 * The chain's index price: Tardis options_chain carries no index column, so the median
 * underlying_price of the nearest expiry is used (its synthetic forward ~ spot); pass
 * `indexPrice` to override.
 *
 * Timestamps. A Tardis file is a STREAM of updates over (usually) one UTC day, so, unlike a
 * Deribit snapshot file, its rows legitimately span hours and the chain's valuation time is the
 * end of the stream: `at` (or `valuationTime`) when given, else the latest timestamp among the
 * kept quotes. That latest timestamp must not come from a bad row, so a row is rejected as
 * `timestamp-outlier` when
 *   - its exchange `timestamp` is farther than `timestampToleranceMs` (default 10 min) from its
 *     own `local_timestamp` (Tardis' receipt time, an independent clock in every real file), or
 *   - it is farther than `fileSpanMs` (default 24 h) from the file's dominant timestamp (the
 *     median of the valid rows' timestamps, at 1-minute resolution; needed when local_timestamp
 *     is empty).
 * An outlier that became a symbol's latest quote is replaced by that symbol's best earlier update
 * (moved from superseded back to accepted), so one bad row cannot hide a symbol either.
 *
 * Missing bid/ask: a file without `bid_price` and/or `ask_price` columns is loaded with mark-only
 * quotes and `warnings` names the missing columns (as when every kept quote has no bid and ask).
 */
import type { Readable } from "node:stream";
import {
  bidAskWarnings,
  csvOptionalNumber,
  csvRecords,
  csvSidePrice,
  outlierDetail,
  parseCsvNumber,
  TIMESTAMP_OUTLIER_TOLERANCE_MS,
} from "../csvFields.js";
import { z } from "zod";
import { parseInstrumentName } from "../../core/instruments/names.js";
import type { OptionContract } from "../../core/instruments/types.js";
import { checkInputFile, inputFileStream } from "../inputFile.js";
import type { ChainSnapshot, OptionQuote } from "../../core/market/types.js";

export const TARDIS_OPTIONS_CHAIN_COLUMNS = [
  "exchange",
  "symbol",
  "timestamp",
  "local_timestamp",
  "type",
  "strike_price",
  "expiration",
  "open_interest",
  "last_price",
  "bid_price",
  "bid_amount",
  "bid_iv",
  "ask_price",
  "ask_amount",
  "ask_iv",
  "mark_price",
  "mark_iv",
  "underlying_index",
  "underlying_price",
  "delta",
  "gamma",
  "vega",
  "theta",
  "rho",
] as const;

export type TardisRowRejection =
  | "invalid-field"
  | "bad-instrument-name"
  | "name-mismatch"
  | "timestamp-outlier";

export interface TardisRejectedRow {
  /** 1-based line in the file (header = line 1). */
  readonly line: number;
  readonly reason: TardisRowRejection;
  readonly detail: string;
  readonly row: Record<string, string>;
}

export interface TardisChainResult {
  readonly chains: ChainSnapshot[];
  readonly rejected: TardisRejectedRow[];
  readonly rowsRead: number;
  /** Valid rows replaced by a later update of the same symbol, or later than `at`. */
  readonly superseded: number;
  /** Median timestamp of the valid rows (1-minute resolution), epoch ms; null without any. */
  readonly dominantTime: number | null;
  /** Problems that did not reject rows but change what the chain is (e.g. no bid/ask columns). */
  readonly warnings: string[];
}

export interface TardisLoadOptions {
  /** Snapshot instant, epoch ms UTC: rows with a later timestamp are not used. */
  readonly at?: number;
  /** Index price (USD) to use for every chain instead of the nearest expiry's underlying. */
  readonly indexPrice?: number;
  /** The chains' valuation time, epoch ms UTC; also the snapshot instant when `at` is not given. */
  readonly valuationTime?: number;
  /** Max |timestamp - local_timestamp| of a row (default 10 min); farther is `timestamp-outlier`. */
  readonly timestampToleranceMs?: number;
  /** Max distance of a row from the file's dominant timestamp (default 24 h). */
  readonly fileSpanMs?: number;
  /** Names the file in warnings (default "Tardis file"). */
  readonly source?: string;
}

/** Default `fileSpanMs`: a Tardis file holds one UTC day of updates. */
export const TARDIS_FILE_SPAN_MS = 24 * 3_600_000;

const percent = csvOptionalNumber.transform((x) => (x === null ? null : x / 100));
const micros = z.string().transform((s, ctx) => {
  const x = parseCsvNumber(s);
  if (x === null || !Number.isInteger(x) || x <= 0) {
    ctx.addIssue({ code: "custom", message: `must be epoch microseconds, got "${s}"` });
    return z.NEVER;
  }
  return x / 1000;
});

export const tardisOptionsChainRowSchema = z.object({
  exchange: z.string().min(1),
  symbol: z.string().min(1),
  timestamp: micros,
  local_timestamp: z.union([z.literal(""), micros]).optional(),
  type: z.enum(["call", "put"]),
  strike_price: z.string().transform((s, ctx) => {
    const x = parseCsvNumber(s);
    if (x === null || !(x > 0)) {
      ctx.addIssue({ code: "custom", message: `must be a positive number, got "${s}"` });
      return z.NEVER;
    }
    return x;
  }),
  expiration: micros,
  open_interest: csvOptionalNumber,
  last_price: csvOptionalNumber,
  bid_price: csvSidePrice,
  bid_amount: csvOptionalNumber,
  bid_iv: percent,
  ask_price: csvSidePrice,
  ask_amount: csvOptionalNumber,
  ask_iv: percent,
  mark_price: csvOptionalNumber,
  mark_iv: percent,
  underlying_index: z.string().optional().default(""),
  underlying_price: csvOptionalNumber,
});

function describeIssue(error: z.ZodError, row: Record<string, string>): string {
  const issue = error.issues[0];
  const field = issue?.path.join(".") ?? "row";
  return `${field}: ${issue?.message ?? "invalid"} (value ${JSON.stringify(row[field] ?? null)})`;
}

/**
 * One CSV record -> an option quote, or the reason it is rejected. A row whose exchange timestamp
 * is farther than `timestampToleranceMs` (default 10 min) from its local_timestamp (when present)
 * is a `timestamp-outlier`.
 */
export function tardisRecordToQuote(
  record: Record<string, string>,
  line: number,
  timestampToleranceMs: number = TIMESTAMP_OUTLIER_TOLERANCE_MS,
): { ok: true; quote: OptionQuote } | { ok: false; rejection: TardisRejectedRow } {
  const p = tardisOptionsChainRowSchema.safeParse(record);
  if (!p.success)
    return {
      ok: false,
      rejection: { line, reason: "invalid-field", detail: describeIssue(p.error, record), row: record },
    };
  const r = p.data;
  const name = parseInstrumentName(r.symbol);
  if (!name.ok || name.value.type !== "option") {
    return {
      ok: false,
      rejection: {
        line,
        reason: "bad-instrument-name",
        detail: name.ok ? `${r.symbol} is not an option` : name.message,
        row: record,
      },
    };
  }
  const inst = name.value as OptionContract;
  const mismatch =
    inst.strike !== r.strike_price
      ? `strike_price ${r.strike_price} vs name ${inst.strike}`
      : inst.kind !== r.type
        ? `type ${r.type} vs name ${inst.kind}`
        : inst.expiry !== r.expiration
          ? `expiration ${new Date(r.expiration).toISOString()} vs name ${new Date(inst.expiry).toISOString()}`
          : null;
  if (mismatch)
    return { ok: false, rejection: { line, reason: "name-mismatch", detail: mismatch, row: record } };
  const local = r.local_timestamp;
  if (typeof local === "number" && Math.abs(r.timestamp - local) > timestampToleranceMs) {
    const min = (r.timestamp - local) / 60_000;
    return {
      ok: false,
      rejection: {
        line,
        reason: "timestamp-outlier",
        detail: `timestamp ${iso(r.timestamp)} is ${Math.abs(min).toFixed(1)} min ${min > 0 ? "after" : "before"} its local_timestamp ${iso(local)} (tolerance ${timestampToleranceMs / 60_000} min)`,
        row: record,
      },
    };
  }
  return {
    ok: true,
    quote: {
      instrument: inst,
      timestamp: r.timestamp,
      bid: r.bid_price,
      ask: r.ask_price,
      mark: r.mark_price,
      bidSize: r.bid_amount,
      askSize: r.ask_amount,
      bidIv: r.bid_price === null ? null : r.bid_iv,
      askIv: r.ask_price === null ? null : r.ask_iv,
      markIv: r.mark_iv,
      underlyingPrice: r.underlying_price !== null && r.underlying_price > 0 ? r.underlying_price : null,
      underlyingName: r.underlying_index || null,
      openInterest: r.open_interest,
    },
  };
}

function iso(t: number): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString();
}

/**
 * Chains (one per coin) from the latest quote per symbol. Returns the chains and the quotes of
 * coins with no price to derive an index from (the caller rejects those).
 */
function buildChains(
  latest: Iterable<OptionQuote>,
  options: TardisLoadOptions,
): { chains: ChainSnapshot[]; noIndex: OptionQuote[] } {
  const byCoin = new Map<string, OptionQuote[]>();
  for (const q of latest) {
    const list = byCoin.get(q.instrument.underlying) ?? [];
    list.push(q);
    byCoin.set(q.instrument.underlying, list);
  }
  const chains: ChainSnapshot[] = [];
  const noIndex: OptionQuote[] = [];
  for (const [coin, quotes] of [...byCoin].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const time = quotes.reduce((m, q) => Math.max(m, q.timestamp), Number.NEGATIVE_INFINITY);
    const at = options.at ?? options.valuationTime ?? time;
    let index = options.indexPrice ?? null;
    if (index === null) {
      const live = quotes.filter((q) => q.instrument.expiry > at && q.underlyingPrice);
      const nearest = live.reduce((m, q) => Math.min(m, q.instrument.expiry), Number.POSITIVE_INFINITY);
      const ups = live
        .filter((q) => q.instrument.expiry === nearest)
        .map((q) => q.underlyingPrice as number)
        .sort((a, b) => a - b);
      index = ups.length > 0 ? (ups[Math.floor(ups.length / 2)] as number) : null;
    }
    if (index === null) {
      noIndex.push(...quotes);
      continue;
    }
    quotes.sort(
      (a, b) =>
        a.instrument.expiry - b.instrument.expiry ||
        a.instrument.strike - b.instrument.strike ||
        (a.instrument.kind < b.instrument.kind ? -1 : 1),
    );
    chains.push({ underlying: coin, valuationTime: options.valuationTime ?? at, indexPrice: index, quotes });
  }
  return { chains, noIndex };
}

/** Per symbol: the latest valid update and the best earlier one (the fallback if the latest is an outlier). */
interface SymbolSlot {
  best: { quote: OptionQuote; line: number; record: Record<string, string> };
  second: { quote: OptionQuote; line: number; record: Record<string, string> } | null;
}

/** What the read loop keeps: per symbol the latest two updates, per minute the valid-row count. */
interface TardisRead {
  readonly slots: Map<string, SymbolSlot>;
  readonly perMinute: Map<number, number>;
  readonly rejected: TardisRejectedRow[];
  validRows: number;
  rowsRead: number;
  superseded: number;
}

/** Applies one CSV record to the read state (rejected, superseded by `at`, or kept in its slot). */
function readTardisRecord(
  state: TardisRead,
  record: Record<string, string>,
  at: number | undefined,
  tolerance: number,
): void {
  state.rowsRead++;
  const r = tardisRecordToQuote(record, state.rowsRead + 1, tolerance);
  if (!r.ok) {
    state.rejected.push(r.rejection);
    return;
  }
  const q = r.quote;
  const minute = Math.floor(q.timestamp / 60_000);
  state.perMinute.set(minute, (state.perMinute.get(minute) ?? 0) + 1);
  state.validRows++;
  if (at !== undefined && q.timestamp > at) {
    state.superseded++;
    return;
  }
  const entry = { quote: q, line: state.rowsRead + 1, record };
  const slot = state.slots.get(q.instrument.name);
  if (!slot) {
    state.slots.set(q.instrument.name, { best: entry, second: null });
    return;
  }
  state.superseded++;
  if (q.timestamp >= slot.best.quote.timestamp) {
    slot.second = slot.best;
    slot.best = entry;
  } else if (!slot.second || q.timestamp >= slot.second.quote.timestamp) slot.second = entry;
}

/** The file's dominant time: the middle of the minute holding the median valid row, or null. */
function dominantMinuteTime(perMinute: ReadonlyMap<number, number>, validRows: number): number | null {
  if (validRows === 0) return null;
  let seen = 0;
  for (const [minute, n] of [...perMinute].sort((a, b) => a[0] - b[0])) {
    seen += n;
    if (seen * 2 >= validRows) return minute * 60_000 + 30_000;
  }
  return null;
}

/** Each symbol's latest update, or its earlier one when the latest is a timestamp outlier. */
function latestQuotes(state: TardisRead, dominant: number | null, span: number): OptionQuote[] {
  const isOutlier = (t: number) => dominant !== null && Math.abs(t - dominant) > span;
  const latest: OptionQuote[] = [];
  for (const slot of state.slots.values()) {
    if (dominant !== null && isOutlier(slot.best.quote.timestamp)) {
      state.rejected.push({
        line: slot.best.line,
        reason: "timestamp-outlier",
        detail: outlierDetail(slot.best.quote.timestamp, dominant, span),
        row: slot.best.record,
      });
      if (slot.second && !isOutlier(slot.second.quote.timestamp)) {
        state.superseded--; // the earlier update is used after all
        latest.push(slot.second.quote);
      }
      continue;
    }
    latest.push(slot.best.quote);
  }
  return latest;
}

/** Parses a Tardis options_chain CSV stream into one chain per underlying (see file doc). */
export async function parseTardisOptionsChain(
  input: Readable,
  options: TardisLoadOptions = {},
): Promise<TardisChainResult> {
  const { records, header } = csvRecords(input);
  const at = options.at ?? options.valuationTime;
  const tolerance = options.timestampToleranceMs ?? TIMESTAMP_OUTLIER_TOLERANCE_MS;
  // Valid rows per minute: the file's dominant (median) time in memory bounded by the minutes spanned.
  const state: TardisRead = {
    slots: new Map(),
    perMinute: new Map(),
    rejected: [],
    validRows: 0,
    rowsRead: 0,
    superseded: 0,
  };
  for await (const record of records) readTardisRecord(state, record, at, tolerance);
  const dominant = dominantMinuteTime(state.perMinute, state.validRows);
  const latest = latestQuotes(state, dominant, options.fileSpanMs ?? TARDIS_FILE_SPAN_MS);
  const { chains, noIndex } = buildChains(latest, at === undefined ? options : { ...options, at });
  const rejected = state.rejected;
  // No price anywhere for a coin: its quotes are rejected rather than guessed.
  for (const q of noIndex)
    rejected.push({
      line: 0,
      reason: "invalid-field",
      detail: `${q.instrument.name}: no underlying_price for ${q.instrument.underlying} to derive an index`,
      row: {},
    });
  rejected.sort((a, b) => a.line - b.line);
  const missing = state.rowsRead > 0 ? ["bid_price", "ask_price"].filter((c) => !header.includes(c)) : [];
  const warnings = bidAskWarnings(
    options.source ?? "Tardis file",
    missing,
    chains.flatMap((c) => c.quotes),
  );
  const { rowsRead, superseded } = state;
  return { chains, rejected, rowsRead, superseded, dominantTime: dominant, warnings };
}

export interface TardisSnapshot {
  /** Snapshot instant, epoch ms UTC (a multiple of intervalMs). */
  readonly at: number;
  /** The latest quote per live symbol at `at`, one chain per coin. */
  readonly chains: ChainSnapshot[];
  /** Rows read so far, applied as updates so far, and rejected so far (read = applied + rejected). */
  readonly rowsRead: number;
  readonly rowsApplied: number;
  readonly rowsRejected: number;
  /** Rows rejected since the previous snapshot. */
  readonly rejected: TardisRejectedRow[];
}

/**
 * Streams a Tardis options_chain file (rows in time order) and yields the chain state every
 * `intervalMs` (at multiples of intervalMs), so a day of updates becomes, e.g., 1-minute
 * snapshots with memory bounded by the number of live instruments (expired ones are dropped).
 * Rows with a timestamp before the previous row's are applied like any other (latest wins per
 * symbol by timestamp). A row is a `timestamp-outlier` (rejected, not applied) when its timestamp
 * is farther than `timestampToleranceMs` (10 min) from its local_timestamp, or more than
 * `fileSpanMs` (24 h) ahead of the snapshot clock (one such row used to make the stream yield a
 * snapshot per interval up to its timestamp); a stream with a longer gap must be split.
 */
export async function* streamTardisSnapshots(
  input: Readable,
  options: { intervalMs: number; timestampToleranceMs?: number; fileSpanMs?: number },
): AsyncGenerator<TardisSnapshot> {
  if (!(options.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${options.intervalMs}`);
  const tolerance = options.timestampToleranceMs ?? TIMESTAMP_OUTLIER_TOLERANCE_MS;
  const span = options.fileSpanMs ?? TARDIS_FILE_SPAN_MS;
  const { records } = csvRecords(input);
  const latest = new Map<string, OptionQuote>();
  let rejected: TardisRejectedRow[] = [];
  let rowsRead = 0;
  let rowsApplied = 0;
  let rowsRejected = 0;
  let next: number | null = null;
  const snapshot = (at: number): TardisSnapshot => {
    for (const [k, q] of latest) if (q.instrument.expiry <= at) latest.delete(k);
    const { chains } = buildChains(latest.values(), { at });
    const out = { at, chains, rowsRead, rowsApplied, rowsRejected, rejected };
    rejected = [];
    return out;
  };
  for await (const record of records) {
    let r: ReturnType<typeof tardisRecordToQuote> = tardisRecordToQuote(record, rowsRead + 2, tolerance);
    if (r.ok && next !== null && r.quote.timestamp - next > span) {
      r = {
        ok: false,
        rejection: {
          line: rowsRead + 2,
          reason: "timestamp-outlier",
          detail: `timestamp ${iso(r.quote.timestamp)} is more than ${span / 3_600_000} h after the stream's clock ${iso(next)}`,
          row: record,
        },
      };
    }
    if (r.ok) {
      const t: number = r.quote.timestamp;
      if (next === null) next = Math.ceil(t / options.intervalMs) * options.intervalMs;
      while (t > next) {
        yield snapshot(next);
        next += options.intervalMs;
      }
    }
    rowsRead++;
    if (!r.ok) {
      rowsRejected++;
      rejected.push(r.rejection);
      continue;
    }
    rowsApplied++;
    const prev = latest.get(r.quote.instrument.name);
    if (!prev || prev.timestamp <= r.quote.timestamp) latest.set(r.quote.instrument.name, r.quote);
  }
  if (next !== null) yield snapshot(next);
}

/** Reads a Tardis options_chain file (.csv or .csv.gz). */
export async function loadTardisOptionsChainFile(
  path: string,
  options: TardisLoadOptions = {},
): Promise<TardisChainResult> {
  await checkInputFile(path, "chain file");
  return parseTardisOptionsChain(inputFileStream(path, { gzip: path.endsWith(".gz"), what: "chain file" }), {
    source: path,
    ...options,
  });
}
