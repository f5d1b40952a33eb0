/**
 * Optimizer bench (issue 22 items 1-2), all in one run, each measurement in its own child process
 * (bench/optimizeChild.ts; peak RSS from process.resourceUsage, a wasm abort stays in the child):
 *  1. The monolithic Rockafellar-Uryasev CVaR LP (seeded synthetic problem, test/core/optimize/
 *     synthetic.ts: edge objective, delta/vega bands, CVaR_0.95 limit) solved by HiGHS compiled to
 *     WebAssembly (npm `highs`, model API) against native HiGHS on the very same scaled LP, through
 *     scipy.optimize.linprog(method="highs") (the LP passed as binary arrays in a temp dir, solve
 *     timed inside Python), at 1,000 x 2,000 and 2,000 x 5,000. Both HiGHS versions are printed:
 *     scipy bundles its own HiGHS, which is not the npm package's (so the ratio also measures
 *     solver versions, said on the line).
 *  2. CVaR by cutting planes (cvarCuts.ts) at 1,000 candidates x {2k, 10k, 50k, 100k} scenarios:
 *     time and peak RSS (target: 100k in < 60 s and < 2 GiB), objective vs the monolithic LP where
 *     both solve.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, header } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));

const PY = `
import json, sys, time, resource, numpy as np, scipy
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, vstack
def highs_version():
    try:
        from scipy.optimize._highspy import _core as c
        return "%d.%d.%d" % (c.HIGHS_VERSION_MAJOR, c.HIGHS_VERSION_MINOR, c.HIGHS_VERSION_PATCH)
    except Exception:
        return "unknown"
if sys.argv[1] == "--version":
    print(json.dumps({"scipy": scipy.__version__, "highs": highs_version(), "python": sys.executable})); sys.exit(0)
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
A_ub = vstack([A[ub_rows], -A[lb_rows]]).tocsr(); b_ub = np.concatenate([hi[ub_rows], -lo[lb_rows]])
eq_rows = np.where(eq)[0]
kw = dict(A_eq=A[eq_rows], b_eq=lo[eq_rows]) if len(eq_rows) else {}
bounds = np.column_stack([np.where(np.isfinite(clo), clo, -np.inf), np.where(np.isfinite(chi), chi, np.inf)])
t0 = time.perf_counter()
r = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs", **kw)
ms = (time.perf_counter() - t0) * 1e3
print(json.dumps({"ms": ms, "status": r.status, "fun": float(r.fun) if r.status == 0 else None,
                  "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;

interface ChildOut {
  readonly genMs: number;
  readonly buildMs?: number;
  readonly solveMs?: number;
  readonly status?: string;
  readonly objectiveScaled?: number;
  readonly objectiveUsd?: number;
  readonly cvarUsd?: number;
  readonly verified?: boolean;
  readonly iterations?: number;
  readonly cuts?: number;
  readonly maxRssMiB: number;
  readonly error?: string;
}

function child(mode: string, n: number, S: number, dir = ""): ChildOut {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(here, "optimizeChild.ts"), mode, String(n), String(S), dir],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 20,
      timeout: 900_000,
    },
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as ChildOut;
  } catch {
    return {
      genMs: Number.NaN,
      maxRssMiB: Number.NaN,
      error: `child exited ${r.status ?? r.signal}${r.stdout ? `: ${r.stdout.slice(-200)}` : ""}`,
    };
  }
}

/** The first python3 with scipy (PATH first, then Debian's /usr/bin/python3). */
function findPython(file: string): { exe: string; scipy: string; highs: string } | null {
  for (const exe of ["python3", "/usr/bin/python3"]) {
    try {
      const v = JSON.parse(execFileSync(exe, [file, "--version"], { encoding: "utf8" })) as {
        scipy: string;
        highs: string;
        python: string;
      };
      return { exe, scipy: v.scipy, highs: v.highs };
    } catch {
      /* next */
    }
  }
  return null;
}

const mib = (x: number) => `${fmt(x)} MiB`;

