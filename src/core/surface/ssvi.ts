/**
 * SSVI and extended SSVI (eSSVI) slices.
 *
 * One slice in the (theta, rho, psi) form (Gatheral & Jacquier 2014, eq. 4.1 with psi = theta phi;
 * Hendriks & Martini 2019 for rho and psi varying per slice):
 *
 *   w(k) = (theta + rho psi k + sqrt((psi k + rho theta)^2 + theta^2 (1 - rho^2))) / 2,
 *
 * theta = ATM total variance w(0), rho in (-1, 1) the skew, psi > 0 the ATM curvature scale.
 * Units: k = ln(K/F), w = vol^2 T (dimensionless), T in years.
 *
 * No butterfly arbitrage (GJ 2014, Theorem 4.2): psi (1 + |rho|) < 4 and psi^2 (1 + |rho|) <= 4 theta.
 * In the wing variables p = psi (1 + rho), c = psi (1 - rho) that reads max(p, c) < 4 and
 * theta >= (p + c) max(p, c) / 8.
 * Calendar arbitrage between slices 1 -> 2: theta2 >= theta1, p2 >= p1 and c2 >= c1 are NECESSARY
 * (ATM level and wing slopes) but not sufficient: w ~ (c|k| + theta(1 - rho))/2 as k -> -infinity, so
 * raising theta and the call wing with the put wing unchanged can put slice 2 below slice 1 deep in
 * the put wing (regression test in test/core/surface/ssvi.test.ts; see Hendriks & Martini 2019 and
 * Pasquazzi 2023 for the exact characterization). w is 1-homogeneous in (theta, p, c) and
 * non-decreasing in theta, so scaling a slice by lambda >= 1 and then raising theta is sufficient.
 *
 * SSVI (the GJ surface) is the special case psi = theta phi(theta) with one rho for all slices;
 * here phi is the power law phi(theta) = eta / (theta^gamma (1 + theta)^(1 - gamma)), which is free of
 * static arbitrage for gamma in (0, 1/2] and eta (1 + |rho|) <= 2 (GJ 2014, section 4.3).
 *
 * Example: essviTotalVariance({ theta: 0.04, rho: -0.3, psi: 0.2 }, 0) === 0.04.
 */

/** One eSSVI slice (theta = ATM total variance, rho skew, psi = theta phi(theta)). */
export interface EssviSliceParams {
  readonly theta: number;
  readonly rho: number;
  readonly psi: number;
}

/** Global power-law SSVI parameters (one rho, eta, gamma for all expiries). */
export interface SsviPowerLawParams {
  readonly rho: number;
  readonly eta: number;
  readonly gamma: number;
}

function root(p: EssviSliceParams, k: number): number {
  const u = p.psi * k + p.rho * p.theta;
  return Math.sqrt(u * u + p.theta * p.theta * (1 - p.rho * p.rho));
}

/** Total variance w(k) of an eSSVI slice. */
export function essviTotalVariance(p: EssviSliceParams, k: number): number {
  return 0.5 * (p.theta + p.rho * p.psi * k + root(p, k));
}

/** dw/dk of an eSSVI slice. */
export function essviFirstDerivative(p: EssviSliceParams, k: number): number {
  const u = p.psi * k + p.rho * p.theta;
  return 0.5 * (p.rho * p.psi + (p.psi * u) / root(p, k));
}

/** d2w/dk2 of an eSSVI slice. */
export function essviSecondDerivative(p: EssviSliceParams, k: number): number {
  const R = root(p, k);
  return (0.5 * p.psi * p.psi * p.theta * p.theta * (1 - p.rho * p.rho)) / (R * R * R);
}

/** Writes dw/d(theta, rho, psi) at k into out[0..2]. */
export function essviGradient(p: EssviSliceParams, k: number, out: Float64Array | number[]): void {
  const u = p.psi * k + p.rho * p.theta;
  const R = root(p, k);
  out[0] = 0.5 * (1 + (p.rho * u + p.theta * (1 - p.rho * p.rho)) / R);
  out[1] = 0.5 * (p.psi * k + (p.theta * p.psi * k) / R);
  out[2] = 0.5 * (p.rho * k + (k * u) / R);
}

/** phi(theta) = eta / (theta^gamma (1 + theta)^(1 - gamma)). */
export function ssviPowerLawPhi(params: SsviPowerLawParams, theta: number): number {
  return params.eta / (theta ** params.gamma * (1 + theta) ** (1 - params.gamma));
}

/** The eSSVI slice of a power-law SSVI surface at ATM total variance theta. */
export function ssviSlice(params: SsviPowerLawParams, theta: number): EssviSliceParams {
  return { theta, rho: params.rho, psi: theta * ssviPowerLawPhi(params, theta) };
}

/** Raw SVI equivalent of an eSSVI slice (GJ 2014, Lemma 3.1 with phi = psi/theta). */
export function essviToRawSvi(p: EssviSliceParams): {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
} {
  const phi = p.psi / p.theta;
  return {
    a: 0.5 * p.theta * (1 - p.rho * p.rho),
    b: 0.5 * p.psi,
    rho: p.rho,
    m: -p.rho / phi,
    sigma: Math.sqrt(1 - p.rho * p.rho) / phi,
  };
}

/** Slack of the GJ butterfly conditions (>= 0 means satisfied): [4 - psi(1+|rho|), 4 theta - psi^2 (1+|rho|)]. */
export function essviButterflySlack(p: EssviSliceParams): { wing: number; curvature: number } {
  const s = 1 + Math.abs(p.rho);
  return { wing: 4 - p.psi * s, curvature: 4 * p.theta - p.psi * p.psi * s };
}

/** Slack of the necessary calendar conditions (ATM level, wing slopes) from slice `a` (earlier) to `b` (later); all >= 0 means satisfied. */
export function essviCalendarSlack(
  a: EssviSliceParams,
  b: EssviSliceParams,
): { theta: number; putWing: number; callWing: number } {
  return {
    theta: b.theta - a.theta,
    putWing: b.psi * (1 - b.rho) - a.psi * (1 - a.rho),
    callWing: b.psi * (1 + b.rho) - a.psi * (1 + a.rho),
  };
}
