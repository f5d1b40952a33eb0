/**
 * Arbitrage-free raw SVI surface ("svi-af"): one raw SVI smile per expiry, fitted to the quotes
 * with the static no-arbitrage conditions as explicit constraints, slice by slice from the longest
 * expiry inward.
 *
 * For each slice (longest first) the unconstrained fit (sviFit.ts) is the starting point; if it
 * already satisfies the constraints it is kept as is. Otherwise the projected Levenberg-Marquardt
 * (math/levenbergMarquardt.ts) minimizes the same weighted vol-space objective plus quadratic
 * penalties (exterior penalty method, penalty weight raised x100 per round) on
 *   - butterfly: Durrleman's g(k) >= G_MARGIN on a k-grid (Gatheral & Jacquier 2014, Lemma 2.2);
 *   - calendar: w_i(k) <= w_{i+1}(k) on the grid against the already fitted longer slice, and the
 *     wing slopes b(1 -+ rho) of slice i at most those of slice i+1 (calendar beyond the grid);
 *   - Lee's moment bound (wing slopes of w <= 2) is a box constraint of the internal variables
 *     (beta < 1, see sviFit.ts), so it always holds.
 * The grid covers |k| <= max(1.5, quoted |k| of the chain + 0.5, 6.5 ATM standard deviations of the
 * longest expiry). After each round the candidate is
 * verified on a grid 8x denser; points that fail are added to the penalty grid (cutting planes).
 * If the penalty rounds do not reach a verified point, a fallback with a guarantee is used: the
 * longer slice scaled, w_i = lambda w_{i+1} with lambda in [0, 1] fitted to the quotes. Scaling keeps
 * g >= 0: with A = (1 - k w'/2w)^2, B = w'^2/4w, C = w'^2/16, D = w''/2 (all of w_{i+1}),
 * g_lambda = A - lambda B - lambda^2 C + lambda D is concave in lambda with g_0 = A >= 0 and
 * g_1 >= 0, hence >= 0 on [0, 1]; and lambda w_{i+1} <= w_{i+1}. For the longest slice the fallback
 * shrinks b towards a flat smile (g = 1) at fixed ATM variance, by bisection.
 * Between nodes the surface is linear in total variance (interpolate.ts), so ordered nodes give a
 * calendar-free surface at every T.
 *
 * References: J. Gatheral, A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quantitative
 * Finance 14(1) (2014) (g(k), calendar condition, slice-wise construction); Zeliade Systems,
 * "Quasi-explicit calibration of Gatheral's SVI model" (2009) (starting points, penalties for the
 * no-arbitrage constraints in the slice fits); R. Lee, "The moment formula for implied
 * volatility at extreme strikes" (2004); Madsen, Nielsen, Tingleff (2004) for LM.
 *
 * Units: k = ln(K/F), T years ACT/365, vols decimal, w = vol^2 T.
 */
import { levenbergMarquardt } from "../math/levenbergMarquardt.js";
import { type SurfaceSlice, type SurfaceWeighting, surfaceQuoteWeights } from "./sliceData.js";
import {
  type SviParams,
  sviDurrlemanG,
  sviFirstDerivative,
  sviMinimumVariance,
  sviTotalVariance,
  sviWingSlopes,
} from "./svi.js";
import { fitSviSlice, type SviSliceFit, sviFromInternal, sviToInternal } from "./sviFit.js";

export interface SviArbFreeOptions {
  readonly weighting?: SurfaceWeighting;
  /** LM restarts of the unconstrained start per slice (default 4, as sviFit). */
  readonly restarts?: number;
  /** Half-width of the constraint grid in k, at least this (default 1.5; quoted |k| + 0.5 if larger). */
  readonly minHalfWidth?: number;
}

