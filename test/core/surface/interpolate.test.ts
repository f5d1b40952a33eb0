import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { essviParamsAt, essviSurface, ssviSurface } from "../../../src/core/surface/interpolate.js";
import { durrlemanG } from "./durrleman.js";
import { linspace } from "./helpers.js";

/** Named tolerances (issue 25 item 5), each with what sets it. */
// The same total variance by the module and by the GJ closed form below, then a linear blend: a few roundings.
const BLEND_TOL = 1e-15;
// Smile derivatives vs central differences of w (h = 1e-5): truncation h^2 w''' / 6 and rounding eps w / h.
const FD_TOL = 1e-8;
// Durrleman's g by central differences (test/core/surface/durrleman.ts): rounding ~1e-8 per unit w.
const G_FD_TOL = 1e-6;
// w(k, T) non-decreasing in T, compared in floating point: the blend of two equal-ish values may lose 1 ulp.
const CALENDAR_ULP_TOL = 1e-15;

/** Gatheral-Jacquier's SSVI slice in their form (2014, eq. 4.1): theta/2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2)). */
function gjSlice(theta: number, rho: number, phi: number, k: number): number {
  return (theta / 2) * (1 + rho * phi * k + Math.sqrt((phi * k + rho) ** 2 + 1 - rho * rho));
}

const ks = linspace(-1.5, 1.5, 31);

describe("eSSVI surface: linear in total variance between nodes (independent GJ formula)", () => {
  const a = { theta: 0.02, rho: -0.5, psi: 0.15 };
  const b = { theta: 0.09, rho: -0.3, psi: 0.3 };
  const T1 = 0.1;
  const T2 = 0.4;
  const surface = essviSurface([
    { expiry: T1, params: a },
    { expiry: T2, params: b },
  ]);
  const wA = (k: number) => gjSlice(a.theta, a.rho, a.psi / a.theta, k);
  const wB = (k: number) => gjSlice(b.theta, b.rho, b.psi / b.theta, k);

  it("between, before and after the nodes, and at T <= 0", () => {
    for (const k of ks) {
      for (const T of [0.15, 0.25, 0.39]) {
        const x = (T - T1) / (T2 - T1);
        expect(Math.abs(surface.totalVariance(k, T) - ((1 - x) * wA(k) + x * wB(k)))).toBeLessThan(BLEND_TOL);
      }
      expect(Math.abs(surface.totalVariance(k, 0.05) - (wA(k) * 0.05) / T1)).toBeLessThan(BLEND_TOL);
      expect(Math.abs(surface.totalVariance(k, 1) - wB(k) / T2)).toBeLessThan(BLEND_TOL);
      expect(surface.totalVariance(k, 0)).toBe(0);
      expect(Math.abs(surface.impliedVol(k, 0) - Math.sqrt(wA(k) / T1))).toBeLessThan(BLEND_TOL);
    }
  });

  it("the smile at T carries the derivatives of its total variance", () => {
    const h = 1e-5;
    for (const T of [0.05, 0.1, 0.22, 0.4, 0.7]) {
      const smile = surface.smileAt(T);
      for (const k of ks) {
        const up = smile.totalVariance(k + h);
        const dn = smile.totalVariance(k - h);
        expect(Math.abs(smile.firstDerivative(k) - (up - dn) / (2 * h))).toBeLessThan(FD_TOL);
        const d1Up = smile.firstDerivative(k + h);
        const d1Dn = smile.firstDerivative(k - h);
        expect(Math.abs(smile.secondDerivative(k) - (d1Up - d1Dn) / (2 * h))).toBeLessThan(FD_TOL);
      }
    }
  });

  it("essviParamsAt interpolates (theta, psi (1 + rho), psi (1 - rho)) linearly and returns the nodes", () => {
    const nodes = [
      { expiry: T1, params: a },
      { expiry: T2, params: b },
    ];
    const x = 0.25;
    const p = essviParamsAt(nodes, T1 + x * (T2 - T1));
    const lin = (u: number, v: number) => (1 - x) * u + x * v;
    expect(Math.abs(p.theta - lin(a.theta, b.theta))).toBeLessThan(BLEND_TOL);
    expect(Math.abs(p.psi * (1 + p.rho) - lin(a.psi * (1 + a.rho), b.psi * (1 + b.rho)))).toBeLessThan(
      BLEND_TOL,
    );
    expect(Math.abs(p.psi * (1 - p.rho) - lin(a.psi * (1 - a.rho), b.psi * (1 - b.rho)))).toBeLessThan(
      BLEND_TOL,
    );
    const atNode = essviParamsAt(nodes, T1);
    expect(
      Math.abs(atNode.theta - a.theta) + Math.abs(atNode.rho - a.rho) + Math.abs(atNode.psi - a.psi),
    ).toBeLessThan(BLEND_TOL);
    expect(() => essviParamsAt([], 0.1)).toThrow(/slices/);
  });
});

describe("power-law SSVI surface (GJ 2014 Cor. 4.1: gamma in (0, 1/2], eta (1 + |rho|) <= 2 is arbitrage-free)", () => {
  it("property: w(k, T) non-decreasing in T and Durrleman's g >= 0 at nodes, between and beyond them", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -0.9, max: 0.9, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 0.05, max: 0.5, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 0.2, noNaN: true }), { minLength: 1, maxLength: 4 }),
        (rho, etaShare, gamma, increments) => {
          const params = { rho, eta: (etaShare * 2) / (1 + Math.abs(rho)), gamma };
          let theta = 0.005;
          const nodes = increments.map((d, i) => {
            theta += d;
            return { expiry: 0.1 * (i + 1), theta };
          });
          const surface = ssviSurface(params, nodes);
          const Ts = linspace(0.02, 0.1 * nodes.length + 0.2, 15);
          for (const k of linspace(-2, 2, 21)) {
            let prev = 0;
            for (const T of Ts) {
              const w = surface.totalVariance(k, T);
              expect(w).toBeGreaterThanOrEqual(prev - CALENDAR_ULP_TOL);
              prev = w;
              expect(durrlemanG((x) => surface.totalVariance(x, T), k)).toBeGreaterThan(-G_FD_TOL);
            }
          }
          // ATM: w(0, T) = theta(T), linear between the nodes
          const first = nodes[0];
          if (first)
            expect(Math.abs(surface.totalVariance(0, first.expiry) - first.theta)).toBeLessThan(BLEND_TOL);
        },
      ),
      { numRuns: 30, seed: 17 },
    );
  });
});
