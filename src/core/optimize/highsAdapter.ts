/**
 * LpProblem -> CPLEX LP text -> HiGHS (the `highs` package, HiGHS compiled to WebAssembly).
 *
 * The LP reader of this build rejects ranged rows (`lo <= expr <= hi`), so a row with two
 * distinct finite bounds is written as two rows (`name_lo`, `name_hi`) whose activities are
 * equal and whose duals are summed back. Free columns are written `free`; integer columns in
 * `General`. A solver abort (WebAssembly RuntimeError) discards the cached instance so the next
 * call starts clean. Numbers are written with String(x) (shortest round trip, exact).
 */
import type { LpProblem } from "./buildProblem.js";

/** Outcome of one solve, in the LP's scaled units. */
export interface LpSolution {
  /** HiGHS model status, e.g. "Optimal", "Infeasible", "Unbounded". */
  readonly status: string;
  readonly optimal: boolean;
  /** Scaled objective value (minimization). */
  readonly objective: number;
  readonly x: Float64Array;
  /** Row activities (scaled), one per LpProblem row. */
  readonly rowActivity: Float64Array;
  /** Row duals (scaled; NaN for MILPs). */
  readonly rowDual: Float64Array;
  /** Wall time of the LP text build and of the solver call, ms (measured by the caller's clock if given). */
  readonly lpTextChars: number;
}

export interface HighsOptions {
  /** HiGHS options passed through, e.g. { presolve: "on", time_limit: 60, mip_rel_gap: 1e-6 }. */
  readonly [key: string]: string | number | boolean;
}

interface HighsSolveColumn {
  readonly Primal: number;
}
interface HighsSolveRow {
  readonly Primal: number;
  readonly Dual?: number | null;
}
interface HighsSolveResult {
  readonly Status: string;
  readonly ObjectiveValue: number;
  readonly Columns: Record<string, HighsSolveColumn>;
  readonly Rows: HighsSolveRow[];
}
interface HighsModelApi {
  readonly options: { set(values: Record<string, string | number | boolean>): unknown };
  passModel(m: Record<string, unknown>): unknown;
  run(): unknown;
  getSolution(): { colValue: Float64Array; rowValue: Float64Array; rowDual: Float64Array };
  getModelStatus(): number;
  getObjectiveValue(): number;
}
interface HighsInstance {
  solve(lp: string, options?: Record<string, unknown>): HighsSolveResult;
  withModel<T>(fn: (m: HighsModelApi) => T): T;
  readonly constants: {
    readonly modelStatus: Record<string, number>;
    readonly objectiveSense: { readonly minimize: unknown };
  };
}

let cached: Promise<HighsInstance> | null = null;

async function highsInstance(): Promise<HighsInstance> {
  if (!cached) {
    cached = import("highs").then(async (m) => {
      const factory = (m as unknown as { default: () => Promise<HighsInstance> }).default;
      return factory();
    });
  }
  return cached;
}

function term(out: string[], v: number, j: number): void {
  out.push(v < 0 ? ` - ${-v} c${j}` : ` + ${v} c${j}`);
}

/** Writes the LP as CPLEX LP text (column j is `c<j>`, row i is `r<i>` or `r<i>_lo`/`r<i>_hi`). */
export function lpToCplexText(lp: LpProblem): { text: string; rowMap: Int32Array } {
  const parts: string[] = ["Minimize\n obj:"];
  let any = false;
  for (let j = 0; j < lp.numCol; j++) {
    const c = lp.cost[j] as number;
    if (c !== 0) {
      term(parts, c, j);
      any = true;
    }
  }
  if (!any) parts.push(" 0 c0");
  parts.push("\nSubject To\n");
  const rowMap: number[] = [];
  lp.rows.forEach((r, i) => {
    const body: string[] = [];
    for (let k = 0; k < r.idx.length; k++) term(body, r.val[k] as number, r.idx[k] as number);
    if (body.length === 0) body.push(" 0 c0");
    const expr = body.join("");
    const lo = r.lower;
    const hi = r.upper;
    if (lo === hi) {
      parts.push(` r${i}:${expr} = ${lo}\n`);
      rowMap.push(i);
      return;
    }
    if (Number.isFinite(lo)) {
      parts.push(` r${i}_lo:${expr} >= ${lo}\n`);
      rowMap.push(i);
    }
    if (Number.isFinite(hi)) {
      parts.push(` r${i}_hi:${expr} <= ${hi}\n`);
      rowMap.push(i);
    }
  });
  parts.push("Bounds\n");
  const ints: string[] = [];
  for (let j = 0; j < lp.numCol; j++) {
    const lo = lp.colLower[j] as number;
    const hi = lp.colUpper[j] as number;
    if (lo === Number.NEGATIVE_INFINITY && hi === Number.POSITIVE_INFINITY) parts.push(` c${j} free\n`);
    else {
      if (lo === Number.NEGATIVE_INFINITY)
        throw new RangeError(`column ${j}: -inf lower with finite upper unsupported`);
      if (lo === hi) parts.push(` c${j} = ${lo}\n`);
      else if (Number.isFinite(hi)) parts.push(` ${lo} <= c${j} <= ${hi}\n`);
      else if (lo !== 0) parts.push(` c${j} >= ${lo}\n`);
    }
    if (lp.integer[j]) ints.push(` c${j}\n`);
  }
  if (ints.length > 0) parts.push("General\n", ...ints);
  parts.push("End\n");
  return { text: parts.join(""), rowMap: Int32Array.from(rowMap) };
}

