import { describe, expect, it } from "vitest";
import { dailyMeanFunding, fundingBefore, parseFundingHistory } from "../../src/adapters/fundingHistory.js";

/** Daily mean of printed 8-hour rates: a 3-term sum and a division, within a few ulps of 2e-4 (ulp 2.7e-20). */
const DAILY_MEAN_DIGITS = 15;

describe("funding-rate CSV", () => {
  it("accepts valid rows, rejects each bad one with its line and reason, accepted + rejected = read", () => {
    const text = [
      "timestamp,funding_rate",
      "2024-01-01T00:00:00Z,0.0001",
      "2024-01-01T08:00:00Z,0.0003",
      "2024-01-01T16:00:00Z,", // empty rate: not 0
      "yesterday,0.0001",
      "2024-01-02T00:00:00Z,abc",
      "2024-01-02T08:00:00Z,-0.0002",
    ].join("\n");
    const h = parseFundingHistory(text);
    expect(h.rowsRead).toBe(6);
    expect(h.rows.length + h.rejected.length).toBe(h.rowsRead);
    expect(h.rejected.map((r) => r.line)).toEqual([4, 5, 6]);
    expect(h.rejected[0]?.reason).toMatch(/^funding_rate: .*\(value ""\)/);
    expect(h.rejected[1]?.reason).toMatch(/^timestamp: .*YYYY-MM-DD/);
    expect(h.rejected[2]?.reason).toMatch(/"abc"/);
    const daily = dailyMeanFunding(h.rows);
    expect(daily.get("2024-01-01")).toBeCloseTo(0.0002, DAILY_MEAN_DIGITS);
    expect(daily.get("2024-01-02")).toBe(-0.0002);
  });

  it("fundingBefore sees only the rates stamped at or before the instant (no look-ahead)", () => {
    const h = parseFundingHistory(
      [
        "timestamp,funding_rate",
        "2024-01-01T16:00:00Z,0.0001",
        "2024-01-02T00:00:00Z,0.0002",
        "2024-01-02T08:00:00Z,0.0004",
        "2024-01-02T16:00:00Z,0.0100", // ends after a 09:30 snapshot: must not be seen
        "2024-01-02T12:00,x", // rejected, not a gap in the count
      ].join("\n"),
    );
    expect(h.rows.length + h.rejected.length).toBe(h.rowsRead);
    const at = fundingBefore(h.rows);
    // 09:30 on 2024-01-02: the three windows ending 16:00 (Jan 1), 00:00 and 08:00.
    expect(at(Date.parse("2024-01-02T09:30:00Z"))).toBeCloseTo(
      (0.0001 + 0.0002 + 0.0004) / 3,
      DAILY_MEAN_DIGITS,
    );
    // Exactly at a stamp the rate is known; before the third stamp fewer than 3 are known: NaN.
    expect(at(Date.parse("2024-01-02T16:00:00Z"))).toBeCloseTo(
      (0.0002 + 0.0004 + 0.01) / 3,
      DAILY_MEAN_DIGITS,
    );
    expect(at(Date.parse("2024-01-02T07:59:59Z"))).toBeNaN();
    // The date's mean (daily closes) does include the 16:00 window: the two readings differ.
    expect(dailyMeanFunding(h.rows).get("2024-01-02")).toBeCloseTo(
      (0.0002 + 0.0004 + 0.01) / 3,
      DAILY_MEAN_DIGITS,
    );
  });

  it("rejects a timestamp that starts with a date but is not a time", () => {
    const h = parseFundingHistory("timestamp,funding_rate\n2024-01-01T99:00:00Z,0.0001\n2024-01-01,0.0002");
    expect(h.rejected).toEqual([{ line: 2, reason: expect.stringMatching(/^timestamp: .*ISO date/) }]);
    expect(h.rows.map((r) => r.time)).toEqual([Date.UTC(2024, 0, 1)]);
  });
});
