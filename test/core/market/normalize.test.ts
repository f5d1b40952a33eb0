import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDeribitCsvFile } from "../../../src/adapters/deribit/files.js";
import { instrumentFromName } from "../../../src/core/instruments/names.js";
import type { OptionContract } from "../../../src/core/instruments/types.js";
import { chainForwards, markParityForward, parityForward } from "../../../src/core/market/forwards.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import type { ChainSnapshot, OptionQuote } from "../../../src/core/market/types.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";

/** Forward from parity of Black marks: C - P of two prices each rounded to ~1e-16 coin moves K/(1-(C-P)) by ~1e-12 relative; 6 digits = 5e-7 USD on ~91,000 (5e-12 relative). */
const PARITY_FORWARD_DIGITS = 6;
/** A vol solved from an exact Black quote on its exact forward: the solver stops at a few ulps. */
const EXACT_VOL_DIGITS = 12;
/** log(K/F) recomputed by the same one log: at most 1 ulp apart. */
const LOG_MONEYNESS_DIGITS = 14;
/** log(K/F) on a forward recovered by parity: ln moves by the forward's relative error, ~1e-12 for Black marks (see above); 12 digits = 5e-13. */
const PARITY_LOG_MONEYNESS_DIGITS = 12;
/** Vol solved on the parity forward from a mark printed to 8 decimals (0.58974856): the printed mark's rounding (5e-9 coin) over vega bounds it near 1e-8. */
const PRINTED_MARK_VOL_DIGITS = 8;
/** Black-76 on the quote's forward and mark vol reprices the coin mark: a price and its inverse solve in double, 1e-12 relative. */
const REPRICE_REL = 1e-12;
/** A deep-ITM mark (mostly intrinsic): its vol is worse conditioned than OTM, 9 digits. */
const ITM_VOL_DIGITS = 9;
/** Parity forward per strike vs the expiry's forward, from the sample file's marks: measured max 9.3e-7 (BTC), 5.9e-6 (ETH); marks printed to 8 decimals. */
const SAMPLE_PARITY_REL = 1e-5;
/** Venue mark IVs are displayed to 4 decimals, marks to 6-8: on well-conditioned OTM quotes our solve is within 1e-3 (10 printed IV steps). */
const SAMPLE_MARK_IV_ABS = 1e-3;

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
    expect(parityForward(two, 90_000)).toBeCloseTo(F, PARITY_FORWARD_DIGITS);
    const chain: ChainSnapshot = { underlying: "BTC", valuationTime: NOW, indexPrice: 90_000, quotes: two };
    expect(chainForwards(chain)).toEqual([
      {
        expiry: EXPIRY,
        timeToExpiry: T,
        forward: expect.closeTo(F, PARITY_FORWARD_DIGITS),
        source: "put-call-parity",
      },
    ]);
  });

  it("prefers put-call parity on the marks over a future and the venue's underlying", () => {
    // Marks of two strikes, both sides, at 50% on F = 91,000 (Deribit marks a strike's call and put
    // at one IV on one forward); the quotes say their underlying is 91,100, a future 91,050.
    const F = 91_000;
    const quotes = [88_000, 95_000].flatMap((k) => [
      quote(k, "call", F, 0.5, { underlyingPrice: 91_100 }),
      quote(k, "put", F, 0.5, { underlyingPrice: 91_100 }),
    ]);
    const chain: ChainSnapshot = {
      underlying: "BTC",
      valuationTime: NOW,
      indexPrice: 90_000,
      quotes,
      futures: [{ name: "BTC-27MAR26", underlying: "BTC", expiry: EXPIRY, timestamp: NOW, mark: 91_050 }],
    };
    expect(chainForwards(chain)).toEqual([
      {
        expiry: EXPIRY,
        timeToExpiry: T,
        forward: expect.closeTo(F, PARITY_FORWARD_DIGITS),
        source: "put-call-parity",
      },
    ]);
  });

  it("markParityForward: K / (1 - (C - P)) for coin marks, K + C - P for USD marks, median over strikes", () => {
    const F = 91_234;
    // Inverse: C - P = 1 - K/F exactly for Black prices on F divided by F.
    // A smile: each strike at its own vol (one vol for its call and its put, as Deribit marks them).
    const inverse = [80_000, 90_000, 100_000].flatMap((k) => [
      quote(k, "call", F, 0.5 + k / 1e6),
      quote(k, "put", F, 0.5 + k / 1e6),
    ]);
    expect(markParityForward(inverse)).toBeCloseTo(F, PARITY_FORWARD_DIGITS);
    // One strike marked on another forward: the median ignores it.
    const stale = [
      ...inverse.slice(0, 4),
      quote(100_000, "call", 95_000, 0.5),
      quote(100_000, "put", 95_000, 0.5),
    ];
    expect(markParityForward(stale)).toBeCloseTo(F, PARITY_FORWARD_DIGITS);
    // Linear (USDC) marks in USD: C - P = F - K.
    const linear = [90_000, 92_000].flatMap((K) =>
      (["call", "put"] as const).map((kind) => ({
        instrument: instrumentFromName(
          `BTC_USDC-27MAR26-${K}-${kind === "call" ? "C" : "P"}`,
        ) as OptionContract,
        timestamp: NOW,
        bid: null,
        ask: null,
        mark: blackPrice({ forward: F, strike: K, expiry: T, vol: 0.5, kind }),
      })),
    );
    expect(markParityForward(linear)).toBeCloseTo(F, PARITY_FORWARD_DIGITS);
    // One pair is not evidence of one forward (marks set each on its own give any number), nor
    // are two pairs that disagree by more than 1e-5.
    expect(markParityForward(inverse.slice(0, 2))).toBeNull();
    const apart = [quote(90_000, "call", F * 1.0001, 0.5), quote(90_000, "put", F * 1.0001, 0.5)];
    expect(markParityForward([...inverse.slice(0, 2), ...apart])).toBeNull();
    // No strike with both marks: no forward.
    expect(markParityForward([quote(90_000, "call", F, 0.5), quote(95_000, "put", F, 0.5)])).toBeNull();
    expect(
      markParityForward([quote(90_000, "call", F, 0.5), quote(90_000, "put", F, 0.5, { mark: null })]),
    ).toBeNull();
  });

  it("reports a future (else the venue's underlying) within 1e-9 of the marks' forward as printed", () => {
    const F = 91_000;
    const quotes = [88_000, 95_000].flatMap((k) => [
      quote(k, "call", F, 0.5, { underlyingPrice: F * (1 + 5e-10) }),
      quote(k, "put", F, 0.5, { underlyingPrice: F * (1 + 5e-10) }),
    ]);
    const chain: ChainSnapshot = { underlying: "BTC", valuationTime: NOW, indexPrice: 90_000, quotes };
    expect(chainForwards(chain)[0]).toMatchObject({ forward: F * (1 + 5e-10), source: "venue-underlying" });
    const future = { name: "BTC-27MAR26", underlying: "BTC", expiry: EXPIRY, timestamp: NOW, mark: F - 5e-5 };
    expect(chainForwards({ ...chain, futures: [future] })[0]).toMatchObject({
      forward: F - 5e-5,
      source: "future",
    });
  });

  it("prefers a dated future, then the venue's underlying (no call/put pair of marks)", () => {
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
    expect(q.markVol).toBeCloseTo(0.55, EXACT_VOL_DIGITS);
    expect(q.bidVol!).toBeLessThan(0.55);
    expect(q.askVol!).toBeGreaterThan(0.55);
    expect(q.logMoneyness).toBeCloseTo(Math.log(95_000 / F), LOG_MONEYNESS_DIGITS);
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

  it("converts and solves each quote on its expiry's forward (issue 18: BTC-31JUL26-100000-P)", () => {
    // A deep in-the-money put, its call and the 60,000 pair, marked at 63% on F = 62,903.81 (the
    // forward the marks of BTC-31JUL26 imply on 2026-07-13); the quotes' underlying column says
    // 62,906.70. The rule before issue 18 converted the coin mark at 62,906.70 and solved on the
    // future, 62,910.22: the put's time value, about 1 USD, grew by ~8 USD, and the real row's vol
    // went from 0.6296 to 0.745 (test/core/market/deribitMarkVols.test.ts).
    const Ftrue = 62_903.81;
    const expiry = Date.UTC(2026, 6, 31, 8);
    const valuationTime = Date.UTC(2026, 6, 13, 12, 15);
    const t = (expiry - valuationTime) / (365 * 86_400_000);
    const quotes = [60_000, 100_000].flatMap((K) =>
      (["call", "put"] as const).map((kind): OptionQuote => {
        const name = `BTC-31JUL26-${K}-${kind === "call" ? "C" : "P"}`;
        const mark = blackPrice({ forward: Ftrue, strike: K, expiry: t, vol: 0.6296, kind }) / Ftrue;
        return {
          instrument: instrumentFromName(name) as OptionContract,
          timestamp: valuationTime,
          bid: null,
          ask: null,
          mark,
          markIv: 0.6296,
          underlyingPrice: 62_906.7,
        };
      }),
    );
    const future = {
      name: "BTC-31JUL26",
      underlying: "BTC",
      expiry,
      timestamp: valuationTime,
      mark: 62_910.22,
    };
    const n = normalizeChain({
      underlying: "BTC",
      valuationTime,
      indexPrice: 62_880,
      quotes,
      futures: [future],
    });
    expect(n.counts.accepted).toBe(4);
    expect(n.snapshot.forwards[0]).toMatchObject({
      forward: expect.closeTo(Ftrue, PARITY_FORWARD_DIGITS),
      source: "put-call-parity",
    });
    for (const c of n.snapshot.quotes) {
      expect(c.forward).toBeCloseTo(Ftrue, PARITY_FORWARD_DIGITS);
      expect(c.logMoneyness).toBeCloseTo(Math.log(c.instrument.strike / Ftrue), PARITY_LOG_MONEYNESS_DIGITS);
      expect(c.markVol).toBeCloseTo(0.6296, PRINTED_MARK_VOL_DIGITS);
      // Black-76 on the quote's forward at its mark vol, divided by that forward, is its coin mark.
      const back =
        blackPrice({
          forward: c.forward,
          strike: c.instrument.strike,
          expiry: c.timeToExpiry,
          vol: c.markVol as number,
          kind: c.instrument.kind,
        }) / c.forward;
      expect(Math.abs(back / (c.mark as number) - 1)).toBeLessThan(REPRICE_REL);
    }
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
    expect(n.snapshot.quotes[0]?.markVol).toBeCloseTo(0.6, ITM_VOL_DIGITS);
    expect(n.sideIssues[0]).toMatchObject({ side: "bid", detail: expect.stringMatching(/below-intrinsic/) });
  });
});

