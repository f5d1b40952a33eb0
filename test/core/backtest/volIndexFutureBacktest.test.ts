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
/** The log-contract integral of a flat surface (Simpson in log-strike) reproduces 50 vol points to 1e-6: measured
 * worst 1.8e-8 pts over the 90 days (~50x margin; a quadrature error, not float rounding). */
const FLAT_PTS = 1e-6;
/** P&L + costs on the flat path: 100 contracts x (mark - entry) over 4 holdings, each mark within FLAT_PTS of 50, at
 * most 100 x 4 x 2 FLAT_PTS = 8e-4 USD (was 3e-3, an unexplained 100 x 3 x FLAT_PTS x 10); measured 3.5e-6. */
const FLAT_PNL_USD = 100 * 4 * 2 * FLAT_PTS;
/** Costs (7 x 0.25 pt x 100 contracts = 175 USD, binary-exact terms) and a long + short pair's mirrored cash flows:
 * float reassociation only (~1e-13 on O(1e2) USD); measured 0 on both; 9 digits = 5e-10. */
const CASH_DIGITS = 9;
/** Real-data plausibility band for a 30-day BTC forward vol (not a precision check): measured 40.5-55.0 pts on these
 * 17 days; 20 / 120 catch a unit slip (fraction vs points, x100) or a zero without depending on the month. */
const FWD_VOL_MIN_PTS = 20;
const FWD_VOL_MAX_PTS = 120;

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
    expect(r.costsUsd).toBeCloseTo(7 * 25, CASH_DIGITS);
    expect(Math.abs(r.pnlUsd + r.costsUsd)).toBeLessThan(FLAT_PNL_USD);
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
    expect(long.pnlUsd + short.pnlUsd).toBeCloseTo(-(long.costsUsd + short.costsUsd), CASH_DIGITS);
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
      expect(x.fair as number).toBeGreaterThan(FWD_VOL_MIN_PTS);
      expect(x.fair as number).toBeLessThan(FWD_VOL_MAX_PTS);
    }
    expect(r.rolls.filter((x) => x.side === "close").length).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
