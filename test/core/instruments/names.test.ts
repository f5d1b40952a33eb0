import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  deribitOptionName,
  formatDeribitExpiry,
  instrumentFromName,
  parseDeribitExpiry,
  parseInstrumentName,
} from "../../../src/core/instruments/names.js";

describe("Deribit instrument names", () => {
  it("parses inverse and linear options with 08:00 UTC expiries", () => {
    expect(instrumentFromName("BTC-27DEC24-60000-C")).toEqual({
      type: "option",
      name: "BTC-27DEC24-60000-C",
      underlying: "BTC",
      kind: "call",
      strike: 60000,
      expiry: Date.UTC(2024, 11, 27, 8),
      settlement: "inverse",
      contractSize: 1,
    });
    expect(instrumentFromName("ETH_USDC-3JAN25-3250-P")).toMatchObject({
      underlying: "ETH",
      kind: "put",
      strike: 3250,
      expiry: Date.UTC(2025, 0, 3, 8),
      settlement: "linear",
      contractSize: 0.1,
    });
    expect(instrumentFromName("XRP_USDC-30JAN26-0d625-C")).toMatchObject({ strike: 0.625, contractSize: 1 });
  });

  it("parses futures and perpetuals with their contract sizes", () => {
    expect(instrumentFromName("BTC-PERPETUAL")).toMatchObject({
      type: "future",
      expiry: null,
      settlement: "inverse",
      contractSize: 10,
    });
    expect(instrumentFromName("ETH-PERPETUAL")).toMatchObject({ contractSize: 1 });
    expect(instrumentFromName("BTC_USDC-PERPETUAL")).toMatchObject({
      settlement: "linear",
      contractSize: 0.001,
    });
    expect(instrumentFromName("BTC-27MAR26")).toMatchObject({
      type: "future",
      expiry: Date.UTC(2026, 2, 27, 8),
    });
  });

  it("gives reasons for bad names instead of throwing", () => {
    expect(parseInstrumentName("BTC-31FEB25-1000-C")).toMatchObject({ ok: false, reason: "bad-date" });
    expect(parseInstrumentName("BTC-27DEC24-abc-C")).toMatchObject({ ok: false, reason: "bad-strike" });
    expect(parseInstrumentName("BTC-27DEC24-1000-X")).toMatchObject({ ok: false, reason: "bad-format" });
    expect(parseInstrumentName("garbage")).toMatchObject({ ok: false, reason: "bad-format" });
    expect(() => instrumentFromName("nope")).toThrow(/instrument name/);
  });

  it("formats and parses expiry codes as inverses (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 30 }), (days) => {
        const t = Date.UTC(2020, 0, 1, 8) + days * 86_400_000;
        return parseDeribitExpiry(formatDeribitExpiry(t)) === t;
      }),
    );
    const name = deribitOptionName({
      underlying: "BTC",
      expiry: Date.UTC(2026, 2, 27, 8),
      strike: 90000,
      kind: "call",
    });
    expect(name).toBe("BTC-27MAR26-90000-C");
    expect(instrumentFromName(name).name).toBe(name);
  });
});
