/**
 * RegimeTracker guards: a single jump in a one-vol market must not become a "regime" (EM can
 * collapse a state onto the jump's return, leaving the normal returns as the "high-vol" state).
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/math/rng.js";
import {
  checkRegimeTrackerConfig,
  DEFAULT_REGIME_TRACKER,
  RegimeTracker,
} from "../../../src/core/regime/tracker.js";

const HOUR = 3_600_000;

describe("RegimeTracker", () => {
  it("does not call a single jump a stressed regime (degenerate fit guard)", () => {
    const rng = createRng(8);
    const tracker = new RegimeTracker(DEFAULT_REGIME_TRACKER);
    let index = 60_000;
    const scales: number[] = [];
    const reasons = new Set<string>();
    for (let i = 0; i < 1200; i++) {
      // 50% vol hourly, and one +9% jump at tick 600.
      if (i > 0) index *= Math.exp((i === 600 ? 0.09 : 0) + (0.5 / Math.sqrt(8760)) * rng.normal());
      tracker.observe(i, index, i * HOUR);
      const v = tracker.view(i);
      scales.push(v.scale);
      if (i > 600 && i < 600 + DEFAULT_REGIME_TRACKER.window) reasons.add(v.reason);
    }
    expect(scales.every((s) => s === 1)).toBe(true);
    expect([...reasons].some((r) => /degenerate fit|one Gaussian|no distinct/.test(r))).toBe(true);
  });

  it("rejects bad configs naming the field", () => {
    expect(() => checkRegimeTrackerConfig({ ...DEFAULT_REGIME_TRACKER, minReturns: 500 }, "regime.")).toThrow(
      /regime\.minReturns/,
    );
    expect(() => checkRegimeTrackerConfig({ ...DEFAULT_REGIME_TRACKER, window: 10 })).toThrow(/window/);
    expect(() => checkRegimeTrackerConfig(DEFAULT_REGIME_TRACKER)).not.toThrow();
  });
});
