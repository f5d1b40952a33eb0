/** A small chain for the store tests: nulls, missing optional fields, a perpetual. */
import { parseInstrumentName } from "../../../src/core/instruments/names.js";
import type { ChainSnapshot } from "../../../src/core/market/types.js";

export function chain(underlying: string, t: number, index: number): ChainSnapshot {
  const inst = (n: string) => {
    const r = parseInstrumentName(n);
    if (!r.ok || r.value.type === "future") throw new Error(n);
    return r.value;
  };
  return {
    underlying,
    valuationTime: t,
    indexPrice: index,
    quotes: [
      {
        instrument: inst(`${underlying}-27DEC24-100000-C`),
        timestamp: t,
        bid: 0.034,
        ask: 0.035,
        mark: 0.0344,
        markIv: 0.5512,
        bidIv: null,
        askIv: null,
        underlyingPrice: 97210.5,
        underlyingName: `${underlying}-27DEC24`,
        openInterest: 5120.3,
        volume: 12.5,
      },
      {
        instrument: inst(`${underlying}-27DEC24-120000-C`),
        timestamp: t - 5,
        bid: null,
        ask: 0.0035,
        mark: 0.00312,
        markIv: 0.634,
      },
      {
        instrument: inst(`${underlying}-31JAN25-90000-P`),
        timestamp: t,
        bid: 0.0395,
        ask: null,
        mark: null,
        bidSize: 3,
        askSize: null,
      },
    ],
    futures: [
      {
        name: `${underlying}-PERPETUAL`,
        underlying,
        expiry: null,
        timestamp: t,
        mark: 97002.9,
        bid: 97003,
        ask: null,
      },
    ],
  } as ChainSnapshot;
}
