/**
 * Static-arbitrage report of a fitted surface and a repair of raw SVI slices.
 *
 * Butterfly (per slice): Durrleman's g(k) >= 0 on a dense k grid (GJ 2014, Lemma 2.2), plus the
 * Roper (2010) conditions: w(k) > 0 and, in the wings, Lee's bound on the slopes (< 2) so that
 * d+(k) -> -infinity as k -> +infinity (call prices vanish) and d-(k) -> +infinity as k -> -infinity.
 * Calendar: w(k, T) non-decreasing in T for each k of the grid, between consecutive slices.
 *
 * Repair (raw SVI): for each slice in increasing T, the parameters closest to the fitted ones in
 * total variance on the grid (least squares, relative to the ATM level) subject to g(k) >= 0 on
 * the grid, wing slopes < 2 and w(k) >= w_previous(k): a quadratic-penalty method with growing
 * penalty solved by the projected LM, until every constraint holds on the grid.
 *
 * Units: k = ln(K/F), T years, w = vol^2 T.
 */
import { InvalidInputError } from "../errors.js";
import { levenbergMarquardt } from "../math/levenbergMarquardt.js";
import type { SliceSurface, SmileFunction } from "./interpolate.js";
import { durrlemanG, type SviParams, sviDurrlemanG, sviTotalVariance, sviWingSlopes } from "./svi.js";
import { sviFromInternal, sviToInternal } from "./sviFit.js";

export interface ArbitrageGridOptions {
  /** Grid half-width in units of the ATM total-vol sqrt(w(0)) (default 6), at least kMin. */
  readonly widthInStdDevs?: number;
  /** Minimum half-width in k (default 1). */
  readonly minHalfWidth?: number;
  /** Grid points per slice (default 401). */
  readonly points?: number;
  /** Tolerance on g and on calendar differences (default 1e-10). */
  readonly tolerance?: number;
}

export interface ButterflySliceReport {
  readonly expiry: number;
  /** Smallest g(k) on the grid and where. */
  readonly minDensityG: number;
  readonly minDensityAt: number;
  /** Grid points with g < -tolerance. */
  readonly negativeDensityPoints: number;
  /** Smallest w on the grid (Roper: must be > 0). */
  readonly minTotalVariance: number;
  /** Asymptotic wing slopes of w in k (Lee/Roper: each < 2), estimated at the grid ends when not analytic. */
  readonly leftWingSlope: number;
  readonly rightWingSlope: number;
  readonly free: boolean;
}

export interface CalendarPairReport {
  readonly fromExpiry: number;
  readonly toExpiry: number;
  /** min over the grid of w(k, T2) - w(k, T1) and where. */
  readonly minIncrease: number;
  readonly minIncreaseAt: number;
  readonly violations: number;
  readonly free: boolean;
}

export interface ArbitrageReport {
  readonly butterfly: ButterflySliceReport[];
  readonly calendar: CalendarPairReport[];
  readonly butterflyFree: boolean;
  readonly calendarFree: boolean;
  readonly free: boolean;
}

/** The k grid used for a smile with ATM total variance w0. */
export function arbitrageGrid(w0: number, options: ArbitrageGridOptions = {}): Float64Array {
  const width = Math.max(
    options.minHalfWidth ?? 1,
    (options.widthInStdDevs ?? 6) * Math.sqrt(Math.max(w0, 0)),
  );
  const n = Math.max(3, options.points ?? 401);
  return Float64Array.from({ length: n }, (_, i) => -width + (2 * width * i) / (n - 1));
}

