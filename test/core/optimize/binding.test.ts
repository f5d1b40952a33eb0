/**
 * "binds" claims are checked by removing the constraint from the SPEC and re-solving (not the
 * LP rows the optimizer relaxes): a constraint said to bind changes the optimum when removed, one
 * not listed does not. Whole lots (MILP: relax-and-resolve, milpBinding.ts) and continuous (duals).
 */
import { describe, expect, it } from "vitest";
import { optimizePortfolio } from "../../../src/core/optimize/optimize.js";
import type { OptimizeConstraints, OptimizeProblem } from "../../../src/core/optimize/spec.js";
import { syntheticCvarProblem } from "./synthetic.js";
import { loadLpSolver } from "../../../src/core/optimize/lpSolver.js";

/** "The optimum changed" when a constraint is removed: above HiGHS's 1e-7 optimality tolerance relative to the objective (the MILP runs at mip_rel_gap 0). */
const CHANGE_REL = 1e-7;

/** One HiGHS instance for the file, loaded once (the solver is passed in, synchronous after). */
const solver = await loadLpSolver();

type Key = "delta" | "vega" | "cvar" | "marginBudgetUsd" | "premiumBudgetUsd";
const NAME: Record<Key, string> = {
  delta: "delta",
  vega: "vega",
  cvar: "cvar",
  marginBudgetUsd: "margin",
  premiumBudgetUsd: "premium",
};

function without(p: OptimizeProblem, k: Key): OptimizeProblem {
  const c: Record<string, unknown> = { ...p.constraints };
  delete c[k];
  return { ...p, constraints: c as OptimizeConstraints };
}

function checkClaims(p: OptimizeProblem, keys: readonly Key[]): { binds: number; not: number } {
  const r = optimizePortfolio(p, solver, { highs: { mip_rel_gap: 0 } });
  expect(r.status).toBe("optimal");
  const claimed = new Set(r.binding.map((b) => b.name));
  let binds = 0;
  let not = 0;
  for (const k of keys) {
    const q = optimizePortfolio(without(p, k), solver, { highs: { mip_rel_gap: 0 } });
    expect(q.status).toBe("optimal");
    const changed = q.objectiveUsd - r.objectiveUsd > CHANGE_REL * Math.max(1, Math.abs(r.objectiveUsd));
    expect({ constraint: k, binds: claimed.has(NAME[k]) }).toEqual({ constraint: k, binds: changed });
    if (changed) binds++;
    else not++;
  }
  return { binds, not };
}

describe("binding constraints are true: removing a binding one changes the optimum, others do not", () => {
  const keys: Key[] = ["delta", "vega", "cvar", "marginBudgetUsd", "premiumBudgetUsd"];
  const spec = (p: OptimizeProblem, k: number): OptimizeProblem => ({
    ...p,
    constraints: {
      ...p.constraints,
      delta: { min: -3 - k, max: 3 + k },
      vega: { min: -3500, max: 1000 },
      marginBudgetUsd: 100_000 + 20_000 * k,
      premiumBudgetUsd: 20_000 + 10_000 * k,
    },
  });

  it("whole lots (MILP): 3 seeded problems, every claim and non-claim checked", () => {
    let binds = 0;
    let not = 0;
    for (let k = 0; k < 3; k++) {
      const base = syntheticCvarProblem(10, 120, { seed: 500 + k, cvarLimitUsd: 30_000 + 15_000 * k });
      const c = checkClaims({ ...spec(base, k), lots: { lotSize: 1 } }, keys);
      binds += c.binds;
      not += c.not;
    }
    // The set exercises both kinds of claim.
    expect(binds).toBeGreaterThan(2);
    expect(not).toBeGreaterThan(2);
  }, 180_000);

  it("continuous (LP duals): 6 seeded problems", () => {
    let binds = 0;
    let not = 0;
    for (let k = 0; k < 6; k++) {
      const base = syntheticCvarProblem(10, 120, { seed: 500 + k, cvarLimitUsd: 30_000 + 15_000 * k });
      const c = checkClaims(spec(base, k), keys);
      binds += c.binds;
      not += c.not;
    }
    expect(binds).toBeGreaterThan(2);
    expect(not).toBeGreaterThan(2);
  }, 120_000);
});
