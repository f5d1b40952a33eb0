/**
 * Venue instrument names -> instruments (Deribit conventions).
 *
 *   BTC-27DEC24-60000-C        inverse option (coin-settled), 1 coin per contract
 *   BTC_USDC-27DEC24-60000-P   linear option (USDC-settled), 0.01 BTC per contract (0.1 ETH, else 1)
 *   BTC-27DEC24                inverse future, 10 USD per contract (ETH and others 1 USD)
 *   BTC-PERPETUAL              inverse perpetual, 10 USD per contract (ETH 1 USD)
 *   BTC_USDC-PERPETUAL         linear perpetual, 0.001 BTC per contract (ETH 0.01, else 1)
 *
 * Expiries are 08:00 UTC on the named day (Deribit's settlement time). Strikes may carry a
 * decimal as "d" (e.g. 0d625). Contract sizes are Deribit's published specifications; a venue
 * with other sizes passes its own through `options.contractSize`.
 */
import { fail, ok, type Result } from "../errors.js";
import type { ExchangeInstrument } from "./types.js";

const MONTHS: Record<string, number> = {
  JAN: 0,
  FEB: 1,
  MAR: 2,
  APR: 3,
  MAY: 4,
  JUN: 5,
  JUL: 6,
  AUG: 7,
  SEP: 8,
  OCT: 9,
  NOV: 10,
  DEC: 11,
};
const MONTH_CODES = Object.keys(MONTHS);

/** Deribit settlement hour, UTC. */
export const DERIBIT_EXPIRY_HOUR_UTC = 8;

export type InstrumentNameError = "bad-format" | "bad-date" | "bad-strike";

/** Parses "27DEC24" -> epoch ms of 27 Dec 2024 08:00 UTC, or null. */
export function parseDeribitExpiry(code: string): number | null {
  const m = /^(\d{1,2})([A-Z]{3})(\d{2})$/.exec(code);
  if (!m) return null;
  const day = Number(m[1]);
  const month = MONTHS[m[2] as string];
  if (month === undefined) return null;
  const year = 2000 + Number(m[3]);
  const t = Date.UTC(year, month, day, DERIBIT_EXPIRY_HOUR_UTC);
  const d = new Date(t);
  return d.getUTCDate() === day && d.getUTCMonth() === month ? t : null;
}

/** Formats an expiry instant as Deribit's date code, e.g. "27DEC24" (no zero padding of the day). */
export function formatDeribitExpiry(expiry: number): string {
  const d = new Date(expiry);
  return `${d.getUTCDate()}${MONTH_CODES[d.getUTCMonth()]}${String(d.getUTCFullYear() % 100).padStart(2, "0")}`;
}

function linearOptionSize(coin: string): number {
  return coin === "BTC" ? 0.01 : coin === "ETH" ? 0.1 : 1;
}
function linearPerpSize(coin: string): number {
  return coin === "BTC" ? 0.001 : coin === "ETH" ? 0.01 : 1;
}
function inverseFutureSize(coin: string): number {
  return coin === "BTC" ? 10 : 1;
}

/** Parses a Deribit instrument name. Never throws: a bad name gives a reason. */
export function parseInstrumentName(name: string): Result<ExchangeInstrument, InstrumentNameError> {
  const parts = name.trim().toUpperCase().split("-");
  const base = parts[0] ?? "";
  const bm = /^([A-Z0-9]+?)(?:_(USDC|USDT))?$/.exec(base);
  if (!bm || parts.length < 2)
    return fail("bad-format", `"${name}" is not COIN[-_QUOTE]-EXPIRY[-STRIKE-C|P] or COIN-PERPETUAL`);
  const coin = bm[1] as string;
  const linear = bm[2] !== undefined;
  const settlement = linear ? "linear" : "inverse";
  if (parts.length === 2 && parts[1] === "PERPETUAL") {
    return ok({
      type: "future",
      name,
      underlying: coin,
      expiry: null,
      settlement,
      contractSize: linear ? linearPerpSize(coin) : inverseFutureSize(coin),
    });
  }
  const expiry = parseDeribitExpiry(parts[1] as string);
  if (expiry === null) return fail("bad-date", `"${parts[1]}" in "${name}" is not a date like 27DEC24`);
  if (parts.length === 2) {
    return ok({
      type: "future",
      name,
      underlying: coin,
      expiry,
      settlement,
      contractSize: linear ? linearPerpSize(coin) : inverseFutureSize(coin),
    });
  }
  if (parts.length !== 4 || (parts[3] !== "C" && parts[3] !== "P")) {
    return fail("bad-format", `"${name}" should end in -STRIKE-C or -STRIKE-P`);
  }
  // Deribit strikes are digits with an optional "d" decimal (0d625); "1E5" or "60000.5" are not.
  const strikeCode = parts[2] as string;
  if (!/^\d+(D\d+)?$/.test(strikeCode))
    return fail("bad-strike", `strike "${strikeCode}" in "${name}" is not digits with an optional d decimal`);
  const strike = Number(strikeCode.replace("D", "."));
  if (!(strike > 0) || !Number.isFinite(strike))
    return fail("bad-strike", `strike "${parts[2]}" in "${name}" is not a positive number`);
  return ok({
    type: "option",
    name,
    underlying: coin,
    kind: parts[3] === "C" ? "call" : "put",
    strike,
    expiry,
    settlement,
    contractSize: linear ? linearOptionSize(coin) : 1,
  });
}

/** Like parseInstrumentName but throws a RangeError naming the value (for trusted inputs). */
export function instrumentFromName(name: string): ExchangeInstrument {
  const r = parseInstrumentName(name);
  if (!r.ok) throw new RangeError(`instrument name: ${r.message}`);
  return r.value;
}

/** The Deribit name of an option, e.g. optionName("BTC", expiry, 60000, "call") = "BTC-27DEC24-60000-C". */
export function deribitOptionName(o: {
  underlying: string;
  expiry: number;
  strike: number;
  kind: "call" | "put";
  linear?: boolean;
}): string {
  const strike = Number.isInteger(o.strike) ? String(o.strike) : String(o.strike).replace(".", "d");
  return `${o.underlying}${o.linear ? "_USDC" : ""}-${formatDeribitExpiry(o.expiry)}-${strike}-${o.kind === "call" ? "C" : "P"}`;
}
