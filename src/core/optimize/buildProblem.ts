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

const cons0 = (p: OptimizeProblem) => p.constraints;

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

/** Builds the scaled LP/MILP (see the module comment). */
export function buildOptimizeLp(p: OptimizeProblem, o: { readonly cvarMethod?: CvarMethod } = {}): LpProblem {
  const S = checkProblem(p);
  const cuts = o.cvarMethod === "cuts";
  const n = p.candidates.length;
  const lot = p.lots ? requirePositive("lots.lotSize", p.lots.lotSize) : 1;
  // Whole lots: each candidate in multiples of its instrument's minimum trade amount when known
  // (minTradeContracts), else of lots.lotSize. Continuous: 1.
  const lotOf = Float64Array.from(p.candidates, (c, i) =>
    p.lots && c.minTradeContracts !== undefined
      ? requirePositive(`candidates[${i}].minTradeContracts`, c.minTradeContracts)
      : lot,
  );
  const cv = p.constraints.cvar;
  const obj = p.objective;
  const names: string[] = [];
  const lower: number[] = [];
  const upper: number[] = [];
  const rawCost: number[] = [];
  const integer: number[] = [];
  const addCol = (name: string, lo: number, hi: number, c: number, int: boolean): number => {
    names.push(name);
    lower.push(lo);
    upper.push(hi);
    rawCost.push(c);
    integer.push(int ? 1 : 0);
    return names.length - 1;
  };
  const buyCol = new Int32Array(n);
  const sellCol = new Int32Array(n);
  const int = p.lots !== undefined;
  const costWeight = obj.kind === "theta" ? (obj.costWeight ?? 1) : 1;
  for (let i = 0; i < n; i++) {
    const c = p.candidates[i] as OptimizeCandidate;
    const tc = tradeCostsUsd(c, p.costs);
    const li = lotOf[i] as number;
    const maxB = c.askUsd === null ? 0 : c.maxBuy / li;
    const maxS = c.bidUsd === null ? 0 : c.maxSell / li;
    const hiB = int ? Math.floor(maxB + 1e-9) : maxB;
    const hiS = int ? Math.floor(maxS + 1e-9) : maxS;
    const th = c.greeks.thetaUsdPerDay;
    // Minimization costs per lot, USD.
    const cb = Number.isNaN(tc.buy) ? 0 : costWeight * tc.buy - (obj.kind === "theta" ? th : 0);
    const cs = Number.isNaN(tc.sell) ? 0 : costWeight * tc.sell + (obj.kind === "theta" ? th : 0);
    buyCol[i] = addCol(`b${i}`, 0, hiB, cb * li, int);
    sellCol[i] = addCol(`s${i}`, 0, hiS, cs * li, int);
  }
  let devUpCol = -1;
  let devDownCol = -1;
  if (obj.kind === "vega-target") {
    const pen = obj.penaltyUsd ?? 100;
    devUpCol = addCol("devUp", 0, Number.POSITIVE_INFINITY, pen, false);
    devDownCol = addCol("devDown", 0, Number.POSITIVE_INFINITY, pen, false);
  }
  let riskScale = 1;
  p.candidates.forEach((c, i) => {
    const li = lotOf[i] as number;
    for (const v of c.scenarioPnlUsd) riskScale = Math.max(riskScale, Math.abs(v) * li);
    if (c.stressPnlUsd) for (const v of c.stressPnlUsd) riskScale = Math.max(riskScale, Math.abs(v) * li);
  });
  let zetaCol = -1;
  let uCol0 = -1;
  let vCol = -1;
  if (cv) {
    zetaCol = addCol("zeta", Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0, false);
    if (cuts) vCol = addCol("v", 0, Number.POSITIVE_INFINITY, 0, false);
    else {
      uCol0 = names.length;
      for (let s = 0; s < S; s++) addCol(`u${s}`, 0, Number.POSITIVE_INFINITY, 0, false);
    }
  }
  const dense = cv !== undefined || (cons0(p).worstStress !== undefined && p.book.stressPnlUsd !== undefined);
  const netCol = new Int32Array(n).fill(-1);
  if (dense) {
    for (let i = 0; i < n; i++)
      netCol[i] = addCol(
        `n${i}`,
        -(upper[sellCol[i] as number] as number),
        upper[buyCol[i] as number] as number,
        0,
        false,
      );
  }
  let objScale = 0;
  for (const c of rawCost) objScale = Math.max(objScale, Math.abs(c));
  if (!(objScale > 0)) objScale = 1;

  const rows: LpRow[] = [];
  const pushRow = (o: {
    name: string;
    group: ConstraintGroup;
    idx: number[];
    val: number[];
    lo: number;
    hi: number;
    constant: number;
    scale?: number;
    elastic?: boolean;
  }): void => {
    let m = 0;
    for (const v of o.val) m = Math.max(m, Math.abs(v));
    const rs = o.scale ?? (m > 0 ? 1 / m : 1);
    rows.push({
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
  };
  const bandRow = (
    name: string,
    group: ConstraintGroup,
    band: Band,
    coef: (c: OptimizeCandidate) => number,
    constant: number,
  ): void => {
    const idx: number[] = [];
    const val: number[] = [];
    p.candidates.forEach((c, i) => {
      const a = coef(c) * (lotOf[i] as number);
      if (a === 0) return;
      idx.push(buyCol[i] as number, sellCol[i] as number);
      val.push(a, -a);
    });
    pushRow({
      name,
      group,
      idx,
      val,
      lo: band.min ?? Number.NEGATIVE_INFINITY,
      hi: band.max ?? Number.POSITIVE_INFINITY,
      constant,
    });
  };
  const cons = p.constraints;
  for (const g of OPTIMIZE_GREEK_NAMES) {
    const band = cons[g];
    if (band) bandRow(g, g, band, (c) => c.greeks[GREEK_FIELD[g]], p.book.greeks[GREEK_FIELD[g]]);
  }
  for (const [bucket, bands] of Object.entries(cons.buckets ?? {})) {
    for (const g of OPTIMIZE_GREEK_NAMES) {
      const band = bands[g];
      if (!band) continue;
      const bookG = p.book.bucketGreeks?.[bucket]?.[GREEK_FIELD[g]] ?? 0;
      bandRow(
        `${bucket}:${g}`,
        `bucket:${bucket}:${g}`,
        band,
        (c) => (c.bucket === bucket ? c.greeks[GREEK_FIELD[g]] : 0),
        bookG,
      );
    }
  }
  if (obj.kind === "vega-target") {
    // sum x vega + devDown - devUp = target - bookVega (row scaled by the largest vega).
    const idx: number[] = [];
    const val: number[] = [];
    let m = 1;
    p.candidates.forEach((c, i) => {
      const a = c.greeks.vegaUsdPerVolPt * (lotOf[i] as number);
      m = Math.max(m, Math.abs(a));
      idx.push(buyCol[i] as number, sellCol[i] as number);
      val.push(a, -a);
    });
    idx.push(devDownCol, devUpCol);
    val.push(1, -1);
    const t = requireFinite("objective.targetUsdPerVolPt", obj.targetUsdPerVolPt);
    pushRow({
      name: "vega-target",
      group: "vega-target",
      idx,
      val,
      lo: t,
      hi: t,
      constant: p.book.greeks.vegaUsdPerVolPt,
      scale: 1 / m,
      elastic: false,
    });
  }
  if (cons.marginBudgetUsd !== undefined) {
    // Standard margin per NET position (marginModel.ts): w_i >= every linear piece of g_i at
    // h_i + lot (buy_i - sell_i), w_i >= 0; sum w_i <= budget - (book margin - sum g_i(h_i)).
    const idx: number[] = [];
    const val: number[] = [];
    let held = 0;
    p.candidates.forEach((c, i) => {
      if (!hasMargin(c)) return;
      const h = c.heldContracts ?? 0;
      held += candidateMarginUsd(c, h);
      const w = addCol(`w${i}`, 0, Number.POSITIVE_INFINITY, 0, false);
      idx.push(w);
      val.push(1);
      for (const pc of marginPieces(c)) {
        if (pc.slope === 0 && pc.intercept <= 0) continue; // w >= 0 is the column bound
        const a = pc.slope * (lotOf[i] as number);
        const rs = 1 / Math.max(1, Math.abs(a));
        rows.push({
          name: `margin-piece${i}`,
          group: "margin-piece",
          lower: (pc.intercept + pc.slope * h) * rs,
          upper: Number.POSITIVE_INFINITY,
          idx: Int32Array.from([w, buyCol[i] as number, sellCol[i] as number]),
          val: Float64Array.from([rs, -a * rs, a * rs]),
          rowScale: rs,
          constant: 0,
          elastic: false,
        });
      }
    });
    pushRow({
      name: "margin",
      group: "margin",
      idx,
      val,
      lo: Number.NEGATIVE_INFINITY,
      hi: cons.marginBudgetUsd,
      constant: p.book.marginUsd - held,
    });
  }
  if (cons.premiumBudgetUsd !== undefined) {
    const idx: number[] = [];
    const val: number[] = [];
    p.candidates.forEach((c, i) => {
      if (c.askUsd !== null) {
        idx.push(buyCol[i] as number);
        val.push(c.askUsd * (lotOf[i] as number));
      }
      if (c.bidUsd !== null) {
        idx.push(sellCol[i] as number);
        val.push(-c.bidUsd * (lotOf[i] as number));
      }
    });
    pushRow({
      name: "premium",
      group: "premium",
      idx,
      val,
      lo: Number.NEGATIVE_INFINITY,
      hi: cons.premiumBudgetUsd,
      constant: 0,
    });
  }
  if (dense) {
    for (let i = 0; i < n; i++)
      rows.push({
        name: `net${i}`,
        group: "net",
        lower: 0,
        upper: 0,
        idx: Int32Array.from([netCol[i] as number, buyCol[i] as number, sellCol[i] as number]),
        val: Float64Array.from([1, -1, 1]),
        rowScale: 1,
        constant: 0,
        elastic: false,
      });
  }
  const ws = cons.worstStress;
  const stressBook = p.book.stressPnlUsd;
  if (ws && stressBook) {
    // loss_k = -(book_k + sum x P_ik) <= L  <=>  sum x P_ik >= -L - book_k
    for (let k = 0; k < stressBook.length; k++) {
      const idx: number[] = [];
      const val: number[] = [];
      p.candidates.forEach((c, i) => {
        const a = ((c.stressPnlUsd as Float64Array)[k] as number) * (lotOf[i] as number);
        if (a === 0) return;
        idx.push(netCol[i] as number);
        val.push(a);
      });
      pushRow({
        name: `stress${k}`,
        group: "worst-stress",
        idx,
        val,
        lo: -ws.maxLossUsd,
        hi: Number.POSITIVE_INFINITY,
        constant: stressBook[k] as number,
        scale: 1 / riskScale,
      });
    }
  }
  if (cv && cuts) {
    // CVaR <= zeta + v, v >= every cut (cvarCuts.ts); zeta and v in riskScale units.
    rows.push({
      name: "cvar",
      group: "cvar",
      lower: Number.NEGATIVE_INFINITY,
      upper: requireFinite("constraints.cvar.maxLossUsd", cv.maxLossUsd) / riskScale,
      idx: Int32Array.from([zetaCol, vCol]),
      val: Float64Array.from([1, 1]),
      rowScale: 1 / riskScale,
      constant: 0,
      elastic: true,
    });
  }
  if (cv && !cuts) {
    const inv = 1 / ((1 - cv.alpha) * S);
    // Scenario rows: sum x P_is + zeta + u_s >= -book_s (USD / riskScale; zeta, u in riskScale units).
    for (let s = 0; s < S; s++) {
      const idx: number[] = [];
      const val: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = ((p.candidates[i] as OptimizeCandidate).scenarioPnlUsd[s] as number) * (lotOf[i] as number);
        if (a === 0) continue;
        idx.push(netCol[i] as number);
        val.push(a / riskScale);
      }
      idx.push(zetaCol, uCol0 + s);
      val.push(1, 1);
      rows.push({
        name: `sc${s}`,
        group: "cvar-scenario",
        lower: -(p.book.scenarioPnlUsd[s] as number) / riskScale,
        upper: Number.POSITIVE_INFINITY,
        idx: Int32Array.from(idx),
        val: Float64Array.from(val),
        rowScale: 1 / riskScale,
        constant: p.book.scenarioPnlUsd[s] as number,
        elastic: false,
      });
    }
    const idx = [zetaCol];
    const val = [1];
    for (let s = 0; s < S; s++) {
      idx.push(uCol0 + s);
      val.push(inv);
    }
    rows.push({
      name: "cvar",
      group: "cvar",
      lower: Number.NEGATIVE_INFINITY,
      upper: requireFinite("constraints.cvar.maxLossUsd", cv.maxLossUsd) / riskScale,
      idx: Int32Array.from(idx),
      val: Float64Array.from(val),
      rowScale: 1 / riskScale,
      constant: 0,
      elastic: true,
    });
  }
  return {
    numCol: names.length,
    colNames: names,
    colLower: Float64Array.from(lower),
    colUpper: Float64Array.from(upper),
    cost: Float64Array.from(rawCost, (c) => c / objScale),
    integer: Uint8Array.from(integer),
    rows,
    objScaleUsd: objScale,
    objectiveSense: obj.kind === "vega-target" ? "minimize" : "maximize",
    riskScaleUsd: riskScale,
    lotSize: lot,
    lotOf,
    buyCol,
    sellCol,
    zetaCol,
    uCol0,
    cvarMethod: cv ? (cuts ? "cuts" : "lp") : "none",
    vCol,
    netCol,
    devUpCol,
    devDownCol,
  };
}
