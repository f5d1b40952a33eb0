/**
 * Spec + candidate data -> LP/MILP in a solver-neutral sparse form.
 *
 * Variables (all in lots of `lotSize` contracts; lotSize 1 when continuous):
 *   buy_i, sell_i >= 0   separate because their costs differ (ask vs bid)
 *   zeta (free), u_s >= 0  Rockafellar-Uryasev CVaR: CVaR_a <= zeta + 1/((1-a)S) sum_s u_s,
 *                          u_s >= loss_s - zeta, loss_s = -(book_s + sum_i (buy_i - sell_i) P_is)
 *   devUp, devDown >= 0  vega-target miss (objective "vega-target")
 *   (cvarMethod "cuts": zeta (free) and v >= 0 only, CVaR row zeta + v <= limit, and the
 *                        Kunzi-Bay-Mayer cuts added by cvarCuts.ts instead of the S scenario rows)
 *   net_i = buy_i - sell_i (free, one equality row each) when CVaR or stress rows exist: the
 *                        dense scenario rows then hold one coefficient per candidate instead of
 *                        two, halving the nonzeros of the large CVaR LP
 * Scaling (numerics): the objective is divided by its largest |coefficient| (objScaleUsd);
 * every greek/budget row by its largest |coefficient| (rowScale); the CVaR and stress rows are
 * in units of `riskScaleUsd` (largest |P_is| x lotSize), zeta and u_s too. `unscale*` helpers
 * map the solver's numbers back to USD and contracts.
 */
import { InvalidInputError, requireFinite, requirePositive } from "../errors.js";
import { candidateMarginUsd, hasMargin, marginPieces } from "./marginModel.js";
import type { Band, GreekName, OptimizeCandidate, OptimizeGreeks, OptimizeProblem } from "./spec.js";

/** Which constraint family a row belongs to (used by explain and the infeasibility diagnosis). */
export type ConstraintGroup =
  | "delta"
  | "gamma"
  | "vega"
  | "theta"
  | `bucket:${string}:${GreekName}`
  | "cvar"
  | "cvar-scenario"
  | "cvar-cut"
  | "worst-stress"
  | "margin"
  | "margin-piece"
  | "premium"
  | "vega-target"
  | "variance"
  | "net";

export interface LpRow {
  readonly name: string;
  readonly group: ConstraintGroup;
  /** Lower/upper bound on sum(val * x[idx]) in scaled units (-Infinity/Infinity = none). */
  lower: number;
  upper: number;
  readonly idx: Int32Array;
  readonly val: Float64Array;
  /** Row units = scaled units x rowScale (so scaled = original * rowScale). */
  readonly rowScale: number;
  /** Constant moved into the bounds (original units), e.g. the book's greek. */
  readonly constant: number;
  /** Whether elastic slacks may relax this row in the diagnosis (CVaR scenario rows are structural). */
  readonly elastic: boolean;
}

export interface LpProblem {
  readonly numCol: number;
  readonly colNames: readonly string[];
  readonly colLower: Float64Array;
  readonly colUpper: Float64Array;
  /** Minimize cost . x (scaled). */
  readonly cost: Float64Array;
  readonly integer: Uint8Array;
  readonly rows: LpRow[];
  /** USD per unit of scaled objective. */
  readonly objScaleUsd: number;
  /** Sign applied to report the objective in the user's sense (+1 maximize problems reported as max). */
  readonly objectiveSense: "maximize" | "minimize";
  readonly riskScaleUsd: number;
  readonly lotSize: number;
  /** Contracts per unit of candidate i's buy/sell columns (its lot; 1 when continuous). */
  readonly lotOf: Float64Array;
  /** Column indexes. */
  readonly buyCol: Int32Array;
  readonly sellCol: Int32Array;
  readonly zetaCol: number;
  readonly uCol0: number;
  /** How CVaR is in the model: none, the whole Rockafellar-Uryasev LP, or cutting planes. */
  readonly cvarMethod: "none" | "lp" | "cuts";
  /** Cutting planes: the aggregated tail column v (riskScale units), -1 otherwise. */
  readonly vCol: number;
  /** net_i = buy_i - sell_i columns (-1 when the model has no dense rows). */
  readonly netCol: Int32Array;
  readonly devUpCol: number;
  readonly devDownCol: number;
}

