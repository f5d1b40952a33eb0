import { readFileSync } from "node:fs";
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

interface NumpyMetricsCase {
  readonly name: string;
  readonly equity: number[];
  readonly periodsPerYear: number;
  readonly expected: Record<
    | "totalReturn"
    | "cagr"
    | "annualVol"
    | "sharpe"
    | "sortino"
    | "maxDrawdown"
    | "calmar"
    | "cvar95"
    | "periods",
    number
  >;
}
/** Written by scripts/fixtures/backtest_metrics_numpy.py (numpy's own std/quantile/accumulate). */
const NUMPY_METRICS: { source: string; cases: NumpyMetricsCase[] } = JSON.parse(
  readFileSync(new URL("../../fixtures/backtest/metrics_numpy.json", import.meta.url), "utf8"),
);

/**
 * numpy (float64) vs ours: the same definitions with a different summation order (numpy's pairwise sums,
 * our mean/variance) on up to 365 returns: measured worst 2.2e-16 relative (sharpe, seeded year); bound
 * 1e-14 (~45 ulp) so a summation change cannot fail it while a definition change (ddof, quantile) does.
 */
const NUMPY_REL = 1e-14;
/** Drawdown 90/120 - 1 and total return 95/100 - 1: one division and a subtraction, 15 digits. */
const EXACT_RATIO_DIGITS = 15;
/** Black price at the solved mark vol vs the coin mark x forward (2793 USD): the implied-vol solver's stopping tolerance, 10 digits of USD. (was 8; tightened, passes at 10). */
const MARK_REPRICE_DIGITS = 10;

describe("performance metrics", () => {
  it("match numpy on the committed fixture (scripts/fixtures/backtest_metrics_numpy.py, ddof=1, type-7 quantile)", () => {
    for (const c of NUMPY_METRICS.cases) {
      const m = performanceMetrics(c.equity, c.periodsPerYear);
      const e = c.expected;
      for (const key of [
        "totalReturn",
        "cagr",
        "annualVol",
        "sharpe",
        "sortino",
        "maxDrawdown",
        "calmar",
        "cvar95",
      ] as const) {
        const err = Math.abs(m[key] - e[key]);
        expect(err, `${c.name}: ${key} ${m[key]} vs numpy ${e[key]}`).toBeLessThanOrEqual(
          NUMPY_REL * Math.abs(e[key]),
        );
      }
      expect(m.periods).toBe(e.periods);
    }
    // The hand series' round figures: drawdown 120 -> 90 is 25%, the 5% PnL tail is the single -30.
    const hand = performanceMetrics([100, 110, 99, 120, 90, 95]);
    expect(hand.maxDrawdown).toBeCloseTo(0.25, EXACT_RATIO_DIGITS);
    expect(hand.cvar95).toBe(30);
    expect(hand.totalReturn).toBeCloseTo(-0.05, EXACT_RATIO_DIGITS);
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
