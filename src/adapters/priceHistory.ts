/**
 * Daily OHLC price history from a CSV file: the Yahoo Finance layout
 * (Date,Open,High,Low,Close,Adj Close,Volume) or any file with date/open/high/low/close columns
 * (case-insensitive). Rows are validated with zod; a bad row is rejected with its line number
 * and reason, never dropped silently (accepted + rejected = rows read).
 */
import { readInputText } from "./inputFile.js";
import { parse } from "csv-parse/sync";
import { csvRejectReason } from "./csvFields.js";
import { z } from "zod";
import type { OhlcBar } from "../core/regime/realizedVol.js";

export interface DatedBar extends OhlcBar {
  /** ISO date, YYYY-MM-DD (UTC day). */
  readonly date: string;
  readonly volume: number | null;
}

export interface PriceHistoryRejection {
  /** 1-based line in the file (header is line 1). */
  readonly line: number;
  readonly reason: string;
  readonly row: Record<string, string>;
}

export interface PriceHistory {
  readonly bars: DatedBar[];
  readonly rejected: PriceHistoryRejection[];
  readonly rowsRead: number;
}

const price = z.coerce.number().finite().positive();
const rowSchema = z
  .object({
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}/, "date must be YYYY-MM-DD"),
    open: price,
    high: price,
    low: price,
    close: price,
    volume: z.union([z.literal(""), z.coerce.number().finite().nonnegative()]).optional(),
  })
  .refine((r) => r.high >= Math.max(r.open, r.close) && r.low <= Math.min(r.open, r.close), {
    message: "high/low inconsistent with open/close",
  });

/** Parses price-history CSV text. */
export function parsePriceHistory(text: string): PriceHistory {
  const records = parse(text, {
    columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
    skip_empty_lines: true,
    trim: true,
  }) as Record<string, string>[];
  const bars: DatedBar[] = [];
  const rejected: PriceHistoryRejection[] = [];
  records.forEach((row, i) => {
    const parsed = rowSchema.safeParse(row);
    if (!parsed.success) {
      rejected.push({ line: i + 2, reason: csvRejectReason(parsed.error, row), row });
      return;
    }
    const r = parsed.data;
    bars.push({
      date: r.date.slice(0, 10),
      open: r.open,
      high: r.high,
      low: r.low,
      close: r.close,
      volume: r.volume === undefined || r.volume === "" ? null : r.volume,
    });
  });
  bars.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { bars, rejected, rowsRead: records.length };
}

/** Reads a price-history CSV file. */
export async function loadPriceHistory(path: string): Promise<PriceHistory> {
  return parsePriceHistory(await readInputText(path, "price file"));
}

/** Daily log returns of consecutive closes, with the date of each return's end. */
export function priceLogReturns(bars: readonly DatedBar[]): { date: string; value: number }[] {
  return bars
    .slice(1)
    .map((b, i) => ({ date: b.date, value: Math.log(b.close / (bars[i] as DatedBar).close) }));
}
