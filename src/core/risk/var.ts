/**
 * Value at risk and expected shortfall (CVaR) of a book by full revaluation.
 *
 * Conventions: PnL in USD; VaR_c = -q_{1-c}(PnL) (the loss not exceeded with probability c,
 * linear-interpolated quantile, stats.quantile); CVaR_c = -mean of the PnL outcomes <= -VaR_c
 * (expected shortfall of the tail; always >= VaR). Horizon in calendar days: the scenarios roll
 * time forward by the horizon (theta included, expired legs settle).
 *
 * Historical simulation: overlapping h-day relative moves S_{t+h}/S_t - 1 of a close-price
 * series (the CLI uses ../shared/data/prices/BTC-USD_daily.csv) applied to every underlying (ETH
 * scaled by `betaByUnderlying`, default 1), vol shift = volSpotBeta * move (default 0: vols
 * unchanged; e.g. -0.5 makes a -20% day add 10 vol points), sticky-moneyness surface.
 * Monte Carlo: Merton jump-diffusion h-day log-return
 *   ln(S_h/S) = (mu - sigma^2/2 - lambda kappa) h + sigma sqrt(h) Z + sum_{i<=N} J_i,
 *   N ~ Poisson(lambda h), J_i ~ N(jumpMean, jumpStd^2), kappa = exp(jumpMean + jumpStd^2/2) - 1,
 * h in years, seeded createRng.
 */
import { InvalidInputError, requireFinite, requirePositive } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { createRng } from "../math/rng.js";
import { quantile } from "../math/stats.js";
import { compileBook, scenarioPortfolioPnl } from "./grid.js";
import type { RiskMarket } from "./market.js";
import type { Scenario } from "./scenario.js";

export interface VarResult {
  /** Confidence, e.g. 0.99. */
  readonly confidence: number;
  readonly horizonDays: number;
  /** VaR, USD (positive = loss). */
  readonly varUsd: number;
  /** Expected shortfall, USD (positive = loss). */
  readonly cvarUsd: number;
  readonly scenarios: number;
  readonly method: "historical" | "monte-carlo";
  /** Worst scenario PnL, USD. */
  readonly worstPnlUsd: number;
}

/** VaR and CVaR from a PnL sample (USD). */
export function varCvarFromPnl(
  pnl: ArrayLike<number>,
  confidence: number,
): { varUsd: number; cvarUsd: number; worstPnlUsd: number } {
  if (!(confidence > 0 && confidence < 1))
    throw new InvalidInputError("confidence", confidence, "must be in (0, 1)");
  if (pnl.length === 0) throw new InvalidInputError("pnl", "[]", "must not be empty");
  const q = quantile(pnl, 1 - confidence);
  let s = 0;
  let n = 0;
  let worst = Number.POSITIVE_INFINITY;
  for (let i = 0; i < pnl.length; i++) {
    const x = pnl[i] ?? Number.NaN;
    if (!Number.isFinite(x)) throw new InvalidInputError(`pnl[${i}]`, x, "must be finite");
    if (x <= q) {
      s += x;
      n++;
    }
    if (x < worst) worst = x;
  }
  return { varUsd: -q, cvarUsd: -(s / n), worstPnlUsd: worst };
}

interface Common {
  readonly positions: readonly Position[];
  readonly market: RiskMarket;
  readonly confidence: number;
  readonly horizonDays: number;
  /** ETH etc. move = beta x simulated move; default 1 for all. */
  readonly betaByUnderlying?: Readonly<Record<string, number>>;
  /** volShift = volSpotBeta x spot move (default 0). */
  readonly volSpotBeta?: number;
}

function moveScenarios(moves: ArrayLike<number>, o: Common): Scenario[] {
  const out: Scenario[] = [];
  const betas = o.betaByUnderlying ?? {};
  for (let i = 0; i < moves.length; i++) {
    const r = moves[i] ?? Number.NaN;
    const by: Record<string, number> = {};
    for (const u of Object.keys(o.market.underlyings)) by[u] = Math.max((betas[u] ?? 1) * r, -0.99);
    out.push({
      spotShift: Math.max(r, -0.99),
      spotShiftByUnderlying: by,
      volShift: (o.volSpotBeta ?? 0) * r,
      timeRollDays: o.horizonDays,
      surfaceDynamics: "sticky-moneyness",
    });
  }
  return out;
}

