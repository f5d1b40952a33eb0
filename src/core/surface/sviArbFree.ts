/**
 * Arbitrage-free raw SVI surface ("svi-af", the default model): one raw SVI smile per expiry,
 * fitted to the quotes with the static no-arbitrage conditions as explicit constraints, slice by
 * slice from the longest expiry inward, and served through a calendar envelope.
 *
 * Two parts, each with its reason:
 *
 * 1. Constrained slice fits. For each slice (longest first) the unconstrained fit (sviFit.ts) is the
 *    starting point; if it already satisfies the constraints it is kept as is. Otherwise the
 *    projected Levenberg-Marquardt (math/levenbergMarquardt.ts) minimizes the weighted vol-space
 *    distance to the mid (spread weights, as the unconstrained fit) plus BAND_WEIGHT times the
 *    distance to the bid/ask band narrowed by BAND_INSET (zero inside it: a smile that must move
 *    moves inside the band first; a slice that ends with fewer quotes inside the band than its
 *    unconstrained fit gets one more fit with BAND_BOOST times the band weight on the quotes left
 *    outside, kept only if it verifies and has more quotes inside), plus quadratic penalties (exterior penalty method, penalty weight raised x10 per
 *    round, failing points added as cutting planes) on
 *    - butterfly: Durrleman's g(k) >= G_MARGIN on a k-grid of the served range + 0.25
 *      (Gatheral & Jacquier 2014, Lemma 2.2; verified g >= 0 on a grid 8x denser, refined between
 *      its nodes). Beyond it raw SVI with wing slopes < 2 tends to g -> 1/4 - slope^2/16 > 0 but may
 *      dip below 0 on the way for slopes near 2 (far outside any listed strike): the guarantee is
 *      stated on the served range. A wider grid (6.5 ATM standard deviations of the longest
 *      expiry, as the previous version had) cost up to 6 points of the inside-band share on steep
 *      crypto wings, for strikes no venue lists;
 *    - calendar where it decides the fit: w_i(k) <= w_j(k) for every longer slice j on j's quoted
 *      range (Gatheral & Jacquier 2014, section 2.2: no calendar spread arbitrage iff w is
 *      non-decreasing in T at every k). No ordering is imposed elsewhere, in particular not on the
 *      asymptotic wing slopes b(1 -+ rho): the envelope (2.) orders the surface there, so a short
 *      slice's extrapolated wing no longer bends the fitted smiles inside the quoted range (the
 *      slope ordering of the previous version was the main cost in fit quality: vega-weighted
 *      RMSE up to 1.8x unconstrained SVI's);
 *    - Lee's moment bound (wing slopes of w <= 2, R. Lee 2004) is a box constraint of the internal
 *      variables (beta < 1, see sviFit.ts), so it always holds;
 *    - a lower guide: the longer slice is kept from passing below the shorter slices' bid total
 *      variance at their quotes, so the calendar constraint does not push a shorter slice below
 *      its bids (the nearer slices move within their bid/ask band to make room).
 *    A slice whose penalty rounds do not verify falls back to a smile with a guarantee: the longer
 *    slice scaled, w_i = lambda w_{i+1} with lambda in [0, 1] fitted to the quotes (scaling keeps
 *    g >= 0: with A = (1 - k w'/2w)^2, B = w'^2/4w, C = w'^2/16, D = w''/2 of w_{i+1},
 *    g_lambda = A - lambda B - lambda^2 C + lambda D is concave in lambda with g_0 = A >= 0 and
 *    g_1 >= 0), or for the longest slice b shrunk towards a flat smile at fixed ATM variance.
 *
 * 2. The calendar envelope (the guarantee at every k). The surface's smile at node i is
 *    W_i(k) = max_{j <= i} w_j(k), the running maximum of the slices up to T_i. W is non-decreasing
 *    in i at every k (no calendar arbitrage anywhere, not only on a grid), and each W_i is free of
 *    butterfly arbitrage: the undiscounted call price c(K) = F B(k, w(k)) is increasing in w at
 *    fixed K, so the call prices of W_i are the pointwise maximum of the call prices of the w_j,
 *    each convex and decreasing in K with the right limits (g_j >= 0 and slopes < 2), and a maximum
 *    of convex decreasing functions is convex and decreasing (the argument of Gatheral & Jacquier
 *    2014, section 4, on call prices; a convex kink of w is a point mass of positive density).
 *    (On the served range, where each w_j is verified butterfly-free, the argument applies to
 *    the call prices of the strikes of that range.)
 *    Lee's bound holds for W_i since it holds for every w_j. At the quotes of every slice the
 *    verified fits are ordered, so W_i = w_i there: the surface is the fitted SVI slice on its
 *    quoted range; the envelope acts outside it (and where a fit could not be verified, named in
 *    the warnings).
 *    Between nodes the surface is linear in total variance (interpolate.ts), so ordered nodes give
 *    a calendar-free surface at every T.
 *
 * References: J. Gatheral, A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quantitative
 * Finance 14(1) (2014), 59-71 (g(k), calendar condition, slice-wise construction, call-price
 * argument); Zeliade Systems, "Quasi-explicit calibration of Gatheral's SVI model" (2009) (starting
 * points, penalties for the no-arbitrage constraints in the slice fits); R. Lee, "The moment formula
 * for implied volatility at extreme strikes", Mathematical Finance 14(3) (2004); M. Roper,
 * "Arbitrage free implied volatility surfaces" (2010) (the full set of static conditions);
 * K. Madsen, H. B. Nielsen, O. Tingleff, "Methods for non-linear least squares problems" (2004) (LM).
 *
 * Units: k = ln(K/F), T years ACT/365, vols decimal, w = vol^2 T.
 */
