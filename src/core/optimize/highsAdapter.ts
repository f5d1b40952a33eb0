/**
 * LpProblem -> CPLEX LP text -> HiGHS (the `highs` package, HiGHS compiled to WebAssembly).
 *
 * The LP reader of this build rejects ranged rows (`lo <= expr <= hi`), so a row with two
 * distinct finite bounds is written as two rows (`name_lo`, `name_hi`) whose activities are
 * equal and whose duals are summed back. Free columns are written `free`; integer columns in
 * `General`. Numbers are written with String(x) (shortest round trip, exact). The instance is
 * passed in (lpSolver.ts loads it); these functions are synchronous and keep no state.
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
  /** Characters of CPLEX LP text written (0 on the model API path). */
  readonly lpTextChars: number;
}

export interface HighsOptions {
  /** HiGHS options passed through, e.g. { presolve: "on", time_limit: 60, mip_rel_gap: 1e-6 }. */
  readonly [key: string]: string | number | boolean;
}

/** Which path to HiGHS: the model API (default, no text) or CPLEX LP text. */
export type HighsBackend = "model" | "lp-text";

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
/** The part of the `highs` package's instance used here. */
export interface HighsInstance {
  solve(lp: string, options?: Record<string, unknown>): HighsSolveResult;
  withModel<T>(fn: (m: HighsModelApi) => T): T;
  readonly constants: {
    readonly modelStatus: Record<string, number>;
    readonly objectiveSense: { readonly minimize: unknown };
  };
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

/** Solves through CPLEX LP text (`highs.solve`). Never throws for infeasible/unbounded models. */
export function solveHighsText(highs: HighsInstance, lp: LpProblem, options: HighsOptions = {}): LpSolution {
  const { text, rowMap } = lpToCplexText(lp);
  const res = highs.solve(text, { output_flag: false, ...options });
  const x = new Float64Array(lp.numCol);
  for (let j = 0; j < lp.numCol; j++) x[j] = res.Columns[`c${j}`]?.Primal ?? 0;
  const rowActivity = new Float64Array(lp.rows.length);
  const rowDual = new Float64Array(lp.rows.length);
  const isMip = lp.integer.some((v) => v === 1);
  res.Rows.forEach((r, k) => {
    const i = rowMap[k] ?? 0;
    rowActivity[i] = r.Primal;
    rowDual[i] = isMip || r.Dual === null || r.Dual === undefined ? Number.NaN : (rowDual[i] ?? 0) + r.Dual;
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

/** The LP's rows as a CSR matrix (the model API's input). */
function csrRows(lp: LpProblem): { starts: Int32Array; indices: Int32Array; values: Float64Array } {
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
  return { starts, indices, values };
}

/** The model API's status name in the text API's spelling ("optimal" -> "Optimal"). */
function statusName(highs: HighsInstance, code: number): string {
  const entry = Object.entries(highs.constants.modelStatus).find(([, v]) => v === code);
  const name = entry ? entry[0] : String(code);
  const textApi: Record<string, string> = {
    optimal: "Optimal",
    infeasible: "Infeasible",
    unbounded: "Unbounded",
  };
  return textApi[name] ?? name;
}

/**
 * Solves through the package's model API (`withModel` + `passModel` with a CSR matrix): no LP
 * text is written or parsed, so large CVaR LPs skip the text round trip. Same result shape as
 * solveHighsText (lpTextChars = 0). Ranged rows are passed as one row with both bounds.
 */
export function solveHighsModel(highs: HighsInstance, lp: LpProblem, options: HighsOptions = {}): LpSolution {
  const isMip = lp.integer.some((v) => v === 1);
  const matrix = { format: "csr", numRows: lp.rows.length, numCols: lp.numCol, ...csrRows(lp) };
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
      matrix,
      ...(isMip ? { integrality: Int32Array.from(lp.integer) } : {}),
    });
    m.run();
    const status = statusName(highs, m.getModelStatus());
    const sol = m.getSolution();
    return {
      status,
      optimal: status === "Optimal",
      objective: m.getObjectiveValue(),
      x: Float64Array.from(sol.colValue),
      rowActivity: Float64Array.from(sol.rowValue),
      rowDual: isMip ? new Float64Array(lp.rows.length).fill(Number.NaN) : Float64Array.from(sol.rowDual),
      lpTextChars: 0,
    };
  });
}
