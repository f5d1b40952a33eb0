/**
 * Variance swap fair strike by static replication, and its mark-to-market.
 *
 * Reference: Demeterfi, Derman, Kamal & Zou (1999), "More than you ever wanted to know about
 * volatility swaps" (Goldman Sachs QSR note), eq. (26)-(29): with a continuous diffusion and r = 0,
 * the fair variance of a swap to T is the price of the log contract,
 *
 *   K_var = -(2/T) E[ln(S_T / F)] = (2/T) [ int_0^F P(K)/K^2 dK + int_F^inf C(K)/K^2 dK ]
 *
 * (undiscounted out-of-the-money puts below the forward F and calls above, weighted 2/K^2 dK).
 * A chain lists finitely many strikes, so three pieces are reported:
 *
 *  1. The strip (`stripVariance`): the listed strikes in the midpoint rule of the Cboe VIX method,
 *     sigma^2 = (2/T) sum dK_i/K_i^2 Q(K_i) - (1/T)(F/K0 - 1)^2 (K0 = listed strike at or below F,
 *     Q(K0) the put-call average; the last term removes the in-the-money part between K0 and F). It
 *     is exactly the strip of the project's settlement-grade 30-day index: the strikes, filters,
 *     bracketing expiries and total-variance interpolation of `dvolIndex` (dvol.ts, Deribit's DVOL
 *     method) with `targetDays` = the tenor; not a second strip.
 *  2. Discrete-strike correction (`discreteCorrection`): the same midpoint sum and K0 term applied to
 *     the fitted surface's prices at the strip's strikes, subtracted from the exact integral of the
 *     surface's out-of-the-money prices over [K_first, K_last] (composite Simpson in log-strike, step
 *     <= 0.002). The surface is `calibrateSurfaceFromQuotes` (core/surface) on the chain's quotes.
 *  3. Wing-truncation correction (`wingCorrection` = `putWing` + `callWing`): the integral of the
 *     surface's prices beyond the strip's outermost strikes (integrated outward until a 0.25-wide
 *     block adds < 1e-14, at most |k| = 40). Between the strip's end (the index's |delta| 0.045 floor)
 *     and the last listed strike the surface is the fit to quotes. Beyond the last listed strike
 *     (`wingBeyondQuotes`) the vol is held flat at its value there, the extrapolation of model-free
 *     implied variance (Jiang & Tian 2005, "The model-free implied volatility and its information
 *     content", RFS; Carr & Wu 2009): the fitted SVI's linear wings, extrapolated, let the log
 *     contract explode as the wing slope nears Lee's bound 2 (over the 2026 season the SVI
 *     extrapolation reads up to 68,000 variance points on BTC, 262 vol points, on days with a
 *     steep fitted put wing; scripts/measure/varianceSwapSeason.ts). The SVI extrapolation is
 *     reported as the high end of the model range (`wingBeyondQuotesSvi`). The call wing has a
 *     model-free upper bound (`callWingBound` = (2/T) C(K_last)/K_last on the strip's last call,
 *     since C(K) <= C(K_last) beyond it); the put wing has none (the log contract is unbounded
 *     without a left-tail moment), so its size is reported rather than bounded.
 *
 *   fairVariance = stripVariance + discreteCorrection + wingCorrection.
 *
 * Corrections 2 and 3 are differences of surface prices, so the fit's level errors cancel to first
 * order; the strip's market prices carry the level. Any tenor: the components of the two bracketing
 * expiries are interpolated in total variance with the index's weights (linear, so components add).
 * Jumps: with jumps the log contract differs from the expected realized variance by a third-order
 * term (DDKZ section 5; Carr & Wu 2009); not corrected here, as Deribit's DVOL does not either.
 *
 * Units: variance decimal^2 per year (0.25 = 50 vol points squared); USD strikes and prices (inverse
 * quotes converted on the expiry forward, as dvol.ts does); T in years ACT/365; r = 0 (crypto; the
 * forward carries the basis).
 *
 * Example: on a flat 60% Black-76 chain with strikes every 1% of F out to |delta| 0.045,
 * stripVariance ~ 0.36 and fairVariance = 0.36 within 1e-6 (test/core/volindex/varianceSwap.test.ts).
 */