import { levenbergMarquardt } from "../math/levenbergMarquardt.js";
import { at } from "./indexing.js";
import { type SliceSurface, type SmileFunction, surfaceFromSmiles } from "./interpolate.js";
import {
  type ServedRange,
  type SurfaceSlice,
  type SurfaceWeighting,
  servedRanges,
  surfaceQuoteWeights,
} from "./sliceData.js";
import {
  type SviParams,
  sviDurrlemanG,
  sviFirstDerivative,
  sviMinimumVariance,
  sviSecondDerivative,
  sviTotalVariance,
  sviWingSlopes,
} from "./svi.js";
import { fitSviSlice, type SviSliceFit, sviFromInternal, sviToInternal } from "./sviFit.js";
import { tailAt } from "./sviTails.js";

export interface SviArbFreeOptions {
  readonly weighting?: SurfaceWeighting;
  /** LM restarts of the unconstrained start per slice (default 4, as sviFit). */
  readonly restarts?: number;
  /**
   * Half-width in k of the served range where the fitted slices are ordered in T (default 1.5; the
   * quoted |k| if larger): the range of the arbitrage report.
   */
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
  /**
   * Whether the slice passed its verification: g >= 0 on the butterfly grid and w <= the longer
   * slice on the served range (then the envelope leaves it unchanged there).
   */
  readonly verified: boolean;
  readonly iterations: number;
  readonly converged: boolean;
  readonly degraded: string | null;
}

/** g must be at least this on the penalty grid (verification asks g >= 0). */
const G_MARGIN = 1e-3;
/** Calendar margin relative to the longer slice's ATM variance. */
const CAL_MARGIN = 1e-4;
/**
 * Weight of the distance to the bid/ask band beside the distance to the mid (constrained fits). 1.5
 * with the inset below (season, 466 chains: band rule 464/466, RMSE within 1.2x of svi on 466/466,
 * worst 1.15x); 2 gave band 462/466, 3 band 462/466 with RMSE on 465/466 (2026-08-02 BTC 1.214x).
 */
const BAND_WEIGHT = 1.5;
/**
 * Inset of the band in the band penalty (vol, 0.05 pt; at most a quarter of the spread). Season
 * (466 chains, scripts/measure/surfaceArbitrage.ts): band rule 460 -> 462/466 with 0 butterfly,
 * calendar and vertical-spread points kept; 0.03, 0.04, 0.07 and 0.1 pt did worse on the misses.
 */
const BAND_INSET = 0.0005;
/** Band-weight factor of the second pass on quotes the first constrained fit left outside the band. */
const BAND_BOOST = 10;
/** Weight of a guide residual (a quote's weight averages 1). */
const GUIDE_WEIGHT = 1;
/** Width in k of the guide's bins. */
const GUIDE_BIN = 0.02;
/** A slice passing below a guide point by more than this (vol) is refitted with the guide. */
const GUIDE_TOLERANCE = 0.001;
/** The butterfly grid reaches this far beyond the served range (k units). */
const BUTTERFLY_MARGIN = 0.25;
/** Least decay rate of the OTM price at the served range's ends (R > 1/2: the price still falls). */
const EDGE_MIN_R = 0.505;
/** The penalty asks this much more. */
const EDGE_MARGIN = 0.02;
/** Scale of a decay-rate deficit beside the g deficits of the butterfly penalty. */
const EDGE_WEIGHT = 0.01;
const PENALTY_GRID = 81;
const CALENDAR_GRID = 121;
const CHECK_FACTOR = 8;
const ROUNDS = 8;
const MAX_ITER_ROUND = 40;
const MU0 = 1;
const MU_STEP = 10;

