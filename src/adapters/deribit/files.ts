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
 */
import type { Readable } from "node:stream";
import { parse } from "csv-parse";
import { csvOptionalNumber, csvSidePrice } from "../csvFields.js";
import { z } from "zod";
import { parseInstrumentName } from "../../core/instruments/names.js";
import type { OptionContract } from "../../core/instruments/types.js";
import { checkInputFile, forwardStreamErrors, inputFileStream } from "../inputFile.js";
import type { ChainSnapshot, FutureQuote, OptionQuote } from "../../core/market/types.js";

export type DeribitRowRejection = "bad-instrument-name" | "invalid-field" | "name-mismatch" | "missing-index";

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

type Accumulator = {
  quotes: OptionQuote[];
  futures: Map<string, FutureQuote>;
  indexPrices: number[];
  time: number;
};

function describeIssue(error: z.ZodError, row: Record<string, string>): string {
  const issue = error.issues[0];
  const field = issue?.path.join(".") ?? "row";
  return `${field}: ${issue?.message ?? "invalid"} (value ${JSON.stringify(row[field] ?? null)})`;
}

/**
 * Row-by-row builder of Deribit chains (what parseDeribitCsv does per record), for callers that
 * stream records themselves. `add` validates one CSV record; `finish` returns the chains.
 */
export function createDeribitCsvAccumulator(): {
  add(record: Record<string, string>, line: number): void;
  finish(): DeribitFileResult;
} {
  const byCurrency = new Map<string, Accumulator>();
  const rejected: RejectedRow[] = [];
  let rowsRead = 0;
  const add = (record: Record<string, string>, line: number): void => {
    rowsRead++;
    const parsed = rowSchema.safeParse(record);
    if (!parsed.success) {
      rejected.push({
        line,
        reason: "invalid-field",
        detail: describeIssue(parsed.error, record),
        row: record,
      });
      return;
    }
    const r = parsed.data;
    const name = parseInstrumentName(r.instrument_name);
    if (!name.ok) {
      rejected.push({ line, reason: "bad-instrument-name", detail: name.message, row: record });
      return;
    }
    const inst = name.value;
    if (inst.type !== "option") {
      rejected.push({
        line,
        reason: "bad-instrument-name",
        detail: `${r.instrument_name} is not an option`,
        row: record,
      });
      return;
    }
    const mismatch =
      inst.strike !== r.strike
        ? `strike ${r.strike} vs name ${inst.strike}`
        : inst.kind !== r.option_type
          ? `option_type ${r.option_type} vs name ${inst.kind}`
          : inst.expiry !== r.expiry_datetime
            ? `expiry_datetime ${new Date(r.expiry_datetime).toISOString()} vs name ${new Date(inst.expiry).toISOString()}`
            : inst.underlying !== r.currency && inst.settlement === "inverse"
              ? `currency ${r.currency} vs name ${inst.underlying}`
              : null;
    if (mismatch) {
      rejected.push({ line, reason: "name-mismatch", detail: mismatch, row: record });
      return;
    }
    if (r.index_price === null || !(r.index_price > 0)) {
      rejected.push({
        line,
        reason: "missing-index",
        detail: `index_price ${JSON.stringify(record.index_price ?? null)}`,
        row: record,
      });
      return;
    }
    let acc = byCurrency.get(inst.underlying);
    if (!acc) {
      acc = { quotes: [], futures: new Map(), indexPrices: [], time: r.timestamp };
      byCurrency.set(inst.underlying, acc);
    }
    acc.time = Math.max(acc.time, r.timestamp);
    acc.indexPrices.push(r.index_price);
    acc.quotes.push({
      instrument: inst as OptionContract,
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
    if (
      fname &&
      !fname.startsWith("SYN.") &&
      r.futures_price !== null &&
      r.futures_price > 0 &&
      !acc.futures.has(fname)
    ) {
      const f = parseInstrumentName(fname);
      if (f.ok && f.value.type === "future") {
        acc.futures.set(fname, {
          name: fname,
          underlying: inst.underlying,
          expiry: f.value.expiry,
          timestamp: r.timestamp,
          mark: r.futures_price,
        });
      }
    }
  };
  const finish = (): DeribitFileResult => {
    const chains = [...byCurrency.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([underlying, acc]): ChainSnapshot => {
        const sorted = [...acc.indexPrices].sort((a, b) => a - b);
        return {
          underlying,
          valuationTime: acc.time,
          indexPrice: sorted[Math.floor(sorted.length / 2)] as number,
          quotes: acc.quotes,
          futures: [...acc.futures.values()].sort((a, b) => (a.expiry ?? 0) - (b.expiry ?? 0)),
        };
      });
    return { chains, rejected, rowsRead };
  };
  return { add, finish };
}

/** Parses a Deribit snapshot CSV stream. */
export async function parseDeribitCsv(input: Readable): Promise<DeribitFileResult> {
  const parser = input.pipe(
    parse({ columns: true, skip_empty_lines: true, trim: true, relax_column_count: true }),
  );
  // pipe() does not forward the input's errors: without this a read error was an unhandled 'error'.
  forwardStreamErrors(input, parser);
  const acc = createDeribitCsvAccumulator();
  let line = 1;
  for await (const record of parser as AsyncIterable<Record<string, string>>) acc.add(record, ++line);
  return acc.finish();
}

/** Reads a Deribit snapshot file (.csv or .csv.gz). */
export async function loadDeribitCsvFile(path: string): Promise<DeribitFileResult> {
  await checkInputFile(path, "chain file");
  return parseDeribitCsv(inputFileStream(path, { gzip: path.endsWith(".gz"), what: "chain file" }));
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
export async function* streamDeribitCsvSnapshots(input: Readable): AsyncGenerator<DeribitFileResult> {
  const parser = input.pipe(
    parse({ columns: true, skip_empty_lines: true, trim: true, relax_column_count: true }),
  );
  // pipe() does not forward the input's errors: without this a read error was an unhandled 'error'.
  forwardStreamErrors(input, parser);
  let acc: ReturnType<typeof createDeribitCsvAccumulator> | null = null;
  let currentTs: string | null = null;
  let line = 1;
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    line++;
    const ts = record.timestamp ?? "";
    if (acc === null || ts !== currentTs) {
      if (acc !== null) yield acc.finish();
      acc = createDeribitCsvAccumulator();
      currentTs = ts;
    }
    acc.add(record, line);
  }
  if (acc !== null) yield acc.finish();
}