/** Solves the LP/MILP with HiGHS (WebAssembly). Never throws for infeasible/unbounded models. */
export async function solveLpWithHighs(lp: LpProblem, options: HighsOptions = {}): Promise<LpSolution> {
  const { text, rowMap } = lpToCplexText(lp);
  const highs = await highsInstance();
  let res: HighsSolveResult;
  try {
    res = highs.solve(text, { output_flag: false, ...options });
  } catch (e) {
    cached = null; // an aborted WebAssembly instance is not reusable
    throw e;
  }
  const x = new Float64Array(lp.numCol);
  for (let j = 0; j < lp.numCol; j++) x[j] = res.Columns[`c${j}`]?.Primal ?? 0;
  const rowActivity = new Float64Array(lp.rows.length);
  const rowDual = new Float64Array(lp.rows.length);
  const isMip = lp.integer.some((v) => v === 1);
  res.Rows.forEach((r, k) => {
    const i = rowMap[k] as number;
    rowActivity[i] = r.Primal;
    rowDual[i] =
      isMip || r.Dual === null || r.Dual === undefined ? Number.NaN : (rowDual[i] as number) + r.Dual;
  });
  return {
    status: res.Status,
    optimal: res.Status === "Optimal",
    objective: res.ObjectiveValue,
    x,
    rowActivity,
    rowDual,
    lpTextChars: text.length,
  };
}

/**
 * Solves through the package's model API (`withModel` + `passModel` with a CSR matrix): no LP
 * text is written or parsed, so large CVaR LPs skip the text round trip. Same result shape as
 * solveLpWithHighs (lpTextChars = 0). Ranged rows are passed as one row with both bounds.
 */
export async function solveLpWithHighsModel(lp: LpProblem, options: HighsOptions = {}): Promise<LpSolution> {
  const highs = await highsInstance();
  let nz = 0;
  for (const r of lp.rows) nz += r.idx.length;
  const starts = new Int32Array(lp.rows.length + 1);
  const indices = new Int32Array(nz);
  const values = new Float64Array(nz);
  let k = 0;
  lp.rows.forEach((r, i) => {
    starts[i] = k;
    indices.set(r.idx, k);
    values.set(r.val, k);
    k += r.idx.length;
  });
  starts[lp.rows.length] = k;
  const names = Object.fromEntries(Object.entries(highs.constants.modelStatus).map(([n, v]) => [v, n]));
  try {
    return highs.withModel((m) => {
      m.options.set({ output_flag: false, ...options });
      m.passModel({
        numCols: lp.numCol,
        numRows: lp.rows.length,
        sense: highs.constants.objectiveSense.minimize,
        colCost: lp.cost,
        colLower: lp.colLower,
        colUpper: lp.colUpper,
        rowLower: Float64Array.from(lp.rows, (r) => r.lower),
        rowUpper: Float64Array.from(lp.rows, (r) => r.upper),
        matrix: { format: "csr", numRows: lp.rows.length, numCols: lp.numCol, starts, indices, values },
        ...(lp.integer.some((v) => v === 1) ? { integrality: Int32Array.from(lp.integer) } : {}),
      });
      m.run();
      const code = m.getModelStatus();
      const name = names[code] ?? String(code);
      const optimal = name === "optimal";
      const sol = m.getSolution();
      const isMip = lp.integer.some((v) => v === 1);
      const status =
        name === "optimal"
          ? "Optimal"
          : name === "infeasible"
            ? "Infeasible"
            : name === "unbounded"
              ? "Unbounded"
              : name;
      return {
        status,
        optimal,
        objective: m.getObjectiveValue(),
        x: Float64Array.from(sol.colValue),
        rowActivity: Float64Array.from(sol.rowValue),
        rowDual: isMip ? new Float64Array(lp.rows.length).fill(Number.NaN) : Float64Array.from(sol.rowDual),
        lpTextChars: 0,
      };
    });
  } catch (e) {
    cached = null;
    throw e;
  }
}

/** Which path to HiGHS: the model API (default, no text) or CPLEX LP text. */
export type HighsBackend = "model" | "lp-text";

/** Solves with the chosen backend. */
export function solveOptimizeLp(
  lp: LpProblem,
  options: HighsOptions = {},
  backend: HighsBackend = "model",
): Promise<LpSolution> {
  return backend === "lp-text" ? solveLpWithHighs(lp, options) : solveLpWithHighsModel(lp, options);
}