export async function run(): Promise<void> {
  header("optimize: CVaR LP at scale - HiGHS wasm vs native HiGHS, and cutting planes");
  const npmHighs = (
    JSON.parse(readFileSync(join(here, "../node_modules/highs/package.json"), "utf8")) as { version: string }
  ).version;
  const factory = (await import("highs")).default as unknown as () => Promise<{
    version: { string: string };
  }>;
  const wasmVersion = (await factory()).version.string;
  const tmp = mkdtempSync(join(tmpdir(), "volfolio-opt-"));
  const pyFile = join(tmp, "lp.py");
  writeFileSync(pyFile, PY);
  const py = findPython(pyFile);
  console.log(
    `WebAssembly: npm highs ${npmHighs} (HiGHS ${wasmVersion}); native: ${py ? `${py.exe} scipy ${py.scipy} linprog(method="highs") with its bundled HiGHS ${py.highs}` : "no python3 with scipy found (baseline skipped)"}`,
  );
  if (py && py.highs !== wasmVersion)
    console.log(
      `  NOTE: not the same HiGHS version (wasm ${wasmVersion} vs native ${py.highs}): the ratio compares builds AND versions`,
    );
  const mono: Record<string, ChildOut> = {};
  try {
    for (const [n, S] of [
      [1000, 2000],
      [2000, 5000],
    ] as const) {
      const dir = join(tmp, `lp-${n}x${S}`);
      const ex = child("export", n, S, dir);
      const head = ex.error
        ? null
        : (JSON.parse(readFileSync(join(dir, "head.json"), "utf8")) as Record<string, number>);
      console.log(
        `\nmonolithic LP ${n} candidates x ${S} scenarios: ${head ? `${head.cols} columns, ${head.rows} rows, ${head.nonzeros} nonzeros` : `export failed: ${ex.error}`}`,
      );
      const w = child("lp", n, S);
      mono[`${n}x${S}`] = w;
      console.log(
        w.error
          ? `  wasm: ABORTED (${w.error}) after peak RSS ${mib(w.maxRssMiB)}`
          : `  wasm: build ${fmt(w.buildMs ?? Number.NaN)} ms, solve ${fmt(w.solveMs ?? Number.NaN)} ms -> ${w.status}, edge ${fmt(w.objectiveUsd ?? Number.NaN)} USD, CVaR ${fmt(w.cvarUsd ?? Number.NaN)} USD, verified ${w.verified}; peak RSS ${mib(w.maxRssMiB)}`,
      );
      if (py && head) {
        try {
          const nat = JSON.parse(
            execFileSync(py.exe, [pyFile, dir], { encoding: "utf8", timeout: 900_000 }),
          ) as { ms: number; status: number; fun: number | null; maxRssMiB: number };
          const diff =
            nat.fun !== null && w.objectiveScaled !== undefined
              ? Math.abs(nat.fun - w.objectiveScaled) / Math.max(1, Math.abs(nat.fun))
              : Number.NaN;
          console.log(
            `  native (scipy HiGHS ${py.highs}): solve ${fmt(nat.ms)} ms -> status ${nat.status}, peak RSS ${mib(nat.maxRssMiB)}${Number.isFinite(diff) ? `, |objective diff| ${fmt(diff)} relative` : ""}`,
          );
          if (w.solveMs !== undefined)
            console.log(
              `  ratio wasm/native solve: ${fmt(w.solveMs / nat.ms)}x (HiGHS ${wasmVersion} wasm vs ${py.highs} native)`,
            );
        } catch (e) {
          console.log(`  native baseline failed: ${(e as Error).message.split("\n")[0]}`);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
    console.log("\ncutting planes (Kunzi-Bay-Mayer), 1,000 candidates:");
    for (const S of [2000, 10_000, 50_000, 100_000]) {
      const c = child("cuts", 1000, S);
      const ref = mono[`1000x${S}`];
      const same =
        ref?.objectiveUsd !== undefined && c.objectiveUsd !== undefined
          ? `; vs monolithic LP: objective diff ${fmt(Math.abs(c.objectiveUsd - ref.objectiveUsd) / Math.abs(ref.objectiveUsd))} relative, time ratio LP/cuts ${fmt((ref.solveMs ?? 0) / (c.solveMs ?? 1))}x`
          : "";
      console.log(
        c.error
          ? `  ${S} scenarios: FAILED (${c.error}), peak RSS ${mib(c.maxRssMiB)}`
          : `  ${S} scenarios: solve ${fmt((c.solveMs ?? 0) / 1000)} s (${c.iterations} master solves, ${c.cuts} cuts) -> ${c.status}, edge ${fmt(c.objectiveUsd ?? Number.NaN)} USD, CVaR ${fmt(c.cvarUsd ?? Number.NaN)} USD (limit 8000${(c.cvarUsd ?? 0) >= 8000 * (1 - 1e-6) ? ", binding" : ", NOT binding"}), verified ${c.verified}; peak RSS ${mib(c.maxRssMiB)} (scenario matrix ${mib((1000 * S * 8) / 2 ** 20)}); data generation ${fmt(c.genMs / 1000)} s${same}${S === 100_000 ? ` [target < 60 s, < 2048 MiB: ${(c.solveMs ?? Number.POSITIVE_INFINITY) < 60_000 && c.maxRssMiB < 2048 ? "met" : "NOT met"}]` : ""}`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
