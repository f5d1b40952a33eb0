/**
 * Plain-language explanation of an optimizer result: which constraints bind (from the
 * solver's row activities and duals, mapped back to USD/coin units) and each trade's role.
 */
import type { ConstraintGroup, LpProblem } from "./buildProblem.js";
import type { LpSolution } from "./highsAdapter.js";
import type { OptimizeCandidate, OptimizeGreeks } from "./spec.js";
import type { OptimizeRiskSummary } from "./verify.js";

export interface BindingConstraint {
  readonly name: string;
  readonly group: ConstraintGroup;
  /** Which bound is active. */
  readonly side: "min" | "max" | "equal";
  /** The bound in user units (USD, coins). */
  readonly bound: number;
  /**
   * Objective change (USD, in the objective's own sense: more edge/theta, or less cost for
   * vega-target) per unit of loosening the bound; NaN for MILPs (no duals).
   */
  readonly shadowPriceUsd: number;
  /** MILPs: objective gain (USD) when the constraint is removed and the MILP re-solved (milpBinding.ts). */
  readonly relaxGainUsd?: number;
  readonly text: string;
}

const UNITS: Partial<Record<string, string>> = {
  delta: "coin",
  gamma: "USD cash gamma per 1%",
  vega: "USD per vol pt",
  theta: "USD/day",
  variance: "USD per variance pt",
  cvar: "USD",
  "worst-stress": "USD",
  margin: "USD",
  premium: "USD",
};

/** The unit a constraint group is stated in ("coin", "USD", ...). */
export function constraintUnit(group: ConstraintGroup): string {
  return unitOf(group);
}

/** Number formatting of the explanations. */
export function formatUsd(x: number): string {
  return fmt(x);
}

function unitOf(group: ConstraintGroup): string {
  if (group.startsWith("bucket:")) return UNITS[group.split(":")[2] ?? ""] ?? "";
  return UNITS[group] ?? "";
}