describe.skipIf(!existsSync(SAMPLE))("normalizeChain on the real Deribit sample (../shared/data)", () => {
  it("reconciles counts, takes each expiry's forward from its marks, and reproduces the venue mark IVs", async () => {
    const { chains } = await loadDeribitCsvFile(SAMPLE);
    for (const chain of chains) {
      const n = normalizeChain(chain);
      expect(n.counts.accepted + n.counts.rejected).toBe(chain.quotes.length);
      expect(n.snapshot.forwards.length).toBeGreaterThan(8);
      for (const f of n.snapshot.forwards) {
        // Every expiry has call/put pairs of marks; each strike's pair implies the expiry's
        // forward by parity, C - P = 1 - K/F, computed here from the file's mark prices (measured
        // max departure 9.3e-7 BTC, 5.9e-6 ETH on this file).
        // A future or underlying price within 1e-9 of that forward is reported under its own source.
        expect(["put-call-parity", "future", "venue-underlying"]).toContain(f.source);
        const marks = new Map<number, { c?: number; p?: number }>();
        for (const q of chain.quotes.filter((x) => x.instrument.expiry === f.expiry)) {
          const e = marks.get(q.instrument.strike) ?? {};
          e[q.instrument.kind === "call" ? "c" : "p"] = q.mark as number;
          marks.set(q.instrument.strike, e);
        }
        const pairs = [...marks].filter(([, m]) => m.c !== undefined && m.p !== undefined);
        expect(pairs.length).toBeGreaterThan(3);
        for (const [K, m] of pairs)
          expect(Math.abs(K / (1 - ((m.c as number) - (m.p as number))) / f.forward - 1)).toBeLessThan(
            SAMPLE_PARITY_REL,
          );
      }
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
      expect(worst).toBeLessThan(SAMPLE_MARK_IV_ABS);
    }
  });
});
