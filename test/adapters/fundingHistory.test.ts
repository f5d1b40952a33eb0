import { describe, expect, it } from "vitest";
import { dailyMeanFunding, parseFundingHistory } from "../../src/adapters/fundingHistory.js";

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
});
