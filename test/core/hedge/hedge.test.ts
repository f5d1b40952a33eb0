import { describe, expect, it } from "vitest";
import { whalleyWilmottHalfWidth, zakamoulineHalfWidth } from "../../../src/core/hedge/bands.js";
import { DEFAULT_COSTS, hedgeFill, optionFeeUsd, resolveCostModel } from "../../../src/core/hedge/costs.js";
import { type HedgeState, hedgeTrade, validateHedgePolicy } from "../../../src/core/hedge/policies.js";
import { simulateHedgedOption } from "../../../src/core/hedge/simulate.js";
import { simulateGbm } from "../../../src/core/backtest/paths/gbm.js";
import { createRng } from "../../../src/core/math/rng.js";
import { mean, stdev } from "../../../src/core/math/stats.js";
import { blackGreeks } from "../../../src/core/pricing/black76.js";

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
    expect(h).toBeCloseTo(3e-4 ** (1 / 3), 12);
    const h8 = whalleyWilmottHalfWidth({ costRate: 0.008, riskAversion: 1e-4, spot: 50_000, gamma: 2e-5 });
    expect(h8 / h).toBeCloseTo(2, 12);
    const g8 = whalleyWilmottHalfWidth({ costRate: 0.001, riskAversion: 1e-4, spot: 50_000, gamma: 16e-5 });
    expect(g8 / h).toBeCloseTo(4, 12);
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
    expect(zakamoulineHalfWidth(o)).toBeCloseTo(h0 + h1, 12);
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
    ).toBeCloseTo(0.15, 15);
  });
  it("utility bands trade back to the band edge", () => {
    const s = state({ netDelta: 2 });
    const h = whalleyWilmottHalfWidth({ costRate: 0.0006, riskAversion: 1e-3, spot: 50_000, gamma: 1e-5 });
    expect(hedgeTrade({ policy: "whalley-wilmott", riskAversion: 1e-3 }, s)).toBeCloseTo(h - 2, 12);
  });
  it("rejects bad parameters naming the field", () => {
    expect(() => validateHedgePolicy({ policy: "interval", intervalHours: 0 })).toThrow(/intervalHours/);
    expect(() => validateHedgePolicy({ policy: "delta-band", band: -1 })).toThrow(/band/);
  });
});

describe("costs", () => {
  it("option fee is min(rate * notional, cap * premium)", () => {
    const c = resolveCostModel();
    expect(optionFeeUsd({ costs: c, quantity: -2, underlyingPrice: 50_000, premiumUsd: 1000 })).toBeCloseTo(
      30,
      10,
    );
    expect(optionFeeUsd({ costs: c, quantity: 1, underlyingPrice: 50_000, premiumUsd: 20 })).toBeCloseTo(
      2.5,
      10,
    );
  });
  it("hedge fill crosses the spread and slips against the trader", () => {
    const costs = { ...DEFAULT_COSTS, hedgeHalfSpreadBps: 2, slippageBps: 3, hedgeFeeRate: 0.0005 };
    const buy = hedgeFill({ costs, quantity: 2, markUsd: 10_000 });
    expect(buy.spreadUsd).toBeCloseTo(2 * 2, 9);
    expect(buy.priceUsd).toBeCloseTo(10_002 * 1.0003, 9);
    expect(buy.feeUsd).toBeCloseTo(0.0005 * buy.priceUsd * 2, 9);
    const sell = hedgeFill({ costs, quantity: -2, markUsd: 10_000, bidUsd: 9_990, askUsd: 10_010 });
    expect(sell.priceUsd).toBeCloseTo(9_990 * (1 - 0.0003), 9);
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
    expect(Math.abs(mean(pnl))).toBeLessThan((4 * expected) / Math.sqrt(1500));
    expect(stdev(pnl) / expected).toBeGreaterThan(0.9);
    expect(stdev(pnl) / expected).toBeLessThan(1.1);
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
