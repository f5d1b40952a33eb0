/**
 * Portfolio margin against a reference written out in this test from the documented formulas
 * (params/btc.ts, eth.ts, usdc.ts; Deribit private/pme/simulate parameters), with its own
 * Black-76 and normal CDF, its own bump of the market and its own aggregation: no margin, risk or
 * pricing code of volfolio is used for the expected figures. The formulas:
 *   bucket b = -4..4: F' = F (1 + range b / 4)  (BTC range 0.16, ETH 0.18), options sticky-strike
 *   f = (30 / max(DTE, 1))^p, p = 0.30 if DTE < 30 else 0.13
 *   vol up = v + max(v, 0.5) x up x f (BTC up 0.5, ETH 0.4), down = v (1 - 0.25 f)
 *   inverse option coin value = Black76(F, K, v, T) / F; inverse future coin PnL = N (1/F - 1/F')
 *   extended moves -66%..+500%, vol up, futures at the +-range edge, weight range / |move|,
 *   dampener D USD / index toward 0; pair gains count x pnl_offset across pairs (usd, btc: 0)
 *   roll = sum |size coin| max(amr T, min amr); delta shock = 0.1 (|delta USD| - 2e7)^+ / unit
 *   IM = worst + roll + delta shock, MM = 0.8 IM.
 * Then fast-check properties on seeded random books: margins >= 0; PM <= the worst full-matrix
 * loss (no offsets, no weights, no dampener) plus roll and delta shocks; closing any fraction of
 * every position never increases PM.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { standardBookMargin } from "../../../src/core/margin/book.js";
import {
  DERIBIT_PORTFOLIO_MARGIN,
  pmShockedVol,
  portfolioMargin,
} from "../../../src/core/margin/portfolioMargin.js";
import type { RiskMarket } from "../../../src/core/risk/market.js";
import type { VolSurface } from "../../../src/core/surface/types.js";
import { DAY, fut, opt, T0 } from "../risk/fixtures.js";
import { black } from "./reference.js";

/** Against the reference written out in the test from Deribit's documented formulas (own Black-76 with erfc, own bumps and aggregation): two double implementations that round differently; 1e-9 relative is far above their ~1e-13 disagreement yet catches any rule change. */
const REF_REL = 1e-9;
/** Roll and delta shocks are closed forms on round inputs (size x rate): a few ulps. */
const CLOSED_FORM_REL = 1e-12;

/** Powers like 3^0.3 are written in the test to 10 decimals (1.3903891703): their rounding (5e-11) times <= 0.5 is under 9 digits. */
const PRINTED_POWER_DIGITS = 9;
/** At 30 days the power is exactly 1: 0.6 + 0.3 in double. */
const EXACT_SHOCK_DIGITS = 12;
/** Removing the dampener (100,000 USD = 1 BTC at S = 100,000) raises IM by exactly 1 BTC; left is rounding of the ~10 BTC figures around it. */
const DAMPENER_DIGITS = 9;

const Y = 365 * DAY;

// ---- the test market: own forwards at every expiry used, own smile ----
const E10 = T0 + 10 * DAY;
const E60 = T0 + 60 * DAY;
const S = { BTC: 100_000, ETH: 3_500 } as const;
const FWD = { BTC: { [E10]: 100_100, [E60]: 100_900 }, ETH: { [E10]: 3_503, [E60]: 3_530 } } as Record<
  string,
  Record<number, number>
>;
const iv = (k: number, T: number) => 0.42 - 0.15 * k + 0.4 * k * k + 0.03 * Math.sqrt(T);
const smile: VolSurface = { model: "test", impliedVol: iv, totalVariance: (k, T) => iv(k, T) ** 2 * T };
const mkt: RiskMarket = {
  valuationTime: T0,
  underlyings: {
    BTC: {
      indexPrice: S.BTC,
      forwards: [E10, E60].map((e) => ({ expiry: e, forward: FWD.BTC![e]! })),
      surface: smile,
    },
    ETH: {
      indexPrice: S.ETH,
      forwards: [E10, E60].map((e) => ({ expiry: e, forward: FWD.ETH![e]! })),
      surface: smile,
    },
  },
};
const PAIR = {
  BTC: { range: 0.16, up: 0.5, down: 0.25 },
  ETH: { range: 0.18, up: 0.4, down: 0.25 },
} as const;
const CCY = {
  BTC: { amr: 0.075, minAmr: 0.01, dampUsd: 100_000, offset: 0 },
  ETH: { amr: 0.05, minAmr: 0.005, dampUsd: 200_000, offset: 0.6 },
  USDC: { amr: 0.1, minAmr: 0.01, dampUsd: 25_000, offset: 0 },
} as const satisfies Record<string, { amr: number; minAmr: number; dampUsd: number; offset: number }>;
const EXT = [-0.66, -0.33, 0.5, 1, 2, 3, 4, 5];

