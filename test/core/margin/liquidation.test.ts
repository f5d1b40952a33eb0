/**
 * liquidationByRevaluation against an independent bump-and-revalue loop written here: the bumped
 * market is built by hand (index and forwards x (1 + x); sticky-strike: an option keeps the vol
 * of its strike, iv(ln(K/F)); sticky-moneyness: iv(ln(K/F')); vol bump: iv + x), every leg and
 * the coin cash are revalued with this file's own Black-76 (reference.ts; inverse option coin
 * value = Black(F') / F', linear = size x Black, inverse perpetual coin value = m (1/E - 1/S')),
 * the maintenance margin is recomputed by the margin engine on that hand-built market (the figure
 * Deribit liquidates on, by definition), and the first crossing is found by a fine scan (0.1%
 * spot, 0.5 vol points): no code of liquidation.ts, account.ts or valuation.ts is on this path.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePortfolioJson } from "../../../src/adapters/portfolioFile.js";
import type { Position } from "../../../src/core/instruments/types.js";
import { liquidationByRevaluation } from "../../../src/core/margin/liquidation.js";
import { portfolioMargin } from "../../../src/core/margin/portfolioMargin.js";
import type { RiskMarket } from "../../../src/core/risk/market.js";
import type { VolSurface } from "../../../src/core/surface/types.js";
import { DAY, fut, opt, T0 } from "../risk/fixtures.js";
import { black } from "./reference.js";

/** Base surplus vs the hand revaluation: the same Black-76 values and margin summed in another order; BTC figures ~1 coin (ulp 2e-16). */
const SURPLUS_COIN_DIGITS = 9;
/** USDC and pooled USD surpluses are ~1e4-1e5: the same relative rounding is 1e3-1e4 times larger in absolute terms. */
const SURPLUS_USDC_DIGITS = 6;
const SURPLUS_POOLED_DIGITS = 5;

const E60 = T0 + 60 * DAY;
const T = 60 / 365;
const S0 = 100_000;
const F0 = 100_900;
const iv = (k: number, t: number) => 0.5 - 0.1 * k + 0.3 * k * k + 0.02 * Math.sqrt(t);
const surface = (f: (k: number, t: number) => number): VolSurface => ({
  model: "test",
  impliedVol: f,
  totalVariance: (k, t) => f(k, t) ** 2 * t,
});
const base: RiskMarket = {
  valuationTime: T0,
  underlyings: { BTC: { indexPrice: S0, forwards: [{ expiry: E60, forward: F0 }], surface: surface(iv) } },
};

type Bump = { kind: "strike" | "moneyness" | "vol"; x: number };
function bumped(b: Bump): RiskMarket {
  const f = b.kind === "vol" ? 1 : 1 + b.x;
  const vol =
    b.kind === "strike"
      ? (k: number, t: number) => iv(k + Math.log(f), t)
      : b.kind === "vol"
        ? (k: number, t: number) => iv(k, t) + b.x
        : iv;
  return {
    valuationTime: T0,
    underlyings: {
      BTC: { indexPrice: S0 * f, forwards: [{ expiry: E60, forward: F0 * f }], surface: surface(vol) },
    },
  };
}

