import { describe, expect, it } from "vitest";
import { DEFAULT_COSTS, hedgeFill, optionFeeUsd, resolveCostModel } from "../../../src/core/hedge/costs.js";

/** Fees and fills are two or three products of decimals (rate x notional, mark x (1 + bps)), each rounded once: 1e-14 relative (the bare 9-10 digits allowed 1e-13 on 10,000). */
const COST_REL = 1e-14;
const rel = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);

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