/** Rows at a bound (relative tolerance 1e-7 in scaled units), excluding CVaR scenario rows. */
export function bindingConstraints(lp: LpProblem, sol: LpSolution): BindingConstraint[] {
  const out: BindingConstraint[] = [];
  const tol = 1e-7;
  lp.rows.forEach((r, i) => {
    if (
      r.group === "cvar-scenario" ||
      r.group === "cvar-cut" ||
      r.group === "margin-piece" ||
      r.group === "vega-target" ||
      r.group === "net"
    )
      return;
    const a = sol.rowActivity[i] as number;
    const dual = sol.rowDual[i] as number;
    const atLo = Number.isFinite(r.lower) && Math.abs(a - r.lower) <= tol * Math.max(1, Math.abs(r.lower));
    const atHi = Number.isFinite(r.upper) && Math.abs(a - r.upper) <= tol * Math.max(1, Math.abs(r.upper));
    if (!atLo && !atHi) return;
    if (Number.isFinite(dual) && Math.abs(dual) < 1e-10) return; // at the bound but not constraining
    const side = atLo && atHi ? "equal" : atLo ? "min" : "max";
    const bound = (atLo ? r.lower : r.upper) / r.rowScale + r.constant;
    // d(obj_usd)/d(bound): HiGHS dual = d(min objective)/d(rhs); loosening a max bound raises rhs.
    const perUnit = dual * lp.objScaleUsd * r.rowScale;
    const shadow = Number.isFinite(dual) ? (side === "min" ? perUnit : -perUnit) : Number.NaN;
    const name = r.group === "worst-stress" ? `worst-stress (${r.name})` : r.name;
    const u = unitOf(r.group);
    const bText =
      r.group === "worst-stress"
        ? `loss <= ${fmt(-bound)} ${u}`
        : `${side === "min" ? ">=" : side === "max" ? "<=" : "="} ${fmt(bound)} ${u}`;
    const sText = Number.isFinite(shadow)
      ? `; loosening it by 1 ${u} is worth ${fmt(Math.abs(shadow))} USD of objective`
      : "";
    out.push({
      name,
      group: r.group,
      side,
      bound,
      shadowPriceUsd: shadow,
      text: `${name} binds at ${bText}${sText}`,
    });
  });
  return out;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

const GREEK_WORDS: readonly [keyof OptimizeGreeks, string][] = [
  ["deltaCoin", "delta"],
  ["vegaUsdPerVolPt", "vega"],
  ["cashGammaUsd", "gamma"],
  ["thetaUsdPerDay", "theta"],
];

/**
 * What a CVaR figure is: level, and how many of how many equally weighted scenarios its tail
 * averages (e.g. "CVaR 95%: mean loss of the worst 1.35 of 27 equally weighted scenarios (grid)").
 */
export function cvarLabel(alpha: number, scenarios: number, kind = "scenarios"): string {
  const tail = (1 - alpha) * scenarios;
  const t = Math.abs(tail - Math.round(tail)) < 1e-9 ? String(Math.round(tail)) : tail.toPrecision(3);
  return `CVaR ${Number((alpha * 100).toPrecision(6))}%: mean loss of the worst ${t} of ${scenarios} equally weighted ${kind}${tail < 1 ? " (less than one scenario: the worst loss)" : ""}`;
}

/**
 * One sentence on a trade's role: edge captured, greeks added or offset, tail effect.
 * Edge in USD is after fees and slippage; the edge in vol points is at the quote (fees not in it),
 * signed as a trader reads it: buying above the fair vol or selling below it is NEGATIVE edge.
 * With a theta objective the theta the trade adds comes first.
 */
export function explainTrade(o: {
  readonly objectiveKind?: "edge" | "theta" | "vega-target";
  readonly candidate: OptimizeCandidate;
  readonly side: "buy" | "sell";
  readonly contracts: number;
  readonly edgeUsd: number;
  readonly before: OptimizeRiskSummary;
  /** Mean PnL of this trade over the final book's tail scenarios (loss >= VaR), USD. */
  readonly tailPnlUsd: number;
}): string {
  const c = o.candidate;
  const q = o.side === "buy" ? o.contracts : -o.contracts;
  const parts: string[] = [];
  const volPts =
    c.fairVol !== undefined
      ? o.side === "buy"
        ? c.askVol != null
          ? (c.fairVol - c.askVol) * 100
          : Number.NaN
        : c.bidVol != null
          ? (c.bidVol - c.fairVol) * 100
          : Number.NaN
      : Number.NaN;
  if (o.objectiveKind === "theta") {
    const th = q * c.greeks.thetaUsdPerDay;
    parts.push(`theta ${th >= 0 ? "+" : ""}${fmt(th)} USD/day (the objective)`);
  }
  const edgeWord = o.edgeUsd >= 0 ? "collects" : "pays";
  const signed = (x: number) => `${x > 0 ? "+" : ""}${fmt(x)}`;
  parts.push(
    `${edgeWord} ${fmt(Math.abs(o.edgeUsd))} USD ${o.edgeUsd >= 0 ? "edge" : "over fair"} after fees and slippage${Number.isFinite(volPts) ? `; edge ${signed(volPts)} vol pts at the quote vs the surface's fair vol, fees not in it (${o.side === "buy" ? "paid above" : "sold below"} fair = negative)` : ""}`,
  );
  const effects: string[] = [];
  const words =
    o.objectiveKind === "theta" ? GREEK_WORDS.filter(([f]) => f !== "thetaUsdPerDay") : GREEK_WORDS;
  for (const [f, word] of words) {
    const add = q * c.greeks[f];
    const b = o.before.greeks[f];
    if (Math.abs(add) < 1e-12) continue;
    if (b !== 0 && Math.sign(add) !== Math.sign(b) && Math.abs(b) > 1e-9)
      effects.push(`offsets ${b > 0 ? "+" : "-"}${word} of the book (${fmt(add)})`);
    else effects.push(`${add > 0 ? "adds +" : "adds "}${fmt(add)} ${word}`);
  }
  parts.push(effects.slice(0, 3).join(", "));
  if (Number.isFinite(o.tailPnlUsd) && Math.abs(o.tailPnlUsd) > 1e-9)
    parts.push(
      `${o.tailPnlUsd > 0 ? "cushions" : "adds to"} the tail loss by ${fmt(Math.abs(o.tailPnlUsd))} USD`,
    );
  const n =
    Math.abs(o.contracts - Math.round(o.contracts)) < 1e-9
      ? String(Math.round(o.contracts))
      : fmt(o.contracts);
  return `${o.side === "buy" ? "buys" : "sells"} ${n} ${c.name}: ${parts.filter((s) => s).join("; ")}`;
}