/** Historical-simulation VaR/CVaR over overlapping horizon moves of `closes` (oldest first). */
export function historicalVar(o: Common & { readonly closes: readonly number[] }): VarResult {
  requirePositive("horizonDays", o.horizonDays);
  const h = Math.round(o.horizonDays);
  if (o.closes.length < h + 2)
    throw new InvalidInputError("closes", o.closes.length, `must have more than ${h + 1} prices`);
  const moves = new Float64Array(o.closes.length - h);
  for (let t = 0; t + h < o.closes.length; t++) {
    const a = requirePositive(`closes[${t}]`, o.closes[t]);
    moves[t] = (o.closes[t + h] ?? Number.NaN) / a - 1;
  }
  const pnl = scenarioPortfolioPnl(compileBook(o.positions, o.market), moveScenarios(moves, o));
  return {
    ...varCvarFromPnl(pnl, o.confidence),
    confidence: o.confidence,
    horizonDays: o.horizonDays,
    scenarios: pnl.length,
    method: "historical",
  };
}

/** Merton jump-diffusion parameters (annualised). */
export interface MertonJumpParams {
  /** Diffusion vol, decimal annualised. */
  readonly vol: number;
  /** Drift mu per year (default 0). */
  readonly drift?: number;
  /** Jumps per year. */
  readonly jumpIntensity: number;
  /** Mean log jump size. */
  readonly jumpMean: number;
  /** Std dev of log jump size. */
  readonly jumpStd: number;
}

/** Default Merton parameters for BTC (assumption: ~55% diffusion vol, 6 jumps/yr of -5% +- 8%). */
export const DEFAULT_MERTON_BTC: MertonJumpParams = {
  vol: 0.55,
  jumpIntensity: 6,
  jumpMean: -0.05,
  jumpStd: 0.08,
};

/** Simulated h-day relative moves S_h/S - 1 (Merton; see the module comment). */
export function mertonJumpMoves(o: {
  readonly params: MertonJumpParams;
  readonly horizonDays: number;
  readonly paths: number;
  readonly seed: number;
}): Float64Array {
  const p = o.params;
  requireFinite("params.vol", p.vol);
  const h = requirePositive("horizonDays", o.horizonDays) / 365;
  const rng = createRng(o.seed);
  const kappa = Math.exp(p.jumpMean + (p.jumpStd * p.jumpStd) / 2) - 1;
  const drift = ((p.drift ?? 0) - (p.vol * p.vol) / 2 - p.jumpIntensity * kappa) * h;
  const sd = p.vol * Math.sqrt(h);
  const out = new Float64Array(o.paths);
  for (let i = 0; i < o.paths; i++) {
    let x = drift + sd * rng.normal();
    const n = rng.poisson(p.jumpIntensity * h);
    for (let j = 0; j < n; j++) x += p.jumpMean + p.jumpStd * rng.normal();
    out[i] = Math.exp(x) - 1;
  }
  return out;
}

/** Monte Carlo VaR/CVaR with Merton jumps (seeded, deterministic). */
export function monteCarloVar(
  o: Common & { readonly params?: MertonJumpParams; readonly paths?: number; readonly seed?: number },
): VarResult {
  const paths = o.paths ?? 10_000;
  const moves = mertonJumpMoves({
    params: o.params ?? DEFAULT_MERTON_BTC,
    horizonDays: o.horizonDays,
    paths,
    seed: o.seed ?? 1,
  });
  const pnl = scenarioPortfolioPnl(compileBook(o.positions, o.market), moveScenarios(moves, o));
  return {
    ...varCvarFromPnl(pnl, o.confidence),
    confidence: o.confidence,
    horizonDays: o.horizonDays,
    scenarios: paths,
    method: "monte-carlo",
  };
}
