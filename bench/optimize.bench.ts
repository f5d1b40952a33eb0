/**
 * Optimizer bench: a 1,000-candidate x 2,000-scenario CVaR LP (edge objective, delta and vega
 * bands, Rockafellar-Uryasev CVaR_0.95 limit), seeded synthetic data. Times the LP build, the
 * CPLEX LP text, and the HiGHS (WebAssembly) solve, and compares with the same scaled LP solved
 * by native HiGHS through scipy.optimize.linprog(method="highs") in the same run (timed inside
 * Python, solve only). Target: WebAssembly solve <= 3x native. Two wasm paths: CPLEX LP text
 * (solveLpWithHighs) and the package's typed model API with a CSR matrix (solveLpWithHighsModel,
 * the optimizer's default).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRng } from "../src/core/math/rng.js";
import { buildOptimizeLp, type LpProblem } from "../src/core/optimize/buildProblem.js";
import { lpToCplexText, solveLpWithHighs, solveLpWithHighsModel } from "../src/core/optimize/highsAdapter.js";
import { tradesFromSolution } from "../src/core/optimize/optimize.js";
import type { OptimizeCandidate, OptimizeProblem } from "../src/core/optimize/spec.js";
import { verifyOptimizeResult } from "../src/core/optimize/verify.js";
import { fmt, header, timeOnce } from "./harness.js";

const PY = `
import json, sys, time, numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix
d = sys.argv[1]
h = json.load(open(d + "/head.json"))
m, n = h["rows"], h["cols"]
ri = np.fromfile(d + "/ri.bin", dtype=np.int32); ci = np.fromfile(d + "/ci.bin", dtype=np.int32)
v = np.fromfile(d + "/v.bin", dtype=np.float64)
lo = np.fromfile(d + "/rlo.bin", dtype=np.float64); hi = np.fromfile(d + "/rhi.bin", dtype=np.float64)
c = np.fromfile(d + "/c.bin", dtype=np.float64)
clo = np.fromfile(d + "/clo.bin", dtype=np.float64); chi = np.fromfile(d + "/chi.bin", dtype=np.float64)
A = csr_matrix((v, (ri, ci)), shape=(m, n))
eq = lo == hi
ub_rows = np.where(~eq & np.isfinite(hi))[0]; lb_rows = np.where(~eq & np.isfinite(lo))[0]
from scipy.sparse import vstack
A_ub = vstack([A[ub_rows], -A[lb_rows]]).tocsr(); b_ub = np.concatenate([hi[ub_rows], -lo[lb_rows]])
eq_rows = np.where(eq)[0]
kw = dict(A_eq=A[eq_rows], b_eq=lo[eq_rows]) if len(eq_rows) else {}
bounds = np.column_stack([np.where(np.isfinite(clo), clo, -np.inf), np.where(np.isfinite(chi), chi, np.inf)])
best = None
method = sys.argv[3] if len(sys.argv) > 3 else "highs"
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    r = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method=method, **kw)
    dt = (time.perf_counter() - t0) * 1e3
    best = dt if best is None else min(best, dt)
print(json.dumps({"ms": best, "status": r.status, "fun": float(r.fun) if r.status == 0 else None}))
`;

function syntheticProblem(nCand: number, nScen: number): OptimizeProblem {
  const rng = createRng(20260110);
  const spot = Array.from({ length: nScen }, () => 0.08 * rng.normal());
  const vol = Array.from({ length: nScen }, () => 0.05 * rng.normal());
  const F = 95_000;
  const candidates: OptimizeCandidate[] = Array.from({ length: nCand }, (_, i) => {
    const isCall = i % 2 === 0;
    const delta = (isCall ? 1 : -1) * (0.1 + 0.8 * rng.uniform());
    const gamma = 2e-5 * (0.2 + rng.uniform());
    const vega = 50 + 150 * rng.uniform();
    const fair = 500 + 4000 * rng.uniform();
    const half = 10 + 60 * rng.uniform();
    const skew = (rng.uniform() - 0.5) * 3 * half;
    const pnl = new Float64Array(nScen);
    for (let s = 0; s < nScen; s++) {
      const dS = F * (spot[s] as number);
      pnl[s] = delta * dS + 0.5 * gamma * dS * dS + vega * 100 * (vol[s] as number) + 5 * rng.normal();
    }
    return {
      name: `SYN-${i}`,
      bucket: i % 3 === 0 ? "7-30d" : "30-90d",
      bidUsd: fair + skew - half,
      askUsd: fair + skew + half,
      fairUsd: fair,
      greeks: {
        deltaCoin: delta,
        cashGammaUsd: (gamma * F * F) / 100,
        vegaUsdPerVolPt: vega,
        thetaUsdPerDay: -vega / 5,
      },
      maxBuy: 5 + 20 * rng.uniform(),
      maxSell: 5 + 20 * rng.uniform(),
      marginShortUsd: 0.1 * F,
      scenarioPnlUsd: pnl,
    };
  });
  return {
    candidates,
    book: {
      greeks: { deltaCoin: 0, cashGammaUsd: 0, vegaUsdPerVolPt: 0, thetaUsdPerDay: 0 },
      scenarioPnlUsd: new Float64Array(nScen),
      marginUsd: 0,
    },
    objective: { kind: "edge" },
    constraints: {
      delta: { min: -1, max: 1 },
      vega: { min: -2000, max: 2000 },
      cvar: { alpha: 0.95, maxLossUsd: 20_000 },
    },
  };
}

function exportLp(lp: LpProblem, dir: string): void {
  let nz = 0;
  for (const r of lp.rows) nz += r.idx.length;
  const ri = new Int32Array(nz);
  const ci = new Int32Array(nz);
  const v = new Float64Array(nz);
  let k = 0;
  lp.rows.forEach((r, i) => {
    for (let t = 0; t < r.idx.length; t++, k++) {
      ri[k] = i;
      ci[k] = r.idx[t] as number;
      v[k] = r.val[t] as number;
    }
  });
  const w = (name: string, a: ArrayBufferView) =>
    writeFileSync(join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  w("ri.bin", ri);
  w("ci.bin", ci);
  w("v.bin", v);
  w(
    "rlo.bin",
    Float64Array.from(lp.rows, (r) => r.lower),
  );
  w(
    "rhi.bin",
    Float64Array.from(lp.rows, (r) => r.upper),
  );
  w("c.bin", lp.cost);
  w("clo.bin", lp.colLower);
  w("chi.bin", lp.colUpper);
  writeFileSync(join(dir, "head.json"), JSON.stringify({ rows: lp.rows.length, cols: lp.numCol }));
  writeFileSync(join(dir, "lp.py"), PY);
}

export async function run(): Promise<void> {
  const sizes: [number, number][] = [
    [100, 200],
    [1000, 2000],
  ];
  // Warm up the WebAssembly instance on a tiny problem (instantiation is not solve time).
  const warm = await timeOnce(() => solveLpWithHighs(buildOptimizeLp(syntheticProblem(5, 10))));
  header("optimize: CVaR LP, HiGHS WebAssembly vs native HiGHS (scipy linprog method=highs)");
  console.log(`wasm instantiate + tiny solve: ${fmt(warm.ms)} ms`);
  for (const [n, S] of sizes) {
    const p = syntheticProblem(n, S);
    const build = await timeOnce(() => buildOptimizeLp(p));
    const lp = build.value;
    const text = await timeOnce(() => lpToCplexText(lp));
    let nz = 0;
    for (const r of lp.rows) nz += r.idx.length;
    console.log(
      `\n${n} candidates x ${S} scenarios: ${lp.numCol} columns, ${lp.rows.length} rows, ${nz} nonzeros, LP text ${fmt(text.value.text.length / 1e6)} MB; build ${fmt(build.ms)} ms, LP text ${fmt(text.ms)} ms`,
    );
    const dir = mkdtempSync(join(tmpdir(), "volfolio-opt-"));
    try {
      exportLp(lp, dir);
      const variants: [string, Record<string, string>, string][] = [
        ["HiGHS default (choose)", {}, "highs"],
        ["HiGHS IPM", { solver: "ipm" }, "highs-ipm"],
      ];
      for (const [label, opts, method] of variants) {
        const solve = await timeOnce(() => solveLpWithHighs(lp, opts));
        const sol = solve.value;
        const verify = verifyOptimizeResult(p, tradesFromSolution(lp, sol.x));
        let out: { ms: number; status: number; fun: number | null } | null = null;
        try {
          out = JSON.parse(
            execFileSync("/usr/bin/python3", [join(dir, "lp.py"), dir, n >= 1000 ? "1" : "3", method], {
              encoding: "utf8",
              timeout: 600_000,
            }),
          );
        } catch (err) {
          console.log(`  scipy baseline unavailable: ${(err as Error).message.split("\n")[0]}`);
        }
        console.log(
          `  ${label}: wasm (text + parse + solve) ${fmt(solve.ms)} ms -> ${sol.status}, edge ${fmt(-sol.objective * lp.objScaleUsd)} USD, verified ${verify.ok}, CVaR ${fmt(verify.after.cvarUsd)} USD`,
        );
        const model = await timeOnce(() => solveLpWithHighsModel(lp, opts));
        console.log(
          `    wasm via the model API (CSR matrix, no LP text): ${fmt(model.ms)} ms -> ${model.value.status}, |objective diff| ${fmt(Math.abs(model.value.objective - sol.objective))}${out ? `; ratio wasm/native ${fmt(model.ms / out.ms)}x (target <= 3x)` : ""}`,
        );
        if (out)
          console.log(
            `    native scipy linprog(method=${method}) solve only ${fmt(out.ms)} ms, |objective diff| ${out.fun === null ? "n/a" : fmt(Math.abs(out.fun - sol.objective))}; ratio wasm/native end-to-end ${fmt(solve.ms / out.ms)}x, excluding LP text ${fmt((solve.ms - text.ms) / out.ms)}x (target <= 3x)`,
          );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
