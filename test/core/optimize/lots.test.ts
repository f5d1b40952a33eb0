/**
 * Whole lots follow each instrument's minimum trade amount (Deribit's published
 * min_trade_amount): BTC options 0.1, ETH options 1, futures/perpetuals and USDC options 1 contract.
 */
import { describe, expect, it } from "vitest";
import { instrumentFromName } from "../../../src/core/instruments/names.js";
import { syntheticChain } from "../../../src/core/market/synthetic.js";
import { deribitMinTradeContracts } from "../../../src/core/optimize/candidates.js";
import { optimizeProblemFromChain } from "../../../src/core/optimize/fromChain.js";
import { optimizePortfolio } from "../../../src/core/optimize/optimize.js";
import { loadLpSolver } from "../../../src/core/optimize/lpSolver.js";

/** Whole-lot MILP sizes are integers x the lot step (0.1 BTC / 1 ETH); contracts / step carries one division's rounding (and HiGHS's integer values are rounded by the adapter): 1e-9 lots. */
const LOT_ROUNDING = 1e-9;

/** One HiGHS instance for the file, loaded once (the solver is passed in, synchronous after). */
const solver = await loadLpSolver();

describe("contract sizes follow the instrument's minimum trade amount", () => {
  it("Deribit minimums in contracts", () => {
    expect(deribitMinTradeContracts(instrumentFromName("BTC-27MAR26-100000-C"))).toBe(0.1);
    expect(deribitMinTradeContracts(instrumentFromName("ETH-27MAR26-3000-P"))).toBe(1);
    expect(deribitMinTradeContracts(instrumentFromName("BTC_USDC-27MAR26-95000-P"))).toBe(1);
    expect(deribitMinTradeContracts(instrumentFromName("BTC-PERPETUAL"))).toBe(1);
    expect(deribitMinTradeContracts(instrumentFromName("ETH-26JUN26"))).toBe(1);
  });

  for (const [u, step] of [
    ["BTC", 0.1],
    ["ETH", 1],
  ] as const) {
    it(`${u}: a whole-lot vega target trades multiples of ${step} contract`, () => {
      const chain = syntheticChain({ underlying: u, valuationTime: Date.UTC(2026, 1, 2, 8), seed: 7 });
      const built = optimizeProblemFromChain({
        chain,
        positions: [],
        spec: {
          objective: { kind: "vega-target", targetUsdPerVolPt: u === "BTC" ? 333 : 77, penaltyUsd: 50 },
          constraints: { delta: { min: -0.5, max: 0.5 } },
          costs: { feePerContractUsd: 1 },
          lots: { lotSize: 1 },
        },
        filter: { minDays: 7, maxDays: 90, minAbsDelta: 0.1, maxAbsDelta: 0.5, maxContracts: 30 },
        stress: false,
      });
      const r = optimizePortfolio(built.problem, solver);
      expect(r.status).toBe("optimal");
      expect(r.trades.length).toBeGreaterThan(0);
      for (const t of r.trades) {
        const k = t.contracts / step;
        expect(Math.abs(k - Math.round(k))).toBeLessThan(LOT_ROUNDING);
      }
      expect(r.verification?.ok).toBe(true);
    }, 60_000);
  }
});