import { InvalidInputError } from "../errors.js";
import type { CleanQuote, MarketSnapshot } from "../market/types.js";
import { blackUndiscountedUnchecked } from "../pricing/black76.js";
import { calibrateSurfaceFromQuotes, type SurfaceModel } from "../surface/calibrate.js";
import type { VolSurface } from "../surface/types.js";
import { DAY_MS, DAYS_PER_YEAR } from "../time.js";
import { type DvolExpiryVariance, type DvolOptions, dvolIndex } from "./dvol.js";

export interface VarianceSwapOptions {
  /** Tenor of the swap in calendar days (> 0). */
  readonly tenorDays: number;
  /** Strip filters and expiry eligibility (dvol.ts; default DVOL_DEFAULTS). `targetDays` is the tenor. */
  readonly strip?: Omit<DvolOptions, "targetDays">;
  /**
   * Surface for the corrections. Default: `calibrateSurfaceFromQuotes(snapshot.quotes, {model})`;
   * `null`: no corrections (fairVariance = stripVariance, corrections reported as null).
   */
  readonly surface?: VolSurface | null;
  /** Model for the default calibration (default "svi-af": arbitrage-free SVI slices). */
  readonly surfaceModel?: SurfaceModel;
}

/** The replication of one listed expiry. */
export interface ExpiryReplication {
  readonly expiry: number;
  readonly timeToExpiry: number;
  readonly forward: number;
  readonly strikes: number;
  readonly firstStrike: number;
  readonly lastStrike: number;
  /** Market strip variance (the index's), decimal^2/yr. */
  readonly stripVariance: number;
  /** (1/T)(F/K0 - 1)^2, already inside stripVariance. */
  readonly k0Term: number;
  /** Exact surface integral over [first, last] minus the surface strip (null without a surface). */
  readonly discreteCorrection: number | null;
  readonly putWing: number | null;
  readonly callWing: number | null;
  /** Lowest and highest listed strike of the expiry (any quote). */
  readonly listedFirstStrike: number;
  readonly listedLastStrike: number;
  /** Part of putWing + callWing beyond the listed strikes (vol held flat there). */
  readonly wingBeyondQuotes: number | null;
  /** The same with the fitted surface (SVI) extrapolated beyond the listed strikes (high estimate). */
  readonly wingBeyondQuotesSvi: number | null;
  /** Model-free upper bound of the call wing from the market's last call, (2/T) C(K_last)/K_last. */
  readonly callWingBound: number;
  readonly fairVariance: number;
}

export interface VarianceSwapStrike {
  readonly underlying: string;
  readonly valuationTime: number;
  readonly tenorDays: number;
  /** The index's strip variance at the tenor (= (dvolIndex / 100)^2 with targetDays = tenor). */
  readonly stripVariance: number;
  readonly discreteCorrection: number | null;
  readonly wingCorrection: number | null;
  /** Part of wingCorrection beyond the last listed strikes (vol held flat there). */
  readonly wingBeyondQuotes: number | null;
  /** The same with the fitted SVI extrapolated instead (the high end of the model range). */
  readonly wingBeyondQuotesSvi: number | null;
  /** stripVariance + corrections (decimal^2 per year). */
  readonly fairVariance: number;
  /** sqrt(fairVariance) x 100: the strike in vol points (e.g. 43.2). */
  readonly strikeVolPoints: number;
  /** Sum of the bracketing expiries' call-wing bounds, interpolated like the variances. */
  readonly callWingBound: number;
  /** False when the tenor lies outside the eligible expiries (total variance extrapolated linearly). */
  readonly bracketed: boolean;
  readonly nearWeight: number;
  readonly near: ExpiryReplication;
  readonly next: ExpiryReplication;
  /** Why there are no corrections (surface fit failed or disabled), else null. */
  readonly surfaceIssue: string | null;
}

const SIMPSON_STEP = 0.002;

/** Undiscounted out-of-the-money price / K (put below F, call above) at log-strike k. */
function otmOverStrike(surface: VolSurface, F: number, T: number, k: number): number {
  const K = F * Math.exp(k);
  const w = surface.totalVariance(k, T);
  const s = w > 0 ? Math.sqrt(w) : 0;
  return blackUndiscountedUnchecked(F, K, s, k >= 0) / K;
}

/** Composite Simpson of f over [a, b] with step <= h. */
function simpson(f: (x: number) => number, a: number, b: number, h = SIMPSON_STEP): number {
  if (!(b > a)) return 0;
  let n = Math.ceil((b - a) / h);
  if (n % 2 === 1) n++;
  const step = (b - a) / n;
  let sum = f(a) + f(b);
  for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * f(a + i * step);
  return (sum * step) / 3;
}

