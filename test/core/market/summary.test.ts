import { describe, expect, it } from "vitest";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import { summarizeNormalizedChain } from "../../../src/core/market/summary.js";
import { syntheticChainWithTruth } from "../../../src/core/market/synthetic.js";

/** Nearest-OTM strike within half a strike step of the forward: the smile's slope over that distance moves the vol by a few points at most. */
const ATM_STRIKE_OFFSET_VOL = 0.03;

const NOW = Date.UTC(2026, 0, 10, 9);

describe("summarizeNormalizedChain", () => {
  it("counts reconcile per expiry and the ATM vol is the synthetic surface's", () => {
    const { chain, truth } = syntheticChainWithTruth({ valuationTime: NOW, seed: 11 });
    const dropped = chain.quotes.map((q, i) => (i % 50 === 0 ? { ...q, bid: 0.5, ask: 0.4 } : q));
    const n = normalizeChain({ ...chain, quotes: dropped });
    const s = summarizeNormalizedChain(n);
    expect(s.input).toBe(chain.quotes.length);
    expect(s.expiries.reduce((a, e) => a + e.input, 0)).toBe(s.input);
    expect(s.expiries.reduce((a, e) => a + e.accepted, 0)).toBe(s.accepted);
    expect(s.rejectedByReason).toEqual({ crossed: Math.ceil(chain.quotes.length / 50) });
    for (const e of s.expiries) {
      // The nearest-OTM strike is within half a strike step of the forward: its vol is the SSVI
      // ATM vol sqrt(theta/T) up to the smile's slope over that distance (a few vol points at most).
      const atm = Math.sqrt((truth.thetaByExpiry.get(e.expiry) as number) / e.timeToExpiry);
      expect(Math.abs((e.atmVol as number) - atm)).toBeLessThan(ATM_STRIKE_OFFSET_VOL);
    }
  });
});
