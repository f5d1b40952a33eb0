/**
 * Perpetual funding-rate history CSV: `timestamp,funding_rate` (ISO time, rate per funding
 * interval as a decimal; Deribit and Binance publish 8-hour rates), as in
 * ../shared/data/prices/funding_*_8h.csv. Rows are validated; rejected rows keep their line and
 * reason, and accepted + rejected = rows read.
 *
 * A row's timestamp is when its rate is known: Binance's settlement instant; for the Deribit file
 * (../shared/data/prices README) the END of the 8-hour window it sums. Two readings follow:
 * `dailyMeanFunding` (by the timestamp's UTC date: every rate known by that day's end, for
 * features of daily closes) and `fundingBefore` (the last rates known at an instant, for features
 * of an intraday snapshot: a date's mean would include the window ending at 16:00, after a
 * morning snapshot).
 */
import { parse } from "csv-parse/sync";
import { z } from "zod";
import { upperBoundBy } from "../core/math/search.js";
import { csvRejectReason, csvRequiredNumber } from "./csvFields.js";
import { readInputText } from "./inputFile.js";

export interface FundingRow {
  /** ISO date of the rate, YYYY-MM-DD (UTC). */
  readonly date: string;
  /** The timestamp, epoch ms UTC (a bare date is its 00:00 UTC). */
  readonly time: number;
  /** Rate per funding interval, decimal. */
  readonly rate: number;
}

export interface FundingHistory {
  readonly rows: FundingRow[];
  readonly rejected: { line: number; reason: string }[];
  readonly rowsRead: number;
}

const rowSchema = z.object({
  timestamp: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}/, "timestamp must start with YYYY-MM-DD")
    .refine((t) => Number.isFinite(Date.parse(t)), "timestamp must be an ISO date or date-time"),
  funding_rate: csvRequiredNumber,
});

export function parseFundingHistory(text: string): FundingHistory {
  const records = parse(text, {
    columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
    skip_empty_lines: true,
    trim: true,
    relax_column_count: true,
  }) as Record<string, string>[];
  const rows: FundingRow[] = [];
  const rejected: FundingHistory["rejected"] = [];
  records.forEach((row, i) => {
    const parsed = rowSchema.safeParse(row);
    if (!parsed.success) {
      rejected.push({ line: i + 2, reason: csvRejectReason(parsed.error, row) });
      return;
    }
    const { timestamp, funding_rate } = parsed.data;
    rows.push({ date: timestamp.slice(0, 10), time: Date.parse(timestamp), rate: funding_rate });
  });
  return { rows, rejected, rowsRead: records.length };
}

export async function loadFundingHistory(path: string): Promise<FundingHistory> {
  return parseFundingHistory(await readInputText(path, "funding file"));
}

/** Mean funding rate per interval for each UTC date. */
export function dailyMeanFunding(rows: readonly FundingRow[]): Map<string, number> {
  const sums = new Map<string, { s: number; n: number }>();
  for (const r of rows) {
    const a = sums.get(r.date) ?? { s: 0, n: 0 };
    a.s += r.rate;
    a.n++;
    sums.set(r.date, a);
  }
  return new Map([...sums].map(([d, a]) => [d, a.s / a.n]));
}

/**
 * Mean rate of the last `count` rows whose timestamp is at or before an instant (epoch ms UTC),
 * NaN when fewer are known: the funding a snapshot at that instant could see (count 3 = the last
 * day of 8-hour rates). The returned function looks up by binary search on the rows sorted by time.
 */
export function fundingBefore(rows: readonly FundingRow[], count = 3): (time: number) => number {
  const sorted = [...rows].sort((a, b) => a.time - b.time);
  return (time) => {
    const end = upperBoundBy(sorted, time, (r) => r.time);
    if (end < count) return Number.NaN;
    let s = 0;
    for (let i = end - count; i < end; i++) s += sorted[i]?.rate ?? Number.NaN;
    return s / count;
  };
}