/** int OTM(K)/K^2 dK = int OTM/K dk over [ka, kb] (log-strikes), split at the forward. */
function otmIntegral(surface: VolSurface, F: number, T: number, ka: number, kb: number): number {
  const f = (k: number) => otmOverStrike(surface, F, T, k);
  if (ka < 0 && kb > 0) return simpson(f, ka, 0) + simpson(f, 0, kb);
  return simpson(f, ka, kb);
}

/** int of OTM/K dk from k0 outward (direction -1: puts, +1: calls) until a block adds < 1e-14. */
function wingIntegral(surface: VolSurface, F: number, T: number, k0: number, direction: -1 | 1): number {
  const f = (k: number) => otmOverStrike(surface, F, T, k);
  let total = 0;
  let k = k0;
  const block = 0.25;
  while (Math.abs(k) < 40) {
    const next = k + direction * block;
    const part = direction < 0 ? simpson(f, next, k) : simpson(f, k, next);
    total += part;
    k = next;
    if (part < 1e-14) break;
  }
  return total;
}

/** The surface with the vol held flat outside [kLo, kHi] in log-moneyness (see the module comment, item 3). */
function flatBeyond(surface: VolSurface, kLo: number, kHi: number): VolSurface {
  return {
    model: `${surface.model}-flat-beyond-quotes`,
    totalVariance: (k, t) => surface.totalVariance(Math.min(Math.max(k, kLo), kHi), t),
    impliedVol: (k, t) => surface.impliedVol(Math.min(Math.max(k, kLo), kHi), t),
  };
}

/** Default half-width of the trusted smile in surfaceFairVariance: ATM standard deviations. */
export const SURFACE_VARIANCE_WING_STDEVS = 6;

/** Simpson steps per ATM standard deviation in surfaceFairVariance (flat surface: relative error <= 1.3e-9). */
const STEPS_PER_STDEV = 32;

/** int of f from k0 outward in blocks of 32 steps of h until a block adds < 1e-13 of the total. */
function tailIntegral(f: (k: number) => number, k0: number, direction: -1 | 1, h: number): number {
  let total = 0;
  let k = k0;
  const block = STEPS_PER_STDEV * h;
  while (Math.abs(k) < 40) {
    const next = k + direction * block;
    const part = direction < 0 ? simpson(f, next, k, h) : simpson(f, k, next, h);
    total += part;
    k = next;
    if (part <= 1e-13 * total) break;
  }
  return total;
}

/**
 * Model-free fair variance (decimal^2/yr) of a swap from now to T years read off a surface alone,
 * at the expiry's forward F: K_var = (2/T) int OTM(K)/K^2 dK over the whole strike line (the log
 * contract of the module comment, without a strip: a surface has no discrete strikes). Beyond
 * the listed strikes (`wings` = their log-moneyness range {kLo, kHi}, the rule of item 3 of the
 * module comment) or, when the caller has no listed range, beyond |k| = wings x sigma_ATM sqrt(T)
 * (default 6 ATM standard deviations: keeps a fitted wing slope near Lee's bound from exploding
 * the log contract) the vol is held flat. Simpson
 * in log-strike with 32 steps per ATM standard deviation, split at 0 and at the flat points (the
 * integrand is smooth on each piece), tails until a block adds < 1e-13 of the total. This is the
 * variance the risk engine values variance swaps and vol-index futures on (core/risk), so they move
 * with the same surface as the options. Flat surface sigma: sigma^2 to 1.3e-9 relative.
 * Units: F USD, T years (> 0).
 */
