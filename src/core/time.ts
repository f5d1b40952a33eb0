/**
 * Time conventions, in one place (DESIGN.md "Units and conventions").
 *
 * Instants are epoch milliseconds UTC (`expiry`, `valuationTime`, `...Time`). A year fraction is
 * ACT/365 on exact instants: timeToExpiry = (expiry - valuationTime) / (365 * 86_400_000 ms), so
 * an intraday expiry (Deribit's 08:00 UTC) counts its hours. Greeks per calendar year (theta,
 * charm) become per day by / 365; greeks per 1.00 vol become per vol point by x 0.01.
 *
 * Example: timeToExpiry(Date.UTC(2026, 2, 27, 8), Date.UTC(2026, 2, 26, 20)) === 0.5 / 365.
 */

import { InvalidInputError } from "./errors.js";

/** Milliseconds in one hour. */
export const HOUR_MS = 3_600_000;
/** Milliseconds in one calendar day. */
export const DAY_MS = 86_400_000;
/** Calendar days in the ACT/365 year. */
export const DAYS_PER_YEAR = 365;
/** Milliseconds in the ACT/365 year. */
export const YEAR_MS = DAYS_PER_YEAR * DAY_MS;

/** Year fraction (ACT/365) from `valuationTime` to `expiry`, both epoch ms UTC; negative once expired. */
export function timeToExpiry(expiry: number, valuationTime: number): number {
  return (expiry - valuationTime) / YEAR_MS;
}

/** Calendar days (fractional) from `fromTime` to `toTime`, epoch ms UTC. */
export function daysBetween(fromTime: number, toTime: number): number {
  return (toTime - fromTime) / DAY_MS;
}

/** A rate per calendar year (theta, charm, funding) expressed per calendar day. */
export function perDay(perYear: number): number {
  return perYear / DAYS_PER_YEAR;
}

/** A sensitivity per 1.00 vol (vega, vanna) expressed per vol point (0.01). */
export function perVolPoint(perUnitVol: number): number {
  return perUnitVol * 0.01;
}

/**
 * Inclusive epoch-ms bounds of a range of UTC calendar dates (YYYY-MM-DD): `from` is the first
 * millisecond of its date, `to` the last of its date; an absent end is left out. A malformed date
 * is an InvalidInputError naming "from" or "to".
 */
export function utcDateRange(o: { readonly from?: string | undefined; readonly to?: string | undefined }): {
  from?: number;
  to?: number;
} {
  const bound = (s: string, field: "from" | "to") => {
    const t = Date.parse(`${s}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || !Number.isFinite(t))
      throw new InvalidInputError(field, s, "must be a date YYYY-MM-DD");
    return field === "to" ? t + DAY_MS - 1 : t;
  };
  return {
    ...(o.from ? { from: bound(o.from, "from") } : {}),
    ...(o.to ? { to: bound(o.to, "to") } : {}),
  };
}
