/**
 * Margin tests. Worked examples are BUILT BY HAND from the documented Deribit formulas (no
 * exchange-published numeric example was available in the searchable corpus):
 *   short call: IM = max(0.15 - OTM/S, 0.1) + mark, MM = 0.075 + mark
 *   short put:  MM = max(0.075, 0.075 mark) + mark, IM = max(max(0.15 - OTM/S, 0.1) + mark, MM)
 *   futures (rules of 11 January 2022, support.deribit.com article 25944826427293):
 *     BTC IM = 2% + 0.005% per BTC, MM = 1% + 0.005% per BTC; ETH: 0.0004% per ETH
 */
import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { standardBookMargin } from "../../../src/core/margin/book.js";
import { liquidationDistance } from "../../../src/core/margin/liquidation.js";
import { DERIBIT_PORTFOLIO_MARGIN, portfolioMargin } from "../../../src/core/margin/portfolioMargin.js";
import { standardFutureMarginCoin, standardOptionMarginCoin } from "../../../src/core/margin/standard.js";
import { scenarioPortfolioPnl, compileBook } from "../../../src/core/risk/grid.js";
import { E1, fut, market, opt } from "../risk/fixtures.js";

/** Deribit's option rule on round inputs: a max and a few products of decimals, within a few ulps of ~0.1-0.5 coin (ulp <= 5.6e-17). */
const HAND_COIN_DIGITS = 14;
/** Futures rule on a 25 BTC position: rate (2% + n x 0.005%) x n, the add-on times the size squared, a few ulps of ~0.5 coin. */
const HAND_FUTURE_DIGITS = 12;
/** The same on 350 BTC / 1,000 ETH (results ~10-25 coin, ulp 3.6e-15) and on 100 ETH. */
const HAND_LARGE_FUTURE_DIGITS = 10;
/** The linear perpetual's margin in USDC (~2e4, ulp 3.6e-12). */
const HAND_USDC_DIGITS = 6;
/** Risk = the worst aggregated cell read back from the matrix: the same numbers, at most a sign flip. */
const SAME_CELL_DIGITS = 12;
/** MM = 0.8 IM: one product. */
const MM_RATIO_DIGITS = 12;
/** Inverse future coin P&L N (1/E - 1/F) on 1e6 USD: the engine sums legs and aggregates, a few ulps of ~2 coin. */
const FUTURE_PNL_DIGITS = 9;
/** Roll shock 10 BTC x 0.01: one product. */
const ROLL_DIGITS = 12;
/** The liquidation move is bisected to 1e-6 relative spot (liquidation.ts); on a 5-put book (~5 BTC of delta x 1e5 USD) that is ~0.5 USD of P&L. */
const BISECTION_PNL_DIGITS = 0;

