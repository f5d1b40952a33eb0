/**
 * Fills in coin (core/backtest/fills.ts). References are Deribit's published rules, written out:
 * option taker fee 0.03% of the underlying per contract (0.0003 coin on a 1-coin inverse option),
 * capped at 12.5% of the option price; an inverse future's PnL is notional x (1/entry - 1/exit)
 * coin; its fee is the fee rate x notional / price coin.
 */
import { describe, expect, it } from "vitest";
import { inverseHedgeFill, optionFill } from "../../../src/core/backtest/fills.js";
import { resolveCostModel } from "../../../src/core/hedge/costs.js";

/** Coin prices, fees and cash of 1e-4-1e-2 from two or three decimal products: 17 digits (5e-18 absolute, a few ulp of 0.01). (was 15; tightened, passes at 17). */
const FILL_COIN_DIGITS = 17;
/** A USD fill price of 6e4 after two (1 +- bps) factors: 10 digits (5e-11 USD, ~1e-15 relative). (was 9; tightened, passes at 10). */
const FILL_PRICE_DIGITS = 10;

describe("option fills in coin", () => {
  const costs = resolveCostModel({ feeRate: 0.0003, feeCap: 0.125, slippageBps: 5 });

  it("a buy at the ask plus slippage pays 0.0003 coin a contract; a cheap wing pays 12.5% of its price", () => {
    const f = optionFill({ costs, quantity: 2, touch: 0.01, mark: 0.0098 });
    expect(f.price).toBeCloseTo(0.010005, FILL_COIN_DIGITS);
    expect(f.fee).toBeCloseTo(2 * 0.0003, FILL_COIN_DIGITS);
    expect(f.spread).toBeCloseTo(2 * 0.0002, FILL_COIN_DIGITS);
    expect(f.slippage).toBeCloseTo(2 * 0.000005, FILL_COIN_DIGITS);
    expect(f.cash).toBeCloseTo(-(2 * 0.010005 + 0.0006), FILL_COIN_DIGITS);
    const wing = optionFill({ costs, quantity: -3, touch: 0.001, mark: 0.0011 });
    expect(wing.price).toBeCloseTo(0.0009995, FILL_COIN_DIGITS);
    expect(wing.fee).toBeCloseTo(3 * 0.125 * 0.0009995, FILL_COIN_DIGITS); // the cap binds
    expect(wing.cash).toBeCloseTo(3 * 0.0009995 - wing.fee, FILL_COIN_DIGITS);
  });
});

describe("inverse future fills", () => {
  const costs = resolveCostModel({ hedgeFeeRate: 0.0005, hedgeHalfSpreadBps: 1, slippageBps: 5 });

  it("buying 100 contracts of 10 USD above the mark costs notional x (1/mark - 1/price) coin, plus the fee", () => {
    const f = inverseHedgeFill({ costs, contracts: 100, contractSize: 10, mark: 60_000 });
    const touch = 60_000 * (1 + 1e-4);
    const price = touch * (1 + 5e-4);
    expect(f.price).toBeCloseTo(price, FILL_PRICE_DIGITS);
    expect(f.fee).toBeCloseTo((0.0005 * 1000) / price, FILL_COIN_DIGITS);
    // Entered at the mark; the difference to the fill price is lost at once.
    expect(f.cash).toBeCloseTo(1000 * (1 / price - 1 / 60_000) - f.fee, FILL_COIN_DIGITS);
    expect(f.spread + f.slippage).toBeCloseTo(1000 * (1 / 60_000 - 1 / price), FILL_COIN_DIGITS);
  });

  it("with the perpetual's own quote, its spread is moved onto the core mark (the index)", () => {
    const quote = { mark: 60_030, bid: 60_025, ask: 60_035 };
    const f = inverseHedgeFill({ costs, contracts: -50, contractSize: 10, mark: 60_000, quote });
    const touch = (60_000 * 60_025) / 60_030;
    expect(f.price).toBeCloseTo(touch * (1 - 5e-4), FILL_PRICE_DIGITS);
    expect(f.cash).toBeCloseTo(-500 * (1 / f.price - 1 / 60_000) - f.fee, FILL_COIN_DIGITS);
    expect(f.cash).toBeLessThan(0);
  });
});
