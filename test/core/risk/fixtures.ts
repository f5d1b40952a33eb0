/** Shared test book and market for the risk/margin tests (explicit fields, no name parsing). */
import type { FutureContract, OptionContract, Position } from "../../../src/core/instruments/types.js";
import type { RiskMarket } from "../../../src/core/risk/market.js";
import type { VolSurface } from "../../../src/core/surface/types.js";
import { flatSurface } from "../../../src/core/surface/types.js";

export const T0 = Date.UTC(2026, 0, 2, 8);
export const DAY = 86_400_000;
export const E1 = T0 + 30 * DAY;
export const E2 = T0 + 90 * DAY;

/** A smile: vol = 0.6 - 0.1 k + 0.3 k^2 plus a term slope (gives skew and sticky effects). */
export function smileSurface(): VolSurface {
  const iv = (k: number, t: number) => 0.6 - 0.1 * k + 0.3 * k * k + 0.05 * Math.sqrt(t);
  return { model: "test-smile", impliedVol: iv, totalVariance: (k, t) => iv(k, t) ** 2 * t };
}

export function market(surface: VolSurface = flatSurface(0.6)): RiskMarket {
  return {
    valuationTime: T0,
    underlyings: {
      BTC: {
        indexPrice: 100_000,
        forwards: [
          { expiry: E1, forward: 100_400 },
          { expiry: E2, forward: 101_200 },
        ],
        surface,
      },
      ETH: {
        indexPrice: 3_500,
        forwards: [
          { expiry: E1, forward: 3_510 },
          { expiry: E2, forward: 3_540 },
        ],
        surface,
      },
    },
  };
}

export function opt(
  o: Partial<OptionContract> & { strike: number; kind: "call" | "put"; expiry: number },
): OptionContract {
  const underlying = o.underlying ?? "BTC";
  const settlement = o.settlement ?? "inverse";
  return {
    type: "option",
    name: o.name ?? `${underlying}-${o.expiry}-${o.strike}-${o.kind === "call" ? "C" : "P"}`,
    underlying,
    kind: o.kind,
    strike: o.strike,
    expiry: o.expiry,
    settlement,
    contractSize: o.contractSize ?? (settlement === "inverse" ? 1 : underlying === "BTC" ? 0.01 : 0.1),
  };
}

export function fut(o: Partial<FutureContract> & { underlying?: string }): FutureContract {
  const underlying = o.underlying ?? "BTC";
  const settlement = o.settlement ?? "inverse";
  return {
    type: "future",
    name: o.name ?? `${underlying}-${o.expiry ?? "PERPETUAL"}`,
    underlying,
    expiry: o.expiry ?? null,
    settlement,
    contractSize: o.contractSize ?? (settlement === "inverse" ? (underlying === "BTC" ? 10 : 1) : 0.001),
  };
}

export function sampleBook(): Position[] {
  return [
    { instrument: opt({ strike: 110_000, kind: "call", expiry: E1 }), quantity: -5 },
    { instrument: opt({ strike: 90_000, kind: "put", expiry: E1 }), quantity: 3 },
    { instrument: opt({ strike: 100_000, kind: "call", expiry: E2, settlement: "linear" }), quantity: 200 },
    { instrument: opt({ strike: 3_000, kind: "put", expiry: E2, underlying: "ETH" }), quantity: -20 },
    { instrument: fut({}), quantity: 5_000, entryPrice: 98_000 },
    { instrument: fut({ expiry: E2 }), quantity: -2_000, entryPrice: 101_000 },
    {
      instrument: fut({ underlying: "ETH", settlement: "linear", contractSize: 0.01 }),
      quantity: 300,
      entryPrice: 3_400,
    },
  ];
}