export interface SviArbFreeSlice {
  readonly expiry: number;
  readonly forward: number;
  readonly params: SviParams;
  /** The unconstrained fit it started from. */
  readonly unconstrained: SviParams;
  /** How the slice was obtained. */
  readonly method: "unconstrained" | "penalty" | "scaled-fallback";
  /** Whether the slice passed the verification grid (butterfly, calendar vs the longer slice, slopes). */
  readonly verified: boolean;
  readonly iterations: number;
  readonly converged: boolean;
  readonly degraded: string | null;
}

/** g must be at least this on the penalty grid (verification asks g >= 0). */
const G_MARGIN = 1e-3;
/** Calendar margin relative to the longer slice's ATM variance. */
const CAL_MARGIN = 1e-4;
/** Relative margin of the wing-slope ordering in the penalty. */
const SLOPE_MARGIN = 1e-3;
/** Weight of a guide residual (a quote's weight averages 1). */
const GUIDE_WEIGHT = 1;
/** Width in k of the guide's bins. */
const GUIDE_BIN = 0.02;
/** A slice passing below a guide point by more than this (vol) is refitted with the guide. */
const GUIDE_TOLERANCE = 0.001;
/** Weight of the slope guide's residuals (slope units) and its relative tolerance in the fast path. */
const SLOPE_GUIDE_WEIGHT = 3;
const SLOPE_GUIDE_TOLERANCE = 0.01;
/** Lee's bound on the wing slopes, with the box's margin (beta <= 0.999). */
const LEE_CAP = 1.99;
const PENALTY_GRID = 81;
const CHECK_FACTOR = 8;
const ROUNDS = 8;
const MAX_ITER_ROUND = 40;
const MU0 = 1;
const MU_STEP = 10;

interface Bound {
  readonly params: SviParams;
  readonly slopes: { left: number; right: number };
}

function linspace(a: number, b: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/**
 * The extreme of f near each grid node where f has a local extreme on the grid (golden-section
 * search over the two neighbouring intervals): the smallest value of f over the grid's range,
 * not only at its nodes. `sign` -1 finds the largest value instead.
 */
function refinedMin(f: (k: number) => number, grid: Float64Array, sign: 1 | -1 = 1): number {
  const n = grid.length;
  const v = Float64Array.from(grid, (k) => sign * f(k));
  let best = Number.POSITIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    best = Math.min(best, v[j]);
    if (!((j === 0 || v[j] <= v[j - 1]) && (j === n - 1 || v[j] <= v[j + 1]))) continue;
    let lo = grid[Math.max(j - 1, 0)];
    let hi = grid[Math.min(j + 1, n - 1)];
    const gr = 0.6180339887498949;
    let x1 = hi - gr * (hi - lo);
    let x2 = lo + gr * (hi - lo);
    let f1 = sign * f(x1);
    let f2 = sign * f(x2);
    for (let it = 0; it < 40 && hi - lo > 1e-9; it++) {
      if (f1 < f2) {
        hi = x2;
        x2 = x1;
        f2 = f1;
        x1 = hi - gr * (hi - lo);
        f1 = sign * f(x1);
      } else {
        lo = x1;
        x1 = x2;
        f1 = f2;
        x2 = lo + gr * (hi - lo);
        f2 = sign * f(x2);
      }
    }
    best = Math.min(best, f1, f2);
  }
  return sign * best;
}

/** Largest w(k) - w_upper(k) over the grid's range (refined between nodes). */
function calendarExcess(p: SviParams, up: SviParams, grid: Float64Array): number {
  return refinedMin((k) => sviTotalVariance(p, k) - sviTotalVariance(up, k), grid, -1);
}

/**
 * Whether p is arbitrage-free over the grid's range: w > 0 and g >= 0 (smallest g refined between
 * nodes), w <= w_upper (largest difference refined between nodes) and the wing slopes at most the
 * upper smile's. `bad` lists failing nodes (cutting planes for the penalty grid).
 */
