import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { splitExpired } from "../../../src/core/risk/expiredLegs.js";
import { portfolioGreeks } from "../../../src/core/risk/greeks.js";
import { compileBook } from "../../../src/core/risk/grid.js";
import { runStress } from "../../../src/core/risk/stress.js";
import { STRESS_LIBRARY } from "../../../src/core/risk/stressLibrary.js";
import { standardBookMargin } from "../../../src/core/margin/book.js";
import { portfolioMargin } from "../../../src/core/margin/portfolioMargin.js";
import { DAY, E1, fut, market, opt, T0 } from "./fixtures.js";

/** Settlement in coin: one product and one division of exact integers, within an ulp of ~0.2 (2.8e-17). */
const COIN_SETTLE_DIGITS = 14;
/** The same in USD (x 100,000, ulp 2.9e-12) or a USDC amount of 5,000 (ulp 9e-13). */
const USD_SETTLE_DIGITS = 9;

const YESTERDAY = T0 - DAY;
const index = (u: string) => (u === "BTC" ? 100_000 : u === "ETH" ? 3_500 : null);

describe("splitExpired: expired legs are settled once, live legs pass through", () => {
  const book: Position[] = [
    { instrument: opt({ strike: 95_000, kind: "call", expiry: YESTERDAY }), quantity: 2 }, // ITM inverse call
    { instrument: opt({ strike: 90_000, kind: "put", expiry: YESTERDAY }), quantity: -3 }, // OTM inverse put
    {
      instrument: opt({ strike: 110_000, kind: "put", expiry: YESTERDAY, settlement: "linear" }),
      quantity: -100,
    },
    {
      instrument: fut({ expiry: YESTERDAY, settlement: "inverse", contractSize: 10 }),
      quantity: 1_000,
      entryPrice: 98_000,
    },
    { instrument: opt({ strike: 100_000, kind: "call", expiry: E1 }), quantity: 1 }, // live
    { instrument: fut({}), quantity: 500 }, // perpetual: live
    { instrument: opt({ underlying: "SOL", strike: 100, kind: "call", expiry: YESTERDAY }), quantity: 1 },
  ];

  it("at the delivery price when known; payoffs written out by hand", () => {
    const r = splitExpired(book, T0, {
      indexPrice: index,
      deliveryPrice: (u) => (u === "BTC" ? 105_000 : null),
    });
    expect(r.live.length + r.settled.length + r.unsettled.length).toBe(book.length);
    expect(r.live.map((p) => p.instrument.name)).toEqual([
      book[4]!.instrument.name,
      book[5]!.instrument.name,
    ]);
    const [call, put, linearPut, future] = r.settled;
    // Inverse call: 2 x (105,000 - 95,000) USD paid in BTC at the delivery price.
    expect(call!.source).toBe("delivery");
    expect(call!.currency).toBe("BTC");
    expect(call!.value).toBeCloseTo((2 * 10_000) / 105_000, COIN_SETTLE_DIGITS);
    expect(call!.valueUsd).toBeCloseTo(((2 * 10_000) / 105_000) * 100_000, USD_SETTLE_DIGITS);
    expect(put!.value).toBe(0);
    // Linear put, 100 contracts of 0.01 BTC, short: -1 x (110,000 - 105,000) USDC.
    expect(linearPut!.currency).toBe("USDC");
    expect(linearPut!.value).toBeCloseTo(-5_000, USD_SETTLE_DIGITS);
    // Inverse future, 10,000 USD long from 98,000: 10,000 (1/98,000 - 1/105,000) BTC.
    expect(future!.value).toBeCloseTo(10_000 * (1 / 98_000 - 1 / 105_000), COIN_SETTLE_DIGITS);
    // No SOL price at all: not settled, said so.
    expect(r.unsettled).toHaveLength(1);
    expect(r.unsettled[0]!.detail).toMatch(/SOL/);
  });

  it("at the index when the delivery price is unknown, and says so", () => {
    const r = splitExpired(book, T0, { indexPrice: index });
    const call = r.settled[0]!;
    expect(call.source).toBe("index-intrinsic");
    expect(call.settlementPrice).toBe(100_000);
    expect(call.value).toBeCloseTo((2 * 5_000) / 100_000, COIN_SETTLE_DIGITS);
    expect(call.detail).toMatch(/delivery price unknown/);
  });
});

describe("risk entry points refuse a leg expired before the valuation time", () => {
  // Regression (issue 18): a put expired yesterday was revalued at every scenario's spot, so a
  // -30% grid point showed +270,000 USD and the covid stress +334,530 USD.
  const mkt = market();
  const expired: Position = {
    instrument: opt({ strike: 100_000, kind: "put", expiry: YESTERDAY }),
    quantity: 10,
  };
  const live: Position = { instrument: opt({ strike: 100_000, kind: "put", expiry: E1 }), quantity: 10 };
  const name = new RegExp(`positions\\[1\\] \\(${expired.instrument.name}\\)\\.expiry`);
  it.each([
    ["greeks", () => portfolioGreeks([live, expired], mkt)],
    ["grid", () => compileBook([live, expired], mkt)],
    ["stress", () => runStress({ positions: [live, expired], market: mkt, entries: STRESS_LIBRARY })],
    ["standard margin", () => standardBookMargin([live, expired], mkt)],
    ["portfolio margin", () => portfolioMargin([live, expired], mkt)],
  ])("%s throws naming the leg and its expiry", (_what, f) => {
    expect(f).toThrow(name);
  });
  it("the live leg alone is valued", () => {
    expect(portfolioGreeks([live], mkt).byUnderlying.BTC!.vegaUsd).toBeGreaterThan(0);
  });
});
