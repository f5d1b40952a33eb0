import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadStrategyFile,
  loadSweepFile,
  parseStrategySpec,
  parseSweepSpec,
} from "../../src/adapters/strategyFile.js";
import { expandSweep } from "../../src/core/backtest/sweep.js";
import { runBacktest } from "../../src/core/backtest/engine.js";
import { syntheticSteps } from "../../src/core/backtest/syntheticMarket.js";

const dir = resolve(__dirname, "../../examples/strategies");
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

describe("strategy files", () => {
  it("every example strategy parses and runs a short synthetic backtest", async () => {
    const strategies = files.filter((f) => !f.startsWith("sweep-"));
    expect(strategies.length).toBeGreaterThanOrEqual(5);
    const types = new Set<string>();
    for (const f of strategies) {
      const spec = await loadStrategyFile(resolve(dir, f));
      types.add(spec.type);
      // The optimizer strategy needs the asynchronous engine (HiGHS); its run is tested in
      // test/core/backtest/optimizerStrategy.test.ts and test/cli/backtestOptimizer.test.ts.
      if (spec.type === "optimizer") continue;
      const r = runBacktest({ strategy: spec, steps: syntheticSteps({ steps: 24 * 10, seed: 1 }) });
      expect(r.tradeCount).toBeGreaterThan(0);
    }
    expect([...types].sort()).toEqual([
      "calendar",
      "cash-secured-put",
      "covered-call",
      "optimizer",
      "short-strangle",
      "tail-hedge",
    ]);
  });
  it("an optimizer base sweeps (its jobs run with the executor's LP solver, test/adapters/sweep.test.ts)", () => {
    const base = JSON.parse(readFileSync(resolve(dir, "optimizer.json"), "utf8"));
    const sw = parseSweepSpec({
      base,
      grid: { "params.usd": [1e6, 2e6] },
      market: { steps: 24 },
      seeds: [1],
    });
    expect(expandSweep(sw).map((j) => j.strategy.type)).toEqual(["optimizer", "optimizer"]);
  });
  it("the example sweep parses and expands", async () => {
    const s = await loadSweepFile(resolve(dir, "sweep-strangle.json"));
    expect(expandSweep(s).length).toBe(3 * 3 * 2 * 2);
  });
  it("reports every problem with its path", () => {
    let msg = "";
    try {
      parseStrategySpec({
        type: "covered-call",
        params: { coins: -1, targetDelta: 1.5, tenorDays: 7, extra: 1 },
        hedge: { policy: "delta-band" },
      });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/params\.coins/);
    expect(msg).toMatch(/params\.targetDelta/);
    expect(msg).toMatch(/extra/);
    expect(msg).toMatch(/hedge\.band/);
    expect(() => parseStrategySpec({ type: "iron-condor", params: {} })).toThrow(/type/);
    expect(() =>
      parseStrategySpec({ type: "calendar", params: { usd: 1, quantity: 1, nearDays: 30, farDays: 7 } }),
    ).toThrow(/farDays/);
    expect(() =>
      parseSweepSpec({
        base: { type: "covered-call", params: { coins: 1, targetDelta: 0.2, tenorDays: 7 } },
        grid: { "a..b": [1] },
        market: { steps: 10 },
        seeds: [1],
      }),
    ).toThrow(/grid/);
  });
});
