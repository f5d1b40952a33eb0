/**
 * Cross portfolio margin (X:PM, crossPortfolioMargin): one USD risk matrix over every settlement
 * currency and the coin balances (module comment: what Deribit documents and the readings). Hand
 * figures on a hand market (test/core/risk/fixtures.ts: BTC index 100,000, ETH 3,500), the reading
 * written out (deribitReference.ts refCross) on a mixed book, haircuts on the IM side only, and
 * the pooled distance to liquidation with pooledMargin "cross" checked against a revaluation by
 * hand (own Black-76) at the reported move.
 */
import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { crossPortfolioMargin } from "../../../src/core/margin/crossPortfolioMargin.js";
import { liquidationByRevaluation } from "../../../src/core/margin/liquidation.js";
import { DERIBIT_PORTFOLIO_MARGIN, portfolioMargin } from "../../../src/core/margin/portfolioMargin.js";
import type { RiskMarket } from "../../../src/core/risk/market.js";
import { DAY, E1, E2, fut, market, opt, smileSurface, T0 } from "../risk/fixtures.js";
import { legValue, type RefLeg, refCross } from "./deribitReference.js";

/** Against the reference written out in the test from Deribit's documented formulas (own Black-76 with erfc, own bumps and aggregation): two double implementations that round differently; 1e-9 relative is far above their ~1e-13 disagreement yet catches any rule change. */
const REF_REL = 1e-9;
/** Roll shock: a closed form on round inputs, a few ulps. */
const CLOSED_FORM_REL = 1e-12;
/** Cash and carry: the balance's and the perpetual's cell P&Ls cancel exactly in exact arithmetic; left is rounding on ~1.6e5 USD (ulp 2.9e-11). */
const CANCELLED_USD = 1e-6;
/** Pooled crossing: the move is bisected to 1e-6, so the surplus there is near 0; bounded by 100 USD (1e-3 x 1e5) and paired with a sign check 1e-4 further, which is the sharp part. */
const CROSSING_SURPLUS_REL = 1e-3;

/** Hand figures in USD (1.6e5, 1.28e5, 1e4) from exact decimals: a product or two, ulp ~3e-11. */
const HAND_USD_DIGITS = 6;
/** The bucket's move read back from the table (-16%): exact decimal. */
const TABLE_MOVE_DIGITS = 12;
/** Inverse perpetual coin loss 1e6 (1/1e5 - 1/1.16e5) ~1.38 coin: two divisions and a subtraction. */
const HAND_COIN_DIGITS = 9;
/** IM equity after a 7.5% haircut on 3e5 USD: one product. */
const HAIRCUT_USD_DIGITS = 9;
/** X:PM must differ from the sum of the S:PM figures by more than half a USD, i.e. it is another figure, not the sum relabelled. */
const DIFFERENT_FIGURE_DIGITS = 0;

const mkt: RiskMarket = market(smileSurface());
const Y = 365 * DAY;
const iv = (K: number, F: number, T: number) => smileSurface().impliedVol(Math.log(K / F), T);
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe("X:PM by hand", () => {
  it("a naked 10 BTC balance: the -16% bucket, 160,000 USD; MM 128,000", () => {
    const r = crossPortfolioMargin({ positions: [], cash: { BTC: 10 }, market: mkt });
    // Standard table: 10 x 100,000 x 16% = 160,000. Extended (-66%: the balance at the -16% edge,
    // weight 0.16 / 0.66): 38,788 - 25,000 dampener < 160,000.
    expect(r.riskUsd).toBeCloseTo(160_000, HAND_USD_DIGITS);
    expect(r.initialUsd).toBeCloseTo(160_000, HAND_USD_DIGITS);
    expect(r.maintenanceUsd).toBeCloseTo(128_000, HAND_USD_DIGITS);
    expect(r.worstCase?.source).toBe("standard");
    expect(r.worstCase?.spotMoveByUnderlying.BTC).toBeCloseTo(-0.16, TABLE_MOVE_DIGITS);
    expect(r.equityUsd).toBe(1_000_000);
    // USDC cash has no equity-side impact: no margin.
    expect(crossPortfolioMargin({ positions: [], cash: { USDC: 1e6 }, market: mkt }).initialUsd).toBe(0);
  });

  it("cash and carry (10 BTC + short 1,000,000 USD of BTC-PERPETUAL): X:PM = roll shock 1% only; S:PM charges the +16% loss", () => {
    const positions: Position[] = [{ instrument: fut({}), quantity: -100_000 }]; // 10 USD contracts
    const x = crossPortfolioMargin({ positions, cash: { BTC: 10 }, market: mkt });
    expect(x.riskUsd).toBeLessThan(CANCELLED_USD);
    expect(x.rollShockUsd).toBeCloseTo(10_000, HAND_USD_DIGITS);
    expect(x.initialUsd).toBeCloseTo(10_000, HAND_USD_DIGITS);
    // Segregated: the BTC account's matrix in BTC has no balance in it: the short perpetual loses
    // 1,000,000 (1/100,000 - 1/116,000) = 1.3793 BTC at +16%.
    const s = portfolioMargin(positions, mkt).byCurrency.BTC!;
    expect(s.risk).toBeCloseTo(1e6 * (1 / 100_000 - 1 / 116_000), HAND_COIN_DIGITS);
  });

  it("haircuts apply to the initial-margin side only (a hypothetical 7.5% on USDC, stETH's documented rate)", () => {
    const params = {
      ...DERIBIT_PORTFOLIO_MARGIN,
      currencies: {
        ...DERIBIT_PORTFOLIO_MARGIN.currencies,
        USDC: { ...DERIBIT_PORTFOLIO_MARGIN.currencies.USDC!, haircut: 0.075 },
      },
    };
    const r = crossPortfolioMargin({ positions: [], cash: { BTC: 1, USDC: 200_000 }, market: mkt, params });
    expect(r.equityUsd).toBe(300_000);
    expect(r.equityForInitialUsd).toBeCloseTo(100_000 + 200_000 * 0.925, HAIRCUT_USD_DIGITS);
    expect(r.maintenanceUsd).toBeCloseTo(0.8 * 16_000, HAND_USD_DIGITS); // the matrix does not change
  });
});

