import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { branchNodes } from "./branchNodes.js";
import { erfcx } from "../../../src/core/math/normal.js";
import { normalisedImpliedVolOtm } from "../../../src/core/pricing/impliedVol.js";
import {
  LOWER_MAP_NODES,
  lowerMapNodes,
  lowerNodeOverMax,
  lowerNodeVol,
  NODE_FIT_TOLERANCE,
  NODE_FIT_Y_MAX,
  nodeFitR,
  upperNodeOverMax,
} from "../../../src/core/pricing/lbrNodes.js";
import {
  normalisedBlackOtm,
  normalisedBlackScaledOtm,
  normalisedVega,
} from "../../../src/core/pricing/normalisedBlack.js";

const EPS = 2 ** -52;

const ys = Array.from({ length: 400 }, (_, i) => 1e-3 * (NODE_FIT_Y_MAX / 1e-3) ** (i / 399));

describe("fitted Let's Be Rational branch nodes b(x, s_l), b(x, s_h)", () => {
  it(`match the exact normalised Black function within ${NODE_FIT_TOLERANCE} on y = sqrt|x| in [1e-3, ${NODE_FIT_Y_MAX}]`, () => {
    let worst = 0;
    for (const y of ys) {
      const { x, sL, sH } = branchNodes(y);
      const bMax = Math.exp(0.5 * x);
      const eL = Math.abs((bMax * lowerNodeOverMax(y)) / normalisedBlackOtm(x, sL) - 1);
      const eH = Math.abs((bMax * upperNodeOverMax(y)) / normalisedBlackOtm(x, sH) - 1);
      worst = Math.max(worst, eL, eH);
    }
    expect(worst).toBeLessThan(NODE_FIT_TOLERANCE);
    expect(worst).toBeGreaterThan(0); // a fit, not the exact values
  });

  it("prices straddling a node within the fit error still invert to full precision (brackets stay valid)", () => {
    for (const y of ys.filter((_, i) => i % 8 === 0)) {
      const { x, sL, sH } = branchNodes(y);
      for (const sNode of [sL, sH]) {
        for (const rel of [-3e-9, -1e-12, 0, 1e-12, 3e-9]) {
          const s = sNode * (1 + rel);
          const beta = normalisedBlackOtm(x, s);
          const got = normalisedImpliedVolOtm(beta, x);
          // attainable: the conditioning b/(s b') of the price times a few ulps
          const cond = beta / (s * normalisedVega(x, s));
          expect(Math.abs(got - s) / s, `x=${x} s=${s}`).toBeLessThan(Math.max(1e-14, 16 * EPS * cond));
        }
      }
    }
  });
});