function linspace(a: number, b: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/**
 * The extreme of f near each grid node where f has a local extreme on the grid (golden-section
 * search over the two neighbouring intervals): the smallest value of f over the grid's range,
 * not only at its nodes. `sign` -1 finds the largest value instead.
 */
function refinedMin(
  f: (k: number) => number,
  grid: Float64Array,
  sign: 1 | -1 = 1,
  values: Float64Array | null = null,
): number {
  const n = grid.length;
  const v = values ?? Float64Array.from(grid, (k) => sign * f(k));
  let best = Number.POSITIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    const vj = at(v, j);
    best = Math.min(best, vj);
    if (!((j === 0 || vj <= at(v, j - 1)) && (j === n - 1 || vj <= at(v, j + 1)))) continue;
    let lo = at(grid, Math.max(j - 1, 0));
    let hi = at(grid, Math.min(j + 1, n - 1));
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

/**
 * The calendar bound of slice i: U_i(k) = min of w_j(k) over the longer slices j whose quoted range
 * holds k (+Infinity where none does), with the grid points it covers.
 */
interface Upper {
  at(k: number): number;
  /** ATM total variance of the next slice (scale of the calendar residuals). */
  readonly wRef: number;
}

/** Largest w(k) - U(k) over the grid's range (refined between nodes), over the covered points. */
function calendarExcess(
  p: SviParams,
  up: Upper,
  grid: Float64Array,
  values: Float64Array | null = null,
): number {
  if (grid.length === 0) return Number.NEGATIVE_INFINITY;
  return refinedMin(
    (k) => {
      const u = up.at(k);
      return Number.isFinite(u) ? sviTotalVariance(p, k) - u : Number.NEGATIVE_INFINITY;
    },
    grid,
    -1,
    values,
  );
}

/** The verification grids: butterfly (wide) and calendar (covered points of the served range), 8x the penalty grids. */
interface Grids {
  /** The served range, whose ends must see OTM prices still falling away from the money (edgesFalling). */
  readonly served: ServedRange;
  readonly butterfly: Float64Array;
  readonly calendar: Float64Array;
  /** U at the calendar grid's points. */
  readonly calendarUpper: Float64Array;
}

/**
 * Whether p is butterfly-free over the butterfly grid's range (w > 0, g >= 0 refined between
 * nodes) and at most the longer slice over the calendar grid's range. `bad` lists failing nodes
 * (cutting planes for the penalty grid).
 */
function verify(
  p: SviParams,
  grids: Grids,
  upper: Upper | null,
  collect = false,
): { ok: boolean; butterflyOk: boolean; bad: number[] } {
  const bad: number[] = [];
  const bg = grids.butterfly;
  const gv = new Float64Array(bg.length);
  for (let j = 0; j < bg.length; j++) {
    const k = at(bg, j);
    const w = sviTotalVariance(p, k);
    const g = w > 0 ? sviDurrlemanG(p, k) : Number.NEGATIVE_INFINITY;
    gv[j] = g;
    if (!(g >= 0)) {
      if (!collect) return { ok: false, butterflyOk: false, bad };
      bad.push(k);
    }
  }
  let butterflyOk =
    bad.length === 0 && sviMinimumVariance(p) > 0 && edgesMinRate(p, grids.served) >= EDGE_MIN_R;
  if (butterflyOk && !(refinedMin((k) => sviDurrlemanG(p, k), bg, 1, gv) >= 0)) butterflyOk = false;
  let calendarOk = true;
  if (upper) {
    const cal = grids.calendar;
    const U = grids.calendarUpper;
    const neg = new Float64Array(cal.length);
    for (let j = 0; j < cal.length; j++) {
      const k = at(cal, j);
      const d = sviTotalVariance(p, k) - at(U, j);
      neg[j] = -d;
      if (d > 0) {
        calendarOk = false;
        if (!collect) break;
        bad.push(k);
      }
    }
    if (calendarOk && !(calendarExcess(p, upper, cal, neg) <= 0)) calendarOk = false;
  }
  return { ok: butterflyOk && calendarOk, butterflyOk, bad };
}

/**
 * The least decay rate R = -d ln b/d|k| of the normalised out-of-the-money price (sviTails.ts
 * tailAt) at the two ends of the served range. With g >= 0 on the range the call price is convex
 * there, so a call price still falling at the upper end (R > 1/2: d ln C/dk = 1/2 - R < 0) falls on
 * the whole range, and likewise the put price at the lower end: no vertical spread of negative
 * price inside the range. g >= 0 alone does not give it (2026-04-09 BTC: a 78-day call price rose
 * from k = 1.2 to 1.6 under the previous version; 22 of 466 season chains had such points).
 */
function edgesMinRate(p: SviParams, served: ServedRange): number {
  const hi = tailAt(p, served.hi)?.r ?? Number.NEGATIVE_INFINITY;
  const lo = tailAt(p, served.lo)?.r ?? Number.NEGATIVE_INFINITY;
  return Math.min(hi, lo);
}

/** Edge penalty at out[r], out[r + 1]: sq EDGE_WEIGHT (EDGE_MIN_R + EDGE_MARGIN - R) at each end of the served range where R is below that. */
function edgePenalty(p: SviParams, served: ServedRange, sq: number, out: Float64Array, r: number): void {
  const need = EDGE_MIN_R + EDGE_MARGIN;
  const hi = tailAt(p, served.hi)?.r ?? Number.NEGATIVE_INFINITY;
  const lo = tailAt(p, served.lo)?.r ?? Number.NEGATIVE_INFINITY;
  out[r] = hi < need ? sq * EDGE_WEIGHT * Math.min(need - hi, 10) : 0;
  out[r + 1] = lo < need ? sq * EDGE_WEIGHT * Math.min(need - lo, 10) : 0;
}

/** Box of the internal variables (v, beta, rho, m, sigma), as in sviFit.ts. */
function internalBox(k: Float64Array, vol: Float64Array, T: number): { lower: number[]; upper: number[] } {
  let kMin = Number.POSITIVE_INFINITY;
  let kMax = Number.NEGATIVE_INFINITY;
  let wMax = 0;
  for (let i = 0; i < k.length; i++) {
    const ki = at(k, i);
    const vi = at(vol, i);
    kMin = Math.min(kMin, ki);
    kMax = Math.max(kMax, ki);
    wMax = Math.max(wMax, vi * vi * T);
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
    /** The band [bid vol, ask vol] (an open side is -/+Infinity). */
    bid: Float64Array.from(slice.quotes, (q) => q.bidVol ?? Number.NEGATIVE_INFINITY),
    ask: Float64Array.from(slice.quotes, (q) => q.askVol ?? Number.POSITIVE_INFINITY),
    /** Per-quote band weight (BAND_WEIGHT; raised on a second pass for quotes left outside). */
    band: new Float64Array(slice.quotes.length).fill(BAND_WEIGHT),
  };
}

/**
 * Distance of vol v to the band [bid, ask] narrowed by BAND_INSET on each side (0 inside). The
 * inset moves the point where the band penalty starts a little inside the quoted band, so quotes a
 * constrained smile is pressed against the band's edge end up inside it rather than just outside.
 */
function bandDistance(v: number, bid: number, ask: number): number {
  const inset =
    Number.isFinite(bid) && Number.isFinite(ask) ? Math.min(BAND_INSET, (ask - bid) / 4) : BAND_INSET;
  const lo = bid + inset;
  const hi = ask - inset;
  return v < lo ? lo - v : v > hi ? v - hi : 0;
}

/**
 * Weighted vol-space cost of p on the slice's quotes in the constrained fit: distance to the mid
 * plus BAND_WEIGHT times the distance to the bid/ask band (the band is what a constrained smile
 * must stay in; within it the mid still decides).
 */
function dataCost(p: SviParams, q: ReturnType<typeof quoteArrays>, T: number): number {
  let c = 0;
  for (let i = 0; i < q.k.length; i++) {
    const w = sviTotalVariance(p, at(q.k, i));
    const v = Math.sqrt(w > 0 ? w / T : 0);
    const wi = at(q.weight, i);
    c +=
      (wi * (v - at(q.vol, i))) ** 2 +
      (at(q.band, i) * wi * bandDistance(v, at(q.bid, i), at(q.ask, i))) ** 2;
  }
  return 0.5 * c;
}

/**
 * Lower guide of slice i: the shorter slices' quotes must fit below it (calendar), so slice i
 * should not pass below their bids. Points (k, vol at T_i of the shorter quote's bid total variance),
 * the binding point of each k-bin.
 */
interface Guide {
  readonly k: Float64Array;
  readonly vol: Float64Array;
}

function lowerGuide(data: readonly SurfaceSlice[], i: number): Guide {
  const bins = new Map<number, { k: number; vol: number }>();
  const T = data[i]?.expiry ?? Number.NaN;
  for (const shorter of data.slice(0, i)) {
    for (const q of shorter.quotes) {
      const low = q.bidVol ?? (q.askVol === null ? q.targetVol * 0.98 : null);
      if (low === null || !(low > 0)) continue;
      const vol = Math.sqrt((low * low * shorter.expiry) / T);
      const key = Math.round(q.k / GUIDE_BIN);
      const b = bins.get(key);
      if (!b || vol > b.vol) bins.set(key, { k: q.k, vol });
    }
  }
  const pts = [...bins.values()];
  return { k: Float64Array.from(pts, (p) => p.k), vol: Float64Array.from(pts, (p) => p.vol) };
}

/** Whether the smile passes below a guide point by more than GUIDE_TOLERANCE in vol. */
function belowGuide(p: SviParams, guide: Guide, T: number): boolean {
  for (let j = 0; j < guide.k.length; j++) {
    const w = sviTotalVariance(p, at(guide.k, j));
    if (Math.sqrt(w > 0 ? w / T : 0) < at(guide.vol, j) - GUIDE_TOLERANCE) return true;
  }
  return false;
}

interface PenaltyResult {
  readonly params: SviParams;
  readonly verified: boolean;
  readonly butterflyOk: boolean;
  readonly iterations: number;
  readonly converged: boolean;
  readonly cost: number;
}

/** Quote residuals: weighted distance to the mid vol (out[i]) and, BAND_WEIGHT times, to the band (out[n + i]). */
function quoteResiduals(p: SviParams, q: ReturnType<typeof quoteArrays>, T: number, out: Float64Array): void {
  const n = q.k.length;
  for (let i = 0; i < n; i++) {
    const w = sviTotalVariance(p, at(q.k, i));
    const v = Math.sqrt(w > 0 ? w / T : 0);
    const wi = at(q.weight, i);
    out[i] = wi * (v - at(q.vol, i));
    out[n + i] = at(q.band, i) * wi * bandDistance(v, at(q.bid, i), at(q.ask, i));
  }
}

/** Guide residuals from out[r]: how far the smile's vol passes below each guide point. Returns the next index. */
function guideResiduals(p: SviParams, guide: Guide, T: number, out: Float64Array, r: number): number {
  let next = r;
  for (let j = 0; j < guide.k.length; j++) {
    const w = sviTotalVariance(p, at(guide.k, j));
    const d = at(guide.vol, j) - Math.sqrt(w > 0 ? w / T : 0);
    out[next++] = d > 0 ? GUIDE_WEIGHT * d : 0;
  }
  return next;
}

/**
 * Butterfly penalty from out[r]: sq (G_MARGIN - g) where g < G_MARGIN on the grid, g from w, w', w''
 * with one square root per point. Returns the next index.
 */
function butterflyPenalty(p: SviParams, bg: Float64Array, sq: number, out: Float64Array, r: number): number {
  const { a, b, rho, m, sigma } = p;
  const s2 = sigma * sigma;
  let next = r;
  for (let j = 0; j < bg.length; j++) {
    const k = at(bg, j);
    const y = k - m;
    const R = Math.sqrt(y * y + s2);
    const w = a + b * (rho * y + R);
    let g = -1 + w;
    if (w > 0) {
      const dw = b * (rho + y / R);
      const t = 1 - (k * dw) / (2 * w);
      g = t * t - ((dw * dw) / 4) * (1 / w + 0.25) + (b * s2) / (2 * R * R * R);
    }
    out[next++] = g < G_MARGIN ? sq * (G_MARGIN - g) : 0;
  }
  return next;
}

/** Calendar penalty from out[r]: sq times the excess over the upper bound wUp on cg (relative to wRef, plus CAL_MARGIN). */
function calendarPenalty(
  p: SviParams,
  cg: Float64Array,
  wUp: Float64Array,
  wRef: number,
  sq: number,
  out: Float64Array,
  r: number,
): void {
  const { a, b, rho, m, sigma } = p;
  const s2 = sigma * sigma;
  let next = r;
  for (let j = 0; j < cg.length; j++) {
    const y = at(cg, j) - m;
    const w = a + b * (rho * y + Math.sqrt(y * y + s2));
    const d = (w - at(wUp, j)) / wRef + CAL_MARGIN;
    out[next++] = d > 0 ? sq * d : 0;
  }
}

/** The LM problem of one penalty round: quotes, guide, butterfly grid bg and calendar grid cg with penalty weight mu. */
function penaltyProblem(
  q: ReturnType<typeof quoteArrays>,
  T: number,
  served: ServedRange,
  guide: Guide,
  upper: Upper | null,
  bg: Float64Array,
  cg: Float64Array,
  mu: number,
) {
  const wRef = upper ? Math.max(upper.wRef, 1e-8) : 1;
  const wUp = upper ? Float64Array.from(cg, (k) => upper.at(k)) : null;
  const sq = Math.sqrt(mu);
  const n = q.k.length;
  return {
    parameters: 5,
    residuals: 2 * n + guide.k.length + bg.length + cg.length + 2,
    evaluate(xi: Float64Array, out: Float64Array) {
      const p = sviFromInternal(xi);
      quoteResiduals(p, q, T, out);
      const r = butterflyPenalty(p, bg, sq, out, guideResiduals(p, guide, T, out, 2 * n));
      if (wUp) calendarPenalty(p, cg, wUp, wRef, sq, out, r);
      edgePenalty(p, served, sq, out, r + cg.length);
    },
  };
}

/** Penalized LM from x0; returns the parameters after the rounds (verified or the last). */
function penaltyFit(
  slice: SurfaceSlice,
  q: ReturnType<typeof quoteArrays>,
  x0: number[],
  upper: Upper | null,
  grids: Grids,
  bflyGrid: number[],
  calGrid: number[],
  guide: Guide,
): PenaltyResult {
  const T = slice.expiry;
  const box = internalBox(q.k, q.vol, T);
  const wRef = upper ? Math.max(upper.wRef, 1e-8) : 1;
  let x = x0.map((v, j) => Math.min(at(box.upper, j), Math.max(at(box.lower, j), v)));
  let iterations = 0;
  let converged = false;
  let mu = MU0;
  let last: ReturnType<typeof verify> | null = null;
  for (let round = 0; round < ROUNDS; round++) {
    const bg = Float64Array.from(bflyGrid);
    const cg = Float64Array.from(upper ? calGrid : []);
    const problem = penaltyProblem(q, T, grids.served, guide, upper, bg, cg, mu);
    const res = levenbergMarquardt(problem, x, {
      lower: box.lower,
      upper: box.upper,
      maxIterations: MAX_ITER_ROUND,
    });
    iterations += res.iterations;
    converged = res.converged;
    if (Number.isFinite(res.cost)) x = Array.from(res.x);
    const p = sviFromInternal(x);
    last = verify(p, grids, upper, true);
    if (last.ok)
      return { params: p, verified: true, butterflyOk: true, iterations, converged, cost: dataCost(p, q, T) };
    // a round that did not move (LM stopped at once) will not move with a larger penalty either
    if (round > 0 && res.iterations <= 1) break;
    // cutting planes: add the failing points (a few) and raise the penalty
    const bad = last.bad;
    const add = bad.filter((_, i) => i % Math.max(1, Math.floor(bad.length / 20)) === 0);
    for (const k of add) {
      if (upper && sviTotalVariance(p, k) > upper.at(k)) calGrid.push(k);
      else bflyGrid.push(k);
    }
    mu *= MU_STEP;
  }
  const p = sviFromInternal(x);
  // residual calendar crossings (the penalty's kink can stall LM a hair above the bound): a level shift
  if (upper && last?.butterflyOk) {
    const excess = Math.max(calendarExcess(p, upper, grids.calendar), 0);
    const shifted = { ...p, a: p.a - excess * (1 + 1e-6) - 1e-12 };
    if (excess < 0.01 * wRef && verify(shifted, grids, upper).ok)
      return {
        params: shifted,
        verified: true,
        butterflyOk: true,
        iterations,
        converged,
        cost: dataCost(shifted, q, T),
      };
  }
  return {
    params: p,
    verified: false,
    butterflyOk: last?.butterflyOk ?? false,
    iterations,
    converged,
    cost: dataCost(p, q, T),
  };
}

/** lambda * upper fitted to the quotes, lambda in [0, 1] (golden-section on the weighted cost). */
function scaledFallback(slice: SurfaceSlice, q: ReturnType<typeof quoteArrays>, upper: SviParams): SviParams {
  const T = slice.expiry;
  const cost = (lam: number) => {
    let c = 0;
    for (let i = 0; i < q.k.length; i++) {
      const w = lam * sviTotalVariance(upper, at(q.k, i));
      c += (at(q.weight, i) * (Math.sqrt(Math.max(w, 0) / T) - at(q.vol, i))) ** 2;
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

/** Shrinks b towards 0 at fixed w(0) until the slice is butterfly-free (b = 0 is flat: g = 1). */
function flattenFallback(p: SviParams, grids: Grids): SviParams {
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
    if (verify(at(mid), grids, null).butterflyOk) lo = mid;
    else hi = mid;
  }
  return at(lo);
}

/** A slice's quoted range [lowest k, highest k]. */
function quotedRange(s: SurfaceSlice): ServedRange {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const q of s.quotes) {
    lo = Math.min(lo, q.k);
    hi = Math.max(hi, q.k);
  }
  return { lo, hi };
}

/**
 * U_i(k): the smallest longer slice among those quoted at k (the calendar bound where it
 * matters), null for the longest slice.
 */
function calendarUpper(
  out: readonly SviArbFreeSlice[],
  quoted: readonly ServedRange[],
  i: number,
): Upper | null {
  const longer: { p: SviParams; r: ServedRange }[] = [];
  for (let j = i + 1; j < out.length; j++) {
    const o = out[j];
    const r = quoted[j];
    if (o && r) longer.push({ p: o.params, r });
  }
  const first = longer[0];
  if (!first) return null;
  return {
    wRef: sviTotalVariance(first.p, 0),
    at(k: number) {
      let u = Number.POSITIVE_INFINITY;
      for (const l of longer) if (k >= l.r.lo && k <= l.r.hi) u = Math.min(u, sviTotalVariance(l.p, k));
      return u;
    },
  };
}

/** The grids of slice i: the butterfly grid on its served range + BUTTERFLY_MARGIN, the calendar grid's covered points. */
interface SliceGrids {
  readonly grids: Grids;
  readonly bflyBase: number[];
  readonly calGrid: number[];
}

function sliceGrids(
  i: number,
  served: ServedRange,
  calRange: ServedRange,
  quoted: readonly ServedRange[],
  upper: Upper | null,
): SliceGrids {
  const lo = served.lo - BUTTERFLY_MARGIN;
  const hi = served.hi + BUTTERFLY_MARGIN;
  const calBase = linspace(calRange.lo, calRange.hi, CALENDAR_GRID);
  const calCheck = linspace(calRange.lo, calRange.hi, (CALENDAR_GRID - 1) * (CHECK_FACTOR / 2) + 1);
  // the covered points of a grid plus the ends of the longer slices' quoted ranges (where U jumps)
  const longer = quoted.slice(i + 1);
  const ends = longer.flatMap((r) => [r.lo, r.hi]);
  const inLonger = (k: number) => longer.some((r) => k >= r.lo && k <= r.hi);
  const covered = (g: Float64Array) =>
    upper ? Float64Array.from([...g, ...ends].filter(inLonger)).sort() : new Float64Array(0);
  const calPoints = covered(calCheck);
  return {
    grids: {
      served,
      butterfly: linspace(lo, hi, (PENALTY_GRID - 1) * CHECK_FACTOR + 1),
      calendar: calPoints,
      calendarUpper: Float64Array.from(calPoints, (k) => (upper ? upper.at(k) : Number.POSITIVE_INFINITY)),
    },
    bflyBase: Array.from(linspace(lo, hi, PENALTY_GRID)),
    calGrid: Array.from(covered(calBase)),
  };
}

/** The penalty fits of a slice from its starts (the fit, the next slice scaled, the fit flattened): the best. */
function bestPenaltyFit(
  slice: SurfaceSlice,
  q: ReturnType<typeof quoteArrays>,
  fit: SviSliceFit,
  next: SviParams | null,
  upper: Upper | null,
  g: SliceGrids,
  guide: Guide,
): { best: PenaltyResult; iterations: number } {
  // further starts only when the first did not verify or lost much of the fit
  const good = 2 * dataCost(fit.params, q, slice.expiry) + 1e-6 * q.k.length;
  const starts = [() => fit.params];
  if (next) starts.push(() => scaledFallback(slice, q, next));
  starts.push(() => flattenFallback(fit.params, g.grids));
  let best: PenaltyResult | null = null;
  let iterations = 0;
  const rank = (x: PenaltyResult) => (x.verified ? 2 : x.butterflyOk ? 1 : 0);
  for (const start of starts) {
    if (best?.verified && best.cost <= good) break;
    const x0 = sviToInternal(start());
    const r = penaltyFit(slice, q, x0, upper, g.grids, g.bflyBase.slice(), g.calGrid.slice(), guide);
    iterations += r.iterations;
    if (!best || rank(r) > rank(best) || (rank(r) === rank(best) && r.cost < best.cost)) best = r;
  }
  if (!best) throw new Error("unreachable: no start");
  return { best, iterations };
}

/** Quotes of p inside their bid/ask band, one flag each. */
function inBandFlags(p: SviParams, q: ReturnType<typeof quoteArrays>, T: number): boolean[] {
  return Array.from(q.k, (k, i) => {
    const w = sviTotalVariance(p, k);
    const v = Math.sqrt(w > 0 ? w / T : 0);
    return v >= at(q.bid, i) && v <= at(q.ask, i);
  });
}

/**
 * When the constrained fit leaves more quotes outside the band than the unconstrained one, a
 * second fit from it with BAND_BOOST times the band weight on the quotes it left outside; kept
 * only if it verifies as well and puts more quotes inside the band.
 */
function bandSecondPass(
  slice: SurfaceSlice,
  q: ReturnType<typeof quoteArrays>,
  unconstrained: SviParams,
  first: { best: PenaltyResult; iterations: number },
  upper: Upper | null,
  g: SliceGrids,
  guide: Guide,
): { best: PenaltyResult; iterations: number } {
  const T = slice.expiry;
  if (!first.best.verified) return first;
  const inside = inBandFlags(first.best.params, q, T);
  const count = inside.filter(Boolean).length;
  if (count >= inBandFlags(unconstrained, q, T).filter(Boolean).length) return first;
  const band = q.band.map((b, i) => (inside[i] ? b : b * BAND_BOOST));
  const q2 = { ...q, band };
  const x0 = sviToInternal(first.best.params);
  const r = penaltyFit(slice, q2, x0, upper, g.grids, g.bflyBase.slice(), g.calGrid.slice(), guide);
  const iterations = first.iterations + r.iterations;
  const better = r.verified && inBandFlags(r.params, q, T).filter(Boolean).length > count;
  return { best: better ? r : first.best, iterations };
}

/** Slice i fitted under the constraints of the longer slices already in `out`. */
function fitArbFreeSlice(
  data: readonly SurfaceSlice[],
  i: number,
  fit: SviSliceFit,
  out: readonly SviArbFreeSlice[],
  ctx: {
    weighting: SurfaceWeighting;
    served: readonly ServedRange[];
    calRange: ServedRange;
    quoted: readonly ServedRange[];
  },
): SviArbFreeSlice {
  const slice = data[i] as SurfaceSlice;
  const upper = calendarUpper(out, ctx.quoted, i);
  const g = sliceGrids(i, ctx.served[i] as ServedRange, ctx.calRange, ctx.quoted, upper);
  const base = {
    expiry: slice.expiry,
    forward: slice.forward,
    unconstrained: fit.params,
    degraded: fit.degraded,
  };
  const guide = lowerGuide(data, i);
  if (verify(fit.params, g.grids, upper).ok && !belowGuide(fit.params, guide, slice.expiry))
    return {
      ...base,
      params: fit.params,
      method: "unconstrained",
      verified: true,
      iterations: fit.iterations,
      converged: fit.converged,
    };
  const q = quoteArrays(slice, ctx.weighting);
  const next = out[i + 1]?.params ?? null;
  const first = bestPenaltyFit(slice, q, fit, next, upper, g, guide);
  const { best, iterations } = bandSecondPass(slice, q, fit.params, first, upper, g, guide);
  const common = { ...base, iterations: fit.iterations + iterations, converged: best.converged };
  // butterfly-free: ordered with the longer slices where they are quoted when verified; otherwise the envelope orders them
  if (best.butterflyOk) return { ...common, params: best.params, method: "penalty", verified: best.verified };
  const params = next ? scaledFallback(slice, q, next) : flattenFallback(best.params, g.grids);
  return { ...common, params, method: "scaled-fallback", verified: verify(params, g.grids, upper).ok };
}

/**
 * Fits arbitrage-free raw SVI slices to slices sorted by increasing expiry (see the module
 * comment, part 1). Returns one result per slice, in the same order. Serve them with
 * `sviEnvelopeSurface` (part 2), which makes the surface calendar-free at every k.
 */
export function fitSviArbFreeSurface(
  data: readonly SurfaceSlice[],
  options: SviArbFreeOptions = {},
): SviArbFreeSlice[] {
  const weighting = options.weighting ?? "spread";
  const fits = data.map((s) =>
    fitSviSlice(
      s,
      options.restarts === undefined ? { weighting } : { weighting, restarts: options.restarts },
    ),
  );
  // butterfly: each slice's served range (+ BUTTERFLY_MARGIN); calendar: where the longer slices are quoted
  const served = servedRanges(data, options.minHalfWidth ?? 1.5);
  const calRange = {
    lo: Math.min(...served.map((r) => r.lo)),
    hi: Math.max(...served.map((r) => r.hi)),
  };
  const quoted = data.map(quotedRange);
  const out: SviArbFreeSlice[] = new Array(data.length);
  for (let i = data.length - 1; i >= 0; i--) {
    const fit = fits[i];
    if (fit) out[i] = fitArbFreeSlice(data, i, fit, out, { weighting, served, calRange, quoted });
  }
  return out;
}

/** Far-range check of which shorter slices can rise above slice i somewhere (envelope members). */
const ENVELOPE_SCAN = Float64Array.from(
  { length: 401 },
  (_, i) => (50 * Math.sinh((4.6 * (i - 200)) / 200)) / Math.sinh(4.6),
);

/**
 * The calendar envelope of raw SVI slices sorted by increasing expiry (module comment, part 2):
 * node i serves W_i(k) = max_{j <= i} w_j(k) with the derivatives of the slice attaining the
 * maximum (at a tie, the later slice). Only the shorter slices that can exceed w_i somewhere are
 * evaluated: on |k| <= 50 a scan bounds w_j - w_i between its points by the largest curvature of
 * raw SVI (b / sigma), beyond it a wing slope at least as steep counts as exceeding. A surface whose
 * slices are ordered everywhere costs one SVI evaluation per node as before.
 */
export function sviEnvelopeSmiles(slices: readonly { expiry: number; params: SviParams }[]): SmileFunction[] {
  const n = ENVELOPE_SCAN.length;
  // the square of the largest scan spacing next to each point, /8: between two scan points a
  // difference of smiles d = w_j - w_i with |d''| <= M exceeds its larger end value by at most M h^2/8
  const h2 = Float64Array.from(ENVELOPE_SCAN, (_, t) => {
    const l = t > 0 ? at(ENVELOPE_SCAN, t) - at(ENVELOPE_SCAN, t - 1) : 0;
    const r = t < n - 1 ? at(ENVELOPE_SCAN, t + 1) - at(ENVELOPE_SCAN, t) : 0;
    return Math.max(l, r) ** 2 / 8;
  });
  // largest w'' of raw SVI is b / sigma (at k = m)
  const curv = (p: SviParams) => p.b / p.sigma;
  // running maximum of the shorter slices on the scan, their largest wing slopes and curvature
  const runMax = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  let runLeft = Number.NEGATIVE_INFINITY;
  let runRight = Number.NEGATIVE_INFINITY;
  let runCurv = 0;
  return slices.map((s, i) => {
    const own = s.params;
    const so = sviWingSlopes(own);
    const ownW = Float64Array.from(ENVELOPE_SCAN, (k) => sviTotalVariance(own, k));
    const cOwn = curv(own);
    // a slope at least as steep may rise above at infinity (SVI approaches its asymptotes from above)
    let dominated = runLeft >= so.left - 1e-12 || runRight >= so.right - 1e-12;
    for (let t = 0; !dominated && t < n; t++)
      if (at(runMax, t) > at(ownW, t) - (runCurv + cOwn) * at(h2, t) - 1e-12) dominated = true;
    const others: SviParams[] = [];
    if (dominated) {
      for (const { params: p } of slices.slice(0, i)) {
        const sp = sviWingSlopes(p);
        const M = curv(p) + cOwn;
        let above = sp.left >= so.left - 1e-12 || sp.right >= so.right - 1e-12;
        for (let t = 0; !above && t < n; t++)
          if (sviTotalVariance(p, at(ENVELOPE_SCAN, t)) > at(ownW, t) - M * at(h2, t) - 1e-12) above = true;
        if (above) others.push(p);
      }
    }
    for (let t = 0; t < n; t++) runMax[t] = Math.max(at(runMax, t), at(ownW, t));
    runLeft = Math.max(runLeft, so.left);
    runRight = Math.max(runRight, so.right);
    runCurv = Math.max(runCurv, cOwn);
    if (others.length === 0) {
      return {
        expiry: s.expiry,
        totalVariance: (k) => sviTotalVariance(own, k),
        firstDerivative: (k) => sviFirstDerivative(own, k),
        secondDerivative: (k) => sviSecondDerivative(own, k),
      };
    }
    const argmax = (k: number): SviParams => {
      let best = own;
      let wBest = sviTotalVariance(own, k);
      for (const p of others) {
        const w = sviTotalVariance(p, k);
        if (w > wBest) {
          wBest = w;
          best = p;
        }
      }
      return best;
    };
    return {
      expiry: s.expiry,
      totalVariance: (k) => {
        let wBest = sviTotalVariance(own, k);
        for (const p of others) wBest = Math.max(wBest, sviTotalVariance(p, k));
        return wBest;
      },
      firstDerivative: (k) => sviFirstDerivative(argmax(k), k),
      secondDerivative: (k) => sviSecondDerivative(argmax(k), k),
    };
  });
}

/** The served svi-af surface: the calendar envelope of the slices, linear in total variance between nodes. */
export function sviEnvelopeSurface(slices: readonly { expiry: number; params: SviParams }[]): SliceSurface {
  return surfaceFromSmiles("svi-af", sviEnvelopeSmiles(slices));
}
