/**
 * Independent verification of an optimizer result: every constraint recomputed from the
 * returned trades and the candidate data (greeks, scenario/stress PnL vectors, margins, quotes),
 * never from the LP matrix. CVaR is recomputed exactly from sorted scenario losses
 * (Rockafellar-Uryasev: CVaR_a = min_z z + E[(L - z)+]/(1 - a), attained at an a-quantile of
 * L), so a formulation or scaling error in buildProblem.ts shows up here.
 *
 * Units: USD, coins for delta (see spec.ts).
 */
import { modelMarginUsd } from "./marginModel.js";
import type { Band, GreekName, OptimizeGreeks, OptimizeProblem } from "./spec.js";

/** A trade in contracts (one direction per line). */
export interface OptimizeTradeQuantity {
  readonly index: number;
  readonly side: "buy" | "sell";
  readonly contracts: number;
}

/** Risk of a book (before or after the trades). */
export interface OptimizeRiskSummary {
  readonly greeks: OptimizeGreeks;
  readonly bucketGreeks: Record<string, OptimizeGreeks>;
  /** Scenario-loss CVaR / VaR at the spec's alpha (NaN without a CVaR constraint or scenarios). */
  readonly cvarUsd: number;
  readonly varUsd: number;
  readonly alpha: number;
  /** Mean scenario PnL, USD. */
  readonly meanScenarioPnlUsd: number;
  /** Largest stress loss, USD (NaN without stress scenarios). */
  readonly worstStressLossUsd: number;
  /** Standard initial margin after the trades, USD: the engine's figure (p.marginOfBook) when
   *  given (optimize.ts), else the optimizer's margin model (marginModel.ts). */
  readonly marginUsd: number;
  /** Deribit portfolio (initial) margin by the engine, USD, when the problem carries it (optimize.ts). */
  readonly portfolioMarginUsd?: number;
  /** Variance notional after the trades, USD per variance point (spec.ts varianceUsdPerPt). */
  readonly varianceUsdPerPt: number;
}

export interface VerificationCheck {
  readonly name: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly ok: boolean;
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly checks: VerificationCheck[];
  readonly after: OptimizeRiskSummary;
}

/** CVaR and VaR of losses at level alpha (exact for the empirical distribution). */
export function empiricalCvar(losses: ArrayLike<number>, alpha: number): { cvar: number; var: number } {
  const n = losses.length;
  if (n === 0) return { cvar: Number.NaN, var: Number.NaN };
  const sorted = Float64Array.from(losses).sort();
  const f = (z: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const e = (sorted[i] as number) - z;
      if (e > 0) s += e;
    }
    return z + s / ((1 - alpha) * n);
  };
  const m = Math.min(n - 1, Math.max(0, Math.ceil(alpha * n) - 1));
  let best = Number.POSITIVE_INFINITY;
  let bestZ = Number.NaN;
  for (let j = Math.max(0, m - 2); j <= Math.min(n - 1, m + 2); j++) {
    const v = f(sorted[j] as number);
    if (v < best) {
      best = v;
      bestZ = sorted[j] as number;
    }
  }
  return { cvar: best, var: bestZ };
}

const addGreeks = (a: OptimizeGreeks, b: OptimizeGreeks, q: number): OptimizeGreeks => ({
  deltaCoin: a.deltaCoin + q * b.deltaCoin,
  cashGammaUsd: a.cashGammaUsd + q * b.cashGammaUsd,
  vegaUsdPerVolPt: a.vegaUsdPerVolPt + q * b.vegaUsdPerVolPt,
  thetaUsdPerDay: a.thetaUsdPerDay + q * b.thetaUsdPerDay,
});
const ZERO: OptimizeGreeks = { deltaCoin: 0, cashGammaUsd: 0, vegaUsdPerVolPt: 0, thetaUsdPerDay: 0 };
const FIELD: Record<GreekName, keyof OptimizeGreeks> = {
  delta: "deltaCoin",
  gamma: "cashGammaUsd",
  vega: "vegaUsdPerVolPt",
  theta: "thetaUsdPerDay",
};

/** Net signed contracts per candidate. */
export function netQuantities(p: OptimizeProblem, trades: readonly OptimizeTradeQuantity[]): Float64Array {
  const q = new Float64Array(p.candidates.length);
  for (const t of trades)
    q[t.index] = (q[t.index] as number) + (t.side === "buy" ? t.contracts : -t.contracts);
  return q;
}

/** Risk of book + trades, computed from the candidate data (no LP involved). */
export function summarizeOptimizeRisk(
  p: OptimizeProblem,
  trades: readonly OptimizeTradeQuantity[],
): OptimizeRiskSummary {
  const q = netQuantities(p, trades);
  let greeks = p.book.greeks;
  const bucketGreeks: Record<string, OptimizeGreeks> = { ...(p.book.bucketGreeks ?? {}) };
  let marginUsd = p.book.marginUsd;
  const S = p.book.scenarioPnlUsd.length;
  const pnl = Float64Array.from(p.book.scenarioPnlUsd);
  const stress = p.book.stressPnlUsd ? Float64Array.from(p.book.stressPnlUsd) : null;
  marginUsd = modelMarginUsd(p, q);
  let varianceUsdPerPt = p.book.varianceUsdPerPt ?? 0;
  p.candidates.forEach((c, i) => {
    const qi = q[i] as number;
    if (qi === 0) return;
    varianceUsdPerPt += qi * (c.varianceUsdPerPt ?? 0);
    greeks = addGreeks(greeks, c.greeks, qi);
    bucketGreeks[c.bucket] = addGreeks(bucketGreeks[c.bucket] ?? ZERO, c.greeks, qi);
    for (let s = 0; s < S; s++) pnl[s] = (pnl[s] as number) + qi * (c.scenarioPnlUsd[s] as number);
    if (stress && c.stressPnlUsd)
      for (let k = 0; k < stress.length; k++)
        stress[k] = (stress[k] as number) + qi * (c.stressPnlUsd[k] as number);
  });
  const alpha = p.constraints.cvar?.alpha ?? 0.95;
  const losses = pnl.map((v) => -v);
  const { cvar, var: v } = empiricalCvar(losses, alpha);
  let mean = 0;
  for (const x of pnl) mean += x;
  let worst = Number.NaN;
  if (stress && stress.length > 0) worst = Math.max(...Array.from(stress, (x) => -x));
  return {
    greeks,
    bucketGreeks,
    cvarUsd: cvar,
    varUsd: v,
    alpha,
    meanScenarioPnlUsd: S > 0 ? mean / S : Number.NaN,
    worstStressLossUsd: worst,
    marginUsd,
    varianceUsdPerPt,
  };
}

