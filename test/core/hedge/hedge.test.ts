import { describe, expect, it } from "vitest";
import { whalleyWilmottHalfWidth, zakamoulineHalfWidth } from "../../../src/core/hedge/bands.js";
import { DEFAULT_COSTS, hedgeFill, optionFeeUsd, resolveCostModel } from "../../../src/core/hedge/costs.js";
import { type HedgeState, hedgeTrade, validateHedgePolicy } from "../../../src/core/hedge/policies.js";
import { simulateHedgedOption } from "../../../src/core/hedge/simulate.js";
import { simulateGbm } from "../../../src/core/backtest/paths/gbm.js";
import { createRng } from "../../../src/core/math/rng.js";
import { mean, stdev } from "../../../src/core/math/stats.js";
import { blackGreeks } from "../../../src/core/pricing/black76.js";

/** Band widths are powers and products of exact-ish decimals, each operation rounded once (1.1e-16): 1e-14 relative leaves ~50x room (the bare 12 digits allowed ~1e-11 relative on 0.07). */
const POWER_REL = 1e-14;
/** A trade that is one subtraction of two inexact decimals (e.g. 0.25 - 0.1): within 2 ulp of the result. */
const SUBTRACTION_DIGITS = 15;
/** h - 2 with h ~ 0.1 recomputed identically: one rounding of a number near 2 (ulp 4.4e-16). */
const NEAR_TWO_DIGITS = 14;
/** Fees and fills are two or three products of decimals (rate x notional, mark x (1 + bps)), each rounded once: 1e-14 relative (the bare 9-10 digits allowed 1e-13 on 10,000). */
const COST_REL = 1e-14;
/** Monte Carlo mean of 1,500 hedged P&Ls: zero within 4 standard errors (fails by chance ~6e-5; seeded). */
const MC_MEAN_SIGMAS = 4;
/** Sample sd over 1,500 paths has ~1.8% relative standard error; Derman-Kamal's formula is leading order in 1/N (N = 100): +-10% is ~5 standard errors. */
const DK_SD_BAND = 0.1;
const rel = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);

const state = (o: Partial<HedgeState>): HedgeState => ({
  now: 0,
  lastHedgeTime: Number.NEGATIVE_INFINITY,
  netDelta: 0,
  gamma: 1e-5,
  spot: 50_000,
  vol: 0.6,
  timeToExpiry: 0.1,
  costRate: 0.0006,
  ...o,
});

describe("no-trade bands", () => {
  it("Whalley-Wilmott matches the formula by hand and scales as cost^(1/3), gamma^(2/3)", () => {
    // (3 * 0.001 * 50000 * (2e-5)^2 / (2 * 1e-4))^(1/3) = (6e-8 / 2e-4)^(1/3) = (3e-4)^(1/3)
    const h = whalleyWilmottHalfWidth({ costRate: 0.001, riskAversion: 1e-4, spot: 50_000, gamma: 2e-5 });
    expect(rel(h, 3e-4 ** (1 / 3))).toBeLessThanOrEqual(POWER_REL);
    const h8 = whalleyWilmottHalfWidth({ costRate: 0.008, riskAversion: 1e-4, spot: 50_000, gamma: 2e-5 });
    expect(rel(h8 / h, 2)).toBeLessThanOrEqual(POWER_REL);
    const g8 = whalleyWilmottHalfWidth({ costRate: 0.001, riskAversion: 1e-4, spot: 50_000, gamma: 16e-5 });
    expect(rel(g8 / h, 4)).toBeLessThanOrEqual(POWER_REL);
    expect(whalleyWilmottHalfWidth({ costRate: 0, riskAversion: 1e-4, spot: 50_000, gamma: 2e-5 })).toBe(0);
  });
  it("Zakamouline H0 + H1 matches the formula by hand", () => {
    const o = {
      costRate: 0.001,
      riskAversion: 1e-4,
      spot: 50_000,
      gamma: 2e-5,
      vol: 0.5,
      timeToExpiry: 0.25,
    };
    const h0 = 0.001 / (1e-4 * 50_000 * 0.25 * 0.25);
    const h1 = 1.12 * 0.001 ** 0.31 * 0.25 ** 0.05 * (1 / 0.5) ** 0.25 * Math.sqrt(2e-5 / 1e-4);
    expect(rel(zakamoulineHalfWidth(o), h0 + h1)).toBeLessThanOrEqual(POWER_REL);
    expect(() => zakamoulineHalfWidth({ ...o, riskAversion: 0 })).toThrow(/riskAversion/);
  });
});