// A mixed book in all three currencies, as reference legs (forward, IV at the strike, T, size).
const BOOK: Position[] = [
  { instrument: opt({ strike: 90_000, kind: "put", expiry: E1 }), quantity: -6 },
  { instrument: opt({ strike: 115_000, kind: "call", expiry: E2 }), quantity: -4 },
  { instrument: opt({ strike: 95_000, kind: "put", expiry: E2, settlement: "linear" }), quantity: -400 },
  { instrument: opt({ strike: 3_000, kind: "put", expiry: E1, underlying: "ETH" }), quantity: -50 },
  { instrument: opt({ strike: 4_000, kind: "call", expiry: E2, underlying: "ETH" }), quantity: 30 },
  { instrument: fut({}), quantity: -30_000 },
  { instrument: fut({ expiry: E2 }), quantity: 10_000 },
];
const FWD: Record<string, Record<number, number>> = {
  BTC: { [E1]: 100_400, [E2]: 101_200 },
  ETH: { [E1]: 3_510, [E2]: 3_540 },
};
const INDEX = { BTC: 100_000, ETH: 3_500 };
function refLegs(move = 0): RefLeg[] {
  return BOOK.map((p): RefLeg => {
    const ins = p.instrument;
    const u = ins.underlying as "BTC" | "ETH";
    if (ins.type === "future") {
      const F0 = ins.expiry === null ? INDEX[u] : (FWD[u]?.[ins.expiry] as number);
      return {
        type: "future",
        u,
        F: F0 * (1 + move),
        entry: F0,
        T: ins.expiry === null ? 0 : (ins.expiry - T0) / Y,
        usd: p.quantity * ins.contractSize,
      };
    }
    if (ins.type !== "option") throw new Error(`${ins.name}: the reference legs are options and futures`);
    const F0 = FWD[u]?.[ins.expiry] as number;
    const T = (ins.expiry - T0) / Y;
    return {
      type: "option",
      u,
      linear: ins.settlement === "linear",
      call: ins.kind === "call",
      K: ins.strike,
      F: F0 * (1 + move),
      v: iv(ins.strike, F0, T), // sticky-strike: the strike's vol at the base forward
      T,
      size: p.quantity * ins.contractSize,
    };
  });
}
const CASH = { BTC: 3, ETH: 60, USDC: 60_000 };

describe("X:PM on a mixed BTC / ETH / USDC book with balances", () => {
  it("= the reading written out (refCross), and one matrix needs less than the sum of S:PM in USD", () => {
    const got = crossPortfolioMargin({ positions: BOOK, cash: CASH, market: mkt });
    const want = refCross(refLegs(), CASH, INDEX);
    expect(rel(got.initialUsd, want.initial)).toBeLessThan(REF_REL);
    expect(rel(got.rollShockUsd, want.roll)).toBeLessThan(CLOSED_FORM_REL);
    const s = portfolioMargin(BOOK, mkt).byCurrency;
    const sumUsd = s.BTC!.initial * 100_000 + s.ETH!.initial * 3_500 + s.USDC!.initial;
    expect(got.initialUsd).toBeGreaterThan(0);
    expect(got.initialUsd).not.toBeCloseTo(sumUsd, DIFFERENT_FIGURE_DIGITS); // a different figure, not the sum relabelled
  });

  it('pooled liquidation with pooledMargin "cross": at the reported move, equity = X:PM maintenance by hand', () => {
    const r = liquidationByRevaluation({
      positions: BOOK,
      cash: CASH,
      market: mkt,
      dynamics: ["sticky-strike"],
      pooledMargin: "cross",
    });
    expect(r.pooledMargin).toBe("cross");
    const x = r.pooled.spot["sticky-strike"].down as number;
    expect(x).toBeLessThan(0);
    // By hand at the move: equity in USD = cash + leg values at the moved prices; maintenance from
    // refCross around the moved prices (index moved too).
    const surplus = (m: number) => {
      const legs = refLegs(m);
      const idx = { BTC: INDEX.BTC * (1 + m), ETH: INDEX.ETH * (1 + m) };
      let eq = CASH.USDC + CASH.BTC * idx.BTC + CASH.ETH * idx.ETH;
      for (const l of legs) {
        const base = { ...l, F: l.type === "future" ? (l.entry as number) : l.F / (1 + m) };
        const usd = (leg: RefLeg, s: number) => {
          const v = legValue(leg, s, "same");
          return leg.type === "option" && leg.linear ? v : v * idx[leg.u];
        };
        eq += usd(base, m);
      }
      return eq - refCross(legs, CASH, idx).maintenance;
    };
    expect(Math.abs(surplus(x)) / 1e5).toBeLessThan(CROSSING_SURPLUS_REL);
    expect(surplus(x + 1e-4)).toBeGreaterThan(0);
    expect(surplus(x - 1e-3)).toBeLessThan(0);
    for (let y = -0.01; y > x; y -= 0.01) expect(surplus(y), `${y}`).toBeGreaterThan(0);
  });
});