/** A leg of the hand-built books: options on E60 and inverse/linear perpetuals. */
interface Leg {
  kind: "call" | "put" | "perp";
  strike: number;
  qty: number;
  linear: boolean;
}
function position(l: Leg): Position {
  if (l.kind === "perp")
    return {
      instrument: fut(l.linear ? { settlement: "linear", contractSize: 0.001 } : { contractSize: 1 }),
      quantity: l.qty,
      entryPrice: S0,
    };
  return {
    instrument: opt({
      strike: l.strike,
      kind: l.kind,
      expiry: E60,
      settlement: l.linear ? "linear" : "inverse",
    }),
    quantity: l.qty,
  };
}
/** Value of a leg in its settlement currency on bump b, by hand. */
function legValue(l: Leg, b: Bump): number {
  const f = b.kind === "vol" ? 1 : 1 + b.x;
  const S = S0 * f;
  if (l.kind === "perp") return l.linear ? l.qty * 0.001 * (S - S0) : l.qty * (1 / S0 - 1 / S);
  const F = F0 * f;
  const v0 = iv(Math.log(l.strike / F0), T);
  const v = b.kind === "strike" ? v0 : b.kind === "vol" ? v0 + b.x : iv(Math.log(l.strike / F), T);
  const B = black(F, l.strike, v, T, l.kind === "call");
  return l.linear ? l.qty * 0.01 * B : (l.qty * B) / F;
}
/** Surplus (equity - maintenance) per account and pooled (USD) on bump b. */
function refSurplus(legs: readonly Leg[], cash: Record<string, number>, b: Bump): Record<string, number> {
  const f = b.kind === "vol" ? 1 : 1 + b.x;
  const eq: Record<string, number> = { ...cash };
  for (const l of legs) {
    const c = l.linear ? "USDC" : "BTC";
    eq[c] = (eq[c] ?? 0) + legValue(l, b);
  }
  const pm = portfolioMargin(legs.map(position), bumped(b)).byCurrency;
  const out: Record<string, number> = {};
  let pooled = 0;
  for (const [c, e] of Object.entries(eq)) {
    out[c] = e - (pm[c]?.maintenance ?? 0);
    pooled += (c === "BTC" ? S0 * f : 1) * (out[c] as number);
  }
  out.pooled = pooled;
  return out;
}
/** First bump (scanning from 0 in `step`) where the account's surplus < 0, or null. */
function refCrossing(
  legs: readonly Leg[],
  cash: Record<string, number>,
  kind: Bump["kind"],
  step: number,
  end: number,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const keys = [...Object.keys(refSurplus(legs, cash, { kind, x: 0 }))];
  for (const k of keys) out[k] = null;
  for (let i = 1; Math.abs(i * step) <= Math.abs(end) + 1e-12; i++) {
    const s = refSurplus(legs, cash, { kind, x: i * step });
    for (const k of keys) if (out[k] === null && (s[k] as number) < 0) out[k] = i * step;
    if (keys.every((k) => out[k] !== null)) break;
  }
  return out;
}

const BOOK: Leg[] = [
  { kind: "put", strike: 95_000, qty: -10, linear: false },
  { kind: "call", strike: 120_000, qty: -4, linear: false },
  { kind: "perp", strike: 0, qty: -150_000, linear: false },
  { kind: "put", strike: 90_000, qty: -300, linear: true },
];
const CASH = { BTC: 6, USDC: 40_000 };