function verify(p: SviParams, grid: Float64Array, upper: Bound | null): { ok: boolean; bad: number[] } {
  const bad: number[] = [];
  for (const k of grid) {
    const w = sviTotalVariance(p, k);
    if (!(w > 0) || !(sviDurrlemanG(p, k) >= 0)) bad.push(k);
    else if (upper && w > sviTotalVariance(upper.params, k)) bad.push(k);
  }
  let ok = bad.length === 0;
  if (ok && !(refinedMin((k) => sviDurrlemanG(p, k), grid) >= 0)) ok = false;
  if (ok && upper && !(calendarExcess(p, upper.params, grid) <= 0)) ok = false;
  if (upper) {
    const s = sviWingSlopes(p);
    if (s.left > upper.slopes.left + 1e-12 || s.right > upper.slopes.right + 1e-12) ok = false;
  }
  if (!(sviMinimumVariance(p) > 0)) ok = false;
  return { ok, bad };
}

/** Box of the internal variables (v, beta, rho, m, sigma), as in sviFit.ts. */
function internalBox(k: Float64Array, vol: Float64Array, T: number): { lower: number[]; upper: number[] } {
  let kMin = Number.POSITIVE_INFINITY;
  let kMax = Number.NEGATIVE_INFINITY;
  let wMax = 0;
  for (let i = 0; i < k.length; i++) {
    kMin = Math.min(kMin, k[i]);
    kMax = Math.max(kMax, k[i]);
    wMax = Math.max(wMax, vol[i] * vol[i] * T);
  }
  const span = Math.max(kMax - kMin, 0.05);
  const vFloor = 1e-4 * T;
  return {
    lower: [vFloor, 0, -0.999, kMin - span, 1e-4],
    upper: [Math.max(2 * wMax, 2 * vFloor), 0.999, 0.999, kMax + span, Math.max(2, 2 * span)],
  };
}

function quoteArrays(slice: SurfaceSlice, weighting: SurfaceWeighting) {
  const w = surfaceQuoteWeights(slice, weighting);
  return {
    k: Float64Array.from(slice.quotes, (q) => q.k),
    vol: Float64Array.from(slice.quotes, (q) => q.targetVol),
    weight: w,
  };
}

/** Weighted vol-space cost of p on the slice's quotes. */
function dataCost(p: SviParams, q: ReturnType<typeof quoteArrays>, T: number): number {
  let c = 0;
  for (let i = 0; i < q.k.length; i++) {
    const w = sviTotalVariance(p, q.k[i]);
    c += (q.weight[i] * (Math.sqrt(w > 0 ? w / T : 0) - q.vol[i])) ** 2;
  }
  return 0.5 * c;
}

/**
 * Lower guide of slice i: the shorter slices' quotes must fit below it (calendar), so slice i
 * should not pass below their bids. Points (k, vol at T_i of the shorter quote's bid total variance).
 */
interface Guide {
  readonly k: Float64Array;
  readonly vol: Float64Array;
  /**
   * Wing slopes the shorter slices' unconstrained fits reach at their outermost quotes: an SVI
   * smile's slope is at most its asymptotic slope, which calendar order bounds by this slice's.
   */
  readonly left: number;
  readonly right: number;
}