/** Per-contract cost of a buy / sell measured against fair value, USD (negative = edge). */
export function tradeCostsUsd(
  c: OptimizeCandidate,
  costs: OptimizeProblem["costs"],
): { buy: number; sell: number } {
  const fee = costs?.feePerContractUsd ?? 0;
  const slipFrac = costs?.slippageSpreadFraction ?? 0;
  const spread = c.bidUsd !== null && c.askUsd !== null ? Math.max(c.askUsd - c.bidUsd, 0) : 0;
  const slip = slipFrac * spread;
  return {
    buy: c.askUsd === null ? Number.NaN : c.askUsd - c.fairUsd + slip + fee,
    sell: c.bidUsd === null ? Number.NaN : c.fairUsd - c.bidUsd + slip + fee,
  };
}

const GREEK_FIELD: Record<GreekName, keyof OptimizeGreeks> = {
  delta: "deltaCoin",
  gamma: "cashGammaUsd",
  vega: "vegaUsdPerVolPt",
  theta: "thetaUsdPerDay",
};
export const OPTIMIZE_GREEK_NAMES: readonly GreekName[] = ["delta", "gamma", "vega", "theta"];
export const optimizeGreekField = (g: GreekName): keyof OptimizeGreeks => GREEK_FIELD[g];

function checkProblem(p: OptimizeProblem): number {
  if (p.candidates.length === 0) throw new InvalidInputError("candidates", "[]", "must not be empty");
  const S = p.book.scenarioPnlUsd.length;
  p.candidates.forEach((c, i) => {
    if (c.scenarioPnlUsd.length !== S)
      throw new InvalidInputError(
        `candidates[${i}].scenarioPnlUsd.length`,
        c.scenarioPnlUsd.length,
        `must equal the book's ${S}`,
      );
    requireFinite(`candidates[${i}].fairUsd`, c.fairUsd);
    if (!(c.maxBuy >= 0) || !(c.maxSell >= 0))
      throw new InvalidInputError(`candidates[${i}].maxBuy/maxSell`, [c.maxBuy, c.maxSell], "must be >= 0");
    if (p.constraints.worstStress && c.stressPnlUsd?.length !== p.book.stressPnlUsd?.length)
      throw new InvalidInputError(
        `candidates[${i}].stressPnlUsd`,
        c.stressPnlUsd?.length,
        "must match the book",
      );
  });
  const cv = p.constraints.cvar;
  if (cv && !(cv.alpha > 0 && cv.alpha < 1))
    throw new InvalidInputError("constraints.cvar.alpha", cv.alpha, "must be in (0, 1)");
  if (cv && S === 0)
    throw new InvalidInputError("book.scenarioPnlUsd", "[]", "must be non-empty with a CVaR limit");
  return S;
}

/** How the CVaR limit enters the model: the whole Rockafellar-Uryasev LP or cutting planes. */
export type CvarMethod = "lp" | "cuts";

/** The LP under construction: columns (name, bounds, unscaled cost, integrality) and rows. */
interface LpBuilder {
  readonly p: OptimizeProblem;
  /** Contracts per lot of each candidate. */
  readonly lotOf: Float64Array;
  readonly names: string[];
  readonly lower: number[];
  readonly upper: number[];
  /** Minimization cost per column, USD (scaled by the largest |cost| at the end). */
  readonly rawCost: number[];
  readonly integer: number[];
  readonly rows: LpRow[];
  readonly buyCol: Int32Array;
  readonly sellCol: Int32Array;
}

/** A row before scaling: coefficients and bounds in user units (USD, coin), `constant` moved into the bounds. */
interface RowSpec {
  name: string;
  group: ConstraintGroup;
  idx: number[];
  val: number[];
  lo: number;
  hi: number;
  constant: number;
  /** Row scale (default: 1 / largest |coefficient|). */
  scale?: number;
  elastic?: boolean;
}

const at = (a: ArrayLike<number>, i: number): number => a[i] ?? Number.NaN;
const colAt = (a: Int32Array, i: number): number => a[i] ?? -1;

function addCol(b: LpBuilder, name: string, lo: number, hi: number, cost: number, int: boolean): number {
  b.names.push(name);
  b.lower.push(lo);
  b.upper.push(hi);
  b.rawCost.push(cost);
  b.integer.push(int ? 1 : 0);
  return b.names.length - 1;
}

