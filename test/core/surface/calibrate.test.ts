import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDeribitCsvFile } from "../../../src/adapters/deribit/files.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import type { CleanQuote } from "../../../src/core/market/types.js";
import { calibrateSurface, calibrateSurfaceFromQuotes } from "../../../src/core/surface/calibrate.js";
import { surfaceTermStructure } from "../../../src/core/surface/queries.js";
import { richCheapList } from "../../../src/core/surface/richCheap.js";
import { surfaceSlicesFromQuotes } from "../../../src/core/surface/sliceData.js";
import { sviTotalVariance } from "../../../src/core/surface/svi.js";
import { DATA_DIR, defined, haveSample, linspace, SAMPLE_CSV, syntheticSlice } from "./helpers.js";

if (!haveSample)
  console.warn(`surface real-data tests skipped: ${SAMPLE_CSV} not found (sibling ../shared/data absent)`);

// Real-data bounds below are fit-quality requirements on the 2026-01-10 sample chain (BTC and ETH), not rounding
// bounds; "measured" is this run's worst over both currencies. They are not tightened here: a tighter bound must
// first be measured over the season (../shared/data daily chains), which this test does not run.
/** Plausible crypto ATM vols: the 1-day BTC ATM mark IV is 13% in this weekend snapshot, so 8% is the floor; 120%
 * catches a unit slip (vol in points); measured max 0.65. */
const ATM_VOL_MIN = 0.08;
const ATM_VOL_MAX = 1.2;
/** Raw SVI (5 parameters per slice): worst slice RMSE to mids under 2 vol pts (measured 1.29), RMS distance outside
 * the bid/ask band under 1 pt (measured 0.80), and at least 85% of two-sided quotes inside their band. */
const SVI_RMSE_MAX_PTS = 2;
const SVI_BAND_MAX_PTS = 1;
const SVI_INSIDE_MIN_SHARE = 0.85;
/** SSVI (3 parameters for the whole surface) and eSSVI (3 per slice), arbitrage-free by construction, so looser:
 * worst RMSE 6 / 5 pts (measured 4.73 / 3.98, ETH), band distance 3 pts (measured 2.52). */
const SSVI_RMSE_MAX_PTS = 6;
const ESSVI_RMSE_MAX_PTS = 5;
const SSVI_BAND_MAX_PTS = 3;
/** The butterfly/calendar repair may cost fit: each slice's RMSE rises by under 1 vol pt; measured worst rise 0.11. */
const REPAIR_RMSE_RISE_MAX_PTS = 1;
/** Cascade regression (BTC 2026-05-13): the forward-only repair put later slices 14-27 pts off their quotes; every
 * repaired slice now stays within 3 pts of its bands (measured worst 0.63). */
const CASCADE_BAND_MAX_PTS = 3;
/** One-slice surface at another T: total variance scaled by T / T0, so the vol is unchanged up to rounding of w x T /
 * T0 and sqrt; measured 0. */
const SCALED_VOL_DIGITS = 12;