describe("hedge policies", () => {
  it("none never trades; interval trades to neutral once the interval has passed", () => {
    expect(hedgeTrade({ policy: "none" }, state({ netDelta: 5 }))).toBe(0);
    const p = { policy: "interval", intervalHours: 4 } as const;
    expect(hedgeTrade(p, state({ netDelta: 0.3, now: 3 * 3_600_000, lastHedgeTime: 0 }))).toBe(0);
    expect(hedgeTrade(p, state({ netDelta: 0.3, now: 4 * 3_600_000, lastHedgeTime: 0 }))).toBe(-0.3);
  });
  it("delta band re-hedges to centre or edge only outside the band", () => {
    expect(hedgeTrade({ policy: "delta-band", band: 0.1 }, state({ netDelta: 0.09 }))).toBe(0);
    expect(hedgeTrade({ policy: "delta-band", band: 0.1 }, state({ netDelta: 0.25 }))).toBe(-0.25);
    expect(
      hedgeTrade({ policy: "delta-band", band: 0.1, rehedgeTo: "edge" }, state({ netDelta: -0.25 })),
    ).toBeCloseTo(0.15, SUBTRACTION_DIGITS);
  });
  it("utility bands trade back to the band edge", () => {
    const s = state({ netDelta: 2 });
    const h = whalleyWilmottHalfWidth({ costRate: 0.0006, riskAversion: 1e-3, spot: 50_000, gamma: 1e-5 });
    expect(hedgeTrade({ policy: "whalley-wilmott", riskAversion: 1e-3 }, s)).toBeCloseTo(
      h - 2,
      NEAR_TWO_DIGITS,
    );
  });
  it("rejects bad parameters naming the field", () => {
    expect(() => validateHedgePolicy({ policy: "interval", intervalHours: 0 })).toThrow(/intervalHours/);
    expect(() => validateHedgePolicy({ policy: "delta-band", band: -1 })).toThrow(/band/);
  });
});

describe("costs", () => {
  it("option fee is min(rate * notional, cap * premium)", () => {
    const c = resolveCostModel();
    expect(
      rel(optionFeeUsd({ costs: c, quantity: -2, underlyingPrice: 50_000, premiumUsd: 1000 }), 30),
    ).toBeLessThanOrEqual(COST_REL);
    expect(
      rel(optionFeeUsd({ costs: c, quantity: 1, underlyingPrice: 50_000, premiumUsd: 20 }), 2.5),
    ).toBeLessThanOrEqual(COST_REL);
  });
  it("hedge fill crosses the spread and slips against the trader", () => {
    const costs = { ...DEFAULT_COSTS, hedgeHalfSpreadBps: 2, slippageBps: 3, hedgeFeeRate: 0.0005 };
    const buy = hedgeFill({ costs, quantity: 2, markUsd: 10_000 });
    expect(rel(buy.spreadUsd, 2 * 2)).toBeLessThanOrEqual(COST_REL);
    expect(rel(buy.priceUsd, 10_002 * 1.0003)).toBeLessThanOrEqual(COST_REL);
    expect(rel(buy.feeUsd, 0.0005 * buy.priceUsd * 2)).toBeLessThanOrEqual(COST_REL);
    const sell = hedgeFill({ costs, quantity: -2, markUsd: 10_000, bidUsd: 9_990, askUsd: 10_010 });
    expect(rel(sell.priceUsd, 9_990 * (1 - 0.0003))).toBeLessThanOrEqual(COST_REL);
    expect(() => resolveCostModel({ feeRate: -1 })).toThrow(/costs.feeRate/);
  });
});