export function surfaceFairVariance(
  surface: VolSurface,
  forward: number,
  T: number,
  wings: number | { readonly kLo: number; readonly kHi: number } = SURFACE_VARIANCE_WING_STDEVS,
): number {
  if (!(T > 0) || !Number.isFinite(T)) throw new InvalidInputError("T", T, "must be a finite number > 0");
  if (!(forward > 0) || !Number.isFinite(forward))
    throw new InvalidInputError("forward", forward, "must be a finite number > 0");
  if (typeof wings === "number" && !(wings > 0))
    throw new InvalidInputError("wingStdevs", wings, "must be > 0");
  const atm = surface.impliedVol(0, T);
  if (!(atm > 0) || !Number.isFinite(atm))
    throw new InvalidInputError("surface ATM vol", atm, `must be a finite number > 0 at T = ${T}`);
  const sd = atm * Math.sqrt(T);
  // Flat beyond the listed strikes when given (as replicateExpiry), else beyond +/- wings ATM sd.
  const kLo = typeof wings === "number" ? -wings * sd : Math.min(wings.kLo, 0);
  const kHi = typeof wings === "number" ? wings * sd : Math.max(wings.kHi, 0);
  const h = sd / STEPS_PER_STDEV;
  const flat = flatBeyond(surface, kLo, kHi);
  const f = (k: number) => otmOverStrike(flat, forward, T, k);
  const core = simpson(f, kLo, 0, h) + simpson(f, 0, kHi, h);
  return (2 / T) * (core + tailIntegral(f, kLo, -1, h) + tailIntegral(f, kHi, 1, h));
}

/** The replication of one expiry of the index (its strip from dvol.ts) with the surface corrections. */
export function replicateExpiry(
  v: DvolExpiryVariance,
  surface: VolSurface | null,
  listed: { readonly first: number; readonly last: number } = {
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
  },
): ExpiryReplication {
  const T = v.timeToExpiry;
  const F = v.forward;
  const c = v.contributions;
  const first = c[0];
  const last = c[c.length - 1];
  if (!first || !last) throw new InvalidInputError("contributions.length", 0, "must be > 0");
  const lastCall = last.kind === "call" ? last.mid : 0;
  const callWingBound = ((2 / T) * lastCall) / last.strike;
  let discreteCorrection: number | null = null;
  let putWing: number | null = null;
  let callWing: number | null = null;
  let wingBeyondQuotes: number | null = null;
  let wingBeyondQuotesSvi: number | null = null;
  const listedFirstStrike = Math.min(listed.first, first.strike);
  const listedLastStrike = Math.max(listed.last, last.strike);
  if (surface) {
    let sum = 0;
    for (const x of c) {
      const k = Math.log(x.strike / F);
      const s = Math.sqrt(Math.max(surface.totalVariance(k, T), 0));
      const put = blackUndiscountedUnchecked(F, x.strike, s, false);
      const call = blackUndiscountedUnchecked(F, x.strike, s, true);
      const q = x.kind === "put" ? put : x.kind === "call" ? call : (put + call) / 2;
      sum += (x.strikeWidth / (x.strike * x.strike)) * q;
    }
    const surfaceStrip = (2 / T) * sum - v.correction;
    const ka = Math.log(first.strike / F);
    const kb = Math.log(last.strike / F);
    const exact = (2 / T) * otmIntegral(surface, F, T, ka, kb);
    discreteCorrection = exact - surfaceStrip;
    const kLo = Math.min(Math.log(listedFirstStrike / F), 0);
    const kHi = Math.max(Math.log(listedLastStrike / F), 0);
    // Vol held flat beyond the listed strikes (see the module comment, item 3).
    const flat = flatBeyond(surface, kLo, kHi);
    putWing = (2 / T) * wingIntegral(flat, F, T, Math.min(ka, 0), -1);
    callWing = (2 / T) * wingIntegral(flat, F, T, Math.max(kb, 0), 1);
    const beyond = (sf: VolSurface) =>
      (2 / T) * (wingIntegral(sf, F, T, kLo, -1) + wingIntegral(sf, F, T, kHi, 1));
    wingBeyondQuotes = beyond(flat);
    wingBeyondQuotesSvi = beyond(surface);
  }
  return {
    expiry: v.expiry,
    timeToExpiry: T,
    forward: F,
    strikes: c.length,
    firstStrike: first.strike,
    lastStrike: last.strike,
    stripVariance: v.variance,
    k0Term: v.correction,
    discreteCorrection,
    putWing,
    callWing,
    listedFirstStrike,
    listedLastStrike,
    wingBeyondQuotes,
    wingBeyondQuotesSvi,
    callWingBound,
    fairVariance: v.variance + (discreteCorrection ?? 0) + (putWing ?? 0) + (callWing ?? 0),
  };
}