describe("distance to liquidation by full revaluation vs an independent bump-and-revalue loop", () => {
  const got = liquidationByRevaluation({ positions: BOOK.map(position), cash: CASH, market: base });
  it("spot down, sticky-strike and sticky-moneyness, per account and pooled", () => {
    for (const [kind, dyn] of [
      ["strike", "sticky-strike"],
      ["moneyness", "sticky-moneyness"],
    ] as const) {
      const want = refCrossing(BOOK, CASH, kind, -0.001, -0.99);
      for (const a of ["BTC", "USDC", "pooled"]) {
        const d = a === "pooled" ? got.pooled : got.byCurrency[a]!;
        const w = want[a]!;
        if (w === null) expect(d.spot[dyn].down, `${a} ${dyn}`).toBeNull();
        else {
          // The reference's first scanned point below maintenance lies within one 0.1% step
          // beyond the bisected crossing.
          expect(d.spot[dyn].down, `${a} ${dyn}`).not.toBeNull();
          expect(d.spot[dyn].down! - w, `${a} ${dyn}`).toBeGreaterThanOrEqual(-1e-6);
          expect(d.spot[dyn].down! - w, `${a} ${dyn}`).toBeLessThan(0.001 + 1e-6);
        }
      }
    }
    // This book starts above maintenance and is liquidated on the way down in every account.
    for (const a of [got.byCurrency.BTC!, got.byCurrency.USDC!, got.pooled]) {
      expect(a.alreadyBelowMaintenance).toBe(false);
      expect(a.spot["sticky-strike"].down).toBeLessThan(0);
    }
  });
  it("vol up per account", () => {
    const want = refCrossing(BOOK, CASH, "vol", 0.005, 3);
    for (const a of ["BTC", "USDC", "pooled"]) {
      const d = a === "pooled" ? got.pooled : got.byCurrency[a]!;
      const w = want[a]!;
      if (w === null) expect(d.volUp).toBeNull();
      else {
        expect(d.volUp! - w).toBeLessThan(1e-6);
        expect(d.volUp! - w).toBeGreaterThan(-0.005 - 1e-6);
      }
    }
  });
  it("the base figures: equity revalues coin cash, maintenance is the engine's", () => {
    const s = refSurplus(BOOK, CASH, { kind: "strike", x: 0 });
    expect(got.byCurrency.BTC!.buffer).toBeCloseTo(s.BTC!, SURPLUS_COIN_DIGITS);
    expect(got.byCurrency.USDC!.buffer).toBeCloseTo(s.USDC!, SURPLUS_USDC_DIGITS);
    expect(got.pooled.buffer).toBeCloseTo(s.pooled!, SURPLUS_POOLED_DIGITS);
    expect(got.pooled.alreadyBelowMaintenance).toBe(false);
  });
  it("an account already below maintenance reports it, with distance 0", () => {
    const r = liquidationByRevaluation({
      positions: BOOK.map(position),
      cash: { BTC: 0.1, USDC: 40_000 },
      market: base,
      dynamics: ["sticky-strike"],
    });
    expect(r.byCurrency.BTC!.alreadyBelowMaintenance).toBe(true);
    expect(r.byCurrency.BTC!.spot["sticky-strike"]).toEqual({ down: 0, up: 0 });
    expect(r.byCurrency.BTC!.volUp).toBe(0);
  });
});

describe("seeded random books (fast-check)", () => {
  const legArb: fc.Arbitrary<Leg> = fc
    .record({
      kind: fc.constantFrom("call" as const, "put" as const, "perp" as const),
      strike: fc.integer({ min: 70, max: 140 }).map((x) => x * 1000),
      qty: fc.integer({ min: -8, max: 4 }).filter((q) => q !== 0),
      linear: fc.boolean(),
    })
    .map((l) => ({
      ...l,
      // Linear options trade in 0.01 BTC, perpetuals in USD (inverse) or 0.001 BTC (linear).
      qty: l.kind === "perp" ? l.qty * (l.linear ? 1000 : 50_000) : l.linear ? l.qty * 100 : l.qty,
    }));
  it("spot-down distances agree with the reference loop; segregated distances bound the pooled one", () => {
    let crossed = 0;
    fc.assert(
      fc.property(
        fc.array(legArb, { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0.5, max: 6, noNaN: true }),
        fc.double({ min: 5_000, max: 80_000, noNaN: true }),
        (legs, btcCash, usdcCash) => {
          const cash = { BTC: btcCash, USDC: usdcCash };
          const r = liquidationByRevaluation({
            positions: legs.map(position),
            cash,
            market: base,
            dynamics: ["sticky-strike"],
          });
          const want = refCrossing(legs, cash, "strike", -0.005, -0.99);
          const seg: number[] = [];
          for (const a of Object.keys(r.byCurrency)) {
            const got = r.byCurrency[a]!.spot["sticky-strike"].down;
            const w = want[a] ?? null;
            if (w === null) expect(got).toBeNull();
            else {
              expect(got).not.toBeNull();
              expect(got! - w).toBeGreaterThanOrEqual(-1e-6);
              expect(got! - w).toBeLessThan(0.005 + 1e-6);
              seg.push(got!);
            }
          }
          const pooled = r.pooled.spot["sticky-strike"].down;
          // Pooled surplus is the USD sum of the accounts' surpluses: it cannot go negative
          // before some account does, nor at all if none does.
          if (seg.length === 0) expect(pooled).toBeNull();
          else crossed++;
          if (pooled !== null) expect(-pooled).toBeGreaterThanOrEqual(Math.min(...seg.map((x) => -x)) - 1e-6);
        },
      ),
      { seed: 42, numRuns: 6 },
    );
    expect(crossed).toBeGreaterThan(0); // the seeded books do reach liquidation
  });
});

