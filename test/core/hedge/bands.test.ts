import { describe, expect, it } from "vitest";
import { simulateGbm } from "../../../src/core/backtest/paths/gbm.js";
import { whalleyWilmottHalfWidth, zakamoulineHalfWidth } from "../../../src/core/hedge/bands.js";
import { resolveCostModel } from "../../../src/core/hedge/costs.js";
import type { HedgePolicy } from "../../../src/core/hedge/policies.js";
import { simulateHedgedOption } from "../../../src/core/hedge/simulate.js";
import { createRng } from "../../../src/core/math/rng.js";
import { mean, stdev } from "../../../src/core/math/stats.js";

/** Band widths are powers and products of exact-ish decimals, each operation rounded once (1.1e-16): 1e-14 relative leaves ~50x room (the bare 12 digits allowed ~1e-11 relative on 0.07). */
const POWER_REL = 1e-14;
/** Certainty-equivalent margin, USD: a third of the smallest gap measured over 5 seeds (64 / 39 USD); the CE of one policy scatters by ~10 USD between seeds of 600 paths, the gaps (same paths) less. */
const CE_MARGIN_USD = 20;
/** The 12-hour clock's PnL sd over the band's: measured 1.43-1.59 over 5 seeds; 1.3 leaves room for the seed. */
const CLOCK_SD_RATIO = 1.3;
const rel = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);

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
  it("Zakamouline: no band without costs, widens with cost, narrows with risk aversion, H1 grows as sqrt|Gamma|", () => {
    const o = {
      costRate: 0.001,
      riskAversion: 1e-4,
      spot: 50_000,
      gamma: 2e-5,
      vol: 0.5,
      timeToExpiry: 0.25,
    };
    const w = (p: Partial<typeof o>) => zakamoulineHalfWidth({ ...o, ...p });
    expect(w({ costRate: 0 })).toBe(0);
    expect(w({ costRate: 0.002 })).toBeGreaterThan(w({}));
    expect(w({ riskAversion: 2e-4 })).toBeLessThan(w({}));
    // The gamma-free part (H0) is w at Gamma = 0; the rest scales as |Gamma|^(1/2) (the paper's form).
    const h0 = w({ gamma: 0 });
    expect(rel((w({ gamma: 8e-5 }) - h0) / (w({}) - h0), 2)).toBeLessThanOrEqual(POWER_REL);
    expect(w({ gamma: -2e-5 })).toBe(w({}));
    expect(() => w({ riskAversion: 0 })).toThrow(/riskAversion/);
  });
});

describe("Zakamouline band in a hedging simulation (the utility it approximates)", () => {
  // A short 30-day ATM call on 1 coin, 60% vol, checked every 2 hours, 0.1% one-way hedge cost.
  // Zakamouline's band approximates the no-trade region that maximizes exponential utility with
  // risk aversion gamma (Hodges-Neuberger). So, on the same simulated paths, it must score a
  // better certainty equivalent CE = -ln E[exp(-gamma PnL)] / gamma than the band built for a risk
  // aversion 9x off either way (3x narrower or wider H1: too many trades, or too much risk), and
  // than re-hedging on a 12-hour clock that pays more costs. Measured on 5 seeds of 600 paths:
  // CE(band) - CE(9x off) >= 64 USD, CE(band) - CE(12 h clock) >= 39 USD.
  const gamma = 1e-3;
  const costs = resolveCostModel({ feeRate: 0, hedgeFeeRate: 0.001, hedgeHalfSpreadBps: 0, slippageBps: 0 });
  const rng = createRng(2509);
  const paths = Array.from({ length: 600 }, () =>
    simulateGbm({ spot: 50_000, horizon: 30 / 365, steps: 360, drift: 0, vol: 0.6 }, rng),
  );
  const run = (policy: HedgePolicy) =>
    paths.map((p) =>
      simulateHedgedOption({
        times: p.times,
        prices: p.prices,
        strike: 50_000,
        kind: "call",
        side: -1,
        vol: 0.6,
        policy,
        costs,
      }),
    );
  const certaintyEquivalent = (pnl: readonly number[]) => {
    const xs = pnl.map((x) => -gamma * x);
    const top = Math.max(...xs); // log-mean-exp, shifted for range
    return -(top + Math.log(xs.reduce((a, x) => a + Math.exp(x - top), 0) / xs.length)) / gamma;
  };
  const score = (policy: HedgePolicy) => {
    const r = run(policy);
    const pnl = r.map((x) => x.pnlUsd);
    return { ce: certaintyEquivalent(pnl), sd: stdev(pnl), cost: mean(r.map((x) => x.costsUsd)) };
  };

  it("beats the bands of a 9x smaller or larger risk aversion and a 12-hour clock on certainty equivalent", () => {
    const band = score({ policy: "zakamouline", riskAversion: gamma });
    const wider = score({ policy: "zakamouline", riskAversion: gamma / 9 });
    const narrower = score({ policy: "zakamouline", riskAversion: gamma * 9 });
    const clock = score({ policy: "interval", intervalHours: 12 });
    expect(band.ce - wider.ce).toBeGreaterThan(CE_MARGIN_USD);
    expect(band.ce - narrower.ce).toBeGreaterThan(CE_MARGIN_USD);
    expect(band.ce - clock.ce).toBeGreaterThan(CE_MARGIN_USD);
    // At no lower cost, the clock leaves a larger PnL spread (measured: 390-416 vs 254-274 USD).
    expect(clock.cost).toBeGreaterThan(band.cost);
    expect(clock.sd).toBeGreaterThan(CLOCK_SD_RATIO * band.sd);
  });
});
