import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPortfolioFile } from "../../src/adapters/portfolioFile.js";
import riskWorkerTask from "../../src/adapters/riskWorkers.js";
import { compileBook, scenarioPortfolioPnl } from "../../src/core/risk/grid.js";
import { scenarioGrid } from "../../src/core/risk/scenario.js";

describe("risk worker task (piscina entry, run in-thread here)", () => {
  it("slices of the book sum to the whole-book grid PnL", async () => {
    const f = await loadPortfolioFile(resolve(__dirname, "../..", "examples/book.json"));
    const scenarios = scenarioGrid({ spotShifts: [-0.2, 0, 0.3], volShifts: [-0.1, 0.1] });
    const whole = scenarioPortfolioPnl(compileBook(f.positions, f.market!), scenarios);
    const a = riskWorkerTask({ positions: f.positions.slice(0, 4), market: f.marketData!, scenarios });
    const b = riskWorkerTask({ positions: f.positions.slice(4), market: f.marketData!, scenarios });
    whole.forEach((x, j) => {
      expect(a[j]! + b[j]!).toBeCloseTo(x, 6);
    });
  });
});
