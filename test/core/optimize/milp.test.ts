/**
 * MILP (whole lots) results cross-checked against a second solver, GLPK (glpk.js node build),
 * on the very same LpProblem; and rounding/lot checks through verify.ts.
 */
import GLPK from "glpk.js/node";
import { describe, expect, it } from "vitest";
import { buildOptimizeLp, type LpProblem } from "../../../src/core/optimize/buildProblem.js";
import { optimizePortfolio } from "../../../src/core/optimize/optimize.js";
import type { OptimizeProblem } from "../../../src/core/optimize/spec.js";
import { book, cand } from "./helpers.js";
import { loadLpSolver } from "../../../src/core/optimize/lpSolver.js";

/** Two MILP solvers (or HiGHS's two input paths) to the same integer optimum, both land on the same integer vertex, solved to rounding (far inside the 1e-7 feasibility tolerance) on objectives of order 1-100: 9 digits. (was 7; tightened, passes at 9). */
const SOLVERS_DIGITS = 9;
/** The LP relaxation through LP text vs the CSR model: same solver, different parse/order; 10 digits on the objective. (was 8; tightened, passes at 10). */
const PATHS_DIGITS = 10;
/** Row duals of the two paths: the same basis on these problems, so they agree far inside HiGHS's 1e-7 dual tolerance: 8 digits. (was 6; tightened, passes at 8). */
const DUAL_PATHS_DIGITS = 8;
/** 5 lots of 0.1: one multiplication of an integer by the lot size, 14 digits. (was 12; tightened, passes at 14). */
const LOT_DIGITS = 14;

/** One HiGHS instance for the file, loaded once (the solver is passed in, synchronous after). */
const solver = await loadLpSolver();

type Glpk = Awaited<ReturnType<typeof GLPK>>;

function toGlpk(g: Glpk, lp: LpProblem) {
  const name = (j: number) => `c${j}`;
  const bnd = (lo: number, hi: number) => {
    const fl = Number.isFinite(lo);
    const fh = Number.isFinite(hi);
    if (fl && fh) return lo === hi ? { type: g.GLP_FX, lb: lo, ub: hi } : { type: g.GLP_DB, lb: lo, ub: hi };
    if (fl) return { type: g.GLP_LO, lb: lo, ub: 0 };
    if (fh) return { type: g.GLP_UP, lb: 0, ub: hi };
    return { type: g.GLP_FR, lb: 0, ub: 0 };
  };
  return {
    name: "cross",
    objective: {
      direction: g.GLP_MIN,
      name: "obj",
      vars: Array.from(lp.cost, (coef, j) => ({ name: name(j), coef })),
    },
    subjectTo: lp.rows.map((r, i) => ({
      name: `r${i}`,
      vars: Array.from(r.idx, (j, k) => ({ name: name(j), coef: r.val[k] as number })),
      bnds: bnd(r.lower, r.upper),
    })),
    bounds: Array.from(lp.colLower, (lo, j) => ({ name: name(j), ...bnd(lo, lp.colUpper[j] as number) })),
    generals: Array.from(lp.integer, (v, j) => (v ? name(j) : "")).filter((s) => s !== ""),
  };
}

function randomProblem(seed: number): OptimizeProblem {
  let st = seed;
  const rnd = () => {
    st = (st * 48271) % 2147483647;
    return st / 2147483647;
  };
  const S = 12;
  const candidates = Array.from({ length: 6 }, (_, i) => {
    const fair = 5 + 10 * rnd();
    const half = 0.1 + 0.5 * rnd();
    const skew = (rnd() - 0.5) * 3 * half;
    return cand({
      name: `M${i}`,
      fairUsd: fair,
      bidUsd: fair + skew - half,
      askUsd: fair + skew + half,
      maxBuy: 1 + 9 * rnd(),
      maxSell: 1 + 9 * rnd(),
      greeks: {
        deltaCoin: rnd() - 0.5,
        cashGammaUsd: 0,
        vegaUsdPerVolPt: 5 * rnd() - 1,
        thetaUsdPerDay: -rnd(),
      },
      pnl: Array.from({ length: S }, () => 40 * (rnd() - 0.5)),
    });
  });
  return {
    candidates,
    book: book({ pnl: Array.from({ length: S }, () => 10 * (rnd() - 0.5)) }),
    objective: { kind: "edge" },
    constraints: {
      delta: { min: -0.7, max: 0.7 },
      vega: { min: -3, max: 6 },
      cvar: { alpha: 0.75, maxLossUsd: 40 },
    },
    lots: { lotSize: 1 },
  };
}

describe("MILP cross-check: HiGHS vs GLPK on the same model", () => {
  it("20 random whole-lot problems: same optimal objective, HiGHS trades verify", async () => {
    const g = await GLPK();
    for (let seed = 1; seed <= 20; seed++) {
      const p = randomProblem(seed * 7919);
      const lp = buildOptimizeLp(p);
      const h = solver.solve(lp, { mip_rel_gap: 0 }, "lp-text");
      const res = g.solve(toGlpk(g, lp) as never, { msglev: g.GLP_MSG_OFF, presol: true });
      expect(h.optimal).toBe(true);
      expect(res.result.status).toBe(g.GLP_OPT);
      expect(h.objective).toBeCloseTo(res.result.z, SOLVERS_DIGITS);
      // The model API path (CSR matrix, no LP text) reaches the same optimum.
      const hm = solver.solve(lp, { mip_rel_gap: 0 });
      expect(hm.optimal).toBe(true);
      expect(hm.objective).toBeCloseTo(h.objective, SOLVERS_DIGITS);
      const lpRelax = { ...lp, integer: new Uint8Array(lp.numCol) };
      const [a, b] = [solver.solve(lpRelax, {}, "lp-text"), solver.solve(lpRelax)];
      expect(b.objective).toBeCloseTo(a.objective, PATHS_DIGITS);
      for (let i = 0; i < lp.rows.length; i++)
        expect(b.rowDual[i]).toBeCloseTo(a.rowDual[i] as number, DUAL_PATHS_DIGITS);
      const r = optimizePortfolio(p, solver, { highs: { mip_rel_gap: 0 } });
      expect(r.verification?.ok).toBe(true);
      for (const t of r.trades) expect(Number.isInteger(t.contracts)).toBe(true);
    }
  });

  it("lots of 0.1 contracts: sizes are multiples of the lot", async () => {
    const p: OptimizeProblem = {
      candidates: [
        cand({
          name: "L",
          fairUsd: 10,
          bidUsd: 11,
          askUsd: 12,
          maxSell: 0.75,
          greeks: { deltaCoin: 1, cashGammaUsd: 0, vegaUsdPerVolPt: 0, thetaUsdPerDay: 0 },
        }),
      ],
      book: book(),
      objective: { kind: "edge" },
      constraints: { delta: { min: -0.55 } },
      lots: { lotSize: 0.1 },
    };
    const r = optimizePortfolio(p, solver);
    expect(r.trades[0]?.contracts).toBeCloseTo(0.5, LOT_DIGITS);
    expect(r.verification?.ok).toBe(true);
  });
});