function pushRow(b: LpBuilder, o: RowSpec): void {
  let m = 0;
  for (const v of o.val) m = Math.max(m, Math.abs(v));
  const rs = o.scale ?? (m > 0 ? 1 / m : 1);
  b.rows.push({
    name: o.name,
    group: o.group,
    lower: (o.lo - o.constant) * rs,
    upper: (o.hi - o.constant) * rs,
    idx: Int32Array.from(o.idx),
    val: Float64Array.from(o.val, (v) => v * rs),
    rowScale: rs,
    constant: o.constant,
    elastic: o.elastic ?? true,
  });
}

/** Contracts per lot: the instrument's minimum trade amount (whole lots) when known, else lots.lotSize; 1 when continuous. */
function lotsOf(p: OptimizeProblem, lot: number): Float64Array {
  return Float64Array.from(p.candidates, (c, i) =>
    p.lots && c.minTradeContracts !== undefined
      ? requirePositive(`candidates[${i}].minTradeContracts`, c.minTradeContracts)
      : lot,
  );
}

/** buy_i, sell_i columns: bounds from the size caps (in lots), costs per lot from the objective. */
function tradeColumns(b: LpBuilder): void {
  const { p } = b;
  const obj = p.objective;
  const int = p.lots !== undefined;
  const costWeight = obj.kind === "theta" ? (obj.costWeight ?? 1) : 1;
  p.candidates.forEach((c, i) => {
    const tc = tradeCostsUsd(c, p.costs);
    const li = at(b.lotOf, i);
    const maxB = c.askUsd === null ? 0 : c.maxBuy / li;
    const maxS = c.bidUsd === null ? 0 : c.maxSell / li;
    const hiB = int ? Math.floor(maxB + 1e-9) : maxB;
    const hiS = int ? Math.floor(maxS + 1e-9) : maxS;
    const th = c.greeks.thetaUsdPerDay;
    // Minimization costs per lot, USD.
    const cb = Number.isNaN(tc.buy) ? 0 : costWeight * tc.buy - (obj.kind === "theta" ? th : 0);
    const cs = Number.isNaN(tc.sell) ? 0 : costWeight * tc.sell + (obj.kind === "theta" ? th : 0);
    b.buyCol[i] = addCol(b, `b${i}`, 0, hiB, cb * li, int);
    b.sellCol[i] = addCol(b, `s${i}`, 0, hiS, cs * li, int);
  });
}

/** Largest |scenario or stress PnL| of one lot, USD (the unit of the CVaR and stress rows). */
function riskScaleOf(p: OptimizeProblem, lotOf: Float64Array): number {
  let riskScale = 1;
  p.candidates.forEach((c, i) => {
    const li = at(lotOf, i);
    for (const v of c.scenarioPnlUsd) riskScale = Math.max(riskScale, Math.abs(v) * li);
    if (c.stressPnlUsd) for (const v of c.stressPnlUsd) riskScale = Math.max(riskScale, Math.abs(v) * li);
  });
  return riskScale;
}

/** CVaR columns: zeta (free) and either v (cutting planes) or one u_s per scenario. */
function cvarColumns(b: LpBuilder, cuts: boolean, S: number) {
  if (!b.p.constraints.cvar) return { zetaCol: -1, uCol0: -1, vCol: -1 };
  const zetaCol = addCol(b, "zeta", Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0, false);
  if (cuts) return { zetaCol, uCol0: -1, vCol: addCol(b, "v", 0, Number.POSITIVE_INFINITY, 0, false) };
  const uCol0 = b.names.length;
  for (let s = 0; s < S; s++) addCol(b, `u${s}`, 0, Number.POSITIVE_INFINITY, 0, false);
  return { zetaCol, uCol0, vCol: -1 };
}

/** net_i = buy_i - sell_i columns (free within the size caps) when dense rows exist, else -1. */
function netColumns(b: LpBuilder, dense: boolean): Int32Array {
  const n = b.p.candidates.length;
  const netCol = new Int32Array(n).fill(-1);
  if (!dense) return netCol;
  for (let i = 0; i < n; i++)
    netCol[i] = addCol(
      b,
      `n${i}`,
      -at(b.upper, colAt(b.sellCol, i)),
      at(b.upper, colAt(b.buyCol, i)),
      0,
      false,
    );
  return netCol;
}