describe("fitted lowest-branch map nodes s_l, f_l, f'_l, f''_l", () => {
  /**
   * Jaeckel's f_lower map f(beta) = 2 pi |x|/sqrt(27) Phi(-z)^3, z = |x|/(sqrt3 s(beta)), and its
   * beta-derivatives at s_l, written here from the definition by the chain rule (with
   * db/ds = vega): f' = (df/ds)/b', f'' = (d2f/ds2 - f' b'')/b'^2, b''/b' = h^2/s - s/4.
   */
  function exactMap(y: number): { sL: number; bL: number; fL: number; fpL: number; fpp: number } {
    const { x, sL } = branchNodes(y);
    const ax = -x;
    const bL = normalisedBlackOtm(x, sL);
    const v = normalisedVega(x, sL);
    const z = ax / (Math.sqrt(3) * sL);
    const phiZ = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    const cdf = 0.5 * Math.exp(-0.5 * z * z) * erfcx(z / Math.SQRT2); // Phi(-z)
    const k = (2 * Math.PI * ax) / Math.sqrt(27);
    const fL = k * cdf ** 3;
    // dz/ds = -z/s; df/ds = 3k Phi(-z)^2 phi(z) z/s
    const dfds = (3 * k * cdf * cdf * phiZ * z) / sL;
    // d/ds of [Phi^2 phi z / s]: Phi^2 phi z/s * (2 phi z/(Phi s) + z^2/s - 2/s)
    const d2fds2 = dfds * ((2 * phiZ * z) / (cdf * sL) + (z * z) / sL - 2 / sL);
    const h = x / sL;
    const bppOverBp = (h * h) / sL - sL / 4;
    const fpL = dfds / v;
    const fpp = (d2fds2 - dfds * bppOverBp) / (v * v);
    return { sL, bL, fL, fpL, fpp };
  }

  it("match the chain-rule values within their stated errors on y = sqrt|x| in [1e-2, 8]", () => {
    let eS = 0;
    let eA = 0;
    let eB = 0;
    let eC = 0;
    for (const y of ys.filter((v) => v >= 1e-2)) {
      const e = exactMap(y);
      const bMax = Math.exp(-0.5 * y * y);
      eS = Math.max(eS, Math.abs(lowerNodeVol(y) / e.sL - 1));
      lowerMapNodes(nodeFitR(y));
      const [a, b, c] = LOWER_MAP_NODES as unknown as [number, number, number];
      eA = Math.max(eA, Math.abs(a / Math.sqrt(bMax) / (e.fL / e.bL) - 1));
      eB = Math.max(eB, Math.abs(b / Math.sqrt(bMax) / e.fpL - 1));
      eC = Math.max(eC, Math.abs(c - (e.fpp * e.bL * e.bL) / e.fL));
    }
    // s_l: 6e-11 fit; the double-precision s_l here loses ~1e-12 to cancellation at y = 1e-2
    expect(eS).toBeLessThan(1e-9);
    expect(eA).toBeLessThan(2e-6);
    expect(eB).toBeLessThan(2e-6);
    expect(eC).toBeLessThan(2e-6);
    expect(Math.min(eA, eB)).toBeGreaterThan(0); // fits, not the exact values
  });

  it("give initial guesses whose two Householder steps reach full precision in the lowest branch", () => {
    // beta from 1e-300 of b_l up to b_l itself, over the fits' whole range of y
    for (const y of ys.filter((_, i) => i % 4 === 0)) {
      const { x, sL } = branchNodes(y);
      for (const frac of [1e-12, 1e-4, 0.01, 0.3, 0.7, 0.95, 0.999]) {
        const s = sL * frac;
        const beta = normalisedBlackOtm(x, s);
        if (!(beta > 1e-300)) continue;
        const got = normalisedImpliedVolOtm(beta, x);
        const cond = beta / (s * normalisedVega(x, s));
        expect(Math.abs(got - s) / s, `x=${x} s=${s}`).toBeLessThan(Math.max(4e-15, 16 * EPS * cond));
      }
    }
  });
});

describe("scaled normalised Black b/b' (implied-vol lowest branch)", () => {
  const fixture = JSON.parse(
    readFileSync(resolve(__dirname, "../../fixtures/pricing/pricing_reference.json"), "utf8"),
  ) as { normalisedBlack: [number, number, number][] };

  it("times the vega equals the 40-digit mpmath b(x, s) in every region", () => {
    for (const [x, s, want] of fixture.normalisedBlack) {
      if (!(s > 0) || !Number.isFinite(s) || x > 0) continue;
      const h = x / s;
      const tol = 1e-14 + 4 * EPS * (h * h + 0.25 * s * s);
      const got = normalisedBlackScaledOtm(x, s) * normalisedVega(x, s);
      if (want < 1e-300) continue; // vega underflows before b/b' does
      expect(Math.abs(got - want) / want, `b(${x}, ${s})`).toBeLessThan(tol);
    }
  });

  it("stays finite where b itself underflows (x = -700, s = 1)", () => {
    expect(normalisedBlackOtm(-700, 1)).toBe(0);
    const bx = normalisedBlackScaledOtm(-700, 1);
    expect(bx).toBeGreaterThan(0);
    // asymptotically b/b' ~ s^3/x^2 (u, v ~ |h|): 1/700^2 to within the series correction
    expect(bx * 700 * 700).toBeGreaterThan(0.99);
    expect(bx * 700 * 700).toBeLessThan(1.01);
  });
});