type Vol = "up" | "same" | "down";
function shocked(v: number, T: number, vol: Vol, u: "BTC" | "ETH"): number {
  const dte = Math.max(T * 365, 1);
  const f = (30 / dte) ** (dte < 30 ? 0.3 : 0.13);
  if (vol === "up") return v + Math.max(v, 0.5) * PAIR[u].up * f;
  if (vol === "down") return v * (1 - PAIR[u].down * f);
  return v;
}

/** Reference leg: PnL in its settlement currency at relative move s with the vol scenario. */
interface RefLeg {
  cur: "BTC" | "ETH" | "USDC";
  u: "BTC" | "ETH";
  future: boolean;
  pnl: (s: number, vol: Vol) => number;
  /** Roll shock in the currency (futures). */
  roll: number;
}
function refOption(
  u: "BTC" | "ETH",
  K: number,
  E: number,
  call: boolean,
  qty: number,
  linear: boolean,
): RefLeg {
  const F = FWD[u]![E]!;
  const T = (E - T0) / Y;
  const v = iv(Math.log(K / F), T);
  const size = linear ? qty * (u === "BTC" ? 0.01 : 0.1) : qty;
  const value = (F1: number, v1: number) => {
    const b = black(F1, K, v1, T, call);
    return linear ? b : b / F1;
  };
  const v0 = value(F, v);
  return {
    cur: linear ? "USDC" : u,
    u,
    future: false,
    roll: 0,
    pnl: (s, vol) => size * (value(F * (1 + s), shocked(v, T, vol, u)) - v0),
  };
}
function refInverseFuture(u: "BTC" | "ETH", E: number | null, usd: number): RefLeg {
  const F = E === null ? S[u] : FWD[u]![E]!;
  const T = E === null ? 0 : (E - T0) / Y;
  const c = CCY[u];
  return {
    cur: u,
    u,
    future: true,
    roll: (Math.abs(usd) / F) * Math.max(c.amr * T, c.minAmr),
    pnl: (s) => usd * (1 / F - 1 / (F * (1 + s))),
  };
}