function lowerGuide(data: readonly SurfaceSlice[], i: number, fits: readonly SviSliceFit[]): Guide {
  // the binding point of each k-bin (highest bid variance), so long slices do not carry hundreds of rows
  const bins = new Map<number, { k: number; vol: number }>();
  const T = data[i].expiry;
  for (let j = 0; j < i; j++) {
    for (const q of data[j].quotes) {
      const low = q.bidVol ?? (q.askVol === null ? q.targetVol * 0.98 : null);
      if (low === null || !(low > 0)) continue;
      const vol = Math.sqrt((low * low * data[j].expiry) / T);
      const key = Math.round(q.k / GUIDE_BIN);
      const b = bins.get(key);
      if (!b || vol > b.vol) bins.set(key, { k: q.k, vol });
    }
  }
  const pts = [...bins.values()];
  let left = 0;
  let right = 0;
  for (let j = 0; j < i; j++) {
    let kMin = Number.POSITIVE_INFINITY;
    let kMax = Number.NEGATIVE_INFINITY;
    for (const q of data[j].quotes) {
      kMin = Math.min(kMin, q.k);
      kMax = Math.max(kMax, q.k);
    }
    left = Math.max(left, -sviFirstDerivative(fits[j].params, kMin));
    right = Math.max(right, sviFirstDerivative(fits[j].params, kMax));
  }
  return {
    k: Float64Array.from(pts, (p) => p.k),
    vol: Float64Array.from(pts, (p) => p.vol),
    left: Math.min(left, LEE_CAP),
    right: Math.min(right, LEE_CAP),
  };
}

/** Whether the smile passes below a guide point by more than GUIDE_TOLERANCE in vol. */
function belowGuide(p: SviParams, guide: Guide, T: number): boolean {
  for (let j = 0; j < guide.k.length; j++) {
    const w = sviTotalVariance(p, guide.k[j]);
    if (Math.sqrt(w > 0 ? w / T : 0) < guide.vol[j] - GUIDE_TOLERANCE) return true;
  }
  const s = sviWingSlopes(p);
  return (
    s.left < (1 - SLOPE_GUIDE_TOLERANCE) * guide.left || s.right < (1 - SLOPE_GUIDE_TOLERANCE) * guide.right
  );
}