describe.skipIf(!haveSample)(
  "real Deribit chain (sample 2026-01-10T09:14Z, Deribit loader + market normalizer)",
  () => {
    const clean = new Map<string, readonly CleanQuote[]>();
    beforeAll(async () => {
      const file = await loadDeribitCsvFile(SAMPLE_CSV);
      for (const chain of file.chains) clean.set(chain.underlying, normalizeChain(chain).snapshot.quotes);
    });
    for (const currency of ["BTC", "ETH"] as const) {
      for (const model of ["svi", "ssvi", "essvi"] as const) {
        it(`${currency} ${model}: fits every expiry, counts reconcile, no NaN, sensible errors`, () => {
          const quotes = clean.get(currency) ?? [];
          expect(quotes.length).toBeGreaterThan(500);
          const res = calibrateSurfaceFromQuotes(quotes, { model });
          expect(res.accepted + res.rejected.length).toBe(res.inputCount);
          expect(res.fit.ok).toBe(true);
          if (!res.fit.ok) return;
          const f = res.fit.value;
          const expiries = new Set(quotes.map((q) => q.instrument.expiry));
          expect(f.slices.length).toBe(expiries.size);
          expect(f.slices.reduce((s, x) => s + x.quoteCount, 0)).toBe(res.accepted);
          for (const s of f.slices) {
            for (const v of Object.values(s.rawSvi)) expect(Number.isFinite(v)).toBe(true);
            expect(Number.isFinite(s.rmseVolPts)).toBe(true);
            // plausible crypto ATM vols
            expect(s.atmVol).toBeGreaterThan(ATM_VOL_MIN);
            expect(s.atmVol).toBeLessThan(ATM_VOL_MAX);
          }
          const rmse = f.slices.map((s) => s.rmseVolPts);
          const worst = Math.max(...rmse);
          const worstBand = Math.max(...f.slices.map((s) => s.bandDistanceRmsVolPts));
          if (model === "svi") {
            // 5 parameters per slice: within ~1.3 vol pts of mids, < 1 pt outside the bid/ask band
            expect(worst).toBeLessThan(SVI_RMSE_MAX_PTS);
            expect(worstBand).toBeLessThan(SVI_BAND_MAX_PTS);
            const inside = f.slices.reduce((s, x) => s + (x.insideBandShare ?? 0) * x.twoSidedCount, 0);
            const two = f.slices.reduce((s, x) => s + x.twoSidedCount, 0);
            expect(inside / two).toBeGreaterThan(SVI_INSIDE_MIN_SHARE);
          } else {
            // 3 parameters per slice (eSSVI) or per surface (SSVI), arbitrage-free by construction
            expect(worst).toBeLessThan(model === "ssvi" ? SSVI_RMSE_MAX_PTS : ESSVI_RMSE_MAX_PTS);
            expect(worstBand).toBeLessThan(SSVI_BAND_MAX_PTS);
            expect(f.arbitrage.free).toBe(true);
          }
          // term structure and rich/cheap on the fitted surface
          const ts = surfaceTermStructure(f.surface);
          for (const t of ts)
            expect(Number.isFinite(t.riskReversal25) && Number.isFinite(t.butterfly25)).toBe(true);
          const rc = richCheapList(f.surface, f.data);
          expect(rc.length).toBe(res.accepted);
          for (const e of rc) {
            expect(e.quoteCurrency).toBe("coin");
            expect(Number.isFinite(e.premiumDiffQuote)).toBe(true);
            // premium and vol differences have the same sign (vega > 0)
            if (Math.abs(e.volDiffPts) > 1e-6)
              expect(Math.sign(e.premiumDiffUsd as number)).toBe(Math.sign(e.volDiffPts));
          }
        });
      }

      it(`${currency} svi with repair: arbitrage-free and close to the unrepaired fit`, () => {
        const quotes = clean.get(currency) ?? [];
        const plain = calibrateSurfaceFromQuotes(quotes, { model: "svi" });
        const rep = calibrateSurfaceFromQuotes(quotes, { model: "svi", repair: true });
        expect(plain.fit.ok && rep.fit.ok).toBe(true);
        if (!plain.fit.ok || !rep.fit.ok) return;
        expect(rep.fit.value.arbitrage.free).toBe(true);
        rep.fit.value.slices.forEach((s, i) => {
          const before = plain.fit.ok ? defined(plain.fit.value.slices[i], `plain slice ${i}`).rmseVolPts : 0;
          expect(s.rmseVolPts).toBeLessThan(before + REPAIR_RMSE_RISE_MAX_PTS);
        });
      });
    }
  },
);

const CASCADE_FILE = resolve(DATA_DIR, "deribit/daily/deribit_options_snapshot_20260513T113501Z.csv.gz");

describe.skipIf(!existsSync(CASCADE_FILE))("regression: SVI repair cascade (BTC 2026-05-13)", () => {
  it("a short expiry's steep extrapolated wing no longer drags every later slice up: repaired surface is arbitrage-free and stays within 3 vol pts of the bid/ask bands", async () => {
    // forward-only repair put later slices 14-27 vol pts off their quotes; the backward pass bounds short wings by long ones
    const file = await loadDeribitCsvFile(CASCADE_FILE);
    const chain = file.chains.find((c) => c.underlying === "BTC");
    expect(chain).toBeDefined();
    if (!chain) return;
    const res = calibrateSurfaceFromQuotes(normalizeChain(chain).snapshot.quotes, {
      model: "svi",
      repair: true,
    });
    expect(res.fit.ok).toBe(true);
    if (!res.fit.ok) return;
    expect(res.fit.value.arbitrage.free).toBe(true);
    for (const s of res.fit.value.slices) expect(s.bandDistanceRmsVolPts).toBeLessThan(CASCADE_BAND_MAX_PTS);
  });
});

