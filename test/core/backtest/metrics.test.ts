import { describe, expect, it } from "vitest";
import {
  deribitStyleExpiries,
  lastFridayExpiry,
  optionName,
  utcDayOfWeek,
} from "../../../src/core/backtest/calendar.js";
import { backtestStepFromChain } from "../../../src/core/backtest/market.js";
import { performanceMetrics } from "../../../src/core/backtest/metrics.js";
import type { OptionContract } from "../../../src/core/instruments/types.js";
import type { ChainSnapshot } from "../../../src/core/market/types.js";

describe("performance metrics", () => {
  it("match numpy on a hand series (reference values from numpy 1.x, ddof=1)", () => {
    const m = performanceMetrics([100, 110, 99, 120, 90, 95]);
    expect(m.sharpe).toBeCloseTo(0.37391410817382953, 12);
    expect(m.annualVol).toBeCloseTo(3.4510707464510935, 12);
    expect(m.sortino).toBeCloseTo(0.5609127098034982, 12);
    expect(m.maxDrawdown).toBeCloseTo(0.25, 15);
    expect(m.cvar95).toBeCloseTo(30, 12);
    expect(m.totalReturn).toBeCloseTo(-0.05, 15);
    expect(m.cagr).toBeCloseTo(-0.9763504334117701, 12);
    expect(m.calmar).toBeCloseTo(-3.9054017336470803, 10);
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
  it("converts coin quotes to USD at the forward, implies missing vols, counts every rejection", () => {
    const { step, accepted, rejected } = backtestStepFromChain(snap);
    expect(accepted).toBe(2);
    expect(rejected).toEqual({ "no-mark": 1, expired: 1, "no-vol": 0, "other-underlying": 0 });
    expect(accepted + Object.values(rejected).reduce((a, b) => a + b, 0)).toBe(snap.quotes.length);
    const q = step.quote(E, 90_000, "call")!;
    expect(q.markUsd).toBeCloseTo(0.031 * 90_100, 9);
    expect(q.bidUsd).toBeCloseTo(0.03 * 90_100, 9);
    expect(q.markVol).toBe(0.45);
    const w = step.quote(E, 100_000, "call")!;
    expect(w.bidUsd).toBeNull();
    expect(w.markVol).toBeGreaterThan(0.1);
    expect(step.perpMark).toBe(90_050);
    expect(step.expiries()).toEqual([E]);
    expect(step.strikes(E)).toEqual([90_000, 100_000]);
    expect(step.quote(E, 80_000, "put")).toBeNull();
  });
});