/** Penalized LM from x0; returns the parameters after the rounds (verified or the last). */
function penaltyFit(
  slice: SurfaceSlice,
  q: ReturnType<typeof quoteArrays>,
  x0: number[],
  upper: Bound | null,
  penaltyGrid: number[],
  checkGrid: Float64Array,
  guide: Guide,
): { params: SviParams; verified: boolean; iterations: number; converged: boolean; cost: number } {
  const T = slice.expiry;
  const n = q.k.length;
  const box = internalBox(q.k, q.vol, T);
  const wRef = upper ? Math.max(sviTotalVariance(upper.params, 0), 1e-8) : 1;
  let x = x0.map((v, j) => Math.min(box.upper[j], Math.max(box.lower[j], v)));
  let iterations = 0;
  let converged = false;
  let mu = MU0;
  for (let round = 0; round < ROUNDS; round++) {
    const grid = Float64Array.from(penaltyGrid);
    const G = grid.length;
    const wUp = upper ? Float64Array.from(grid, (k) => sviTotalVariance(upper.params, k)) : null;
    const sq = Math.sqrt(mu);
    const ng = guide.k.length;
    const rows = n + ng + 2 + G * (upper ? 2 : 1) + (upper ? 2 : 0);
    const problem = {
      parameters: 5,
      residuals: rows,
      evaluate(xi: Float64Array, out: Float64Array) {
        const p = sviFromInternal(xi);
        for (let i = 0; i < n; i++) {
          const w = sviTotalVariance(p, q.k[i]);
          out[i] = q.weight[i] * (Math.sqrt(w > 0 ? w / T : 0) - q.vol[i]);
        }
        let r = n;
        for (let j = 0; j < ng; j++) {
          const w = sviTotalVariance(p, guide.k[j]);
          const d = guide.vol[j] - Math.sqrt(w > 0 ? w / T : 0);
          out[r++] = d > 0 ? GUIDE_WEIGHT * d : 0;
        }
        const sl = sviWingSlopes(p);
        out[r++] = sl.left < guide.left ? SLOPE_GUIDE_WEIGHT * (guide.left - sl.left) : 0;
        out[r++] = sl.right < guide.right ? SLOPE_GUIDE_WEIGHT * (guide.right - sl.right) : 0;
        // g and the calendar gap on the grid, w, w', w'' with one square root per point
        const { a, b, rho, m, sigma } = p;
        const s2 = sigma * sigma;
        for (let j = 0; j < G; j++) {
          const k = grid[j];
          const y = k - m;
          const R = Math.sqrt(y * y + s2);
          const w = a + b * (rho * y + R);
          let g = -1 + w;
          if (w > 0) {
            const dw = b * (rho + y / R);
            const t = 1 - (k * dw) / (2 * w);
            g = t * t - ((dw * dw) / 4) * (1 / w + 0.25) + (b * s2) / (2 * R * R * R);
          }
          out[r + j] = g < G_MARGIN ? sq * (G_MARGIN - g) : 0;
          if (wUp) {
            const d = (w - wUp[j]) / wRef + CAL_MARGIN;
            out[r + G + j] = d > 0 ? sq * d : 0;
          }
        }
        r += G;
        if (upper && wUp) {
          r += G;
          const s = sviWingSlopes(p);
          const dl = (s.left - upper.slopes.left * (1 - SLOPE_MARGIN)) / Math.max(upper.slopes.left, 1e-3);
          const dr = (s.right - upper.slopes.right * (1 - SLOPE_MARGIN)) / Math.max(upper.slopes.right, 1e-3);
          out[r++] = dl > 0 ? sq * dl : 0;
          out[r++] = dr > 0 ? sq * dr : 0;
        }
      },
    };
    const res = levenbergMarquardt(problem, x, {
      lower: box.lower,
      upper: box.upper,
      maxIterations: MAX_ITER_ROUND,
    });
    iterations += res.iterations;
    converged = res.converged;
    if (Number.isFinite(res.cost)) x = Array.from(res.x);
    const p = sviFromInternal(x);
    const v = verify(p, checkGrid, upper);
    if (v.ok) return { params: p, verified: true, iterations, converged, cost: dataCost(p, q, T) };
    // cutting planes: add the failing points (a few) and raise the penalty
    const add = v.bad.filter((_, i) => i % Math.max(1, Math.floor(v.bad.length / 20)) === 0);
    for (const k of add) penaltyGrid.push(k);
    mu *= MU_STEP;
  }
  const p = sviFromInternal(x);
  // residual calendar crossings (the penalty's kink can stall LM a hair above the bound): a level shift
  if (upper) {
    const excess = Math.max(calendarExcess(p, upper.params, checkGrid), 0);
    const shifted = { ...p, a: p.a - excess * (1 + 1e-6) - 1e-12 };
    if (excess < 0.01 * wRef && verify(shifted, checkGrid, upper).ok)
      return { params: shifted, verified: true, iterations, converged, cost: dataCost(shifted, q, T) };
  }
  return { params: p, verified: false, iterations, converged, cost: dataCost(p, q, T) };
}

/** lambda * upper fitted to the quotes, lambda in [0, 1] (golden-section on the weighted cost). */
function scaledFallback(slice: SurfaceSlice, q: ReturnType<typeof quoteArrays>, upper: SviParams): SviParams {
  const T = slice.expiry;
  const cost = (lam: number) => {
    let c = 0;
    for (let i = 0; i < q.k.length; i++) {
      const w = lam * sviTotalVariance(upper, q.k[i]);
      c += (q.weight[i] * (Math.sqrt(Math.max(w, 0) / T) - q.vol[i])) ** 2;
    }
    return c;
  };
  let lo = 1e-6;
  let hi = 1;
  const gr = (Math.sqrt(5) - 1) / 2;
  for (let it = 0; it < 60; it++) {
    const a = hi - gr * (hi - lo);
    const b = lo + gr * (hi - lo);
    if (cost(a) < cost(b)) hi = b;
    else lo = a;
  }
  const lam = 0.5 * (lo + hi);
  return { a: lam * upper.a, b: lam * upper.b, rho: upper.rho, m: upper.m, sigma: upper.sigma };
}

