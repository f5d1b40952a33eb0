import { describe, expect, it } from "vitest";
import { branchNodes } from "./branchNodes.js";
import { normalisedImpliedVolOtm } from "../../../src/core/pricing/impliedVol.js";
import { GUESS_IO, tableGuess } from "../../../src/core/pricing/ivGuess.js";
import { normalisedBlackOtm, normalisedVega } from "../../../src/core/pricing/normalisedBlack.js";

const EPS = 2 ** -52;
/** impliedVol.ts takes one step only when the first is below this relative size. */
const ONE_STEP = 3e-5;

function guess(beta: number, x: number): { branch: number; s: number } {
  GUESS_IO[0] = beta;
  GUESS_IO[1] = x;
  GUESS_IO[2] = Math.exp(0.5 * x);
  const branch = tableGuess();
  return { branch, s: GUESS_IO[3] as number };
}

/** Deterministic uniform draws in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

/** Points (x, s) with y = sqrt|x| log-uniform in [0.01, 8] and s log-uniform from 1e-3 s_l to 0.99 s_h. */
function tablePoints(n: number, seed: number): { x: number; s: number; beta: number; sL: number }[] {
  const u = lcg(seed);
  const out: { x: number; s: number; beta: number; sL: number }[] = [];
  while (out.length < n) {
    const y = 0.01 * 800 ** u();
    const { x, sL, sH } = branchNodes(y);
    const lo = 1e-3 * sL;
    const s = lo * ((0.99 * sH) / lo) ** u();
    const beta = normalisedBlackOtm(x, s);
    if (beta > 1e-300) out.push({ x, s, beta, sL });
  }
  return out;
}

describe("tabulated implied-vol guess (ivGuess.ts, mpmath nodes)", () => {
  const points = tablePoints(20000, 17);

  it(`is within ${ONE_STEP} of the exact s below the highest branch (y in [0.01, 8], beta >= 1e-50), so one step suffices`, () => {
    // Below beta ~ 1e-57 the lowest branch's r ln r asymptotics (r = ln b_l / ln beta -> 0) cost
    // the first cells accuracy (up to ~5e-4, still far better than Jaeckel's 3-8%); the solver
    // then takes its second step (tested below and in impliedVol.test.ts).
    let worst = 0;
    let worstTiny = 0;
    let lowest = 0;
    for (const p of points) {
      const g = guess(p.beta, p.x);
      expect(g.branch, JSON.stringify(p)).toBeGreaterThanOrEqual(0);
      if (g.branch === 0) lowest++;
      const e = Math.abs(g.s / p.s - 1);
      if (p.beta >= 1e-50) worst = Math.max(worst, e);
      else worstTiny = Math.max(worstTiny, e);
    }
    // both branches exercised; the table's measured accuracy is ~1.5e-5
    expect(lowest).toBeGreaterThan(2000);
    expect(lowest).toBeLessThan(points.length - 2000);
    expect(worst).toBeLessThan(ONE_STEP);
    expect(worst).toBeGreaterThan(1e-9); // a real interpolation, not the exact root
    expect(worstTiny).toBeGreaterThan(0);
    expect(worstTiny).toBeLessThan(1e-3);
  });

  it("chooses the branch of the price: lowest below b(x, s_l), middle above", () => {
    for (const p of points) {
      if (Math.abs(p.s / p.sL - 1) < 1e-3) continue; // the split uses the interpolated b_l
      expect(guess(p.beta, p.x).branch).toBe(p.s < p.sL ? 0 : 1);
    }
  });

  it("declines outside its domain: |x| below 1e-4 or above 64, and the highest branch", () => {
    const near = -0.9e-4;
    expect(guess(normalisedBlackOtm(near, 0.1), near).branch).toBe(-1);
    const far = -65;
    expect(guess(normalisedBlackOtm(far, 5), far).branch).toBe(-1);
    for (const y of [0.02, 0.5, 3, 7.9]) {
      const { x, sH } = branchNodes(y);
      expect(guess(normalisedBlackOtm(x, 1.05 * sH), x).branch).toBe(-1);
      expect(guess(normalisedBlackOtm(x, 0.95 * sH), x).branch).toBe(1);
    }
  });
});

describe("implied vol from the tabulated guess (one Householder step)", () => {
  it("recovers s within 16 ulps x the conditioning of s in beta on the table's domain", () => {
    let worst = 0;
    for (const p of tablePoints(20000, 29)) {
      const cond = Math.max(1, Math.abs(p.beta / (p.s * normalisedVega(p.x, p.s))));
      const e = Math.abs(normalisedImpliedVolOtm(p.beta, p.x) - p.s) / (p.s * EPS * cond);
      worst = Math.max(worst, e);
    }
    expect(worst).toBeLessThan(16);
  });
});
