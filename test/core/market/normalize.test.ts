import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDeribitCsvFile } from "../../../src/adapters/deribit/files.js";
import { instrumentFromName } from "../../../src/core/instruments/names.js";
import type { OptionContract } from "../../../src/core/instruments/types.js";
import { chainForwards, parityForward } from "../../../src/core/market/forwards.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import type { ChainSnapshot, OptionQuote } from "../../../src/core/market/types.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";

const SAMPLE = resolve(
  __dirname,
  "../../../../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv",
);
const NOW = Date.UTC(2026, 0, 10, 9);
const EXPIRY = Date.UTC(2026, 2, 27, 8);
const T = (EXPIRY - NOW) / (365 * 86_400_000);

/** An exact inverse quote at vol `vol` on forward `F`, coin prices. */
function quote(
  strike: number,
  kind: "call" | "put",
  F: number,
  vol: number,
  over: Partial<OptionQuote> = {},
): OptionQuote {
  const instrument = instrumentFromName(
    `BTC-27MAR26-${strike}-${kind === "call" ? "C" : "P"}`,
  ) as OptionContract;
  const usd = blackPrice({ forward: F, strike, expiry: T, vol, kind });
  const coin = usd / F;
  return { instrument, timestamp: NOW, bid: coin * 0.98, ask: coin * 1.02, mark: coin, markIv: vol, ...over };
}

describe("forwards", () => {
  it("recovers the forward from inverse put-call parity when nothing else is quoted", () => {
    const F = 91_234;
    const quotes = [80_000, 85_000, 90_000, 95_000, 100_000].flatMap((k) => [
      quote(k, "call", F, 0.5, { bid: null, ask: null }),
      quote(k, "put", F, 0.5, { bid: null, ask: null }),
    ]);
    // Two-sided, symmetric spreads so the mid is the exact price.
    const two = quotes.map((q) => ({ ...q, bid: (q.mark as number) - 1e-4, ask: (q.mark as number) + 1e-4 }));
    expect(parityForward(two, 90_000)).toBeCloseTo(F, 6);
    const chain: ChainSnapshot = { underlying: "BTC", valuationTime: NOW, indexPrice: 90_000, quotes: two };
    expect(chainForwards(chain)).toEqual([
      { expiry: EXPIRY, timeToExpiry: T, forward: expect.closeTo(F, 6), source: "put-call-parity" },
    ]);
  });

  it("prefers a dated future, then the venue's underlying", () => {
    const q = quote(90_000, "call", 91_000, 0.5, { underlyingPrice: 91_100 });
    const chain: ChainSnapshot = { underlying: "BTC", valuationTime: NOW, indexPrice: 90_000, quotes: [q] };
    expect(chainForwards(chain)[0]).toMatchObject({ forward: 91_100, source: "venue-underlying" });
    const withFuture = {
      ...chain,
      futures: [{ name: "BTC-27MAR26", underlying: "BTC", expiry: EXPIRY, timestamp: NOW, mark: 91_050 }],
    };
    expect(chainForwards(withFuture)[0]).toMatchObject({ forward: 91_050, source: "future" });
  });
});

describe("normalizeChain", () => {
  const F = 91_000;
  const good = quote(95_000, "call", F, 0.55, { underlyingPrice: F });

  it("solves bid/ask/mid/mark vols exactly on an exact quote", () => {
    const n = normalizeChain({ underlying: "BTC", valuationTime: NOW, indexPrice: 90_000, quotes: [good] });
    const q = n.snapshot.quotes[0]!;
    expect(q.markVol).toBeCloseTo(0.55, 12);
    expect(q.bidVol!).toBeLessThan(0.55);
    expect(q.askVol!).toBeGreaterThan(0.55);
    expect(q.logMoneyness).toBeCloseTo(Math.log(95_000 / F), 14);
  });

  it("rejects with a reason per quote and reconciles counts", () => {
    const quotes: OptionQuote[] = [
      good,
      { ...good, instrument: { ...good.instrument, underlying: "ETH" } },
      { ...good, instrument: { ...good.instrument, expiry: NOW - 1 } },
      { ...good, bid: null, ask: null, mark: null },
      { ...good, timestamp: NOW - 3_600_000 },
      { ...good, bid: 0.2, ask: 0.1 },
      { ...good, mark: 2 }, // 2 coins for a call worth at most 1 coin
    ];
    const n = normalizeChain({ underlying: "BTC", valuationTime: NOW, indexPrice: 90_000, quotes });
    expect(n.counts.accepted + n.counts.rejected).toBe(quotes.length);
    expect(n.rejected.map((r) => r.reason)).toEqual([
      "other-underlying",
      "expired",
      "missing-fields",
      "stale",
      "crossed",
      "outside-bounds",
    ]);
    expect(n.counts.byReason.crossed).toBe(1);
  });

  it("keeps a quote whose bid is below intrinsic, with a null bid vol and the reason", () => {
    const itm = quote(60_000, "call", F, 0.6, { underlyingPrice: F });
    const n = normalizeChain({
      underlying: "BTC",
      valuationTime: NOW,
      indexPrice: 90_000,
      quotes: [{ ...itm, bid: 0.3 }],
    });
    expect(n.snapshot.quotes[0]?.bidVol).toBeNull();
    expect(n.snapshot.quotes[0]?.markVol).toBeCloseTo(0.6, 9);
    expect(n.sideIssues[0]).toMatchObject({ side: "bid", detail: expect.stringMatching(/below-intrinsic/) });
  });
});

describe.skipIf(!existsSync(SAMPLE))("normalizeChain on the real Deribit sample (../shared/data)", () => {
  it("reconciles counts, uses the venue forwards, and reproduces the venue mark IVs", async () => {
    const { chains } = await loadDeribitCsvFile(SAMPLE);
    for (const chain of chains) {
      const n = normalizeChain(chain);
      expect(n.counts.accepted + n.counts.rejected).toBe(chain.quotes.length);
      expect(n.snapshot.forwards.length).toBeGreaterThan(8);
      for (const f of n.snapshot.forwards) expect(["future", "venue-underlying"]).toContain(f.source);
      // Out of the money near the forward (|k| < 0.3) with a mark of at least 0.0005 coin (marks are
      // published to 6-8 decimals, so tinier ones carry rounding of 1% or more), the mark IV is well
      // conditioned: our solve of the mark price must match the venue's 4-decimal IV.
      const near = n.snapshot.quotes.filter(
        (q) =>
          Math.abs(q.logMoneyness) < 0.3 &&
          (q.instrument.kind === "call" ? q.logMoneyness > 0 : q.logMoneyness < 0) &&
          q.markVol !== null &&
          (q.mark as number) >= 5e-4,
      );
      expect(near.length).toBeGreaterThan(100);
      const worst = Math.max(...near.map((q) => Math.abs((q.markVol as number) - (q.markIv as number))));
      expect(worst).toBeLessThan(1e-3);
    }
  });
});