/** Reference IM of one currency (no delta shock: the books here hold far less than $20M delta). */
function refInitial(
  legs: readonly RefLeg[],
  cur: "BTC" | "ETH" | "USDC",
  offset = CCY[cur].offset as number,
  capUsd = 0,
) {
  const mine = legs.filter((l) => l.cur === cur);
  const us = [...new Set(mine.map((l) => l.u))];
  const unit = cur === "USDC" ? 1 : S[cur];
  const agg = (xs: number[]) => {
    const loss = xs.filter((x) => x < 0).reduce((a, b) => a + b, 0);
    const gain = xs.filter((x) => x > 0).reduce((a, b) => a + b, 0);
    return loss + Math.min(offset * gain, capUsd / unit);
  };
  let worst = 0;
  for (let b = -4; b <= 4; b++)
    for (const vol of ["up", "same", "down"] as Vol[]) {
      const x = us.map((u) =>
        mine.filter((l) => l.u === u).reduce((a, l) => a + l.pnl((PAIR[u].range * b) / 4, vol), 0),
      );
      worst = Math.max(worst, -agg(x));
    }
  const damp = CCY[cur].dampUsd / unit;
  for (const m of EXT) {
    const x = us.map((u) => {
      const r = PAIR[u].range;
      const edge = Math.max(-r, Math.min(r, m));
      const raw = mine.filter((l) => l.u === u).reduce((a, l) => a + l.pnl(l.future ? edge : m, "up"), 0);
      return raw * Math.min(1, r / Math.abs(m));
    });
    const a = agg(x);
    worst = Math.max(worst, -(a < 0 ? Math.min(0, a + damp) : Math.max(0, a - damp)));
  }
  const roll = mine.reduce((a, l) => a + l.roll, 0);
  return { worst, roll, initial: worst + roll };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe("portfolio margin vs the documented formulas, written out independently", () => {
  it("BTC options and futures: vega power both sides of 30 DTE, min vol for the up shock, roll shock", () => {
    const book: Position[] = [
      { instrument: opt({ strike: 110_000, kind: "call", expiry: E10 }), quantity: -3 },
      { instrument: opt({ strike: 90_000, kind: "put", expiry: E60 }), quantity: 2 },
      { instrument: opt({ strike: 95_000, kind: "put", expiry: E10 }), quantity: -1 },
      { instrument: fut({ contractSize: 1 }), quantity: 50_000 },
      { instrument: fut({ expiry: E60, contractSize: 1 }), quantity: -20_000 },
    ];
    const legs = [
      refOption("BTC", 110_000, E10, true, -3, false),
      refOption("BTC", 90_000, E60, false, 2, false),
      refOption("BTC", 95_000, E10, false, -1, false),
      refInverseFuture("BTC", null, 50_000),
      refInverseFuture("BTC", E60, -20_000),
    ];
    const want = refInitial(legs, "BTC");
    const got = portfolioMargin(book, mkt).byCurrency.BTC!;
    expect(rel(got.risk, want.worst)).toBeLessThan(REF_REL);
    expect(rel(got.rollShock, want.roll)).toBeLessThan(CLOSED_FORM_REL);
    expect(rel(got.initial, want.initial)).toBeLessThan(REF_REL);
    expect(rel(got.maintenance, 0.8 * want.initial)).toBeLessThan(REF_REL);
    expect(got.deltaShock).toBe(0);
  });
  it("far-OTM short puts: the extended table (weight range/|move|, dampener 100,000 USD) sets the margin", () => {
    const book: Position[] = [
      { instrument: opt({ strike: 60_000, kind: "put", expiry: E60 }), quantity: -200 },
      { instrument: fut({ contractSize: 1 }), quantity: -1_000_000 },
    ];
    const legs = [
      refOption("BTC", 60_000, E60, false, -200, false),
      refInverseFuture("BTC", null, -1_000_000),
    ];
    const want = refInitial(legs, "BTC");
    const got = portfolioMargin(book, mkt).byCurrency.BTC!;
    expect(got.worstCase?.source).toBe("extended");
    expect(got.worstScenario).toBe("extended spot -66.0% vol up");
    expect(rel(got.initial, want.initial)).toBeLessThan(REF_REL);
    // Without the dampener the margin would be 1 BTC (100,000 USD at the index) higher.
    const undamped = portfolioMargin(book, mkt, {
      ...DERIBIT_PORTFOLIO_MARGIN,
      currencies: {
        ...DERIBIT_PORTFOLIO_MARGIN.currencies,
        BTC: { ...DERIBIT_PORTFOLIO_MARGIN.currencies.BTC!, extendedDampenerUsd: 0 },
      },
    }).byCurrency.BTC!;
    expect(undamped.initial - got.initial).toBeCloseTo(1, DAMPENER_DIGITS);
  });
  it("ETH account: its own price range (18%), vol range up (0.4), dampener and roll floor", () => {
    const book: Position[] = [
      { instrument: opt({ strike: 3_000, kind: "put", expiry: E10, underlying: "ETH" }), quantity: -40 },
      { instrument: opt({ strike: 4_000, kind: "call", expiry: E60, underlying: "ETH" }), quantity: 25 },
      { instrument: fut({ underlying: "ETH", contractSize: 1 }), quantity: 70_000 },
    ];
    const legs = [
      refOption("ETH", 3_000, E10, false, -40, false),
      refOption("ETH", 4_000, E60, true, 25, false),
      refInverseFuture("ETH", null, 70_000),
    ];
    const want = refInitial(legs, "ETH");
    const got = portfolioMargin(book, mkt).byCurrency.ETH!;
    expect(rel(got.initial, want.initial)).toBeLessThan(REF_REL);
    expect(rel(got.rollShock, (70_000 / 3_500) * 0.005)).toBeLessThan(CLOSED_FORM_REL);
  });
  it("USDC account: BTC and ETH legs on their own ranges; gains of one pair offset nothing (pnl_offset 0)", () => {
    const book: Position[] = [
      {
        instrument: opt({ strike: 100_000, kind: "call", expiry: E60, settlement: "linear" }),
        quantity: 300,
      },
      {
        instrument: opt({
          strike: 3_600,
          kind: "call",
          expiry: E60,
          underlying: "ETH",
          settlement: "linear",
        }),
        quantity: -250,
      },
      { instrument: opt({ strike: 95_000, kind: "put", expiry: E10, settlement: "linear" }), quantity: -100 },
    ];
    const legs = [
      refOption("BTC", 100_000, E60, true, 300, true),
      refOption("ETH", 3_600, E60, true, -250, true),
      refOption("BTC", 95_000, E10, false, -100, true),
    ];
    const got = portfolioMargin(book, mkt).byCurrency.USDC!;
    const want = refInitial(legs, "USDC");
    expect(rel(got.initial, want.initial)).toBeLessThan(REF_REL);
    // With the live 2026 usd values (pnl_offset 0.4, max_offsetable_pnl 1,000,000) gains offset 40%.
    const p = {
      ...DERIBIT_PORTFOLIO_MARGIN,
      currencies: {
        ...DERIBIT_PORTFOLIO_MARGIN.currencies,
        USDC: {
          ...DERIBIT_PORTFOLIO_MARGIN.currencies.USDC!,
          pnlOffset: 0.4,
          maxOffsetablePnlUsd: 1_000_000,
        },
      },
    };
    const offset = portfolioMargin(book, mkt, p).byCurrency.USDC!;
    const wantOffset = refInitial(legs, "USDC", 0.4, 1_000_000);
    expect(rel(offset.initial, wantOffset.initial)).toBeLessThan(REF_REL);
    expect(offset.initial).toBeLessThanOrEqual(got.initial);
  });
  it("delta shock: 10% of the delta above $20M, in coin", () => {
    // 300M USD long perpetual: delta 3000 BTC = $300M; shock 0.1 x 280M / 100,000 = 280 BTC.
    const book: Position[] = [{ instrument: fut({ contractSize: 1 }), quantity: 300_000_000 }];
    const got = portfolioMargin(book, mkt).byCurrency.BTC!;
    expect(rel(got.deltaShock, 280)).toBeLessThan(CLOSED_FORM_REL);
    const worst = 3000 * (1 / 0.84 - 1);
    expect(rel(got.initial, worst + 3000 * 0.01 + 280)).toBeLessThan(CLOSED_FORM_REL);
  });
});

// ---- properties ----
const EXPIRIES = [E10, T0 + 30 * DAY, E60];
const legArb: fc.Arbitrary<Leg> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("call" as const, "put" as const),
    strike: fc.integer({ min: 50, max: 160 }).map((x) => x * 1000),
    e: fc.integer({ min: 0, max: 2 }),
    qty: fc.integer({ min: -20, max: 20 }).filter((q) => q !== 0),
    linear: fc.boolean(),
  }),
  fc.record({
    perp: fc.boolean(),
    usd: fc.integer({ min: -2_000_000, max: 2_000_000 }).filter((q) => q !== 0),
  }),
);
type Leg =
  | { kind: "call" | "put"; strike: number; e: number; qty: number; linear: boolean }
  | { perp: boolean; usd: number };
