/**
 * Perpetual funding-rate history CSV: `timestamp,funding_rate` (ISO time, rate per funding
 * interval as a decimal; Deribit and Binance publish 8-hour rates), as in
 * ../shared/data/prices/funding_*_8h.csv. Rows are validated; rejected rows keep their line and
 * reason, and accepted + rejected = rows read.
 */
import { parse } from "csv-parse/sync";
import { z } from "zod";
import { csvRejectReason, csvRequiredNumber } from "./csvFields.js";
import { readInputText } from "./inputFile.js";

export interface FundingRow {
  /** ISO date of the rate, YYYY-MM-DD (UTC). */
  readonly date: string;
  /** Rate per funding interval, decimal. */
  readonly rate: number;
}

export interface FundingHistory {
  readonly rows: FundingRow[];
  readonly rejected: { line: number; reason: string }[];
  readonly rowsRead: number;
}

const rowSchema = z.object({
  timestamp: z.string().regex(/^\d{4}-\d{2}-\d{2}/, "timestamp must start with YYYY-MM-DD"),
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
    rows.push({ date: parsed.data.timestamp.slice(0, 10), rate: parsed.data.funding_rate });
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