/** Butterfly check of one smile on the grid (wing slopes from the last two grid points unless given). */
export function butterflyCheck(
  smile: SmileFunction,
  options: ArbitrageGridOptions & { wingSlopes?: { left: number; right: number } } = {},
): ButterflySliceReport {
  const tol = options.tolerance ?? 1e-10;
  const grid = arbitrageGrid(smile.totalVariance(0), options);
  let minG = Number.POSITIVE_INFINITY;
  let minAt = 0;
  let neg = 0;
  let minW = Number.POSITIVE_INFINITY;
  for (const k of grid) {
    const w = smile.totalVariance(k);
    minW = Math.min(minW, w);
    const g =
      w > 0
        ? durrlemanG(k, w, smile.firstDerivative(k), smile.secondDerivative(k))
        : Number.NEGATIVE_INFINITY;
    if (g < minG) {
      minG = g;
      minAt = k;
    }
    if (g < -tol) neg++;
  }
  const n = grid.length;
  const slopes = options.wingSlopes ?? {
    left: -smile.firstDerivative(grid[0] * 50),
    right: smile.firstDerivative(grid[n - 1] * 50),
  };
  const free = neg === 0 && minW > 0 && slopes.left < 2 && slopes.right < 2;
  return {
    expiry: smile.expiry,
    minDensityG: minG,
    minDensityAt: minAt,
    negativeDensityPoints: neg,
    minTotalVariance: minW,
    leftWingSlope: slopes.left,
    rightWingSlope: slopes.right,
    free,
  };
}

/** Calendar check between two smiles (T1 < T2) on a common grid. */
export function calendarCheck(
  a: SmileFunction,
  b: SmileFunction,
  options: ArbitrageGridOptions = {},
): CalendarPairReport {
  const tol = options.tolerance ?? 1e-10;
  const grid = arbitrageGrid(Math.max(a.totalVariance(0), b.totalVariance(0)), options);
  let minD = Number.POSITIVE_INFINITY;
  let minAt = 0;
  let viol = 0;
  for (const k of grid) {
    const d = b.totalVariance(k) - a.totalVariance(k);
    if (d < minD) {
      minD = d;
      minAt = k;
    }
    if (d < -tol) viol++;
  }
  return {
    fromExpiry: a.expiry,
    toExpiry: b.expiry,
    minIncrease: minD,
    minIncreaseAt: minAt,
    violations: viol,
    free: viol === 0,
  };
}

/** Full report of a surface at its node expiries. */
export function surfaceArbitrageReport(
  surface: SliceSurface,
  options: ArbitrageGridOptions = {},
): ArbitrageReport {
  const smiles = surface.expiries.map((T) => surface.smileAt(T));
  const butterfly = smiles.map((s) => butterflyCheck(s, options));
  const calendar: CalendarPairReport[] = [];
  for (let i = 1; i < smiles.length; i++) calendar.push(calendarCheck(smiles[i - 1], smiles[i], options));
  const butterflyFree = butterfly.every((b) => b.free);
  const calendarFree = calendar.every((c) => c.free);
  return { butterfly, calendar, butterflyFree, calendarFree, free: butterflyFree && calendarFree };
}

/** Butterfly check of a raw SVI slice (analytic wing slopes). */
export function sviButterflyCheck(
  params: SviParams,
  expiry: number,
  options: ArbitrageGridOptions = {},
): ButterflySliceReport {
  const smile: SmileFunction = {
    expiry,
    totalVariance: (k) => sviTotalVariance(params, k),
    firstDerivative: (k) => params.b * (params.rho + (k - params.m) / Math.hypot(k - params.m, params.sigma)),
    secondDerivative: (k) => {
      const q = (k - params.m) ** 2 + params.sigma ** 2;
      return (params.b * params.sigma ** 2) / (q * Math.sqrt(q));
    },
  };
  return butterflyCheck(smile, { ...options, wingSlopes: sviWingSlopes(params) });
}

export interface SviRepairResult {
  readonly expiry: number;
  readonly original: SviParams;
  readonly repaired: SviParams;
  /** True when the original already passed (repaired === original). */
  readonly unchanged: boolean;
  /** RMS change in implied vol over the grid, vol points. */
  readonly rmsVolChangePts: number;
  /** Whether the repaired slice passes the checks on the grid. */
  readonly free: boolean;
}