function toPosition(l: Leg): Position {
  if ("kind" in l)
    return {
      instrument: opt({
        strike: l.strike,
        kind: l.kind,
        expiry: EXPIRIES[l.e]!,
        settlement: l.linear ? "linear" : "inverse",
      }),
      quantity: l.linear ? l.qty * 100 : l.qty,
    };
  return { instrument: fut({ contractSize: 1, ...(l.perp ? {} : { expiry: E60 }) }), quantity: l.usd };
}
const bookArb = fc.array(legArb, { minLength: 1, maxLength: 5 }).map((ls) => ls.map(toPosition));

describe("portfolio margin properties (fast-check, seeded)", () => {
  it("margins are >= 0, and PM <= worst full-matrix loss + roll + delta shocks", () => {
    fc.assert(
      fc.property(bookArb, (book) => {
        const pm = portfolioMargin(book, mkt);
        const sm = standardBookMargin(book, mkt);
        for (const [cur, m] of Object.entries(pm.byCurrency)) {
          expect(m.initial).toBeGreaterThanOrEqual(0);
          expect(m.maintenance).toBeGreaterThanOrEqual(0);
          // Full matrix with no offsets, weights or dampener: each pair's loss counted whole.
          const pairs = Object.values(m.pairs);
          let full = 0;
          for (let j = 0; j < pairs[0]!.standard.length; j++)
            full = Math.max(
              full,
              pairs.reduce((a, p) => a + Math.max(0, -p.standard[j]!), 0),
            );
          for (let k = 0; k < pairs[0]!.extended.length; k++)
            full = Math.max(
              full,
              pairs.reduce((a, p) => a + Math.max(0, -p.extended[k]!), 0),
            );
          expect(m.initial).toBeLessThanOrEqual(full + m.rollShock + m.deltaShock + 1e-9 * (1 + full));
          expect(sm.byCurrency[cur]?.initial ?? 0).toBeGreaterThanOrEqual(0);
        }
      }),
      { seed: 20, numRuns: 40 },
    );
  });
  it("closing a fraction of every position (the book's own hedge) never increases PM", () => {
    fc.assert(
      fc.property(bookArb, fc.double({ min: 0.05, max: 1, noNaN: true }), (book, lambda) => {
        const before = portfolioMargin(book, mkt);
        const hedged = [...book, ...book.map((p) => ({ ...p, quantity: -lambda * p.quantity }))];
        const after = portfolioMargin(hedged, mkt);
        for (const [cur, m] of Object.entries(before.byCurrency))
          expect(after.byCurrency[cur]!.initial).toBeLessThanOrEqual(m.initial * (1 + 1e-9) + 1e-12);
      }),
      { seed: 21, numRuns: 30 },
    );
  });
});

