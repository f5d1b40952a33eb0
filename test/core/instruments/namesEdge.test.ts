import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deribitOptionName, parseInstrumentName } from "../../../src/core/instruments/names.js";

describe("instrument names: edge cases", () => {
  it("rejects strikes that are not Deribit's digits[d digits] with bad-strike", () => {
    for (const s of ["1E5", "60000.5", "-5", "0", "0d0", ""]) {
      expect(parseInstrumentName(`BTC-27DEC24-${s}-C`)).toMatchObject({ ok: false });
    }
    expect(parseInstrumentName("BTC-27DEC24-1E5-C")).toMatchObject({ reason: "bad-strike" });
    expect(parseInstrumentName("BTC-27DEC24-60000.5-C")).toMatchObject({ reason: "bad-strike" });
  });

  it("rejects synthetic-forward and spread names with a reason", () => {
    for (const n of [
      "SYN.BTC-27DEC24",
      "BTC-FS-27DEC24_PERP",
      "BTC-27DEC24-60000-C-X",
      "-PERPETUAL",
      "BTC-",
    ]) {
      const r = parseInstrumentName(n);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(["bad-format", "bad-date", "bad-strike"]).toContain(r.reason);
    }
  });

  it("expiry 08:00 UTC, settlement and contract size per venue spec (Deribit contract specifications)", () => {
    const ethLinear = parseInstrumentName("ETH_USDC-26JUN26-3000-C");
    expect(ethLinear).toMatchObject({
      ok: true,
      value: { settlement: "linear", contractSize: 0.1, expiry: Date.UTC(2026, 5, 26, 8) },
    });
    expect(parseInstrumentName("ETH-26JUN26")).toMatchObject({
      ok: true,
      value: { type: "future", contractSize: 1, settlement: "inverse" },
    });
    expect(parseInstrumentName("ETH_USDC-PERPETUAL")).toMatchObject({
      ok: true,
      value: { contractSize: 0.01, expiry: null },
    });
  });

  it("names round-trip for any option (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("BTC", "ETH", "SOL", "XRP"),
        fc.integer({ min: 0, max: 3650 }),
        fc.oneof(
          fc.integer({ min: 1, max: 500_000 }),
          fc.integer({ min: 1, max: 9999 }).map((x) => x / 1000),
        ),
        fc.constantFrom("call" as const, "put" as const),
        fc.boolean(),
        (underlying, days, strike, kind, linear) => {
          const expiry = Date.UTC(2024, 0, 1, 8) + days * 86_400_000;
          const name = deribitOptionName({ underlying, expiry, strike, kind, linear });
          const r = parseInstrumentName(name);
          expect(r).toMatchObject({
            ok: true,
            value: {
              type: "option",
              underlying,
              expiry,
              strike,
              kind,
              settlement: linear ? "linear" : "inverse",
            },
          });
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});