describe("Deribit standard margin, hand-worked examples", () => {
  it("short 1 BTC call K=110000, S=100000, mark 0.01 BTC: IM 0.11, MM 0.085", () => {
    // OTM = 10000, OTM/S = 0.10 -> max(0.05, 0.1) = 0.1; + 0.01
    const m = standardOptionMarginCoin({
      kind: "call",
      strike: 110_000,
      underlyingPrice: 100_000,
      markCoin: 0.01,
      size: -1,
    });
    expect(m.initial).toBeCloseTo(0.11, HAND_COIN_DIGITS);
    expect(m.maintenance).toBeCloseTo(0.085, HAND_COIN_DIGITS);
  });
  it("short 2 BTC calls K=95000 (ITM), S=100000, mark 0.08: IM 2 x 0.23, MM 2 x 0.155", () => {
    const m = standardOptionMarginCoin({
      kind: "call",
      strike: 95_000,
      underlyingPrice: 100_000,
      markCoin: 0.08,
      size: -2,
    });
    expect(m.initial).toBeCloseTo(0.46, HAND_COIN_DIGITS);
    expect(m.maintenance).toBeCloseTo(0.31, HAND_COIN_DIGITS);
  });
  it("short 1 BTC put K=95000, S=100000, mark 0.02: IM 0.12, MM 0.095", () => {
    // OTM = 5000 -> 0.15 - 0.05 = 0.10 = floor; + 0.02. MM = max(0.075, 0.0015) + 0.02.
    const m = standardOptionMarginCoin({
      kind: "put",
      strike: 95_000,
      underlyingPrice: 100_000,
      markCoin: 0.02,
      size: -1,
    });
    expect(m.initial).toBeCloseTo(0.12, HAND_COIN_DIGITS);
    expect(m.maintenance).toBeCloseTo(0.095, HAND_COIN_DIGITS);
  });
  it("deep OTM short put: IM floor 0.1 + mark; long options need no margin", () => {
    const m = standardOptionMarginCoin({
      kind: "put",
      strike: 50_000,
      underlyingPrice: 100_000,
      markCoin: 0.001,
      size: -3,
    });
    expect(m.initial).toBeCloseTo(3 * 0.101, HAND_COIN_DIGITS);
    expect(
      standardOptionMarginCoin({
        kind: "put",
        strike: 50_000,
        underlyingPrice: 100_000,
        markCoin: 0.001,
        size: 3,
      }).initial,
    ).toBe(0);
  });
  it("futures: 25 BTC position -> IM 2.125% (0.53125 BTC), MM 1.125%", () => {
    // 2% + 25 x 0.005% = 2.125% of 25 BTC = 0.53125 BTC; MM 1% + 0.125% = 0.28125 BTC
    const m = standardFutureMarginCoin({ sizeUsd: -2_500_000, price: 100_000 });
    expect(m.initial).toBeCloseTo(0.53125, HAND_FUTURE_DIGITS);
    expect(m.maintenance).toBeCloseTo(0.28125, HAND_FUTURE_DIGITS);
    // 350 BTC -> 2% + 1.75% = 3.75% = 13.125 BTC
    expect(standardFutureMarginCoin({ sizeUsd: 35_000_000, price: 100_000 }).initial).toBeCloseTo(
      13.125,
      HAND_LARGE_FUTURE_DIGITS,
    );
  });
  it("ETH futures: 1000 ETH -> IM 2.4% (24 ETH), MM 1.4% (14 ETH): the 0.0004% per ETH add-on", () => {
    const m = standardFutureMarginCoin({ sizeUsd: 3_500_000, price: 3_500, underlying: "ETH" });
    expect(m.initial).toBeCloseTo(24, HAND_LARGE_FUTURE_DIGITS);
    expect(m.maintenance).toBeCloseTo(14, HAND_LARGE_FUTURE_DIGITS);
    expect(() => standardFutureMarginCoin({ sizeUsd: 1000, price: 100, underlying: "SOL" })).toThrow(/SOL/);
  });
  it("book: an ETH perpetual in ETH, a linear BTC perpetual in USDC", () => {
    const mkt = market();
    const r = standardBookMargin(
      [
        { instrument: fut({ underlying: "ETH" }), quantity: 350_000 }, // 350,000 USD = 100 ETH at 3500
        { instrument: fut({ settlement: "linear", contractSize: 0.001 }), quantity: -10_000 }, // -10 BTC
      ],
      mkt,
    );
    expect(r.byCurrency.ETH!.initial).toBeCloseTo(100 * (0.02 + 100 * 0.000004), HAND_LARGE_FUTURE_DIGITS);
    expect(r.byCurrency.ETH!.maintenance).toBeCloseTo(
      100 * (0.01 + 100 * 0.000004),
      HAND_LARGE_FUTURE_DIGITS,
    );
    // USDC: 10 BTC x (2% + 10 x 0.005%) x 100,000 USD (perpetual forward = index)
    expect(r.byCurrency.USDC!.initial).toBeCloseTo(10 * (0.02 + 10 * 0.00005) * 100_000, HAND_USDC_DIGITS);
    expect(r.byCurrency.USDC!.maintenance).toBeCloseTo(
      10 * (0.01 + 10 * 0.00005) * 100_000,
      HAND_USDC_DIGITS,
    );
  });
  it("book margin sums positions by settlement currency", () => {
    const book: Position[] = [
      { instrument: opt({ strike: 110_000, kind: "call", expiry: E1 }), quantity: -2 },
      { instrument: opt({ strike: 3_000, kind: "put", expiry: E1, underlying: "ETH" }), quantity: -10 },
      { instrument: opt({ strike: 90_000, kind: "put", expiry: E1, settlement: "linear" }), quantity: -100 },
    ];
    const r = standardBookMargin(book, market());
    expect(Object.keys(r.byCurrency).sort()).toEqual(["BTC", "ETH", "USDC"]);
    expect(r.byCurrency.BTC!.initial).toBeGreaterThan(2 * 0.1);
    expect(r.byCurrency.USDC!.initial).toBeGreaterThan(1 * 0.1 * 100_000);
  });
});

