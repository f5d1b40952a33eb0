import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { branchNodes } from "./branchNodes.js";
import { normalisedImpliedVolOtm } from "../../../src/core/pricing/impliedVol.js";
import {
  lowerNodeOverMax,
  NODE_FIT_TOLERANCE,
  NODE_FIT_Y_MAX,
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

describe("implied vol in the lowest branch (beta below b(x, s_l))", () => {
  it("reaches full precision from beta = 1e-300 b_l up to b_l, on y = sqrt|x| in [1e-3, 8]", () => {
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
