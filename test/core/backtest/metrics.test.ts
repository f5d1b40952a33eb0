import { describe, expect, it } from "vitest";
import {
  deribitStyleExpiries,
  lastFridayExpiry,
  optionName,
  utcDayOfWeek,
} from "../../../src/core/backtest/calendar.js";
import { backtestStepFromChain } from "../../../src/core/backtest/market.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import { performanceMetrics } from "../../../src/core/backtest/metrics.js";
import type { OptionContract } from "../../../src/core/instruments/types.js";
import type { ChainSnapshot } from "../../../src/core/market/types.js";

/** numpy's figures printed to 17 digits; means, ddof=1 stdev, sqrt(365) and logs on 5 returns differ from ours by summation order: 14 digits. (was 12; tightened, passes at 14). */
const NUMPY_DIGITS = 14;
/** Drawdown 90/120 - 1 and total return 95/100 - 1: one division and a subtraction, 15 digits. */
const EXACT_RATIO_DIGITS = 15;
/** Calmar = CAGR / max drawdown (~-3.9): the CAGR's error over 0.25 grows 4x, 13 digits. (was 10; tightened, passes at 13). */
const CALMAR_DIGITS = 13;
/** Black price at the solved mark vol vs the coin mark x forward (2793 USD): the implied-vol solver's stopping tolerance, 10 digits of USD. (was 8; tightened, passes at 10). */
const MARK_REPRICE_DIGITS = 10;

describe("performance metrics", () => {
  it("match numpy on a hand series (reference values from numpy 1.x, ddof=1)", () => {
    const m = performanceMetrics([100, 110, 99, 120, 90, 95]);
    expect(m.sharpe).toBeCloseTo(0.37391410817382953, NUMPY_DIGITS);
    expect(m.annualVol).toBeCloseTo(3.4510707464510935, NUMPY_DIGITS);
    expect(m.sortino).toBeCloseTo(0.5609127098034982, NUMPY_DIGITS);
    expect(m.maxDrawdown).toBeCloseTo(0.25, EXACT_RATIO_DIGITS);
    expect(m.cvar95).toBeCloseTo(30, NUMPY_DIGITS);
    expect(m.totalReturn).toBeCloseTo(-0.05, EXACT_RATIO_DIGITS);
    expect(m.cagr).toBeCloseTo(-0.9763504334117701, NUMPY_DIGITS);
    expect(m.calmar).toBeCloseTo(-3.9054017336470803, CALMAR_DIGITS);
    expect(m.periods).toBe(5);
  });
  it("reports NaN, not 0, for a ratio with a zero denominator", () => {
    const m = performanceMetrics([100, 101, 102]);
    expect(m.maxDrawdown).toBe(0);
    expect(Number.isNaN(m.calmar)).toBe(true);
    expect(() => performanceMetrics([1])).toThrow(/equity.length/);
    expect(() => performanceMetrics([1, Number.NaN])).toThrow(/equity\[1\]/);
  });
});

describe("calendar", () => {
  it("knows weekdays and last Fridays (checked against a calendar)", () => {
    expect(utcDayOfWeek(Date.UTC(2026, 0, 1))).toBe(4); // Thu 1 Jan 2026
    expect(lastFridayExpiry(2026, 2)).toBe(Date.UTC(2026, 2, 27, 8)); // 27 Mar 2026
    expect(lastFridayExpiry(2024, 11)).toBe(Date.UTC(2024, 11, 27, 8)); // 27 Dec 2024
    expect(optionName("BTC", Date.UTC(2024, 11, 27, 8), 60000, "call")).toBe("BTC-27DEC24-60000-C");
  });
  it("lists dailies, Friday weeklies, monthlies and quarterlies after now", () => {
    const now = Date.UTC(2026, 0, 5, 9); // Mon 09:00
    const e = deribitStyleExpiries(now);
    expect(e.slice(0, 3)).toEqual([
      Date.UTC(2026, 0, 6, 8),
      Date.UTC(2026, 0, 7, 8),
      Date.UTC(2026, 0, 8, 8),
    ]);
    expect(e).toContain(Date.UTC(2026, 0, 9, 8));
    expect(e).toContain(Date.UTC(2026, 0, 30, 8)); // last Friday of January
    expect(e).toContain(Date.UTC(2026, 2, 27, 8)); // March quarterly
    expect(e).toContain(Date.UTC(2026, 11, 25, 8)); // December quarterly
    expect(e.every((x, i) => x > now && (i === 0 || x > (e[i - 1] as number)))).toBe(true);
  });
});

describe("backtestStepFromChain", () => {
  const T0 = Date.UTC(2026, 0, 10, 9);
  const E = Date.UTC(2026, 0, 30, 8);
  const opt = (strike: number, kind: "call" | "put", expiry = E): OptionContract => ({
    type: "option",
    name: `BTC-x-${strike}-${kind}`,
    underlying: "BTC",
    kind,
    strike,
    expiry,
    settlement: "inverse",
    contractSize: 1,
  });
  const snap: ChainSnapshot = {
    underlying: "BTC",
    valuationTime: T0,
    indexPrice: 90_000,
    quotes: [
      {
        instrument: opt(90_000, "call"),
        timestamp: T0,
        bid: 0.03,
        ask: 0.032,
        mark: 0.031,
        markIv: 0.45,
        underlyingPrice: 90_100,
      },
      {
        instrument: opt(100_000, "call"),
        timestamp: T0,
        bid: null,
        ask: 0.01,
        mark: 0.009,
        underlyingPrice: 90_100,
      },
      {
        instrument: opt(80_000, "put"),
        timestamp: T0,
        bid: 0,
        ask: 0.005,
        mark: null,
        underlyingPrice: 90_100,
      },
      { instrument: opt(80_000, "put", T0 - 1), timestamp: T0, bid: 0.1, ask: 0.2, mark: 0.1 },
    ],
    futures: [{ name: "BTC-PERPETUAL", underlying: "BTC", expiry: null, timestamp: T0, mark: 90_050 }],
  };
  it("is the core's clean chain: coin quotes, normalizeChain's forward and mark vols, its rejections", () => {
    const step = backtestStepFromChain(snap);
    const n = normalizeChain(snap);
    // Every quote is counted by normalizeChain's reasons (the expired put is the rejection).
    expect(n.counts.accepted + n.counts.rejected).toBe(snap.quotes.length);
    expect(n.counts.byReason.expired).toBe(1);
    const q = step.quote(E, 90_000, "call")!;
    // Quotes stay in coin (Deribit's units); the forward is the venue's underlying price.
    expect(q.mark).toBe(0.031);
    expect(q.bid).toBe(0.03);
    expect(q.forward).toBe(90_100);
    // Mark vol solved from the coin mark on that forward (0.031 x 90,100 USD), not the venue IV.
    const T = (E - T0) / (365 * 86_400_000);
    expect(
      blackPrice({ forward: 90_100, strike: 90_000, expiry: T, vol: q.markVol, kind: "call" }),
    ).toBeCloseTo(0.031 * 90_100, MARK_REPRICE_DIGITS);
    const w = step.quote(E, 100_000, "call")!;
    expect(w.bid).toBeNull();
    expect(w.markVol).toBeGreaterThan(0.1);
    expect(step.perpetual?.mark).toBe(90_050);
    expect(step.expiries()).toEqual([E]);
    expect(step.strikes(E)).toEqual([90_000, 100_000]);
    expect(step.quote(E, 80_000, "put")).toBeNull(); // no mark
  });
});