describe("portfolio margin (risk matrix)", () => {
  it("default matrix: 9 x 3 + 8 extended cells; hedged book needs less than naked", () => {
    const naked: Position[] = [
      { instrument: opt({ strike: 100_000, kind: "call", expiry: E1 }), quantity: -10 },
    ];
    const pm = portfolioMargin(naked, market());
    expect(pm.matrix.length).toBe(9 * 3 + DERIBIT_PORTFOLIO_MARGIN.extendedMoves.length);
    // The risk is the worst aggregated loss over the 27 standard and 8 extended cells.
    const worst = Math.max(...pm.matrix.map((c) => -(c.aggregated.BTC ?? 0)));
    expect(pm.byCurrency.BTC!.risk).toBeCloseTo(worst, SAME_CELL_DIGITS);
    expect(pm.byCurrency.BTC!.contingency).toBe(0); // no futures: no roll shock
    const hedged: Position[] = [
      ...naked,
      { instrument: opt({ strike: 105_000, kind: "call", expiry: E1 }), quantity: 10 },
    ];
    expect(portfolioMargin(hedged, market()).byCurrency.BTC!.initial).toBeLessThan(
      pm.byCurrency.BTC!.initial,
    );
    expect(pm.byCurrency.BTC!.maintenance).toBeCloseTo(0.8 * pm.byCurrency.BTC!.initial, MM_RATIO_DIGITS);
  });
  it("a long inverse perpetual: worst BTC loss at the -16% bucket equals the coin PnL formula", () => {
    const book: Position[] = [{ instrument: fut({}), quantity: 100_000, entryPrice: 100_000 }]; // 1m USD
    const pm = portfolioMargin(book, market());
    // coin PnL of an inverse future: N (1/E - 1/F); at F = 84000: 1e6 (1/1e5 - 1/84000) = -1.9048 BTC.
    // The extended table values futures at the range edge (Deribit's documented vectors), so the
    // -16% cell is the worst; roll shock = 10 BTC x min_annualised_move 0.01 (perpetual: T = 0).
    const regular = -1e6 * (1 / 100_000 - 1 / 84_000);
    expect(pm.byCurrency.BTC!.risk).toBeCloseTo(regular, FUTURE_PNL_DIGITS);
    expect(pm.byCurrency.BTC!.worstScenario).toBe("spot -16.0% vol same");
    expect(pm.byCurrency.BTC!.rollShock).toBeCloseTo(0.1, ROLL_DIGITS);
    expect(pm.byCurrency.BTC!.initial).toBeCloseTo(regular + 0.1, FUTURE_PNL_DIGITS);
  });
});

describe("distance to liquidation", () => {
  it("finds the spot move that exhausts the buffer (checked by revaluation)", () => {
    const book: Position[] = [{ instrument: opt({ strike: 95_000, kind: "put", expiry: E1 }), quantity: -5 }];
    const mkt = market();
    const d = liquidationDistance({
      positions: book,
      market: mkt,
      equityUsd: 60_000,
      maintenanceUsd: 10_000,
    });
    expect(d.spotDown).not.toBeNull();
    const pnl = scenarioPortfolioPnl(compileBook(book, mkt), [{ spotShift: d.spotDown!, volShift: 0 }])[0]!;
    expect(-pnl).toBeCloseTo(50_000, BISECTION_PNL_DIGITS);
    expect(d.volUp).not.toBeNull();
    expect(d.volDown).toBeNull(); // a short put gains when vol falls
  });
});
