/**
 * The optimizer's model of Deribit standard margin per instrument, from numbers the core margin
 * engine produced (candidates.ts): g_i(x) = initial margin (USD) of a NET position of x contracts
 * of candidate i. Options: marginShortUsd x max(0, -x) (the engine's option margin is linear in
 * the short size and zero for longs); futures/perpetuals: the piecewise-linear interpolation of
 * the engine's figures at `marginCurve` breakpoints (on or above the engine's convex curve).
 * The book after trades costs  book margin + sum_i [g_i(h_i + q_i) - g_i(h_i)]  (h = held, q = traded).
 * Convex in q, so the LP takes it exactly as an epigraph: w_i >= each linear piece of g_i.
 */
import type { OptimizeCandidate, OptimizeProblem } from "./spec.js";

/** A linear piece a x + c of g_i (USD, x in contracts). */
export interface MarginPiece {
  readonly slope: number;
  readonly intercept: number;
}

/** Whether candidate `c` carries margin at all. */
export function hasMargin(c: OptimizeCandidate): boolean {
  return c.marginCurve !== undefined || c.marginShortUsd > 0;
}

/** The linear pieces whose maximum (with 0) is g_i. */
export function marginPieces(c: OptimizeCandidate): MarginPiece[] {
  const curve = c.marginCurve;
  if (!curve) return [{ slope: -c.marginShortUsd, intercept: 0 }];
  const out: MarginPiece[] = [];
  for (let k = 0; k + 1 < curve.contracts.length; k++) {
    const [x0, x1] = [curve.contracts[k] as number, curve.contracts[k + 1] as number];
    const [y0, y1] = [curve.marginUsd[k] as number, curve.marginUsd[k + 1] as number];
    const slope = (y1 - y0) / (x1 - x0);
    out.push({ slope, intercept: y0 - slope * x0 });
  }
  return out;
}

/** g_i(x), USD. */
export function candidateMarginUsd(c: OptimizeCandidate, x: number): number {
  let m = 0;
  for (const p of marginPieces(c)) m = Math.max(m, p.slope * x + p.intercept);
  return m;
}

/** The optimizer's margin of the book after net trades q (contracts per candidate), USD. */
export function modelMarginUsd(p: OptimizeProblem, q: ArrayLike<number>): number {
  let m = p.book.marginUsd;
  p.candidates.forEach((c, i) => {
    const qi = q[i] as number;
    if (qi === 0 || !hasMargin(c)) return;
    const h = c.heldContracts ?? 0;
    m += candidateMarginUsd(c, h + qi) - candidateMarginUsd(c, h);
  });
  return m;
}