describe("hedging study", () => {
  const zero = resolveCostModel({ feeRate: 0, hedgeFeeRate: 0, hedgeHalfSpreadBps: 0, slippageBps: 0 });
  it("discrete hedging error matches Derman & Kamal (1999): sd ~ sqrt(pi/4) vega sigma / sqrt(N)", () => {
    const rng = createRng(7);
    const N = 100;
    const T = 0.25;
    const vol = 0.6;
    const pnl: number[] = [];
    for (let i = 0; i < 1500; i++) {
      const p = simulateGbm({ spot: 50_000, horizon: T, steps: N, drift: 0, vol }, rng);
      const r = simulateHedgedOption({
        times: p.times,
        prices: p.prices,
        strike: 50_000,
        kind: "call",
        side: -1,
        vol,
        policy: { policy: "interval", intervalHours: 1e-6 },
        costs: zero,
      });
      pnl.push(r.pnlUsd);
    }
    const vega = blackGreeks({ forward: 50_000, strike: 50_000, expiry: T, vol, kind: "call" }).vega;
    const expected = (Math.sqrt(Math.PI / 4) * (vega * vol)) / Math.sqrt(N);
    expect(Math.abs(mean(pnl))).toBeLessThan((MC_MEAN_SIGMAS * expected) / Math.sqrt(1500));
    expect(stdev(pnl) / expected).toBeGreaterThan(1 - DK_SD_BAND);
    expect(stdev(pnl) / expected).toBeLessThan(1 + DK_SD_BAND);
  });
  it("with costs, a Whalley-Wilmott band pays less than hourly re-hedging", () => {
    const costs = resolveCostModel({ hedgeFeeRate: 0.0005, hedgeHalfSpreadBps: 2, slippageBps: 3 });
    const rng = createRng(11);
    let cInt = 0;
    let cWw = 0;
    for (let i = 0; i < 50; i++) {
      const p = simulateGbm({ spot: 50_000, horizon: 30 / 365, steps: 720, drift: 0, vol: 0.6 }, rng);
      const base = {
        times: p.times,
        prices: p.prices,
        strike: 50_000,
        kind: "put" as const,
        side: -1 as const,
        vol: 0.6,
        costs,
      };
      cInt += simulateHedgedOption({ ...base, policy: { policy: "interval", intervalHours: 1 } }).costsUsd;
      cWw += simulateHedgedOption({
        ...base,
        policy: { policy: "whalley-wilmott", riskAversion: 1e-3 },
      }).costsUsd;
    }
    expect(cWw).toBeLessThan(cInt);
  });
});

describe("hedging-policy study (same paths for every policy)", () => {
  it("ranks a Whalley-Wilmott band above hourly re-hedging under costs, and shows the cost/risk trade-off", async () => {
    const { hedgePolicyStudy } = await import("../../../src/core/backtest/hedgeStudy.js");
    const costs = resolveCostModel({ hedgeFeeRate: 0.0005, hedgeHalfSpreadBps: 2, slippageBps: 3 });
    const out = hedgePolicyStudy({
      model: { type: "gbm", drift: 0, vol: 0.6 },
      spot: 50_000,
      strike: 50_000,
      kind: "call",
      side: -1,
      expiryDays: 14,
      stepsPerDay: 24,
      vol: 0.6,
      policies: [
        { policy: "interval", intervalHours: 1 },
        { policy: "interval", intervalHours: 24 },
        { policy: "whalley-wilmott", riskAversion: 1e-3 },
        { policy: "none" },
      ],
      costs,
      paths: 200,
      seed: 5,
      riskAversion: 1e-3,
    });
    const [hourly, daily, ww, none] = out;
    expect(hourly!.meanCostsUsd).toBeGreaterThan(daily!.meanCostsUsd);
    expect(hourly!.stdevPnlUsd).toBeLessThan(daily!.stdevPnlUsd);
    expect(none!.meanCostsUsd).toBe(0);
    expect(none!.stdevPnlUsd).toBeGreaterThan(daily!.stdevPnlUsd);
    expect(ww!.utility).toBeGreaterThan(hourly!.utility);
    expect(ww!.utility).toBeGreaterThan(none!.utility);
  });
});
