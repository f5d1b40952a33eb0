/** `volfolio backtest` with a regime-scaled strategy reports the signal over the run. */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { captureCli } from "./capture.js";

const STRATEGY = resolve(__dirname, "../../examples/strategies/short-strangle-regime.json");

describe("volfolio backtest (regime-scaled strategy)", () => {
  it("--json carries the regime summary; the table prints it", async () => {
    const r = await captureCli(["backtest", "--strategy", STRATEGY, "--synthetic", "--days", "20", "--json"]);
    expect(r.code, r.err).toBe(0);
    const d = JSON.parse(r.out);
    const g = d.regime;
    // One decision per step but the last (the run ends there: settle and mark, no new trades).
    expect(g.steps).toBe(d.steps - 1);
    expect(g.fullSteps + g.scaledSteps + g.zeroSteps).toBe(g.steps);
    expect(g.signals).toHaveLength(g.steps);
    // 20 days hourly = 480 returns: past the 96-return warm-up, so the last reason is a fit's.
    expect(g.last).not.toMatch(/warming up/);
    const t = await captureCli(["backtest", "--strategy", STRATEGY, "--synthetic", "--days", "20"]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/regime scaling: \d+ steps, full size \d+/);
  });
});