/** min <= book greek + sum lots x greek x (buy - sell) <= max. */
function bandRow(
  b: LpBuilder,
  r: { name: string; group: ConstraintGroup; band: Band; constant: number },
  coef: (c: OptimizeCandidate) => number,
): void {
  const idx: number[] = [];
  const val: number[] = [];
  b.p.candidates.forEach((c, i) => {
    const a = coef(c) * at(b.lotOf, i);
    if (a === 0) return;
    idx.push(colAt(b.buyCol, i), colAt(b.sellCol, i));
    val.push(a, -a);
  });
  const lo = r.band.min ?? Number.NEGATIVE_INFINITY;
  const hi = r.band.max ?? Number.POSITIVE_INFINITY;
  pushRow(b, { name: r.name, group: r.group, idx, val, lo, hi, constant: r.constant });
}

/** Total greek bands, then per-bucket bands (bucket greeks of the book as constants). */
function greekBandRows(b: LpBuilder): void {
  const { p } = b;
  const cons = p.constraints;
  for (const g of OPTIMIZE_GREEK_NAMES) {
    const band = cons[g];
    const f = GREEK_FIELD[g];
    if (band) bandRow(b, { name: g, group: g, band, constant: p.book.greeks[f] }, (c) => c.greeks[f]);
  }
  if (cons.variance) {
    const constant = p.book.varianceUsdPerPt ?? 0;
    bandRow(
      b,
      { name: "variance", group: "variance", band: cons.variance, constant },
      (c) => c.varianceUsdPerPt ?? 0,
    );
  }
  for (const [bucket, bands] of Object.entries(cons.buckets ?? {})) {
    for (const g of OPTIMIZE_GREEK_NAMES) {
      const band = bands[g];
      if (!band) continue;
      const f = GREEK_FIELD[g];
      const constant = p.book.bucketGreeks?.[bucket]?.[f] ?? 0;
      bandRow(b, { name: `${bucket}:${g}`, group: `bucket:${bucket}:${g}`, band, constant }, (c) =>
        c.bucket === bucket ? c.greeks[f] : 0,
      );
    }
  }
}

/** sum x vega + devDown - devUp = target - bookVega (row scaled by the largest vega). */
function vegaTargetRow(b: LpBuilder, target: number, dev: { devUpCol: number; devDownCol: number }): void {
  const idx: number[] = [];
  const val: number[] = [];
  let m = 1;
  b.p.candidates.forEach((c, i) => {
    const a = c.greeks.vegaUsdPerVolPt * at(b.lotOf, i);
    m = Math.max(m, Math.abs(a));
    idx.push(colAt(b.buyCol, i), colAt(b.sellCol, i));
    val.push(a, -a);
  });
  idx.push(dev.devDownCol, dev.devUpCol);
  val.push(1, -1);
  const t = requireFinite("objective.targetUsdPerVolPt", target);
  const constant = b.p.book.greeks.vegaUsdPerVolPt;
  pushRow(b, {
    name: "vega-target",
    group: "vega-target",
    idx,
    val,
    lo: t,
    hi: t,
    constant,
    scale: 1 / m,
    elastic: false,
  });
}

/**
 * Standard margin per NET position (marginModel.ts): w_i >= every linear piece of g_i at
 * h_i + lot (buy_i - sell_i), w_i >= 0; sum w_i <= budget - (book margin - sum g_i(h_i)).
 */
function marginRows(b: LpBuilder, budgetUsd: number): void {
  const idx: number[] = [];
  const val: number[] = [];
  let held = 0;
  b.p.candidates.forEach((c, i) => {
    if (!hasMargin(c)) return;
    const h = c.heldContracts ?? 0;
    held += candidateMarginUsd(c, h);
    const w = addCol(b, `w${i}`, 0, Number.POSITIVE_INFINITY, 0, false);
    idx.push(w);
    val.push(1);
    for (const pc of marginPieces(c)) {
      if (pc.slope === 0 && pc.intercept <= 0) continue; // w >= 0 is the column bound
      const a = pc.slope * at(b.lotOf, i);
      const rs = 1 / Math.max(1, Math.abs(a));
      b.rows.push({
        name: `margin-piece${i}`,
        group: "margin-piece",
        lower: (pc.intercept + pc.slope * h) * rs,
        upper: Number.POSITIVE_INFINITY,
        idx: Int32Array.from([w, colAt(b.buyCol, i), colAt(b.sellCol, i)]),
        val: Float64Array.from([rs, -a * rs, a * rs]),
        rowScale: rs,
        constant: 0,
        elastic: false,
      });
    }
  });
  const constant = b.p.book.marginUsd - held;
  pushRow(b, {
    name: "margin",
    group: "margin",
    idx,
    val,
    lo: Number.NEGATIVE_INFINITY,
    hi: budgetUsd,
    constant,
  });
}