/** Shrinks b towards 0 at fixed w(0) until the slice verifies (b = 0 is flat: g = 1). */
function flattenFallback(p: SviParams, checkGrid: Float64Array): SviParams {
  const w0 = sviTotalVariance(p, 0);
  const at = (t: number): SviParams => {
    const b = t * p.b;
    const shape = p.rho * -p.m + Math.hypot(p.m, p.sigma);
    return { ...p, b, a: w0 - b * shape };
  };
  let lo = 0;
  let hi = 1;
  for (let it = 0; it < 40; it++) {
    const mid = 0.5 * (lo + hi);
    if (verify(at(mid), checkGrid, null).ok) lo = mid;
    else hi = mid;
  }
  return at(lo);
}

/**
 * Fits arbitrage-free raw SVI slices to slices sorted by increasing expiry (see the module
 * comment). Returns one result per slice, in the same order.
 */
export function fitSviArbFreeSurface(
  data: readonly SurfaceSlice[],
  options: SviArbFreeOptions = {},
): SviArbFreeSlice[] {
  const weighting = options.weighting ?? "spread";
  let maxK = 0;
  for (const s of data) for (const qq of s.quotes) maxK = Math.max(maxK, Math.abs(qq.k));
  const fits = data.map((s) => fitSviSlice(s, { weighting, restarts: options.restarts }));
  // the grid covers the quotes and 6.5 ATM standard deviations of the longest smile (the arbitrage
  // report's default range, arbitrage.ts, is 6)
  let w0Max = 0;
  for (const f of fits) w0Max = Math.max(w0Max, sviTotalVariance(f.params, 0));
  const L = Math.max(options.minHalfWidth ?? 1.5, maxK + 0.5, 6.5 * Math.sqrt(w0Max));
  const baseGrid = Array.from(linspace(-L, L, PENALTY_GRID));
  const checkGrid = linspace(-L, L, (PENALTY_GRID - 1) * CHECK_FACTOR + 1);
  const out: SviArbFreeSlice[] = new Array(data.length);
  let upper: Bound | null = null;
  for (let i = data.length - 1; i >= 0; i--) {
    const slice = data[i];
    const fit: SviSliceFit = fits[i];
    let params = fit.params;
    let method: SviArbFreeSlice["method"] = "unconstrained";
    let iterations = fit.iterations;
    let converged = fit.converged;
    const guide = lowerGuide(data, i, fits);
    let verified = verify(params, checkGrid, upper).ok;
    if (!verified || belowGuide(params, guide, slice.expiry)) {
      verified = false;
      const q = quoteArrays(slice, weighting);
      const starts = [fit.params];
      if (upper) starts.push(scaledFallback(slice, q, upper.params));
      let pf = penaltyFit(slice, q, sviToInternal(starts[0]), upper, baseGrid.slice(), checkGrid, guide);
      iterations += pf.iterations;
      // the second start only when the first did not verify or lost much of the fit
      if (starts.length > 1 && !(pf.verified && pf.cost <= 2 * fit.cost + 1e-6 * q.k.length)) {
        const r = penaltyFit(slice, q, sviToInternal(starts[1]), upper, baseGrid.slice(), checkGrid, guide);
        iterations += r.iterations;
        if (r.verified && (!pf.verified || r.cost < pf.cost)) pf = r;
      }
      converged = pf.converged;
      if (pf.verified) {
        params = pf.params;
        method = "penalty";
        verified = true;
      } else {
        method = "scaled-fallback";
        params = upper ? scaledFallback(slice, q, upper.params) : flattenFallback(pf.params, checkGrid);
        verified = verify(params, checkGrid, upper).ok;
      }
    }
    out[i] = {
      expiry: slice.expiry,
      forward: slice.forward,
      params,
      unconstrained: fit.params,
      method,
      verified,
      iterations,
      converged,
      degraded: fit.degraded,
    };
    upper = { params, slopes: sviWingSlopes(params) };
  }
  return out;
}
