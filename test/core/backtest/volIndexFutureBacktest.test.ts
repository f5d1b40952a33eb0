/**
 * A DVOL future held and rolled, marked each day at the core's fair value on that day's chain
 * (core/backtest/volIndexFutureBacktest.ts).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBacktestData } from "../../../src/adapters/backtestData.js";
import { syntheticSteps } from "../../../src/core/backtest/syntheticMarket.js";
import { runVolIndexFutureBacktest } from "../../../src/core/backtest/volIndexFutureBacktest.js";

/** Flat 50% surface (no skew, no smile, ATM vol pinned): every forward variance is 0.25. */
const flat = { steps: 90, stepHours: 24, seed: 3, ivPremium: 1, ivVolOfVol: 0, skew: 0, curvature: 0 };
/** The log-contract integral of a flat surface (Simpson in log-strike) reproduces 50 vol points to 1e-6. */
const FLAT_PTS = 1e-6;

describe("DVOL future hold/roll backtest", () => {
  it("flat vol: the fair is 50 every day and the P&L is minus the half-spreads paid, open and close", () => {
    const r = runVolIndexFutureBacktest({
      quantity: 100,
      steps: syntheticSteps(flat),
      halfSpreadPoints: 0.25,
    });
    for (const d of r.days) expect(Math.abs((d.fair as number) - 50)).toBeLessThan(FLAT_PTS);
    // 4 opens and 3 closes over 90 days of monthly expiries, 0.25 pt x 100 contracts x 1 USD each.
    expect(r.rolls.filter((x) => x.side === "open")).toHaveLength(4);
    expect(r.rolls.filter((x) => x.side === "close")).toHaveLength(3);
    expect(r.costsUsd).toBeCloseTo(7 * 25, 9);
    expect(Math.abs(r.pnlUsd + r.costsUsd)).toBeLessThan(100 * 3 * FLAT_PTS * 10);
    // each roll opens the next expiry, at least rollDays + 1 = 3 days away.
    for (const x of r.rolls.filter((y) => y.side === "close"))
      expect(
        r.rolls.some((y) => y.side === "open" && y.time === x.time && y.instrument !== x.instrument),
      ).toBe(true);
  });

  it("a long and a short position net to minus twice the costs on a moving vol path", () => {
    const moving = { steps: 40, stepHours: 24, seed: 8 };
    const long = runVolIndexFutureBacktest({ quantity: 10, steps: syntheticSteps(moving) });
    const short = runVolIndexFutureBacktest({ quantity: -10, steps: syntheticSteps(moving) });
    expect(long.pnlUsd + short.pnlUsd).toBeCloseTo(-(long.costsUsd + short.costsUsd), 9);
  });

  it("bad inputs are typed errors naming the field", () => {
    expect(() => runVolIndexFutureBacktest({ quantity: 0, steps: syntheticSteps(flat) })).toThrow(/quantity/);
    expect(() => runVolIndexFutureBacktest({ quantity: 1, steps: [] })).toThrow(/steps/);
  });
});

const dir = resolve(__dirname, "../../../..", "shared/data/deribit/daily");
if (!existsSync(dir)) console.warn(`DVOL future real-data backtest skipped: ${dir} not found`);
describe.skipIf(!existsSync(dir))("DVOL future hold/roll on the real daily chains", () => {
  it("BTC 2026-01-20 to 02-05: marked every day, 10-day futures rolled before expiry", async () => {
    const d = await loadBacktestData({ dir, underlying: "BTC", from: "2026-01-20", to: "2026-02-05" });
    const r = runVolIndexFutureBacktest({ quantity: 100, steps: d.steps, tenorDays: 10 });
    expect(r.days).toHaveLength(d.steps.length);
    for (const x of r.days) {
      expect(x.fair).not.toBeNull();
      // a 30-day BTC forward vol in this season lies between 20 and 120 points
      expect(x.fair as number).toBeGreaterThan(20);
      expect(x.fair as number).toBeLessThan(120);
    }
    expect(r.rolls.filter((x) => x.side === "close").length).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