/** Relative+absolute tolerance used by every check (USD or coin units). */
export const VERIFY_TOLERANCE = 1e-6;

function bandCheck(name: string, value: number, band: Band, scale: number): VerificationCheck {
  const tol = VERIFY_TOLERANCE * Math.max(1, scale, Math.abs(band.min ?? 0), Math.abs(band.max ?? 0));
  const ok =
    (band.min === undefined || value >= band.min - tol) &&
    (band.max === undefined || value <= band.max + tol);
  return {
    name,
    value,
    ...(band.min !== undefined ? { min: band.min } : {}),
    ...(band.max !== undefined ? { max: band.max } : {}),
    ok,
  };
}

/** The greek, bucket and variance band checks of `p` after `trades`. */
function exposureChecks(
  p: OptimizeProblem,
  trades: readonly OptimizeTradeQuantity[],
  after: OptimizeRiskSummary,
): VerificationCheck[] {
  const checks: VerificationCheck[] = [];
  const c = p.constraints;
  // Scale for tolerances: gross exposure of the trades in each greek.
  const gross = (f: keyof OptimizeGreeks, bucket?: string): number => {
    let s = Math.abs(bucket ? (p.book.bucketGreeks?.[bucket]?.[f] ?? 0) : p.book.greeks[f]);
    for (const t of trades) {
      const cand = p.candidates[t.index];
      if (cand && (!bucket || cand.bucket === bucket)) s += Math.abs(t.contracts * cand.greeks[f]);
    }
    return s;
  };
  for (const g of ["delta", "gamma", "vega", "theta"] as const) {
    const band = c[g];
    if (band) checks.push(bandCheck(g, after.greeks[FIELD[g]], band, gross(FIELD[g])));
  }
  for (const [bucket, bands] of Object.entries(c.buckets ?? {})) {
    for (const g of ["delta", "gamma", "vega", "theta"] as const) {
      const band = bands[g];
      if (band)
        checks.push(
          bandCheck(
            `${bucket}:${g}`,
            after.bucketGreeks[bucket]?.[FIELD[g]] ?? 0,
            band,
            gross(FIELD[g], bucket),
          ),
        );
    }
  }
  if (c.variance) {
    let g = Math.abs(p.book.varianceUsdPerPt ?? 0);
    for (const t of trades) g += Math.abs(t.contracts * (p.candidates[t.index]?.varianceUsdPerPt ?? 0));
    checks.push(bandCheck("variance", after.varianceUsdPerPt, c.variance, g));
  }
  return checks;
}

/** Recomputes every constraint of `p` from `trades`. */
export function verifyOptimizeResult(
  p: OptimizeProblem,
  trades: readonly OptimizeTradeQuantity[],
): VerificationReport {
  const after = summarizeOptimizeRisk(p, trades);
  const checks: VerificationCheck[] = exposureChecks(p, trades, after);
  const c = p.constraints;
  if (c.cvar)
    checks.push(bandCheck("cvar", after.cvarUsd, { max: c.cvar.maxLossUsd }, Math.abs(after.cvarUsd)));
  if (c.worstStress)
    checks.push(
      bandCheck(
        "worst-stress",
        after.worstStressLossUsd,
        { max: c.worstStress.maxLossUsd },
        Math.abs(after.worstStressLossUsd),
      ),
    );
  if (c.marginBudgetUsd !== undefined)
    checks.push(bandCheck("margin", after.marginUsd, { max: c.marginBudgetUsd }, after.marginUsd));
  if (c.premiumBudgetUsd !== undefined) {
    let prem = 0;
    for (const t of trades) {
      const cand = p.candidates[t.index];
      if (!cand) continue;
      prem +=
        t.side === "buy"
          ? t.contracts * (cand.askUsd ?? Number.NaN)
          : -t.contracts * (cand.bidUsd ?? Number.NaN);
    }
    checks.push(bandCheck("premium", prem, { max: c.premiumBudgetUsd }, Math.abs(prem)));
  }
  const lot = p.lots?.lotSize;
  for (const t of trades) {
    const cand = p.candidates[t.index];
    if (!cand) {
      checks.push({ name: `trade[${t.index}] exists`, value: t.index, ok: false });
      continue;
    }
    const max =
      t.side === "buy" ? (cand.askUsd === null ? 0 : cand.maxBuy) : cand.bidUsd === null ? 0 : cand.maxSell;
    checks.push(bandCheck(`size:${t.side}:${cand.name}`, t.contracts, { min: 0, max }, max));
    if (lot !== undefined) {
      const lots = t.contracts / (cand.minTradeContracts ?? lot);
      checks.push({ name: `lots:${cand.name}`, value: lots, ok: Math.abs(lots - Math.round(lots)) <= 1e-6 });
    }
  }
  return { ok: checks.every((k) => k.ok), checks, after };
}
