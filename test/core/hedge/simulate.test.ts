import { describe, expect, it } from "vitest";
import { simulateGbm } from "../../../src/core/backtest/paths/gbm.js";
import { resolveCostModel } from "../../../src/core/hedge/costs.js";
import { simulateHedgedOption } from "../../../src/core/hedge/simulate.js";
import { createRng } from "../../../src/core/math/rng.js";
import { mean, stdev } from "../../../src/core/math/stats.js";
import { blackGreeks } from "../../../src/core/pricing/black76.js";

/** Monte Carlo mean of 1,500 hedged P&Ls: zero within 4 standard errors (fails by chance ~6e-5; seeded). */
const MC_MEAN_SIGMAS = 4;
/** Sample sd over 1,500 paths has ~1.8% relative standard error; Derman-Kamal's formula is leading order in 1/N (N = 100): +-10% is ~5 standard errors. */
const DK_SD_BAND = 0.1;

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
