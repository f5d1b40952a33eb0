/**
 * volIndexFromChain (the Cboe VIX method on a crypto chain) against the plain reference of the Cboe
 * calculation (test/helpers/cboeVixReference.ts, itself checked on both published Cboe examples in
 * vix.test.ts): the same cleaned quotes, coin premiums converted at the quote's underlying price,
 * the venue's forwards, expiries from one day out. On a synthetic chain always, and on a seeded
 * sample of the stored Deribit days (BTC and ETH) when ../shared/data is present; plus the
 * 2026-01-13 chain whose Cboe reading (32.85) is issue 24's outlier.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dailyFiles, seededSample } from "../../../scripts/measure/deribitDaily.js";
import { loadChainFile } from "../../../src/adapters/chainFile.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import { syntheticChain } from "../../../src/core/market/synthetic.js";
import type { ChainSnapshot } from "../../../src/core/market/types.js";
import { volIndexFromChain } from "../../../src/core/volindex/volIndex.js";
import { type ReferenceStrike, referenceIndex, referenceVariance } from "../../helpers/cboeVixReference.js";

/** Fast vs plain implementation of the same sums on the same quotes (~50-150 strikes per expiry): rounding on ~50 vol points. */
const REFERENCE_PTS = 1e-9;

/** The index the command computes for `chain` (`volfolio index --method cboe`) and the reference's. */
function bothIndices(chain: ChainSnapshot): { fast: number; reference: number } {
  const snap = normalizeChain(chain).snapshot;
  const forwards = new Map(
    snap.forwards.filter((f) => f.source !== "index").map((f) => [f.expiry, f.forward]),
  );
  const cleaned = {
    underlying: snap.underlying,
    valuationTime: snap.valuationTime,
    indexPrice: snap.indexPrice,
    quotes: snap.quotes,
  };
  const fast = volIndexFromChain(cleaned, { forwards }).index;
  const toUsd = (x: number | null, q: (typeof snap.quotes)[number]) =>
    x === null ? null : q.instrument.settlement === "linear" ? x : x * (q.underlyingPrice ?? snap.indexPrice);
  const byExpiry = new Map<number, Map<number, ReferenceStrike>>();
  for (const q of snap.quotes) {
    const strikes = byExpiry.get(q.instrument.expiry) ?? new Map<number, ReferenceStrike>();
    byExpiry.set(q.instrument.expiry, strikes);
    const row = strikes.get(q.instrument.strike) ?? {
      strike: q.instrument.strike,
      callBid: null,
      callAsk: null,
      putBid: null,
      putAsk: null,
    };
    strikes.set(
      q.instrument.strike,
      q.instrument.kind === "call"
        ? { ...row, callBid: toUsd(q.bid, q), callAsk: toUsd(q.ask, q) }
        : { ...row, putBid: toUsd(q.bid, q), putAsk: toUsd(q.ask, q) },
    );
  }
  const points: { T: number; variance: number }[] = [];
  for (const [expiry, strikes] of byExpiry) {
    const T = (expiry - snap.valuationTime) / (365 * 86_400_000);
    if (T < 1 / 365) continue; // expiries from one day out (the index's default minDays)
    const forward = forwards.get(expiry);
    const v = referenceVariance([...strikes.values()], T, forward === undefined ? {} : { forward });
    if (v && v.variance > 0) points.push({ T, variance: v.variance });
  }
  return { fast, reference: referenceIndex(points, 30 / 365) };
}

describe("volIndexFromChain equals the plain Cboe reference", () => {
  it("on synthetic BTC and ETH chains", () => {
    for (const underlying of ["BTC", "ETH"]) {
      const { fast, reference } = bothIndices(
        syntheticChain({ underlying, valuationTime: Date.UTC(2026, 0, 10, 9), seed: 11, markNoise: 0.01 }),
      );
      expect(Number.isFinite(reference)).toBe(true);
      expect(Math.abs(fast - reference)).toBeLessThan(REFERENCE_PTS);
    }
  });

  const files = dailyFiles();
  if (files.length === 0)
    console.warn("volIndex real-chain test skipped: ../shared/data/deribit/daily not found");
  it.skipIf(files.length === 0)(
    "on a seeded sample of stored Deribit days and on 2026-01-13, BTC and ETH",
    async () => {
      const named = files.filter((f) => f.includes("20260113T"));
      for (const f of [...seededSample(files, 2, 2511), ...named].filter((x) => existsSync(x))) {
        const { chains } = await loadChainFile(f);
        for (const c of chains) {
          const { fast, reference } = bothIndices(c);
          expect(Math.abs(fast - reference), `${f} ${c.underlying}`).toBeLessThan(REFERENCE_PTS);
          if (f.includes("20260113T") && c.underlying === "BTC") expect(fast.toFixed(2)).toBe("32.85");
        }
      }
    },
    60_000,
  );
});
