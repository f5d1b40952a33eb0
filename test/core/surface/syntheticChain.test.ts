/**
 * Synthetic chains through prices: known SVI / SSVI surfaces -> Black-76 bid/ask prices in coin
 * (inverse options, a fixed relative spread) -> implied vols (core pricing) -> CleanQuote ->
 * calibrateSurfaceFromQuotes. The known parameters must come back to tolerance.
 */
import { describe, expect, it } from "vitest";
import type { CleanQuote } from "../../../src/core/market/types.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import { impliedVol } from "../../../src/core/pricing/impliedVol.js";
import { calibrateSurfaceFromQuotes } from "../../../src/core/surface/calibrate.js";
import { ssviSurface } from "../../../src/core/surface/interpolate.js";
import { type SviParams, sviTotalVariance } from "../../../src/core/surface/svi.js";
import { defined } from "./helpers.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 10, 9);
// The chains carry exact Black prices with a +-1% (SSVI: 0.5%) coin spread; the fitter sees mid vols = the mean of
// the bid and ask vols, which differ from the true vol by a second-order convexity term (~spread^2 x vomma / vega),
// and strikes rounded to whole USD. Measured on this run; tightened where the old bound was >100x the measured error.
/** Raw SVI smile vs the true smile on +-3 sd: tightened from 2e-3 to 5e-4; measured worst 3.3e-6 (~150x). */
const SMILE_VOL_TOL = 5e-4;
/** Raw SVI fit RMSE to the mid vols (vol pts): tightened from 0.05 to 5e-3; measured worst 3.0e-5 (~170x). */
const SVI_RMSE_MAX_PTS = 5e-3;
/** Raw SVI rho (weakly identified in flat directions, hence compared loosely): tightened from 1 to 2 digits (5e-3);
 * measured 1.2e-5. */
const SVI_RHO_DIGITS = 2;
/** SSVI (rho, eta, gamma) from prices: tightened from 2 / 1 / 1 digits to 4 / 3 / 4 (5e-5 / 5e-4 / 5e-5); measured
 * 6.8e-9 / 2.8e-6 / 2.2e-7 (>100x: the optimiser's stop, not the data, sets them). */
const SSVI_RHO_DIGITS = 4;
const SSVI_ETA_DIGITS = 3;
const SSVI_GAMMA_DIGITS = 4;
/** SSVI fit RMSE per slice (vol pts): tightened from 0.1 to 5e-3; measured worst 2.3e-5 (~200x). */
const SSVI_RMSE_MAX_PTS = 5e-3;

/** A chain of calls and puts on a strike grid for each (T, w(k)). */
function chain(
  slices: { days: number; forward: number; w: (k: number) => number }[],
  halfSpread = 0.01,
): CleanQuote[] {
  const out: CleanQuote[] = [];
  for (const s of slices) {
    const T = (s.days * DAY) / (365 * DAY);
    const sd = Math.sqrt(s.w(0));
    for (let i = -12; i <= 12; i++) {
      const k = (i / 12) * 3 * sd;
      const K = Math.round(s.forward * Math.exp(k));
      const kk = Math.log(K / s.forward);
      const vol = Math.sqrt(s.w(kk) / T);
      for (const kind of ["call", "put"] as const) {
        const usd = blackPrice({ forward: s.forward, strike: K, expiry: T, vol, kind });
        const mid = usd / s.forward; // coin
        const bid = mid * (1 - halfSpread);
        const ask = mid * (1 + halfSpread);
        const iv = (p: number) =>
          impliedVol({ price: p * s.forward, forward: s.forward, strike: K, expiry: T, kind });
        const bidVol = iv(bid);
        const askVol = iv(ask);
        out.push({
          instrument: {
            type: "option",
            name: `SYN-${s.days}D-${K}-${kind === "call" ? "C" : "P"}`,
            underlying: "BTC",
            kind,
            strike: K,
            expiry: NOW + s.days * DAY,
            settlement: "inverse",
            contractSize: 1,
          },
          timestamp: NOW,
          bid,
          ask,
          mark: mid,
          forward: s.forward,
          timeToExpiry: T,
          logMoneyness: kk,
          bidVol: Number.isFinite(bidVol) ? bidVol : null,
          askVol: Number.isFinite(askVol) ? askVol : null,
          midVol: Number.isFinite(bidVol) && Number.isFinite(askVol) ? 0.5 * (bidVol + askVol) : null,
          markVol: vol,
        });
      }
    }
  }
  return out;
}

