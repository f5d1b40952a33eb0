import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDeribitCsvFile } from "../../../src/adapters/deribit/files.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import {
  deribitExpiryCalendar,
  ssviTotalVarianceAt,
  syntheticChain,
  syntheticChainWithTruth,
} from "../../../src/core/market/synthetic.js";
import { syntheticSeries } from "../../../src/core/market/syntheticSeries.js";

/** Synthetic marks are published to 10 significant digits: ~1e-6 in vol; 5 digits = 5e-6. */
const PUBLISHED_MARK_VOL_DIGITS = 5;
/** Asks sit on the 0.0001-coin tick: ask x 1e4 is an integer up to the double rounding of the product. */
const TICK_ABS = 1e-6;

const SAMPLE = resolve(
  __dirname,
  "../../../../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv",
);
const NOW = Date.parse("2026-01-10T09:14:09Z");

describe("synthetic chain", () => {
  const { chain, truth } = syntheticChainWithTruth({ valuationTime: NOW, seed: 7 });

  it("is deterministic for a seed", () => {
    expect(syntheticChain({ valuationTime: NOW, seed: 7 })).toEqual(chain);
    expect(syntheticChain({ valuationTime: NOW, seed: 8 })).not.toEqual(chain);
  });

  it.skipIf(!existsSync(SAMPLE))(
    "lists the same expiries Deribit listed that day (../shared/data)",
    async () => {
      const real = (await loadDeribitCsvFile(SAMPLE)).chains[0]!;
      const listed = [...new Set(real.quotes.map((q) => q.instrument.expiry))].sort((a, b) => a - b);
      expect(deribitExpiryCalendar(NOW)).toEqual(listed);
    },
  );

  it("passes cleaning whole, and its mark vols are the SSVI surface", () => {
    const n = normalizeChain(chain);
    expect(n.counts.rejected).toBe(0);
    const otm = n.snapshot.quotes.filter(
      (x) => (x.mark as number) > 1e-3 && (x.instrument.kind === "call") === x.logMoneyness > 0,
    );
    expect(otm.length).toBeGreaterThan(300);
    for (const q of otm) {
      const theta = truth.thetaByExpiry.get(q.instrument.expiry) as number;
      const phi = 1.0 / (theta ** 0.4 * (1 + theta) ** 0.6);
      const w = ssviTotalVarianceAt(q.logMoneyness, theta, truth.rho, phi);
      // Marks are published to 10 significant digits: ~1e-6 in vol.
      expect(q.markVol as number).toBeCloseTo(Math.sqrt(w / q.timeToExpiry), PUBLISHED_MARK_VOL_DIGITS);
    }
  });

  it("has bid <= mark <= ask on the tick, wider in the wings, no bid in the far wings", () => {
    for (const q of chain.quotes) {
      if (q.bid !== null) expect(q.bid).toBeLessThanOrEqual(q.mark as number);
      expect(q.ask as number).toBeGreaterThanOrEqual(q.mark as number);
      expect(Math.abs((q.ask as number) * 1e4 - Math.round((q.ask as number) * 1e4))).toBeLessThan(TICK_ABS);
    }
    expect(chain.quotes.some((q) => q.bid === null)).toBe(true);
    const n = normalizeChain(chain).snapshot.quotes.filter(
      (q) => q.bidVol !== null && q.askVol !== null && q.timeToExpiry > 0.2,
    );
    const spread = (q: (typeof n)[number]) => (q.askVol as number) - (q.bidVol as number);
    const atm = n.filter((q) => Math.abs(q.logMoneyness) < 0.05);
    const wing = n.filter((q) => Math.abs(q.logMoneyness) > 0.5);
    const avg = (xs: typeof n) => xs.reduce((s, q) => s + spread(q), 0) / xs.length;
    expect(avg(wing)).toBeGreaterThan(1.5 * avg(atm));
  });

  it("has a put skew and a rising ATM term structure", () => {
    const n = normalizeChain(chain).snapshot;
    const atmVol = (e: number) => {
      const qs = n.quotes.filter((q) => q.instrument.expiry === e);
      return qs.reduce((best, q) => (Math.abs(q.logMoneyness) < Math.abs(best.logMoneyness) ? q : best))
        .markVol as number;
    };
    const expiries = n.forwards.map((f) => f.expiry);
    expect(atmVol(expiries.at(-1) as number)).toBeGreaterThan(atmVol(expiries[0] as number));
    const q90 = n.quotes.filter((q) => q.instrument.expiry === expiries[7] && q.instrument.kind === "put");
    const low = q90.reduce((a, b) => (a.logMoneyness < b.logMoneyness ? a : b));
    const high = n.quotes
      .filter((q) => q.instrument.expiry === expiries[7] && q.instrument.kind === "call")
      .reduce((a, b) => (a.logMoneyness > b.logMoneyness ? a : b));
    expect(low.markVol as number).toBeGreaterThan(high.markVol as number);
  });
});

describe("synthetic series", () => {
  it("moves the index with jumps (fat tails) and clustered vol, and prices a chain at each step", () => {
    const s = syntheticSeries({ start: NOW, steps: 24 * 365, stepMs: 3_600_000, seed: 3 });
    expect(s.spots).toHaveLength(24 * 365 + 1);
    // Fat tails: daily returns have kurtosis above the normal's 3.
    const daily = s.spots.filter((_, i) => i % 24 === 0);
    const r = daily.slice(1).map((x, i) => Math.log(x / (daily[i] as number)));
    const m2 = r.reduce((a, x) => a + x * x, 0) / r.length;
    const m4 = r.reduce((a, x) => a + x ** 4, 0) / r.length;
    expect(m4 / (m2 * m2)).toBeGreaterThan(3.3);
    // Clustering: the path's vol is persistent day to day, and wanders over a wide range.
    const v = s.vols.filter((_, i) => i % 24 === 0);
    const mv = v.reduce((a, x) => a + x, 0) / v.length;
    let num = 0;
    let den = 0;
    for (let i = 1; i < v.length; i++) num += ((v[i] as number) - mv) * ((v[i - 1] as number) - mv);
    for (const x of v) den += (x - mv) ** 2;
    expect(num / den).toBeGreaterThan(0.8);
    expect(Math.max(...v) / Math.min(...v)).toBeGreaterThan(1.8);
    const c = s.chainAt(100);
    expect(c.valuationTime).toBe(s.times[100]);
    expect(c.indexPrice).toBe(s.spots[100]);
    expect(s.chainAt(100)).toEqual(c);
  });
});
