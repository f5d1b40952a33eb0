import { erf, erfcx } from "../../../src/core/math/normal.js";

/**
 * Jaeckel's branch nodes s_l, s_h for x = -y^2, computed from erf/erfcx here, independently of
 * the implied-vol code under test (lbrNodes.ts, ivGuess.ts).
 */
export function branchNodes(y: number): { x: number; sL: number; sH: number } {
  const x = -y * y;
  const bMax = Math.exp(0.5 * x);
  const oneMinusErfcx = y <= 0.46875 ? Math.exp(y * y) * erf(y) - Math.expm1(y * y) : 1 - erfcx(y);
  const bC = 0.5 * bMax * oneMinusErfcx;
  const vC = bMax / Math.sqrt(2 * Math.PI);
  const sC = Math.sqrt(2 * y * y);
  return { x, sL: sC - bC / vC, sH: sC + (bMax - bC) / vC };
}