describe("bad input", () => {
  const base = (over: Partial<CleanQuote>, i: number): CleanQuote => ({
    instrument: {
      type: "option",
      name: `X-${i}`,
      underlying: "BTC",
      kind: "call",
      strike: 100 + i,
      expiry: 1_800_000_000_000,
      settlement: "inverse",
      contractSize: 1,
    },
    timestamp: 0,
    bid: 0.01,
    ask: 0.02,
    mark: 0.015,
    forward: 100,
    timeToExpiry: 0.1,
    logMoneyness: Math.log((100 + i) / 100),
    bidVol: 0.5,
    askVol: 0.55,
    midVol: 0.525,
    markVol: 0.52,
    ...over,
  });

  it("all quotes crossed: a clear failure with reason counts, no NaN", () => {
    const quotes = [0, 1, 2, 3, 4, 5].map((i) => base({ bidVol: 0.6, askVol: 0.5 }, i));
    const res = calibrateSurfaceFromQuotes(quotes);
    expect(res.fit.ok).toBe(false);
    if (res.fit.ok) return;
    expect(res.fit.reason).toBe("no-usable-quotes");
    expect(res.fit.message).toMatch(/crossed 6/);
    expect(res.rejected.length).toBe(6);
  });

  it("one-sided quotes fall back to the mark vol (source 'mark'); no vol at all is rejected as no-vol", () => {
    const quotes = [base({ bidVol: null }, 0), base({ bidVol: null, markVol: null }, 1), base({}, 2)];
    const built = surfaceSlicesFromQuotes(quotes);
    expect(built.accepted).toBe(2);
    expect(built.rejected).toEqual([{ index: 1, name: "X-1", reason: "no-vol" }]);
    expect(built.slices[0]?.quotes.find((q) => q.name === "X-0")?.source).toBe("mark");
  });

  it("expired and non-finite quotes are rejected with reasons", () => {
    const built = surfaceSlicesFromQuotes([
      base({ timeToExpiry: 0 }, 0),
      base({ logMoneyness: Number.NaN }, 1),
    ]);
    expect(built.rejected.map((r) => r.reason)).toEqual(["expired", "non-finite"]);
  });

  it("ITM duplicates at a strike with a usable OTM quote are rejected as itm-duplicate", () => {
    const call = base({}, 5); // k > 0: call is OTM
    const put = base({ instrument: { ...call.instrument, kind: "put", name: "P" } }, 5);
    const built = surfaceSlicesFromQuotes([call, put]);
    expect(built.rejected).toEqual([{ index: 1, name: "P", reason: "itm-duplicate" }]);
  });

  it("one-sided quotes beyond 6 ATM standard deviations are rejected as far-wing-one-sided", () => {
    // T = 0.1, ATM vol 0.525: 6 sd = 0.996 in k
    const near = base({ bidVol: null }, 0); // k = 0, mark-only but near
    const far = base({ bidVol: null, logMoneyness: 1.2 }, 1);
    const farTwoSided = base({ logMoneyness: 1.3 }, 2);
    const built = surfaceSlicesFromQuotes([near, far, farTwoSided, base({}, 3)]);
    expect(built.rejected).toEqual([{ index: 1, name: "X-1", reason: "far-wing-one-sided" }]);
    expect(
      surfaceSlicesFromQuotes([near, far], { farWingStdDevs: Number.POSITIVE_INFINITY }).rejected,
    ).toEqual([]);
  });

  it("no slices: a failure value, not a throw", () => {
    const res = calibrateSurface([]);
    expect(res.ok).toBe(false);
  });

  it("too few strikes in every model: degraded but finite fits that say so", () => {
    const p = { a: 0.01, b: 0.08, rho: -0.4, m: 0.05, sigma: 0.15 };
    const slices = [syntheticSlice((k) => sviTotalVariance(p, k), 0.25, [-0.1, 0.1])];
    for (const model of ["svi", "ssvi", "essvi"] as const) {
      const res = calibrateSurface(slices, { model });
      expect(res.ok).toBe(true);
      if (!res.ok) continue;
      expect(res.value.warnings.length).toBeGreaterThan(0);
      for (const v of Object.values(defined(res.value.slices[0], "slice 0").rawSvi))
        expect(Number.isFinite(v)).toBe(true);
    }
  });

  it("a one-slice surface answers vol queries at any T (scaled total variance)", () => {
    const p = { a: 0.01, b: 0.08, rho: -0.4, m: 0.05, sigma: 0.15 };
    const res = calibrateSurface([
      syntheticSlice((k) => sviTotalVariance(p, k), 0.25, linspace(-0.5, 0.5, 21)),
    ]);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const v = res.value.surface.impliedVol(0, 0.25);
    expect(res.value.surface.impliedVol(0, 1)).toBeCloseTo(v, SCALED_VOL_DIGITS);
    expect(res.value.surface.totalVariance(0, 0)).toBe(0);
  });
});