describe("vol shocks by hand", () => {
  it("(30/DTE)^0.30 below 30 days, ^0.13 from 30; the up shock sized on max(IV, 0.5)", () => {
    const btc = DERIBIT_PORTFOLIO_MARGIN.pairs.BTC!;
    const p = DERIBIT_PORTFOLIO_MARGIN;
    // 10 days, IV 30%: f = 3^0.3 = 1.3903891703; up = 0.30 + 0.5 x 0.5 x f; down = 0.30 (1 - 0.25 f)
    expect(pmShockedVol(0.3, 10 / 365, "up", btc, p)).toBeCloseTo(
      0.3 + 0.25 * 1.3903891703,
      PRINTED_POWER_DIGITS,
    );
    expect(pmShockedVol(0.3, 10 / 365, "down", btc, p)).toBeCloseTo(
      0.3 * (1 - 0.25 * 1.3903891703),
      PRINTED_POWER_DIGITS,
    );
    // 60 days, IV 80%: f = 0.5^0.13 = 0.9138314502; up = 0.8 + 0.8 x 0.5 x f
    expect(pmShockedVol(0.8, 60 / 365, "up", btc, p)).toBeCloseTo(
      0.8 + 0.4 * 0.9138314502,
      PRINTED_POWER_DIGITS,
    );
    // 30 days: f = 1 with either power; half a day is floored at 1 day: f = 30^0.3 = 2.7741911147
    expect(pmShockedVol(0.6, 30 / 365, "up", btc, p)).toBeCloseTo(0.9, EXACT_SHOCK_DIGITS);
    expect(pmShockedVol(0.6, 0.5 / 365, "up", btc, p)).toBeCloseTo(
      0.6 + 0.3 * 2.7741911147,
      PRINTED_POWER_DIGITS,
    );
    expect(pmShockedVol(0.6, 0.5 / 365, "same", btc, p)).toBe(0.6);
  });
});
