import { describe, expect, it } from "vitest";
import { calibrateSurface } from "../../../src/core/surface/calibrate.js";
import { fitEssviSurface } from "../../../src/core/surface/essviFit.js";
import { essviTotalVariance, ssviSlice } from "../../../src/core/surface/ssvi.js";
import { durrlemanG } from "./durrleman.js";
import { linspace, syntheticSlice } from "./helpers.js";
import { nodes, slices, sviSlices, truth, truthSurface } from "./ssviFixtures.js";

/** Named tolerances (issue 25 item 5), each with what sets it. */
// Noise-free SSVI quotes (an eSSVI special case): LM reaches each slice's exact parameters (observed 1e-13).
const RECOVERY_TOL = 1e-9;
// Single expiry, exact eSSVI data: vol error only from LM's stop, in vol points.
const SINGLE_EXPIRY_RMSE_PTS = 1e-3;
// Raw SVI chain (not in the SSVI family): SSVI has 3 shape parameters for the whole surface, eSSVI 3 per
// slice, so SSVI fits looser; vol-point bounds above the measured worst slice, 3.46 (ssvi) and 0.23 (essvi).
const SSVI_ON_SVI_RMSE_PTS = 4;
const ESSVI_ON_SVI_RMSE_PTS = 0.5;
// Durrleman's g by central differences (test/core/surface/durrleman.ts): rounding ~1e-8 per unit w.
const G_FD_TOL = 1e-6;

describe("eSSVI fit", () => {
  it("recovers each slice's (theta, rho, psi) from an exact SSVI surface", () => {
    const fits = fitEssviSurface(slices);
    expect(fits.map((f) => f.expiry)).toEqual(nodes.map((n) => n.expiry));
    fits.forEach((f, i) => {
      const exact = ssviSlice(truth, nodes[i]?.theta ?? Number.NaN);
      expect(Math.abs(f.params.theta - exact.theta)).toBeLessThan(RECOVERY_TOL);
      expect(Math.abs(f.params.rho - exact.rho)).toBeLessThan(RECOVERY_TOL);
      expect(Math.abs(f.params.psi - exact.psi)).toBeLessThan(RECOVERY_TOL);
      expect(f.degraded).toBeNull();
    });
  });

  it("fits of a raw SVI chain: every node passes Durrleman's g >= 0 and w(k) rises with T out to |k| = 20", () => {
    const fits = fitEssviSurface(sviSlices);
    const wide = linspace(-20, 20, 401);
    fits.forEach((f, i) => {
      for (const k of wide)
        expect(durrlemanG((x) => essviTotalVariance(f.params, x), k)).toBeGreaterThan(-G_FD_TOL);
      const prev = fits[i - 1];
      if (prev === undefined) return;
      for (const k of wide)
        expect(essviTotalVariance(f.params, k)).toBeGreaterThanOrEqual(essviTotalVariance(prev.params, k));
    });
  });

  it("ssvi and essvi fits of a raw SVI chain are arbitrage-free by the arbitrage report, eSSVI the closer", () => {
    for (const model of ["ssvi", "essvi"] as const) {
      const res = calibrateSurface(sviSlices, { model });
      expect(res.ok).toBe(true);
      if (!res.ok) continue;
      expect(res.value.arbitrage.free).toBe(true);
      const bound = model === "ssvi" ? SSVI_ON_SVI_RMSE_PTS : ESSVI_ON_SVI_RMSE_PTS;
      for (const s of res.value.slices) expect(s.rmseVolPts).toBeLessThan(bound);
    }
  });

  it("a single expiry fits exactly; under 3 distinct strikes the slice is flagged degraded", () => {
    const one = calibrateSurface(slices.slice(1, 2), { model: "essvi" });
    expect(one.ok && one.value.slices[0] !== undefined).toBe(true);
    if (one.ok) expect(one.value.slices[0]?.rmseVolPts).toBeLessThan(SINGLE_EXPIRY_RMSE_PTS);
    const sparse = syntheticSlice((k) => truthSurface.totalVariance(k, 0.5), 0.5, [-0.1, 0.1]);
    const [first, second] = fitEssviSurface([slices[0] ?? sparse, sparse]);
    expect(first?.degraded).toBeNull();
    expect(second?.degraded).toMatch(/only 2 distinct strike\(s\): smile shape copied/);
  });
});