/** Premium paid (ask x buys - bid x sells) <= budget, USD. */
function premiumRow(b: LpBuilder, budgetUsd: number): void {
  const idx: number[] = [];
  const val: number[] = [];
  b.p.candidates.forEach((c, i) => {
    const li = at(b.lotOf, i);
    if (c.askUsd !== null) {
      idx.push(colAt(b.buyCol, i));
      val.push(c.askUsd * li);
    }
    if (c.bidUsd !== null) {
      idx.push(colAt(b.sellCol, i));
      val.push(-c.bidUsd * li);
    }
  });
  pushRow(b, {
    name: "premium",
    group: "premium",
    idx,
    val,
    lo: Number.NEGATIVE_INFINITY,
    hi: budgetUsd,
    constant: 0,
  });
}

/** net_i - buy_i + sell_i = 0. */
function netRows(b: LpBuilder, netCol: Int32Array): void {
  for (let i = 0; i < netCol.length; i++)
    b.rows.push({
      name: `net${i}`,
      group: "net",
      lower: 0,
      upper: 0,
      idx: Int32Array.from([colAt(netCol, i), colAt(b.buyCol, i), colAt(b.sellCol, i)]),
      val: Float64Array.from([1, -1, 1]),
      rowScale: 1,
      constant: 0,
      elastic: false,
    });
}

/** Per stress scenario k: loss_k = -(book_k + sum x P_ik) <= L  <=>  sum x P_ik >= -L - book_k. */
function stressRows(b: LpBuilder, netCol: Int32Array, riskScale: number): void {
  const ws = b.p.constraints.worstStress;
  const stressBook = b.p.book.stressPnlUsd;
  if (!ws || !stressBook) return;
  stressBook.forEach((bookK, k) => {
    const idx: number[] = [];
    const val: number[] = [];
    b.p.candidates.forEach((c, i) => {
      const a = (c.stressPnlUsd?.[k] ?? 0) * at(b.lotOf, i);
      if (a === 0) return;
      idx.push(colAt(netCol, i));
      val.push(a);
    });
    const lo = -ws.maxLossUsd;
    const hi = Number.POSITIVE_INFINITY;
    pushRow(b, {
      name: `stress${k}`,
      group: "worst-stress",
      idx,
      val,
      lo,
      hi,
      constant: bookK,
      scale: 1 / riskScale,
    });
  });
}

/** The CVaR limit row over zeta and the given tail columns (riskScale units). */
function cvarLimitRow(
  b: LpBuilder,
  idx: number[],
  val: number[],
  maxLossUsd: number,
  riskScale: number,
): void {
  b.rows.push({
    name: "cvar",
    group: "cvar",
    lower: Number.NEGATIVE_INFINITY,
    upper: requireFinite("constraints.cvar.maxLossUsd", maxLossUsd) / riskScale,
    idx: Int32Array.from(idx),
    val: Float64Array.from(val),
    rowScale: 1 / riskScale,
    constant: 0,
    elastic: true,
  });
}

/**
 * Rockafellar-Uryasev: scenario rows sum x P_is + zeta + u_s >= -book_s (USD / riskScale; zeta,
 * u in riskScale units), then zeta + 1/((1-a)S) sum u_s <= limit.
 */
