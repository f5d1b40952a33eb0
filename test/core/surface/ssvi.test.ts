import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { calendarCheck, surfaceArbitrageReport } from "../../../src/core/surface/arbitrage.js";
import { essviSmile, essviSurface } from "../../../src/core/surface/interpolate.js";
import {
  essviButterflySlack,
  essviCalendarSlack,
  essviFirstDerivative,
  essviGradient,
  essviSecondDerivative,
  essviToRawSvi,
  essviTotalVariance,
} from "../../../src/core/surface/ssvi.js";
import { sviTotalVariance } from "../../../src/core/surface/svi.js";
import { durrlemanG } from "./durrleman.js";
import { linspace } from "./helpers.js";

/** Named tolerances (issue 25 item 5), each with what sets it. */
// The same slice in two algebraic forms: a few roundings of O(0.1) total variances.
const FORMULA_TOL = 1e-14;
// Central differences with h = 1e-6: truncation h^2 |w'''| / 6 plus rounding eps |w| / h, with w''' up to
// ~1e3 at the smallest theta of the property below: about 2e-7 at worst.
const FD_FIRST_TOL = 5e-7;
// Second derivative as a difference of analytic first derivatives: eps |w'| / h ~ 1e-10 plus h^2 |w''''| / 6
// (w'''' up to ~1e9 near k = -rho theta / psi when theta is 1e-3 and psi near 1).
const FD_SECOND_TOL = 5e-4;
// Durrleman's g from central second differences of w (h = 1e-4): rounding eps w / h^2 ~ 1e-8 per unit w.
const G_FD_TOL = 1e-6;
// The arbitrage report's own check level (exact arithmetic in the property's construction).
const REPORT_TOL = 1e-12;

const ks = linspace(-0.8, 0.8, 33);

describe("SSVI / eSSVI slices", () => {
  it("the SSVI formula in GJ's form theta/2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2)) and its raw SVI equivalent agree", () => {
    const p = { theta: 0.09, rho: -0.35, psi: 0.3 };
    const phi = p.psi / p.theta;
    const raw = essviToRawSvi(p);
    for (const k of ks) {
      const gj = (p.theta / 2) * (1 + p.rho * phi * k + Math.sqrt((phi * k + p.rho) ** 2 + 1 - p.rho ** 2));
      expect(Math.abs(essviTotalVariance(p, k) - gj)).toBeLessThan(FORMULA_TOL);
      expect(Math.abs(sviTotalVariance(raw, k) - gj)).toBeLessThan(FORMULA_TOL);
    }
    expect(Math.abs(essviTotalVariance(p, 0) - p.theta)).toBeLessThan(FORMULA_TOL);
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
          const fd1 = (essviTotalVariance(p, k + h) - essviTotalVariance(p, k - h)) / (2 * h);
          expect(Math.abs(essviFirstDerivative(p, k) - fd1)).toBeLessThan(FD_FIRST_TOL);
          const fd2 = (essviFirstDerivative(p, k + h) - essviFirstDerivative(p, k - h)) / (2 * h);
          expect(Math.abs(essviSecondDerivative(p, k) - fd2)).toBeLessThan(FD_SECOND_TOL);
          const g = [0, 0, 0];
          essviGradient(p, k, g);
          (["theta", "rho", "psi"] as const).forEach((key, j) => {
            const up = { ...p, [key]: p[key] + h };
            const dn = { ...p, [key]: p[key] - h };
            const fd = (essviTotalVariance(up, k) - essviTotalVariance(dn, k)) / (2 * h);
            expect(Math.abs((g[j] ?? Number.NaN) - fd)).toBeLessThan(FD_FIRST_TOL);
          });
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it("property (GJ 2014 Thm 4.2): psi (1 + |rho|) < 4 and psi^2 (1 + |rho|) <= 4 theta give Durrleman's g >= 0", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        fc.double({ min: -0.95, max: 0.95, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (theta, rho, share) => {
          // the largest psi both conditions allow, times share in (0, 1]
          const s = 1 + Math.abs(rho);
          const psi = share * Math.min(3.99 / s, Math.sqrt((4 * theta) / s));
          const p = { theta, rho, psi };
          const slack = essviButterflySlack(p);
          expect(Math.min(slack.wing, slack.curvature)).toBeGreaterThanOrEqual(0);
          for (const k of linspace(-3, 3, 61)) {
            expect(durrlemanG((x) => essviTotalVariance(p, x), k)).toBeGreaterThan(-G_FD_TOL);
          }
        },
      ),
      { numRuns: 100, seed: 11 },
    );
  });

  it("the GJ conditions are sharp enough to matter: a wing psi (1 + |rho|) = 4.4 has g < 0 far in the wing", () => {
    const rho = -0.4;
    const psi = 4.4 / (1 + Math.abs(rho));
    const p = { theta: psi * psi, rho, psi }; // curvature condition holds, the wing one fails
    expect(essviButterflySlack(p).wing).toBeLessThan(0);
    const gMin = Math.min(
      ...linspace(-40, 40, 801).map((k) => durrlemanG((x) => essviTotalVariance(p, x), k)),
    );
    expect(gMin).toBeLessThan(-G_FD_TOL);
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
          const report = surfaceArbitrageReport(surface, { tolerance: REPORT_TOL });
          expect(report.calendarFree).toBe(true);
          expect(report.butterflyFree).toBe(true);
          for (const T of [0.05, 0.13, 0.17, 0.25, 0.6]) {
            expect(
              calendarCheck(surface.smileAt(T), surface.smileAt(T + 0.02), { tolerance: REPORT_TOL }).free,
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
    expect(Math.min(slack.theta, slack.putWing, slack.callWing)).toBeGreaterThanOrEqual(-FORMULA_TOL);
    expect(essviTotalVariance(b, -100)).toBeLessThan(essviTotalVariance(a, -100));
    const report = calendarCheck(essviSmile(a, 0.1), essviSmile(b, 0.2), { minHalfWidth: 100, tolerance: 0 });
    expect(report.free).toBe(false);
  });
});
