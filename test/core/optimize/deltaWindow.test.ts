/**
 * The candidate filter's delta window is on Black's forward delta (Deribit's `delta`), for inverse
 * and linear options alike, on a market with a large basis (F/S up to ~1.3) where a delta scaled
 * by F/S would land on the wrong side of the window. Regression: after inverse options took
 * Deribit's mark convention (USD value = coin premium x index), the filter divided their
 * dV_usd/dS by F/S a second time.
 */
import { describe, expect, it } from "vitest";
import { syntheticChain } from "../../../src/core/market/synthetic.js";
import { buildOptimizeCandidates } from "../../../src/core/optimize/candidates.js";
import { blackGreeks } from "../../../src/core/pricing/black76.js";
import { chainBookMarket } from "../../../src/core/risk/chainMarket.js";

/** Delta recomputed here with blackGreeks from the quote's mark vol, forward and expiry vs the filter's own evaluation of the same inputs: ulps apart; 1e-9 on deltas of 0.1-0.5. */
const DELTA_EDGE = 1e-9;

describe("candidate delta window = Black forward delta", () => {
  const t = Date.UTC(2026, 1, 2, 8);
  const chain = syntheticChain({ underlying: "BTC", valuationTime: t, seed: 9, basisPerYear: 0.3 });
  const v = chainBookMarket([chain], [], { surface: "marks" });
  const snapshot = v.inputs[0]!.normalized.snapshot;
  const window = { minAbsDelta: 0.2, maxAbsDelta: 0.4 };
  const set = buildOptimizeCandidates({ snapshot, market: v.market, scenarios: [], filter: window });
  // Black delta of each quote written out here: Black-76 at the quote's forward and mark vol.
  const delta = (name: string) => {
    const q = snapshot.quotes.find((x) => x.instrument.name === name)!;
    const T = (q.instrument.expiry - t) / (365 * 86_400_000);
    return Math.abs(
      blackGreeks({
        forward: q.forward,
        strike: q.instrument.strike,
        expiry: T,
        vol: q.markVol!,
        kind: q.instrument.kind,
      }).delta,
    );
  };

  it("keeps exactly the quotes whose Black delta is inside the window", () => {
    expect(set.candidates.length).toBeGreaterThan(20);
    for (const c of set.candidates) {
      const d = delta(c.name);
      expect(d).toBeGreaterThanOrEqual(window.minAbsDelta - DELTA_EDGE);
      expect(d).toBeLessThanOrEqual(window.maxAbsDelta + DELTA_EDGE);
    }
    const outside = set.rejected.filter((r) => r.reason === "delta-window");
    expect(outside.length).toBeGreaterThan(20);
    for (const r of outside) {
      const d = delta(r.name);
      expect(d < window.minAbsDelta + DELTA_EDGE || d > window.maxAbsDelta - DELTA_EDGE).toBe(true);
    }
  });
});
