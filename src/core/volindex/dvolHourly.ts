/**
 * Deribit's DVOL at an instant from its HOURLY bars (Deribit's public get_volatility_index_data at
 * resolution 3600), for comparing the project's index with DVOL at a chain's own time instead of
 * on the daily bar's open-to-close line (series.ts `dvolAtTime`), whose error against DVOL at the
 * morning snapshot hours is 0.45 / 0.63 points median (BTC / ETH, 2026 season; README).
 *
 * Bars are labelled by their START (epoch ms UTC) and cover [start, start + 1 h), as Deribit's
 * candles are: checked on the 2026 season, the 23:00 bar's close is the daily close on every day.
 * DVOL at a time inside a bar is open + (close - open) x (time - start) / 1 h.
 *
 * Text formats read (what public copies of the API's bars look like):
 *  - JSON: [[startMs, open, high, low, close], ...] (the API's `data` array);
 *  - CSV with a header: a time column (timestamp | timestamp_ms | ts | time; epoch ms or s, or ISO
 *    UTC) and open,high,low,close; or the time and `iv` only (the hourly close, decimal or vol
 *    points), the open then taken from the previous hour's close.
 * Pure: text in, bars out (vol points). Bad rows are a typed error naming the line and the field.
 *
 * Example: dvolAtInstant(hourBarMap(parseDvolHourly("timestamp_ms,open,high,low,close\n0,50,51,49,52")), 1_800_000)
 *   -> { value: 51, bar } (half way from 50 to 52).
 */
import { InvalidInputError } from "../errors.js";
import { HOUR_MS } from "../time.js";

/** One hourly DVOL bar starting at `start` (epoch ms UTC), vol points; `open` null when unknown. */
export interface DvolHourBar {
  readonly start: number;
  readonly open: number | null;
  readonly high: number | null;
  readonly low: number | null;
  readonly close: number;
}

const TIME_COLUMNS = ["timestamp", "timestamp_ms", "ts", "time"];

/** Epoch ms of a time cell: ms, seconds (< 1e11) or an ISO UTC string ("2026-02-28 09:00:00+00:00"). */
function timeOf(cell: string): number {
  const v = cell.trim();
  const n = Number(v);
  if (v !== "" && Number.isFinite(n)) return n < 1e11 ? n * 1000 : n;
  return Date.parse(v.replace(" ", "T"));
}

function checked(bar: DvolHourBar, where: string): DvolHourBar {
  if (!Number.isFinite(bar.start)) throw new InvalidInputError(`${where}.time`, bar.start, "must be a time");
  if (!(bar.close > 0)) throw new InvalidInputError(`${where}.close`, bar.close, "must be a number > 0");
  for (const k of ["open", "high", "low"] as const) {
    const x = bar[k];
    if (x !== null && !(x > 0)) throw new InvalidInputError(`${where}.${k}`, x, "must be a number > 0");
  }
  return bar;
}

function fromJson(text: string): DvolHourBar[] {
  const rows: unknown = JSON.parse(text);
  if (!Array.isArray(rows))
    throw new InvalidInputError("json", typeof rows, "must be an array of [ms, o, h, l, c]");
  return rows.map((row, i) => {
    if (!Array.isArray(row) || row.length < 5)
      throw new InvalidInputError(`row ${i}`, JSON.stringify(row), "must be [ms, open, high, low, close]");
    const [t, o, h, l, c] = row.map(Number);
    return checked(
      { start: t ?? Number.NaN, open: o ?? null, high: h ?? null, low: l ?? null, close: c ?? 0 },
      `row ${i}`,
    );
  });
}

function fromCsv(text: string): DvolHourBar[] {
  const lines = text.trim().split(/\r?\n/);
  const header = (lines[0] ?? "").split(",").map((s) => s.trim().toLowerCase());
  const t = header.findIndex((h) => TIME_COLUMNS.includes(h));
  if (t < 0)
    throw new InvalidInputError("header", lines[0], `must have a time column (${TIME_COLUMNS.join(" | ")})`);
  const col = (name: string) => header.indexOf(name);
  const [o, h, l, c, iv] = ["open", "high", "low", "close", "iv"].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (c < 0 && iv < 0) throw new InvalidInputError("header", lines[0], "must have a close or an iv column");
  const rows = lines.slice(1).map((line) => line.split(","));
  const raw = rows.map((f) => Number(f[c >= 0 ? c : iv]));
  const sorted = [...raw].sort((a, b) => a - b);
  // An `iv` column in decimals (0.55) is scaled to vol points (55).
  const scale = c < 0 && (sorted[Math.floor(sorted.length / 2)] ?? 0) < 3 ? 100 : 1;
  const cell = (f: string[], i: number) => (i >= 0 ? Number(f[i]) : null);
  return rows.map((f, i) =>
    checked(
      {
        start: timeOf(f[t] ?? ""),
        open: cell(f, o),
        high: cell(f, h),
        low: cell(f, l),
        close: (raw[i] ?? 0) * scale,
      },
      `line ${i + 2}`,
    ),
  );
}

/** Hourly bars of a JSON or CSV text, sorted by start; a missing open is the previous hour's close. */
export function parseDvolHourly(text: string): DvolHourBar[] {
  const bars = (text.trimStart().startsWith("[") ? fromJson(text) : fromCsv(text)).sort(
    (a, b) => a.start - b.start,
  );
  return bars.map((b, i) => {
    const prev = bars[i - 1];
    return b.open !== null ? b : { ...b, open: prev && prev.start === b.start - HOUR_MS ? prev.close : null };
  });
}

/** Bars by start, for `dvolAtInstant`. */
export function hourBarMap(bars: readonly DvolHourBar[]): Map<number, DvolHourBar> {
  return new Map(bars.map((b) => [b.start, b]));
}

/** DVOL at `time` (epoch ms UTC) inside its hourly bar, or null when the bar (or its open) is missing. */
export function dvolAtInstant(
  bars: ReadonlyMap<number, DvolHourBar>,
  time: number,
): { value: number; bar: DvolHourBar } | null {
  const start = Math.floor(time / HOUR_MS) * HOUR_MS;
  const bar = bars.get(start);
  if (!bar || bar.open === null) return null;
  return { value: bar.open + ((bar.close - bar.open) * (time - start)) / HOUR_MS, bar };
}

/**
 * Whether a DVOL file's text holds hourly bars rather than daily ones (Date,Open,High,Low,Close
 * with YYYY-MM-DD dates): JSON, or a CSV whose first time cell is not a bare date.
 */
export function isHourlyDvolText(text: string): boolean {
  if (text.trimStart().startsWith("[")) return true;
  const [head = "", first = ""] = text.trim().split(/\r?\n/, 2);
  const header = head.split(",").map((s) => s.trim().toLowerCase());
  const d = header.indexOf("date");
  return !(d >= 0 && /^\d{4}-\d{2}-\d{2}$/.test((first.split(",")[d] ?? "").trim()));
}
