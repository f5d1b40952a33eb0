/**
 * Field parsers and checks shared by the file loaders (Deribit-style CSV, Tardis options_chain,
 * Deribit API JSON, CSV books):
 *
 *  - numeric CSV cells: a number is a non-empty decimal literal ("12", "-0.5", "1.2e-3") that is
 *    finite; "", "abc", "0x10", "Infinity" and "1e400" (overflows to Infinity) are not numbers;
 *  - the chain timestamp-outlier rule: a snapshot file's valuation time is its DOMINANT timestamp
 *    (the lower median of its rows' timestamps, an actual row time), and a row farther than
 *    TIMESTAMP_OUTLIER_TOLERANCE_MS (10 minutes) from it is rejected as `timestamp-outlier`. One
 *    row stamped 2100-01-01 (or an hour after the rest) can no longer move the valuation time and
 *    mark every other quote expired or stale;
 *  - warnings for chains whose quotes carry no bid/ask (missing columns, or every side empty).
 */
import { z } from "zod";
import type { Readable } from "node:stream";
import { parse } from "csv-parse";
import { forwardStreamErrors } from "./inputFile.js";

/**
 * The reason a CSV row failed its schema, as the loaders report it: the first issue's field,
 * message and the cell's text, e.g. `close: Too small ... (value "-3")`.
 */
export function csvRejectReason(error: z.ZodError, row: Record<string, string>): string {
  const issue = error.issues[0];
  const field = issue?.path.join(".") || "row";
  return `${field}: ${issue?.message ?? "invalid"} (value ${JSON.stringify(row[field] ?? null)})`;
}

/** A decimal number literal (optional sign, digits with an optional fraction, optional exponent). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Strict number from a CSV cell: a finite decimal literal, else null. */
export function parseCsvNumber(s: string): number | null {
  const t = s.trim();
  if (!DECIMAL.test(t)) return null;
  const x = Number(t);
  return Number.isFinite(x) ? x : null;
}

/** An optional numeric CSV cell: empty -> null; anything not a finite number is an issue naming the text. */
export const csvOptionalNumber = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (s === undefined || s.trim() === "") return null;
    const x = parseCsvNumber(s);
    if (x === null) {
      ctx.addIssue({ code: "custom", message: `not a number: "${s}"` });
      return z.NEVER;
    }
    return x;
  });

/** A required numeric CSV cell: a finite number from a non-empty string. */
export const csvRequiredNumber = z.string({ error: "missing" }).transform((s, ctx) => {
  const x = parseCsvNumber(s);
  if (x === null) {
    ctx.addIssue({ code: "custom", message: `expected a number, got "${s}"` });
    return z.NEVER;
  }
  return x;
});

/** A price side (bid or ask): empty or zero means no quote on that side. */
export const csvSidePrice = csvOptionalNumber.transform((x) => (x !== null && x > 0 ? x : null));

/** Rows farther than this from a snapshot's dominant timestamp are `timestamp-outlier` (10 min). */
export const TIMESTAMP_OUTLIER_TOLERANCE_MS = 10 * 60_000;

/**
 * The dominant timestamp of a snapshot's rows: the lower median (an actual row time), so no single
 * row sets it. Null when there are no rows.
 */
export function dominantTimestamp(times: ArrayLike<number>): number | null {
  const sorted = Float64Array.from(times).sort();
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null; // undefined only when there are no rows
}

/** The detail of an outlier: "timestamp 2100-01-01T00:00:00.000Z is 27012.6 days after the file's dominant timestamp ...". */
export function outlierDetail(t: number, dominant: number, toleranceMs: number): string {
  const min = (t - dominant) / 60_000;
  const amount =
    Math.abs(min) >= 2 * 1440
      ? `${(Math.abs(min) / 1440).toFixed(1)} days`
      : `${Math.abs(min).toFixed(Math.abs(min) < 10 ? 1 : 0)} min`;
  return `timestamp ${isoOrRaw(t)} is ${amount} ${min > 0 ? "after" : "before"} the file's dominant timestamp ${isoOrRaw(dominant)} (tolerance ${toleranceMs / 60_000} min)`;
}

function isoOrRaw(t: number): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString();
}

/**
 * Warnings for a chain file whose quotes have no bid/ask: `missing` lists the bid/ask columns (or
 * JSON fields) absent from the file; `quotes` are the accepted quotes (a warning when every one is
 * mark-only even though the columns exist).
 */
export function bidAskWarnings(
  source: string,
  missing: readonly string[],
  quotes: readonly { bid: number | null; ask: number | null }[],
  noun: "column" | "field" = "column",
): string[] {
  if (missing.length > 0)
    return [
      `${source} has no ${missing.join(", ")} ${noun}${missing.length > 1 ? "s" : ""}: all ${quotes.length} quotes are kept MARK-ONLY (no bid/ask, so no spreads, bid/ask vols or crossed-quote checks)`,
    ];
  if (quotes.length > 0 && quotes.every((q) => q.bid === null && q.ask === null))
    return [`${source}: no row has a bid or an ask: all ${quotes.length} quotes are mark-only`];
  return [];
}

/** A csv-parse parser over `input` that records the header (for missing-column warnings). */
export function csvRecords(input: Readable): {
  records: AsyncIterable<Record<string, string>>;
  header: string[];
} {
  const header: string[] = [];
  const parser = input.pipe(
    parse({
      columns: (h: string[]) => {
        header.push(...h);
        return h;
      },
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
    }),
  );
  // pipe() does not forward the input's errors: without this a read error was an unhandled 'error'.
  forwardStreamErrors(input, parser);
  return { records: parser as AsyncIterable<Record<string, string>>, header };
}
