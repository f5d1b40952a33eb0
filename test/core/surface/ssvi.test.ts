import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { calendarCheck, surfaceArbitrageReport } from "../../../src/core/surface/arbitrage.js";
import { calibrateSurface } from "../../../src/core/surface/calibrate.js";
import { essviSmile, essviSurface, ssviSurface } from "../../../src/core/surface/interpolate.js";
import {
  essviCalendarSlack,
  essviFirstDerivative,
  essviGradient,
  essviSecondDerivative,
  essviToRawSvi,
  essviTotalVariance,
  ssviSlice,
} from "../../../src/core/surface/ssvi.js";
import { fitEssviSurface, fitSsviSurface } from "../../../src/core/surface/ssviFit.js";
import { sviTotalVariance } from "../../../src/core/surface/svi.js";
import { linspace, syntheticSlice } from "./helpers.js";

const ks = linspace(-0.8, 0.8, 33);

describe("SSVI / eSSVI slices", () => {
  it("the SSVI formula in GJ's form theta/2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2)) and its raw SVI equivalent agree", () => {
    const p = { theta: 0.09, rho: -0.35, psi: 0.3 };
    const phi = p.psi / p.theta;
    const raw = essviToRawSvi(p);
    for (const k of ks) {
      const gj = (p.theta / 2) * (1 + p.rho * phi * k + Math.sqrt((phi * k + p.rho) ** 2 + 1 - p.rho ** 2));
      expect(essviTotalVariance(p, k)).toBeCloseTo(gj, 14);
      expect(sviTotalVariance(raw, k)).toBeCloseTo(gj, 14);
    }
    expect(essviTotalVariance(p, 0)).toBeCloseTo(p.theta, 15);
  });

  it("derivatives and parameter gradient agree with central differences", () => {
    const h = 1e-6;
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        fc.double({ min: -0.9, max: 0.9, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (theta, rho, psi, k) => {
          const p = { theta, rho, psi };
          expect(essviFirstDerivative(p, k)).toBeCloseTo(
            (essviTotalVariance(p, k + h) - essviTotalVariance(p, k - h)) / (2 * h),
            6,
          );
          expect(essviSecondDerivative(p, k)).toBeCloseTo(
            (essviFirstDerivative(p, k + h) - essviFirstDerivative(p, k - h)) / (2 * h),
            3,
          );
          const g = [0, 0, 0];
          essviGradient(p, k, g);
          (["theta", "rho", "psi"] as const).forEach((key, j) => {
            const up = { ...p, [key]: p[key] + h };
            const dn = { ...p, [key]: p[key] - h };
            expect(g[j]).toBeCloseTo((essviTotalVariance(up, k) - essviTotalVariance(dn, k)) / (2 * h), 6);
          });
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it("property: eSSVI nodes built by scaling (lambda >= 1) then raising theta are arbitrage-free, also between nodes", () => {
    fc.assert(
      fc.property(
        fc.record({
          theta: fc.double({ min: 0.001, max: 0.05, noNaN: true }),
          rho: fc.double({ min: -0.8, max: 0.8, noNaN: true }),
        }),
        fc.array(
          fc.record({
            lambda: fc.double({ min: 1, max: 2, noNaN: true }),
            dtheta: fc.double({ min: 0, max: 0.05, noNaN: true }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        (first, steps) => {
          // start at the largest butterfly-admissible psi: psi^2 (1+|rho|) = 4 theta / 2
          let p = {
            theta: first.theta,
            rho: first.rho,
            psi: Math.sqrt((2 * first.theta) / (1 + Math.abs(first.rho))),
          };
          const nodes = [{ expiry: 0.1, params: p }];
          steps.forEach((s, i) => {
            const psi = Math.min(p.psi * s.lambda, 3.9 / (1 + Math.abs(p.rho)));
            const lam = psi / p.psi;
            const theta = Math.max(p.theta * lam + s.dtheta, (psi * psi * (1 + Math.abs(p.rho))) / 4);
            p = { theta, rho: p.rho, psi };
            nodes.push({ expiry: 0.1 * (i + 2), params: p });
          });
          const surface = essviSurface(nodes);
          const report = surfaceArbitrageReport(surface, { tolerance: 1e-12 });
          expect(report.calendarFree).toBe(true);
          expect(report.butterflyFree).toBe(true);
          for (const T of [0.05, 0.13, 0.17, 0.25, 0.6]) {
            expect(
              calendarCheck(surface.smileAt(T), surface.smileAt(T + 0.02), { tolerance: 1e-12 }).free,
            ).toBe(true);
          }
        },
      ),
      { numRuns: 60, seed: 5 },
    );
  });

  it("regression: theta and call wing up with the put wing unchanged is NOT calendar-free (deep put wing)", () => {
    // found by fast-check: w ~ (putWing |k| + theta (1 - rho)) / 2 as k -> -infinity, and theta (1 - rho) fell
    const a = { theta: 0.001, psi: 0.01, rho: 0 };
    const cw = 0.03104995020081156;
    const pw = 0.01;
    const b = { theta: 0.002, psi: (cw + pw) / 2, rho: (cw - pw) / (cw + pw) };
    const slack = essviCalendarSlack(a, b);
    expect(Math.min(slack.theta, slack.putWing, slack.callWing)).toBeGreaterThanOrEqual(-1e-15);
    expect(essviTotalVariance(b, -100)).toBeLessThan(essviTotalVariance(a, -100));
    const report = calendarCheck(essviSmile(a, 0.1), essviSmile(b, 0.2), { minHalfWidth: 100, tolerance: 0 });
    expect(report.free).toBe(false);
  });
});

describe("SSVI / eSSVI calibration", () => {
  const truth = { rho: -0.3, eta: 1.1, gamma: 0.35 };
  const nodes = [
    { expiry: 0.05, theta: 0.02 },
    { expiry: 0.2, theta: 0.06 },
    { expiry: 0.5, theta: 0.14 },
    { expiry: 1, theta: 0.26 },
  ];
  const truthSurface = ssviSurface(truth, nodes);
  const slices = nodes.map((n) =>
    syntheticSlice((k) => truthSurface.totalVariance(k, n.expiry), n.expiry, ks),
  );

  it("power-law SSVI: recovers (rho, eta, gamma) and thetas from an exact SSVI surface", () => {
    const fit = fitSsviSurface(slices);
    expect(fit.params.rho).toBeCloseTo(truth.rho, 4);
    expect(fit.params.eta).toBeCloseTo(truth.eta, 3);
    expect(fit.params.gamma).toBeCloseTo(truth.gamma, 3);
    for (const [i, n] of fit.nodes.entries()) expect(n.theta).toBeCloseTo(nodes[i].theta, 6);
    expect(fit.degraded).toBeNull();
  });

  it("eSSVI: recovers each slice's (theta, rho, psi) from the same surface", () => {
    const fits = fitEssviSurface(slices);
    fits.forEach((f, i) => {
      const exact = ssviSlice(truth, nodes[i].theta);
      expect(f.params.theta).toBeCloseTo(exact.theta, 6);
      expect(f.params.rho).toBeCloseTo(exact.rho, 4);
      expect(f.params.psi).toBeCloseTo(exact.psi, 4);
    });
  });

  it("ssvi and essvi fits of a raw SVI chain are arbitrage-free by construction", () => {
    const sviSlices = [
      { T: 0.05, p: { a: 0.004, b: 0.05, rho: 0.1, m: 0.0, sigma: 0.08 } },
      { T: 0.3, p: { a: 0.02, b: 0.1, rho: -0.2, m: 0.02, sigma: 0.2 } },
      { T: 0.8, p: { a: 0.06, b: 0.12, rho: -0.3, m: 0.05, sigma: 0.3 } },
    ].map((s) => syntheticSlice((k) => sviTotalVariance(s.p, k), s.T, ks));
    for (const model of ["ssvi", "essvi"] as const) {
      const res = calibrateSurface(sviSlices, { model });
      expect(res.ok).toBe(true);
      if (!res.ok) continue;
      expect(res.value.arbitrage.free).toBe(true);
      // SSVI has 3 shape parameters for the whole surface: a looser fit than eSSVI (3 per slice)
      for (const s of res.value.slices) expect(s.rmseVolPts).toBeLessThan(model === "ssvi" ? 5 : 2);
    }
  });

  it("a single expiry: SSVI is degraded (gamma fixed) and says so; eSSVI fits it", () => {
    const res = calibrateSurface([slices[1]], { model: "ssvi" });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.value.warnings.join(" ")).toMatch(/single expiry/);
    expect(res.value.ssvi?.gamma).toBe(0.5);
    expect(res.value.slices[0].rmseVolPts).toBeLessThan(0.01);
    const e = calibrateSurface([slices[1]], { model: "essvi" });
    expect(e.ok && e.value.slices[0].rmseVolPts < 1e-3).toBe(true);
  });

  it("eSSVI smile helper and interpolated surface agree at the nodes", () => {
    const p = ssviSlice(truth, 0.06);
    const s = essviSmile(p, 0.2);
    const surf = essviSurface([{ expiry: 0.2, params: p }]);
    for (const k of ks) expect(surf.totalVariance(k, 0.2)).toBeCloseTo(s.totalVariance(k), 15);
  });
});
