import { describe, expect, it } from "vitest";
import { utcDateRange } from "../../src/core/time.js";

describe("utcDateRange", () => {
  it("spans the first millisecond of `from` to the last of `to`, UTC", () => {
    expect(utcDateRange({ from: "2026-02-01", to: "2026-02-03" })).toEqual({
      from: Date.UTC(2026, 1, 1),
      to: Date.UTC(2026, 1, 4) - 1,
    });
    expect(utcDateRange({})).toEqual({});
    expect(utcDateRange({ to: "2026-12-31" })).toEqual({ to: Date.UTC(2027, 0, 1) - 1 });
  });

  it("names the field and value of a malformed date", () => {
    expect(() => utcDateRange({ from: "2026-2-1" })).toThrow(/from.*2026-2-1/);
    expect(() => utcDateRange({ to: "2026-02-30x" })).toThrow(/to/);
  });
});
