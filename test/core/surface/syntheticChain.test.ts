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
  it("raw SVI per expiry: parameters recovered (mid vols are not exactly the true vols: tolerance 2e-3)", () => {
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
      expect(s.rmseVolPts).toBeLessThan(0.05);
      expect(s.insideBandShare).toBe(1);
      // compare smiles (parameters are weakly identified in flat directions): max vol error on +-3 sd
      const T = s.expiry;
      for (let k = -0.3; k <= 0.3; k += 0.01) {
        const a = Math.sqrt(sviTotalVariance(s.rawSvi, k) / T);
        const b = Math.sqrt(sviTotalVariance(p, k) / T);
        if (Math.abs(k) < 3 * Math.sqrt(sviTotalVariance(p, 0))) expect(Math.abs(a - b)).toBeLessThan(2e-3);
      }
      expect(s.rawSvi.rho).toBeCloseTo(p.rho, 1);
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
    expect(p?.rho).toBeCloseTo(truth.rho, 2);
    expect(p?.eta).toBeCloseTo(truth.eta, 1);
    expect(p?.gamma).toBeCloseTo(truth.gamma, 1);
    expect(res.fit.value.arbitrage.free).toBe(true);
    for (const s of res.fit.value.slices) expect(s.rmseVolPts).toBeLessThan(0.1);
  });
});