describe("the example book (examples/book.json): cash in BTC, ETH and USDC", () => {
  const pf = parsePortfolioJson(readFileSync(resolve(__dirname, "../../../examples/book.json"), "utf8"));
  const mkt = pf.market as RiskMarket;
  const cash = pf.cash ?? {};
  /** Sticky-strike spot bump of every underlying by x, by hand. */
  const bumpAll = (x: number): RiskMarket => {
    const underlyings: Record<string, RiskMarket["underlyings"][string]> = {};
    for (const [u, m] of Object.entries(mkt.underlyings))
      underlyings[u] = {
        indexPrice: m.indexPrice * (1 + x),
        forwards: m.forwards.map((f) => ({ expiry: f.expiry, forward: f.forward * (1 + x) })),
        surface: surface((k, t) => m.surface.impliedVol(k + Math.log(1 + x), t)),
      };
    return { valuationTime: mkt.valuationTime, underlyings };
  };
  /** Equity per currency on the bump, by hand (every dated leg's expiry is a listed forward). */
  const equity = (x: number): Record<string, number> => {
    const eq: Record<string, number> = { ...cash };
    for (const p of pf.positions) {
      const ins = p.instrument;
      const m = mkt.underlyings[ins.underlying]!;
      const cur = ins.settlement === "inverse" ? ins.underlying : "USDC";
      const size = p.quantity * ins.contractSize;
      let v: number;
      if (ins.type === "option") {
        const F0x = m.forwards.find((f) => f.expiry === ins.expiry)!.forward;
        const F = F0x * (1 + x);
        const t = (ins.expiry - mkt.valuationTime) / (365 * DAY);
        const B = black(
          F,
          ins.strike,
          m.surface.impliedVol(Math.log(ins.strike / F0x), t),
          t,
          ins.kind === "call",
        );
        v = ins.settlement === "inverse" ? (size * B) / F : size * B;
      } else {
        const F0x =
          ins.expiry === null ? m.indexPrice : m.forwards.find((f) => f.expiry === ins.expiry)!.forward;
        const F = F0x * (1 + x);
        const E = p.entryPrice ?? F0x;
        v = ins.settlement === "inverse" ? size * (1 / E - 1 / F) : size * (F - E);
      }
      eq[cur] = (eq[cur] ?? 0) + v;
    }
    return eq;
  };
  it("spot-down distances per account and pooled agree with the hand revaluation (0.5% scan)", () => {
    const r = liquidationByRevaluation({
      positions: pf.positions,
      cash,
      market: mkt,
      dynamics: ["sticky-strike"],
    });
    const first: Record<string, number | null> = {};
    const keys = [...Object.keys(r.byCurrency), "pooled"];
    for (const k of keys) first[k] = null;
    for (let i = 1; i <= 198 && keys.some((k) => first[k] === null); i++) {
      const x = -0.005 * i;
      const b = bumpAll(x);
      const eq = equity(x);
      const mm = portfolioMargin(pf.positions, b).byCurrency;
      let pooled = 0;
      for (const c of Object.keys(r.byCurrency)) {
        const s = eq[c]! - (mm[c]?.maintenance ?? 0);
        pooled += (c === "USDC" || c === "USD" ? 1 : b.underlyings[c]!.indexPrice) * s;
        if (first[c] === null && s < 0) first[c] = x;
      }
      if (first.pooled === null && pooled < 0) first.pooled = x;
    }
    for (const k of keys) {
      const got = (k === "pooled" ? r.pooled : r.byCurrency[k]!).spot["sticky-strike"].down;
      const w = first[k]!;
      if (w === null) expect(got, k).toBeNull();
      else {
        expect(got! - w, k).toBeGreaterThanOrEqual(-1e-6);
        expect(got! - w, k).toBeLessThan(0.005 + 1e-6);
      }
    }
    // The USDC account (short puts on 40,000 USDC of cash) goes first; pooled needs a crash.
    expect(r.byCurrency.USDC!.spot["sticky-strike"].down).toBeGreaterThan(
      r.pooled.spot["sticky-strike"].down!,
    );
  });
});