function cvarScenarioRows(
  b: LpBuilder,
  cols: { netCol: Int32Array; zetaCol: number; uCol0: number },
  riskScale: number,
  cv: { alpha: number; maxLossUsd: number },
): void {
  const { p } = b;
  const S = p.book.scenarioPnlUsd.length;
  const n = p.candidates.length;
  const pnl = p.candidates.map((c) => c.scenarioPnlUsd);
  for (let s = 0; s < S; s++) {
    const idx: number[] = [];
    const val: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = (pnl[i]?.[s] ?? 0) * at(b.lotOf, i);
      if (a === 0) continue;
      idx.push(colAt(cols.netCol, i));
      val.push(a / riskScale);
    }
    idx.push(cols.zetaCol, cols.uCol0 + s);
    val.push(1, 1);
    const bookS = at(p.book.scenarioPnlUsd, s);
    b.rows.push({
      name: `sc${s}`,
      group: "cvar-scenario",
      lower: -bookS / riskScale,
      upper: Number.POSITIVE_INFINITY,
      idx: Int32Array.from(idx),
      val: Float64Array.from(val),
      rowScale: 1 / riskScale,
      constant: bookS,
      elastic: false,
    });
  }
  const inv = 1 / ((1 - cv.alpha) * S);
  const idx = [cols.zetaCol];
  const val = [1];
  for (let s = 0; s < S; s++) {
    idx.push(cols.uCol0 + s);
    val.push(inv);
  }
  cvarLimitRow(b, idx, val, cv.maxLossUsd, riskScale);
}

/** Builds the scaled LP/MILP (see the module comment): columns, then one row family at a time. */
export function buildOptimizeLp(p: OptimizeProblem, o: { readonly cvarMethod?: CvarMethod } = {}): LpProblem {
  const S = checkProblem(p);
  const cuts = o.cvarMethod === "cuts";
  const n = p.candidates.length;
  const lot = p.lots ? requirePositive("lots.lotSize", p.lots.lotSize) : 1;
  const b: LpBuilder = {
    p,
    lotOf: lotsOf(p, lot),
    ...{ names: [], lower: [], upper: [], rawCost: [], integer: [], rows: [] },
    buyCol: new Int32Array(n),
    sellCol: new Int32Array(n),
  };
  const cv = p.constraints.cvar;
  const obj = p.objective;
  tradeColumns(b);
  const pen = obj.kind === "vega-target" ? (obj.penaltyUsd ?? 100) : 0;
  const dev =
    obj.kind === "vega-target"
      ? {
          devUpCol: addCol(b, "devUp", 0, Number.POSITIVE_INFINITY, pen, false),
          devDownCol: addCol(b, "devDown", 0, Number.POSITIVE_INFINITY, pen, false),
        }
      : { devUpCol: -1, devDownCol: -1 };
  const riskScale = riskScaleOf(p, b.lotOf);
  const cvarCols = cvarColumns(b, cuts, S);
  const dense =
    cv !== undefined || (p.constraints.worstStress !== undefined && p.book.stressPnlUsd !== undefined);
  const netCol = netColumns(b, dense);
  // The objective scale: the trade, deviation, CVaR and net columns are all there (margin's w cost 0).
  let objScale = 0;
  for (const c of b.rawCost) objScale = Math.max(objScale, Math.abs(c));
  if (!(objScale > 0)) objScale = 1;
  greekBandRows(b);
  if (obj.kind === "vega-target") vegaTargetRow(b, obj.targetUsdPerVolPt, dev);
  if (p.constraints.marginBudgetUsd !== undefined) marginRows(b, p.constraints.marginBudgetUsd);
  if (p.constraints.premiumBudgetUsd !== undefined) premiumRow(b, p.constraints.premiumBudgetUsd);
  if (dense) netRows(b, netCol);
  stressRows(b, netCol, riskScale);
  // Cutting planes: CVaR <= zeta + v, v >= every cut (cvarCuts.ts); zeta and v in riskScale units.
  if (cv && cuts) cvarLimitRow(b, [cvarCols.zetaCol, cvarCols.vCol], [1, 1], cv.maxLossUsd, riskScale);
  if (cv && !cuts) cvarScenarioRows(b, { netCol, ...cvarCols }, riskScale, cv);
  return {
    numCol: b.names.length,
    colNames: b.names,
    colLower: Float64Array.from(b.lower),
    colUpper: Float64Array.from(b.upper),
    cost: Float64Array.from(b.rawCost, (c) => c / objScale),
    integer: Uint8Array.from(b.integer),
    rows: b.rows,
    objScaleUsd: objScale,
    objectiveSense: obj.kind === "vega-target" ? "minimize" : "maximize",
    riskScaleUsd: riskScale,
    lotSize: lot,
    lotOf: b.lotOf,
    buyCol: b.buyCol,
    sellCol: b.sellCol,
    ...cvarCols,
    cvarMethod: cv ? (cuts ? "cuts" : "lp") : "none",
    netCol,
    devUpCol: dev.devUpCol,
    devDownCol: dev.devDownCol,
  };
}
