/**
 * An infeasible spec's conflict list is minimal (an irreducible infeasible subset): a spec with
 * only the listed constraints is infeasible, and removing any one of them from that spec makes it
 * feasible. Checked on the SPEC (not the LP rows), on hand-made and seeded specs that also carry
 * loose constraints which must not be listed.
 */
import { describe, expect, it } from "vitest";
import { optimizePortfolio } from "../../../src/core/optimize/optimize.js";
import type { OptimizeConstraints, OptimizeProblem } from "../../../src/core/optimize/spec.js";
import { book, cand, G0 } from "./helpers.js";
import { syntheticCvarProblem } from "./synthetic.js";
import { loadLpSolver } from "../../../src/core/optimize/lpSolver.js";

/** One HiGHS instance for the file, loaded once (the solver is passed in, synchronous after). */
const solver = await loadLpSolver();

/** Spec keys of the user rows (bucket rows "7-30d:vega" -> buckets). */
function only(c: OptimizeConstraints, keep: (key: string) => boolean): OptimizeConstraints {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (k === "buckets") {
      const b: Record<string, Record<string, unknown>> = {};
      for (const [bucket, bands] of Object.entries(v as Record<string, Record<string, unknown>>))
        for (const [g, band] of Object.entries(bands))
          if (keep(`${bucket}:${g}`)) b[bucket] = { ...(b[bucket] ?? {}), [g]: band };
      if (Object.keys(b).length > 0) out.buckets = b;
    } else if (keep(k === "marginBudgetUsd" ? "margin" : k === "premiumBudgetUsd" ? "premium" : k))
      out[k] = v;
  }
  return out as OptimizeConstraints;
}

function checkIis(p: OptimizeProblem): string[] {
  const r = optimizePortfolio(p, solver);
  expect(r.status).toBe("infeasible");
  const iis = r.diagnosis?.iis.map((m) => m.row) ?? [];
  expect(iis.length).toBeGreaterThan(0);
  expect(r.diagnosis?.text).toMatch(/minimal conflict/);
  const alone = optimizePortfolio(
    { ...p, constraints: only(p.constraints, (k) => iis.includes(k)) },
    solver,
    { diagnose: false },
  );
  expect(alone.status).toBe("infeasible");
  for (const m of iis) {
    const q = optimizePortfolio(
      { ...p, constraints: only(p.constraints, (k) => k !== m && iis.includes(k)) },
      solver,
      { diagnose: false },
    );
    expect({ removed: m, status: q.status }).toEqual({ removed: m, status: "optimal" });
  }
  return iis;
}

describe("infeasible specs: the conflict list is an irreducible infeasible subset", () => {
  it("delta min vs premium budget, with loose vega, margin and theta bands not listed", () => {
    const p: OptimizeProblem = {
      candidates: [
        cand({ name: "D", maxBuy: 4, greeks: { ...G0, deltaCoin: 0.5, vegaUsdPerVolPt: 1 } }),
        cand({ name: "E", maxBuy: 4, maxSell: 0, greeks: { ...G0, deltaCoin: 0.2, thetaUsdPerDay: -1 } }),
      ],
      book: book(),
      objective: { kind: "edge" },
      constraints: {
        delta: { min: 1 },
        premiumBudgetUsd: 10,
        vega: { min: -5, max: 5 },
        theta: { min: -100 },
        marginBudgetUsd: 1e6,
      },
    };
    expect(checkIis(p).sort()).toEqual(["delta", "premium"]);
  });

  it("contradictory bucket and total vega bands: exactly the three bands", () => {
    const p: OptimizeProblem = {
      candidates: [
        cand({ name: "N", bucket: "7-30d", greeks: { ...G0, vegaUsdPerVolPt: 5 } }),
        cand({ name: "F", bucket: "30-90d", greeks: { ...G0, vegaUsdPerVolPt: 10 } }),
      ],
      book: book(),
      objective: { kind: "edge" },
      constraints: {
        vega: { max: 0 },
        delta: { min: -10, max: 10 },
        buckets: { "7-30d": { vega: { min: 20 } }, "30-90d": { vega: { min: 0 } } },
      },
    };
    // vega N + F <= 0 with N >= 20 needs F <= -20, which the 30-90d floor forbids: all three.
    expect(checkIis(p).sort()).toEqual(["30-90d:vega", "7-30d:vega", "vega"]);
  });

  it("seeded CVaR specs made infeasible by a vega floor: each listed member is needed", () => {
    for (let k = 0; k < 3; k++) {
      const base = syntheticCvarProblem(12, 150, { seed: 700 + k, cvarLimitUsd: 20_000 });
      const p: OptimizeProblem = {
        ...base,
        constraints: {
          ...base.constraints,
          vega: { min: 2500 + 500 * k },
          delta: { min: -50, max: 50 },
          premiumBudgetUsd: 5_000 + 5_000 * k,
          marginBudgetUsd: 1e7,
        },
      };
      const iis = checkIis(p);
      expect(iis).not.toContain("margin");
    }
  }, 60_000);
});