/**
 * Closest arbitrage-free raw SVI parameters for slices sorted by expiry (see the module
 * comment). Slices already free of arbitrage are returned unchanged.
 */
export function repairSviSlices(
  slices: readonly { expiry: number; params: SviParams }[],
  options: ArbitrageGridOptions = {},
): SviRepairResult[] {
  const out: SviRepairResult[] = [];
  let prev: SviParams | null = null;
  for (let s = 0; s < slices.length; s++) {
    const { expiry, params } = slices[s];
    if (!(expiry > 0)) throw new InvalidInputError(`slices[${s}].expiry`, expiry, "must be > 0");
    if (s > 0 && !(expiry > slices[s - 1].expiry))
      throw new InvalidInputError(`slices[${s}].expiry`, expiry, "must be strictly increasing");
    const w0 = Math.max(sviTotalVariance(params, 0), 1e-8);
    const grid = arbitrageGrid(w0, options);
    const previous = prev;
    const passes = (p: SviParams): boolean => {
      const slopes = sviWingSlopes(p);
      if (!(slopes.left < 2 && slopes.right < 2)) return false;
      for (const k of grid) {
        const w = sviTotalVariance(p, k);
        if (!(w > 0) || sviDurrlemanG(p, k) < 0) return false;
        if (previous && w < sviTotalVariance(previous, k)) return false;
      }
      return true;
    };
    if (passes(params)) {
      out.push({
        expiry,
        original: params,
        repaired: params,
        unchanged: true,
        rmsVolChangePts: 0,
        free: true,
      });
      prev = params;
      continue;
    }
    const n = grid.length;
    const target = grid.map((k) => sviTotalVariance(params, k));
    const prevW = previous ? grid.map((k) => sviTotalVariance(previous, k)) : null;
    let mu = 100;
    let margin = 1e-5;
    const problem = {
      parameters: 5,
      residuals: 3 * n,
      evaluate(x: Float64Array, r: Float64Array) {
        const p = sviFromInternal(x);
        for (let i = 0; i < n; i++) {
          const k = grid[i];
          const w = sviTotalVariance(p, k);
          r[i] = (w - target[i]) / w0;
          const g = w > 0 ? sviDurrlemanG(p, k) : -1;
          r[n + i] = g < margin ? Math.sqrt(mu) * (margin - g) : 0;
          const floor = prevW ? prevW[i] * (1 + margin) : 0;
          r[2 * n + i] = prevW && w < floor ? (Math.sqrt(mu) * (floor - w)) / w0 : 0;
        }
      },
    };
    let x = sviToInternal(params);
    const lower = [1e-12, 0, -0.999, params.m - 2, 1e-4];
    const upper = [Math.max(10 * w0, 1), 0.999, 0.999, params.m + 2, 10];
    x = x.map((v, j) => Math.min(upper[j], Math.max(lower[j], v)));
    if (previous) {
      // start above the previous slice: v at least the previous minimum variance
      const pv = sviToInternal(previous)[0];
      x[0] = Math.max(x[0], pv);
    }
    let repaired = sviFromInternal(x);
    for (let round = 0; round < 12; round++) {
      const res = levenbergMarquardt(problem, x, { lower, upper, maxIterations: 200 });
      x = Array.from(res.x);
      repaired = sviFromInternal(x);
      if (passes(repaired)) break;
      mu *= 10;
      margin *= 3;
    }
    let ss = 0;
    for (const k of grid) {
      const d =
        Math.sqrt(Math.max(sviTotalVariance(repaired, k), 0) / expiry) -
        Math.sqrt(Math.max(sviTotalVariance(params, k), 0) / expiry);
      ss += d * d;
    }
    out.push({
      expiry,
      original: params,
      repaired,
      unchanged: false,
      rmsVolChangePts: 100 * Math.sqrt(ss / n),
      free: passes(repaired),
    });
    prev = repaired;
  }
  return out;
}