/** The correction surface: the given one, or calibrated on the snapshot's quotes, or why not. */
export function replicationSurface(
  snapshot: MarketSnapshot,
  options: VarianceSwapOptions,
): { surface: VolSurface | null; issue: string | null } {
  if (options.surface === null) return { surface: null, issue: "corrections disabled (surface: null)" };
  if (options.surface) return { surface: options.surface, issue: null };
  const quotes: CleanQuote[] = snapshot.quotes.filter((q) => q.instrument.underlying === snapshot.underlying);
  const fit = calibrateSurfaceFromQuotes(quotes, { model: options.surfaceModel ?? "svi-af" });
  if (!fit.fit.ok) return { surface: null, issue: `surface fit failed: ${fit.fit.message}` };
  return { surface: fit.fit.value.surface, issue: null };
}

/**
 * Fair variance strike of a variance swap of `tenorDays` on a normalized chain (normalizeChain's
 * MarketSnapshot). Throws InvalidInputError for a bad tenor or a chain without two eligible expiries.
 */
export function varianceSwapStrike(
  snapshot: MarketSnapshot,
  options: VarianceSwapOptions,
): VarianceSwapStrike {
  const { tenorDays } = options;
  if (!(tenorDays > 0) || !Number.isFinite(tenorDays))
    throw new InvalidInputError("tenorDays", tenorDays, "must be a finite number > 0");
  const index = dvolIndex(snapshot, { ...options.strip, targetDays: tenorDays });
  const { surface, issue } = replicationSurface(snapshot, options);
  const listed = (expiry: number) => {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const q of snapshot.quotes) {
      if (q.instrument.expiry !== expiry || q.instrument.underlying !== snapshot.underlying) continue;
      first = Math.min(first, q.instrument.strike);
      last = Math.max(last, q.instrument.strike);
    }
    return { first, last };
  };
  const near = replicateExpiry(index.near, surface, listed(index.near.expiry));
  const next = replicateExpiry(index.next, surface, listed(index.next.expiry));
  const tau = tenorDays / DAYS_PER_YEAR;
  const w1 = index.nearWeight;
  const w2 = 1 - w1;
  // Total-variance interpolation with the index's weights (interpolate.ts): linear in each part.
  const interp = (a: number, b: number) =>
    near.timeToExpiry === next.timeToExpiry
      ? a
      : (near.timeToExpiry * a * w1 + next.timeToExpiry * b * w2) / tau;
  const stripVariance = interp(near.stripVariance, next.stripVariance);
  const discreteCorrection =
    surface === null ? null : interp(near.discreteCorrection as number, next.discreteCorrection as number);
  const wingCorrection =
    surface === null
      ? null
      : interp(
          (near.putWing as number) + (near.callWing as number),
          (next.putWing as number) + (next.callWing as number),
        );
  const wingBeyondQuotes =
    surface === null ? null : interp(near.wingBeyondQuotes as number, next.wingBeyondQuotes as number);
  const wingBeyondQuotesSvi =
    surface === null ? null : interp(near.wingBeyondQuotesSvi as number, next.wingBeyondQuotesSvi as number);
  const fairVariance = stripVariance + (discreteCorrection ?? 0) + (wingCorrection ?? 0);
  return {
    underlying: snapshot.underlying,
    valuationTime: snapshot.valuationTime,
    tenorDays,
    stripVariance,
    discreteCorrection,
    wingCorrection,
    wingBeyondQuotes,
    wingBeyondQuotesSvi,
    fairVariance,
    strikeVolPoints: 100 * Math.sqrt(Math.max(fairVariance, 0)),
    callWingBound: interp(near.callWingBound, next.callWingBound),
    bracketed: index.bracketed,
    nearWeight: w1,
    near,
    next,
    surfaceIssue: issue,
  };
}

/** One fixing of the underlying index (epoch ms UTC, USD). */
export interface IndexFixing {
  readonly time: number;
  readonly price: number;
}

/**
 * Realized variance of a fixing series, annualized on 365 days: (365 / elapsed days) x sum of squared
 * log returns, elapsed = last fixing - first fixing (daily fixings: 365/n x sum, DDKZ eq. (1)
 * with the crypto calendar). Returns 0 with zero returns for a single fixing.
 */
