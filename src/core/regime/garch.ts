/**
 * GARCH(1,1) (Bollerslev 1986) and GJR-GARCH(1,1) (Glosten, Jagannathan & Runkle 1993) with
 * Gaussian innovations, fitted by maximum likelihood, and their variance forecasts.
 *
 *   r_t = mu + e_t,  e_t = sigma_t z_t,
 *   sigma_t^2 = omega + (alpha + gamma 1{e_{t-1} < 0}) e_{t-1}^2 + beta sigma_{t-1}^2
 *
 * (gamma = 0 for GARCH). Stationarity: persistence alpha + gamma/2 + beta < 1. Returns are
 * per period (daily log returns); vols are annualized with periodsPerYear (crypto: 365).
 * The fit maximizes the likelihood over unconstrained transforms with restarts (Nelder-Mead);
 * sigma_1^2 starts at the sample variance.
 */
import { InvalidInputError } from "../errors.js";
import { nelderMead } from "../math/nelderMead.js";
import { mean as meanOf, variance as sampleVariance } from "../math/stats.js";

export interface GarchParams {
  /** Mean return per period. */
  readonly mu: number;
  readonly omega: number;
  readonly alpha: number;
  readonly beta: number;
  /** Leverage term (GJR); 0 for GARCH(1,1). */
  readonly gamma: number;
}

export interface GarchFit {
  readonly model: "garch" | "gjr";
  readonly params: GarchParams;
  readonly logLikelihood: number;
  /** alpha + gamma/2 + beta. */
  readonly persistence: number;
  /** Unconditional variance per period, omega / (1 - persistence). */
  readonly longRunVariance: number;
  /** Conditional variance per period for each observation (sigma_t^2), and the next one. */
  readonly conditionalVariance: readonly number[];
  readonly nextVariance: number;
  readonly converged: boolean;
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));

/** Conditional variances sigma_t^2 (t = 0..n, the last one the one-step forecast). */
export function garchVariances(
  returns: readonly number[],
  p: GarchParams,
  initialVariance?: number,
): number[] {
  const n = returns.length;
  const v = new Array<number>(n + 1);
  let s2 = initialVariance ?? sampleVariance(returns);
  v[0] = s2;
  for (let t = 1; t <= n; t++) {
    const e = (returns[t - 1] as number) - p.mu;
    s2 = p.omega + (p.alpha + (e < 0 ? p.gamma : 0)) * e * e + p.beta * s2;
    v[t] = s2;
  }
  return v;
}

/** Gaussian log-likelihood of `returns` under `p`. */
export function garchLogLikelihood(
  returns: readonly number[],
  p: GarchParams,
  initialVariance?: number,
): number {
  const v = garchVariances(returns, p, initialVariance);
  let ll = 0;
  for (let t = 0; t < returns.length; t++) {
    const e = (returns[t] as number) - p.mu;
    const s2 = v[t] as number;
    ll += -0.5 * (Math.log(2 * Math.PI) + Math.log(s2) + (e * e) / s2);
  }
  return ll;
}

/** Fits GARCH(1,1) (model "garch") or GJR-GARCH(1,1) (model "gjr") by maximum likelihood. */
export function fitGarch(returns: readonly number[], options: { model?: "garch" | "gjr" } = {}): GarchFit {
  const model = options.model ?? "garch";
  if (returns.length < 50)
    throw new InvalidInputError("returns.length", returns.length, "must be at least 50");
  returns.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new InvalidInputError(`returns[${i}]`, r, "must be finite");
  });
  const variance = sampleVariance(returns);
  const mean = meanOf(returns);
  const scale = Math.sqrt(variance);
  // Unconstrained coordinates: mu/scale, logit(persistence), logit(alpha share), [logit(gamma share)], log(omega/target).
  const decode = (x: readonly number[]): GarchParams => {
    const persistence = 0.99999 * logistic(x[1] as number);
    const share = logistic(x[2] as number);
    const gammaShare = model === "gjr" ? logistic(x[4] as number) : 0;
    // persistence = alpha + gamma/2 + beta; "shock" part a = alpha + gamma/2 = share * persistence.
    const shock = share * persistence;
    const gamma = 2 * shock * gammaShare;
    const alpha = shock - gamma / 2;
    const beta = persistence - shock;
    const omega = variance * (1 - persistence) * Math.exp(x[3] as number);
    return { mu: (x[0] as number) * scale, omega, alpha, beta, gamma };
  };
  const objective = (x: readonly number[]) => -garchLogLikelihood(returns, decode(x), variance);
  let best: { x: number[]; value: number; converged: boolean } | null = null;
  for (const [persistence, share] of [
    [0.95, 0.1],
    [0.9, 0.2],
    [0.98, 0.05],
    [0.7, 0.3],
  ] as const) {
    const x0 = [mean / scale, logit(persistence / 0.99999), logit(share), 0];
    if (model === "gjr") x0.push(logit(0.3));
    let r = nelderMead(objective, x0, { step: 0.5, maxIterations: 4000 });
    r = nelderMead(objective, r.x, { step: 0.05, maxIterations: 4000 }); // restart from the optimum
    if (!best || r.value < best.value) best = { x: r.x, value: r.value, converged: r.converged };
  }
  const b = best as { x: number[]; value: number; converged: boolean };
  const params = decode(b.x);
  const persistence = params.alpha + params.gamma / 2 + params.beta;
  const v = garchVariances(returns, params, variance);
  return {
    model,
    params,
    logLikelihood: -b.value,
    persistence,
    longRunVariance: params.omega / (1 - persistence),
    conditionalVariance: v.slice(0, returns.length),
    nextVariance: v[returns.length] as number,
    converged: b.converged,
  };
}

/**
 * Expected variance per period h steps ahead (h = 1 is nextVariance):
 * E[sigma_{T+h}^2] = vL + persistence^{h-1} (sigma_{T+1}^2 - vL).
 */
export function garchForecastVariance(fit: GarchFit, h: number): number {
  if (!Number.isInteger(h) || h < 1) throw new InvalidInputError("h", h, "must be an integer >= 1");
  return fit.longRunVariance + fit.persistence ** (h - 1) * (fit.nextVariance - fit.longRunVariance);
}

/**
 * Annualized vol forecast term structure: for each horizon H (periods), the vol of the sum of the
 * next H returns, sqrt(periodsPerYear / H * sum_{h=1..H} E[sigma_{T+h}^2]).
 */
export function garchVolTermStructure(
  fit: GarchFit,
  horizons: readonly number[] = [1, 7, 14, 30, 60, 90, 180, 365],
  periodsPerYear = 365,
): { horizon: number; vol: number }[] {
  return horizons.map((H) => {
    if (!Number.isInteger(H) || H < 1)
      throw new InvalidInputError("horizons[]", H, "must be an integer >= 1");
    let total = 0;
    for (let h = 1; h <= H; h++) total += garchForecastVariance(fit, h);
    return { horizon: H, vol: Math.sqrt((total / H) * periodsPerYear) };
  });
}

/** Simulates `n` returns from a GARCH/GJR process with standard normal draws `normal()`. */
export function simulateGarch(p: GarchParams, n: number, normal: () => number): number[] {
  const persistence = p.alpha + p.gamma / 2 + p.beta;
  let s2 = persistence < 1 ? p.omega / (1 - persistence) : p.omega;
  const out: number[] = [];
  for (let t = 0; t < n; t++) {
    const e = Math.sqrt(s2) * normal();
    out.push(p.mu + e);
    s2 = p.omega + (p.alpha + (e < 0 ? p.gamma : 0)) * e * e + p.beta * s2;
  }
  return out;
}