describe("synthetic chains with known parameters (through prices and implied vols)", () => {
  it("raw SVI per expiry: parameters recovered (mid vols are not exactly the true vols: tolerance 5e-4)", () => {
    const truth: { days: number; p: SviParams }[] = [
      { days: 7, p: { a: 0.0015, b: 0.02, rho: -0.2, m: 0.005, sigma: 0.05 } },
      { days: 30, p: { a: 0.008, b: 0.05, rho: -0.3, m: 0.01, sigma: 0.12 } },
      { days: 180, p: { a: 0.05, b: 0.12, rho: -0.25, m: 0.03, sigma: 0.3 } },
    ];
    const quotes = chain(
      truth.map((t) => ({ days: t.days, forward: 90_000, w: (k: number) => sviTotalVariance(t.p, k) })),
    );
    const res = calibrateSurfaceFromQuotes(quotes, { model: "svi" });
    expect(res.accepted + res.rejected.length).toBe(quotes.length);
    expect(res.fit.ok).toBe(true);
    if (!res.fit.ok) return;
    res.fit.value.slices.forEach((s, i) => {
      const p = defined(truth[i], `truth ${i}`).p;
      expect(s.rmseVolPts).toBeLessThan(SVI_RMSE_MAX_PTS);
      expect(s.insideBandShare).toBe(1);
      // compare smiles (parameters are weakly identified in flat directions): max vol error on +-3 sd
      const T = s.expiry;
      for (let k = -0.3; k <= 0.3; k += 0.01) {
        const a = Math.sqrt(sviTotalVariance(s.rawSvi, k) / T);
        const b = Math.sqrt(sviTotalVariance(p, k) / T);
        if (Math.abs(k) < 3 * Math.sqrt(sviTotalVariance(p, 0)))
          expect(Math.abs(a - b)).toBeLessThan(SMILE_VOL_TOL);
      }
      expect(s.rawSvi.rho).toBeCloseTo(p.rho, SVI_RHO_DIGITS);
    });
  });

  it("power-law SSVI surface: (rho, eta, gamma) recovered from prices", () => {
    const truth = { rho: -0.35, eta: 0.9, gamma: 0.4 };
    const nodes = [
      { days: 7, theta: 0.3 ** 2 * (7 / 365) },
      { days: 30, theta: 0.4 ** 2 * (30 / 365) },
      { days: 90, theta: 0.45 ** 2 * (90 / 365) },
      { days: 270, theta: 0.5 ** 2 * (270 / 365) },
    ];
    const surf = ssviSurface(
      truth,
      nodes.map((n) => ({ expiry: n.days / 365, theta: n.theta })),
    );
    const quotes = chain(
      nodes.map((n) => ({
        days: n.days,
        forward: 3_000,
        w: (k: number) => surf.totalVariance(k, n.days / 365),
      })),
      0.005,
    );
    const res = calibrateSurfaceFromQuotes(quotes, { model: "ssvi" });
    expect(res.fit.ok).toBe(true);
    if (!res.fit.ok) return;
    const p = res.fit.value.ssvi;
    expect(p?.rho).toBeCloseTo(truth.rho, SSVI_RHO_DIGITS);
    expect(p?.eta).toBeCloseTo(truth.eta, SSVI_ETA_DIGITS);
    expect(p?.gamma).toBeCloseTo(truth.gamma, SSVI_GAMMA_DIGITS);
    expect(res.fit.value.arbitrage.free).toBe(true);
    for (const s of res.fit.value.slices) expect(s.rmseVolPts).toBeLessThan(SSVI_RMSE_MAX_PTS);
  });
});
