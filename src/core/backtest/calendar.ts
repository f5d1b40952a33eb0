/**
 * Deribit-style expiry calendar and instrument names (pure date arithmetic on epoch ms UTC).
 * Expiries are at 08:00 UTC: the next 3 dailies, the next 4 Friday weeklies, the last Fridays of
 * the next 3 months and of the next 4 quarter months (Mar/Jun/Sep/Dec).
 */
const H8 = 8 * 3_600_000;
import { DAY_MS } from "../time.js";
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** Day of week of an instant, 0 = Sunday (1970-01-01 was a Thursday). */
export function utcDayOfWeek(t: number): number {
  return (((Math.floor(t / DAY_MS) + 4) % 7) + 7) % 7;
}

/** 08:00 UTC of the last Friday of (year, month0). */
export function lastFridayExpiry(year: number, month0: number): number {
  const last = Date.UTC(year, month0 + 1, 0); // last day of the month, 00:00
  const back = (utcDayOfWeek(last) - 5 + 7) % 7;
  return last - back * DAY_MS + H8;
}

/** Listed expiries strictly after `now`, ascending. */
export function deribitStyleExpiries(now: number): number[] {
  const out = new Set<number>();
  let d = Math.floor(now / DAY_MS) * DAY_MS + H8;
  if (d <= now) d += DAY_MS;
  for (let i = 0; i < 3; i++) out.add(d + i * DAY_MS);
  let f = d;
  while (utcDayOfWeek(f) !== 5) f += DAY_MS;
  for (let i = 0; i < 4; i++) out.add(f + i * 7 * DAY_MS);
  const date = new Date(now);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  let quarters = 0;
  for (let i = 0; i < 15 && quarters < 4; i++) {
    const e = lastFridayExpiry(y + Math.floor((m + i) / 12), (m + i) % 12);
    if (e <= now) continue;
    if (i < 4) out.add(e);
    if (((m + i) % 12) % 3 === 2) {
      out.add(e);
      quarters++;
    }
  }
  return [...out].filter((e) => e > now).sort((a, b) => a - b);
}

/** Deribit-like name, e.g. "BTC-27DEC24-60000-C". */
export function optionName(underlying: string, expiry: number, strike: number, kind: "call" | "put"): string {
  const d = new Date(expiry);
  const dd = String(d.getUTCDate());
  const yy = String(d.getUTCFullYear() % 100).padStart(2, "0");
  return `${underlying}-${dd}${MONTHS[d.getUTCMonth()]}${yy}-${strike}-${kind === "call" ? "C" : "P"}`;
}

/** Deribit-like dated future name, e.g. "BTC-27MAR26". */
export function futureName(underlying: string, expiry: number): string {
  const d = new Date(expiry);
  const yy = String(d.getUTCFullYear() % 100).padStart(2, "0");
  return `${underlying}-${d.getUTCDate()}${MONTHS[d.getUTCMonth()]}${yy}`;
}

/** Start of the UTC day containing `t`. */
export function utcDayStart(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}
