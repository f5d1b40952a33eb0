import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import { bookEquity, sumUsd } from "../../../src/core/risk/account.js";
import { E1, fut, market, opt, T0 } from "./fixtures.js";

/** Coin equity: Black-76 coin premiums and inverse-future P&L summed, each within ~1e-16 relative of ~0.1 coin. */
const COIN_SUM_DIGITS = 13;
/** The same in USD (x 1e5, ulp ~3e-11) and the USDC leg (a Black price of ~5e3). */
const USD_SUM_DIGITS = 8;
/** Index conversion of exact decimals: three products and a sum on ~1.75e4 (ulp 3.6e-12). */
const INDEX_SUM_DIGITS = 10;

const YEAR = 365 * 86_400_000;

describe("bookEquity: cash + positions per settlement currency, and in USD", () => {
  const mkt = market(); // flat 0.6 vol; BTC index 100,000, F(E1) = 100,400; ETH 3,500
  const T = (E1 - T0) / YEAR;
  const call: Position = { instrument: opt({ strike: 105_000, kind: "call", expiry: E1 }), quantity: 2 };
  const linearPut: Position = {
    instrument: opt({ strike: 95_000, kind: "put", expiry: E1, settlement: "linear" }),
    quantity: -100,
  };
  const perp: Position = { instrument: fut({}), quantity: 1_000, entryPrice: 99_000 };

  it("adds each leg in its settlement currency (Deribit's coin premium for inverse options)", () => {
    const e = bookEquity([call, linearPut, perp], { BTC: 1.5, USDC: 20_000 }, mkt);
    const callCoin =
      (2 * blackPrice({ forward: 100_400, strike: 105_000, expiry: T, vol: 0.6, kind: "call" })) / 100_400;
    // BTC-PERPETUAL: 10 USD contracts, inverse: 10,000 (1/99,000 - 1/100,000) BTC at the index.
    const perpCoin = 10_000 * (1 / 99_000 - 1 / 100_000);
    const putUsd = -1 * blackPrice({ forward: 100_400, strike: 95_000, expiry: T, vol: 0.6, kind: "put" });
    expect(e.byCurrency.BTC!.cash).toBe(1.5);
    expect(e.byCurrency.BTC!.positions).toBeCloseTo(callCoin + perpCoin, COIN_SUM_DIGITS);
    expect(e.byCurrency.BTC!.equityUsd).toBeCloseTo((1.5 + callCoin + perpCoin) * 100_000, USD_SUM_DIGITS);
    expect(e.byCurrency.USDC!.positions).toBeCloseTo(putUsd, USD_SUM_DIGITS);
    expect(e.equityUsd).toBeCloseTo((1.5 + callCoin + perpCoin) * 100_000 + 20_000 + putUsd, USD_SUM_DIGITS);
    expect(e.unpriced).toEqual([]);
  });

  it("lists cash it cannot price instead of adding NaN", () => {
    const e = bookEquity([call], { BTC: 1, SOL: 50 }, mkt);
    expect(Number.isFinite(e.equityUsd)).toBe(true);
    expect(e.unpriced).toEqual([{ currency: "SOL", amount: 50, reason: "no SOL index in the market" }]);
    expect(e.byCurrency.SOL).toBeUndefined();
  });

  it("sumUsd converts amounts by currency at the index and names the unpriced", () => {
    const s = sumUsd({ BTC: 0.1, ETH: 2, USDC: 500, SOL: 3 }, mkt);
    expect(s.totalUsd).toBeCloseTo(0.1 * 100_000 + 2 * 3_500 + 500, INDEX_SUM_DIGITS);
    expect(s.unpriced).toEqual(["SOL"]);
  });
});
