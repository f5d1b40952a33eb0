import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPortfolioFile } from "../../src/adapters/portfolioFile.js";
import riskWorkerTask, { chainMarketData } from "../../src/adapters/riskWorkers.js";
import type { Position } from "../../src/core/instruments/types.js";
import { syntheticChain } from "../../src/core/market/synthetic.js";
import { chainBookMarket } from "../../src/core/risk/chainMarket.js";
import { compileBook, scenarioPortfolioPnl } from "../../src/core/risk/grid.js";
import { scenarioGrid } from "../../src/core/risk/scenario.js";

/** Two slices of the book vs the whole: the same leg P&Ls summed in another order; rounding is ~1e-15 relative, 1e-9 (floor 1 USD) still catches a leg lost or counted twice. */
const SPLIT_SUM_REL = 1e-9;

/** Two halves of the book summed vs the whole: the same leg P&Ls added in another order, rounding on ~1e5 USD (ulp 1.5e-11). */
const SPLIT_SUM_DIGITS = 6;

describe("risk worker task (piscina entry, run in-thread here)", () => {
  it("slices of the book sum to the whole-book grid PnL", async () => {
    const f = await loadPortfolioFile(resolve(__dirname, "../..", "examples/book.json"));
    const scenarios = scenarioGrid({ spotShifts: [-0.2, 0, 0.3], volShifts: [-0.1, 0.1] });
    const whole = scenarioPortfolioPnl(compileBook(f.positions, f.market!), scenarios);
    const a = riskWorkerTask({ positions: f.positions.slice(0, 4), market: f.marketData!, scenarios });
    const b = riskWorkerTask({ positions: f.positions.slice(4), market: f.marketData!, scenarios });
    whole.forEach((x, j) => {
      expect(a[j]! + b[j]!).toBeCloseTo(x, SPLIT_SUM_DIGITS);
    });
  });
});

describe("risk worker task on a chain market (normalized chains as data)", () => {
  it("rebuilds the caller's market: slices equal the main thread's grid on chainBookMarket", () => {
    const t = Date.UTC(2026, 1, 2, 8);
    const chains = [
      syntheticChain({ underlying: "BTC", valuationTime: t, seed: 3, markNoise: 0.003 }),
      syntheticChain({ underlying: "ETH", valuationTime: t, seed: 4, markNoise: 0.003 }),
    ];
    const options = { surface: "fit", surfaceModel: "svi" } as const;
    // Quoted and unquoted strikes (the latter read the fit), both coins.
    const positions: Position[] = chains.flatMap((c, u) =>
      c.quotes
        .filter((_q, i) => i % 11 === u)
        .map((q, i) => ({
          instrument: { ...q.instrument, strike: q.instrument.strike + (i % 2 ? 0 : 37) },
          quantity: i % 3 ? 1 : -2,
        })),
    );
    const v = chainBookMarket(chains, positions, options);
    expect(v.accepted.length).toBeGreaterThan(20);
    const scenarios = scenarioGrid({
      spotShifts: [-0.3, 0, 0.2],
      volShifts: [-0.1, 0.15],
      surfaceDynamics: "sticky-moneyness",
    });
    const whole = scenarioPortfolioPnl(compileBook(v.accepted, v.market), scenarios);
    // The task travels by structured clone, as piscina sends it.
    const market = structuredClone(chainMarketData(v.inputs, options));
    const half = Math.floor(v.accepted.length / 2);
    const a = riskWorkerTask({ positions: v.accepted.slice(0, half), market, scenarios });
    const b = riskWorkerTask({ positions: v.accepted.slice(half), market, scenarios });
    whole.forEach((x, j) => {
      expect(Math.abs(a[j]! + b[j]! - x)).toBeLessThan(SPLIT_SUM_REL * Math.max(1, Math.abs(x)));
    });
  });
});
