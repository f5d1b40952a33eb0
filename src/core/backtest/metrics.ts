/**
 * Performance metrics of an equity series sampled once per day.
 *
 * Definitions (returns r_i = E_i / E_{i-1} - 1, PnL_i = E_i - E_{i-1}, P periods per year):
 * totalReturn = E_n/E_0 - 1; cagr = (1 + totalReturn)^(1/years) - 1; annualVol = stdev(r) sqrt(P);
 * sharpe = mean(r)/stdev(r) sqrt(P) (zero risk-free rate); sortino = mean(r)/sqrt(mean(min(r,0)^2)) sqrt(P);
 * maxDrawdown = max over i of 1 - E_i / max_{j<=i} E_j (a positive fraction); calmar = cagr / maxDrawdown;
 * cvar95 = -(mean of the PnL_i at or below their 5% quantile), a positive loss in the series' currency.
 * A ratio with a zero denominator is NaN (not hidden as 0).
 */
import { InvalidInputError } from "../errors.js";
import { mean, quantile, stdev } from "../math/stats.js";

export interface PerformanceMetrics {
  readonly totalReturn: number;
  readonly cagr: number;
  readonly annualVol: number;
  readonly sharpe: number;
  readonly sortino: number;
  readonly maxDrawdown: number;
  readonly calmar: number;
  /** Expected shortfall of daily PnL at 95%, positive = loss, in the series' currency. */
  readonly cvar95: number;
  readonly periods: number;
}

/** Metrics of `equity` sampled `periodsPerYear` times a year (365 for daily crypto). */
export function performanceMetrics(equity: ArrayLike<number>, periodsPerYear = 365): PerformanceMetrics {
  const eq = Array.from(equity);
  const n = eq.length;
  if (n < 2) throw new InvalidInputError("equity.length", n, "must be >= 2");
  for (const [i, x] of eq.entries())
    if (!Number.isFinite(x)) throw new InvalidInputError(`equity[${i}]`, x, "must be finite");
  const r: number[] = [];
  const pnl: number[] = [];
  const e0 = eq[0] ?? Number.NaN;
  let peak = e0;
  let mdd = 0;
  let a = e0;
  for (const b of eq.slice(1)) {
    r.push(a !== 0 ? b / a - 1 : Number.NaN);
    pnl.push(b - a);
    peak = Math.max(peak, b);
    if (peak > 0) mdd = Math.max(mdd, 1 - b / peak);
    a = b;
  }
  const totalReturn = (eq[n - 1] ?? Number.NaN) / e0 - 1;
  const years = (n - 1) / periodsPerYear;
  const cagr = totalReturn > -1 ? (1 + totalReturn) ** (1 / years) - 1 : -1;
  const sd = r.length > 1 ? stdev(r) : Number.NaN;
  const m = mean(r);
  const down = Math.sqrt(mean(r.map((x) => (x < 0 ? x * x : 0))));
  const q = quantile(pnl, 0.05);
  const tail = pnl.filter((x) => x <= q);
  const div = (a: number, b: number) => (b !== 0 && Number.isFinite(b) ? a / b : Number.NaN);
  return {
    totalReturn,
    cagr,
    annualVol: sd * Math.sqrt(periodsPerYear),
    sharpe: div(m, sd) * Math.sqrt(periodsPerYear),
    sortino: div(m, down) * Math.sqrt(periodsPerYear),
    maxDrawdown: mdd,
    calmar: div(cagr, mdd),
    cvar95: -mean(tail),
    periods: n - 1,
  };
}

/**
 * Drawdown of an equity series at each point: D_i = E_i / max_{j<=i} E_j - 1 (a fraction <= 0,
 * 0 at a new high), so -min_i D_i equals `performanceMetrics(...).maxDrawdown`. A point whose
 * running peak is not positive has no defined drawdown and is NaN.
 */
export function drawdownSeries(equity: ArrayLike<number>): number[] {
  const out: number[] = [];
  let peak = Number.NEGATIVE_INFINITY;
  for (const [i, e] of Array.from(equity).entries()) {
    if (!Number.isFinite(e)) throw new InvalidInputError(`equity[${i}]`, e, "must be finite");
    peak = Math.max(peak, e);
    out.push(peak > 0 ? e / peak - 1 : Number.NaN);
  }
  return out;
}
