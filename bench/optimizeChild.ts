/**
 * Child process of bench/optimize.bench.ts, so each measurement has its own peak RSS
 * (process.resourceUsage().maxRSS) and a WebAssembly abort cannot take the bench down.
 *   node --import tsx bench/optimizeChild.ts <mode> <candidates> <scenarios> [dir]
 * mode: export (write the monolithic LP for scipy to dir), lp (monolithic LP, HiGHS wasm model
 * API), cuts (cutting planes). Prints one JSON line. Times: problem generation apart from solve.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { buildOptimizeLp, type LpProblem } from "../src/core/optimize/buildProblem.js";
import { solveWithCvarCuts } from "../src/core/optimize/cvarCuts.js";
import { loadLpSolver } from "../src/core/optimize/lpSolver.js";
import { tradesFromSolution } from "../src/core/optimize/optimize.js";
import { verifyOptimizeResult } from "../src/core/optimize/verify.js";
import { syntheticCvarProblem } from "../test/core/optimize/synthetic.js";

function exportLp(lp: LpProblem, dir: string): void {
  mkdirSync(dir, { recursive: true });
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
  writeFileSync(
    join(dir, "head.json"),
    JSON.stringify({ rows: lp.rows.length, cols: lp.numCol, nonzeros: nz, objScaleUsd: lp.objScaleUsd }),
  );
}

const [mode, nArg, sArg, dir] = process.argv.slice(2);
const n = Number(nArg);
const S = Number(sArg);
const rssMiB = () => process.resourceUsage().maxRSS / 1024;
const t0 = performance.now();
// A CVaR limit that binds at every size (the unconstrained optimum's CVaR is 10k-180k USD).
const BENCH_CVAR_LIMIT_USD = 8000;
const p = syntheticCvarProblem(n, S, { cvarLimitUsd: BENCH_CVAR_LIMIT_USD });
const genMs = performance.now() - t0;
const out: Record<string, unknown> = { mode, candidates: n, scenarios: S, genMs };
// HiGHS loaded once before any timing: solve times exclude the WebAssembly load.
const solver = await loadLpSolver();
try {
  if (mode === "export") {
    exportLp(buildOptimizeLp(p, { cvarMethod: "lp" }), dir as string);
  } else if (mode === "lp") {
    const t1 = performance.now();
    const lp = buildOptimizeLp(p, { cvarMethod: "lp" });
    const t2 = performance.now();
    const sol = solver.solve(lp);
    const t3 = performance.now();
    const v = verifyOptimizeResult(p, tradesFromSolution(lp, sol.x));
    Object.assign(out, {
      buildMs: t2 - t1,
      solveMs: t3 - t2,
      status: sol.status,
      objectiveScaled: sol.objective,
      objectiveUsd: -sol.objective * lp.objScaleUsd,
      cvarUsd: v.after.cvarUsd,
      verified: v.ok,
    });
  } else if (mode === "cuts") {
    const t1 = performance.now();
    const lp = buildOptimizeLp(p, { cvarMethod: "cuts" });
    const r = solveWithCvarCuts(p, lp, solver, {
      onIteration: (s) =>
        process.stderr.write(
          `  [${n}x${S} cuts] master solve ${s.iteration}: violation ${s.violationUsd.toPrecision(3)} USD\n`,
        ),
    });
    const t2 = performance.now();
    const v = verifyOptimizeResult(p, tradesFromSolution(r.lp, r.sol.x));
    Object.assign(out, {
      solveMs: t2 - t1,
      status: r.sol.status,
      objectiveUsd: -r.sol.objective * lp.objScaleUsd,
      cvarUsd: v.after.cvarUsd,
      verified: v.ok,
      iterations: r.stats.iterations,
      cuts: r.stats.cuts,
    });
  } else throw new RangeError(`mode: ${mode}`);
} catch (e) {
  out.error = (e as Error).message.split("\n")[0];
}
out.maxRssMiB = rssMiB();
console.log(JSON.stringify(out));