export function realizedVariance(fixings: readonly IndexFixing[]): {
  variance: number;
  returns: number;
  elapsedDays: number;
} {
  for (let i = 0; i < fixings.length; i++) {
    const f = fixings[i] as IndexFixing;
    if (!(f.price > 0) || !Number.isFinite(f.price))
      throw new InvalidInputError(`fixings[${i}].price`, f.price, "must be a finite number > 0");
    if (i > 0 && !(f.time > (fixings[i - 1] as IndexFixing).time))
      throw new InvalidInputError(`fixings[${i}].time`, f.time, "must be after the previous fixing");
  }
  if (fixings.length < 2) return { variance: 0, returns: 0, elapsedDays: 0 };
  let sum = 0;
  for (let i = 1; i < fixings.length; i++) {
    const r = Math.log((fixings[i] as IndexFixing).price / (fixings[i - 1] as IndexFixing).price);
    sum += r * r;
  }
  const elapsedDays =
    ((fixings[fixings.length - 1] as IndexFixing).time - (fixings[0] as IndexFixing).time) / DAY_MS;
  return { variance: (DAYS_PER_YEAR / elapsedDays) * sum, returns: fixings.length - 1, elapsedDays };
}

export interface VarianceSwapTerms {
  /** Strike as a variance, decimal^2/yr (0.25 = 50 vol points). */
  readonly strikeVariance: number;
  readonly startTime: number;
  readonly maturityTime: number;
}

export interface VarianceSwapMarkInputs {
  readonly terms: VarianceSwapTerms;
  /** Index fixings from the start time to the valuation time (the first one at the start). */
  readonly fixings: readonly IndexFixing[];
  readonly valuationTime: number;
  /** Fair variance of the remaining tenor (varianceSwapStrike with tenorDays = days left). */
  readonly remainingFairVariance: number;
  /** Continuous rate for the discount to maturity (default 0). */
  readonly rate?: number;
}

export interface VarianceSwapMark {
  readonly realizedVariance: number;
  readonly elapsedFraction: number;
  readonly remainingFairVariance: number;
  /** Expected variance over the whole life: (t/T) RV + ((T - t)/T) K_remaining. */
  readonly expectedVariance: number;
  readonly discount: number;
  /** Value per unit of variance notional (USD per 1.00 of decimal variance): D (E[V] - K). */
  readonly valuePerVarianceNotional: number;
  /**
   * Value per 1 USD of vega notional with the strike in vol points: N_var = N_vega / (2 K), so
   * D (E[V]pts^2 - K pts^2) / (2 K pts) (DDKZ section 2; a 1-point move near the strike ~ 1 USD).
   */
  readonly valuePerVegaNotional: number;
}

/** Mark-to-market of a variance swap: realized so far + the fair strike of the rest, discounted. */
export function varianceSwapMark(m: VarianceSwapMarkInputs): VarianceSwapMark {
  const { terms } = m;
  if (!(terms.strikeVariance > 0))
    throw new InvalidInputError("terms.strikeVariance", terms.strikeVariance, "must be > 0");
  if (!(terms.maturityTime > terms.startTime))
    throw new InvalidInputError("terms.maturityTime", terms.maturityTime, "must be after startTime");
  if (!(m.valuationTime >= terms.startTime && m.valuationTime <= terms.maturityTime))
    throw new InvalidInputError("valuationTime", m.valuationTime, "must lie in [startTime, maturityTime]");
  if (!(m.remainingFairVariance >= 0))
    throw new InvalidInputError("remainingFairVariance", m.remainingFairVariance, "must be >= 0");
  const first = m.fixings[0];
  if (first && first.time < terms.startTime)
    throw new InvalidInputError("fixings[0].time", first.time, "must be at or after startTime");
  const rv = realizedVariance(m.fixings);
  const total = terms.maturityTime - terms.startTime;
  const elapsedFraction = (m.valuationTime - terms.startTime) / total;
  const expectedVariance = elapsedFraction * rv.variance + (1 - elapsedFraction) * m.remainingFairVariance;
  const discount = Math.exp(
    -(m.rate ?? 0) * ((terms.maturityTime - m.valuationTime) / (DAYS_PER_YEAR * DAY_MS)),
  );
  const kPts = 100 * Math.sqrt(terms.strikeVariance);
  return {
    realizedVariance: rv.variance,
    elapsedFraction,
    remainingFairVariance: m.remainingFairVariance,
    expectedVariance,
    discount,
    valuePerVarianceNotional: discount * (expectedVariance - terms.strikeVariance),
    valuePerVegaNotional: (discount * (1e4 * expectedVariance - kPts * kPts)) / (2 * kPts),
  };
}
