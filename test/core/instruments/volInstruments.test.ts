/**
 * Variance swap and DVOL future contracts: names round-trip, terms are validated with typed errors
 * naming the field and the value, and the vega-notional convention gives the textbook variance
 * notional (DDKZ 1999 section 2: N_var = N_vega / (2 K)).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { parseInstrumentName } from "../../../src/core/instruments/names.js";
import {
  DVOL_FUTURE_SPEC,
  parseVolInstrumentName,
  varianceNotionalPerContract,
  varianceSwapContract,
  volIndexFutureContract,
} from "../../../src/core/instruments/volInstruments.js";
import { DVOL_FUTURE_DEFAULTS } from "../../../src/core/volindex/volIndexFuture.js";

const at8 = (y: number, m: number, d: number) => Date.UTC(y, m, d, 8);

describe("vol instrument names", () => {
  it("round-trip: name -> contract -> the same name and terms (fast-check over dates and strikes)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 3000 }),
        (startDay, tenorDays, strikeTenths) => {
          const start = at8(2024, 0, 1) + startDay * 86_400_000;
          const c = varianceSwapContract({
            underlying: "ETH",
            start,
            expiry: start + tenorDays * 86_400_000,
            strikeVol: strikeTenths / 1000,
          });
          const back = parseVolInstrumentName(c.name);
          return (
            back?.type === "varianceSwap" &&
            back.start === c.start &&
            back.expiry === c.expiry &&
            Math.abs(back.strikeVol - c.strikeVol) < 1e-12 &&
            back.name === c.name
          );
        },
      ),
      { numRuns: 100, seed: 3 },
    );
    const f = volIndexFutureContract({ underlying: "BTC", expiry: at8(2026, 2, 27) });
    expect(f.name).toBe("BTCDVOL-27MAR26");
    expect(parseVolInstrumentName("BTCDVOL_USDC-27MAR26")).toMatchObject({
      type: "volIndexFuture",
      expiry: f.expiry,
    });
    expect(parseVolInstrumentName("BTC-VARSWAP-1JAN26-1FEB26-42d5")).toMatchObject({ strikeVol: 0.425 });
  });

  it("other names are not vol instruments; Deribit names still parse as exchange instruments", () => {
    expect(parseVolInstrumentName("BTC-27MAR26-90000-C")).toBeNull();
    expect(parseVolInstrumentName("BTC-PERPETUAL")).toBeNull();
    expect(parseInstrumentName("BTC-27MAR26").ok).toBe(true);
  });

  it("malformed vol names and bad terms throw InvalidInputError naming the field and value", () => {
    const cases: [() => unknown, string, unknown][] = [
      [() => parseVolInstrumentName("BTC-VARSWAP-1JAN26-50"), "name", "BTC-VARSWAP-1JAN26-50"],
      [() => parseVolInstrumentName("BTC-VARSWAP-1JAN26-1FEB26-5x"), "strike", "5X"],
      [() => parseVolInstrumentName("BTCDVOL-32JAN26"), "expiry", "32JAN26"],
      [() => varianceSwapContract({ underlying: "BTC", start: 2, expiry: 1, strikeVol: 0.5 }), "expiry", 1],
      [
        () => varianceSwapContract({ underlying: "BTC", start: 1, expiry: 2, strikeVol: 50 }),
        "strikeVol",
        50,
      ],
      [
        () => varianceSwapContract({ underlying: "btc", start: 1, expiry: 2, strikeVol: 0.5 }),
        "underlying",
        "btc",
      ],
      [() => volIndexFutureContract({ underlying: "BTC", expiry: 1, contractSize: 0 }), "contractSize", 0],
      [() => volIndexFutureContract({ underlying: "BTC", expiry: Number.NaN }), "expiry", Number.NaN],
    ];
    for (const [f, field, value] of cases) {
      try {
        f();
        expect.unreachable(`${field} accepted`);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidInputError);
        expect((e as InvalidInputError).field).toBe(field);
        expect((e as InvalidInputError).value).toEqual(value);
      }
    }
  });
});

describe("conventions", () => {
  it("vega notional 1000 USD at K = 50 vol points is 10 USD per variance point (DDKZ N_var = N_vega / 2K)", () => {
    const c = varianceSwapContract({
      underlying: "BTC",
      start: 0,
      expiry: 1,
      strikeVol: 0.5,
      contractSize: 1000,
    });
    expect(varianceNotionalPerContract(c)).toBe(10);
  });

  it("the DVOL defaults are one set of numbers for the instrument and the pricer (unverified: 1 USD/point, tick 0.1)", () => {
    expect(DVOL_FUTURE_DEFAULTS.contractSizeUsdPerPoint).toBe(DVOL_FUTURE_SPEC.contractSize);
    expect(DVOL_FUTURE_DEFAULTS.tickSize).toBe(DVOL_FUTURE_SPEC.tickSize);
    expect(DVOL_FUTURE_DEFAULTS.indexDays).toBe(30);
  });
});
