import { describe, expect, it } from "vitest";
import { syntheticChain } from "../../../src/core/market/synthetic.js";
import { chainBookMarket, chainMarketInputs } from "../../../src/core/risk/chainMarket.js";
import { valuePosition } from "../../../src/core/risk/valuation.js";

/** Coin value vs the chain's mark (synthetic, seed 7): measured worst 5.1e-10 relative with either surface; 1e-8 keeps a 20x margin. */
const MARK_REPRICE_REL = 1e-8;

const T0 = Date.UTC(2026, 1, 2, 8, 30);

describe("chainMarketInputs / chainBookMarket: the one chain -> market step", () => {
  const btc = syntheticChain({ underlying: "BTC", valuationTime: T0, seed: 7, markNoise: 0.002 });
  const eth = syntheticChain({ underlying: "ETH", valuationTime: T0, seed: 8, markNoise: 0.002 });
  // Quoted options with a mark, a spread of strikes and expiries (every 7th quote).
  const quoted = btc.quotes.filter((q, i) => q.mark !== null && q.mark > 1e-4 && i % 7 === 0);
  const positions = quoted.map((q) => ({ instrument: q.instrument, quantity: 1 }));

  for (const surface of ["fit", "marks"] as const) {
    it(`${surface}: every quoted option is valued at the chain's own mark price (coin)`, () => {
      const v = chainBookMarket([btc], positions, { surface });
      expect(v.accepted).toHaveLength(positions.length);
      let worst = 0;
      quoted.forEach((q, i) => {
        const coin = valuePosition(positions[i]!, v.market).valueCoin;
        worst = Math.max(worst, Math.abs(coin - (q.mark as number)) / (q.mark as number));
      });
      // The venue's mark is the reference; the mark vol is solved to ~1e-15 and reused.
      expect(worst).toBeLessThan(MARK_REPRICE_REL);
    });
  }

  it("leaves out a chain at another time and a second chain of the same coin, with reasons", () => {
    const later = syntheticChain({ underlying: "ETH", valuationTime: T0 + 3_600_000, seed: 8 });
    const r = chainMarketInputs([btc, later, btc], { surface: "marks" });
    expect(r.inputs.map((i) => i.normalized.snapshot.underlying)).toEqual(["BTC"]);
    expect(r.leftOut.map((l) => l.reason)).toEqual(["time-differs", "duplicate-underlying"]);
  });

  it("values several coins on one market and excludes a coin it has no chain for", () => {
    const ethPos = { instrument: eth.quotes[40]!.instrument, quantity: -2 };
    const v = chainBookMarket([btc], [positions[0]!, ethPos], { surface: "marks" });
    expect(v.accepted).toHaveLength(1);
    expect(v.excluded.map((x) => x.reason)).toEqual(["underlying-not-in-market"]);
    const both = chainBookMarket([btc, eth], [positions[0]!, ethPos], { surface: "marks" });
    expect(both.accepted).toHaveLength(2);
  });

  it("throws naming the chains when none gives a market", () => {
    expect(() => chainBookMarket([], positions)).toThrow(/chains/);
  });
});
