/**
 * Static-arbitrage report of a fitted surface and a repair of raw SVI slices.
 *
 * Butterfly (per slice): Durrleman's g(k) >= 0 on a dense k grid (GJ 2014, Lemma 2.2), plus the
 * Roper (2010) conditions: w(k) > 0 and, in the wings, Lee's bound on the slopes (< 2) so that
 * d+(k) -> -infinity as k -> +infinity (call prices vanish) and d-(k) -> +infinity as k -> -infinity.
 * Calendar: w(k, T) non-decreasing in T for each k of the grid, between consecutive slices.
 * Vertical spreads (per slice, on the butterfly grid): the out-of-the-money call price falls as
 * the strike rises above the forward and the out-of-the-money put price falls as it drops below
 * (Carr-Madan: a call spread must not have a negative price). g >= 0 on a finite range does not
 * give it: a convex call price may already be rising inside the range when g < 0 somewhere beyond
 * it (the 2026-04-09 BTC 78-day slice of an earlier svi-af: 1.651e-4 -> 1.885e-4 of F from k = 1.2
 * to 1.6).
 *
 * Repair (raw SVI): for each slice in increasing T, the parameters closest to the fitted ones
 * (vol-space least squares near the money, or on the quotes when given) subject to g(k) >= 0 on
 * the grid, wing slopes < 2 and w(k) >= w_previous(k): a quadratic-penalty method with growing
 * penalty and margin solved by the projected LM, until every constraint holds on the grid.
 *
 * Units: k = ln(K/F), T years, w = vol^2 T.
 */
import { InvalidInputError } from "../errors.js";
import { levenbergMarquardt } from "../math/levenbergMarquardt.js";
import { normalisedBlackOtm } from "../pricing/normalisedBlack.js";
import { at } from "./indexing.js";
import type { SliceSurface, SmileFunction } from "./interpolate.js";
import { durrlemanG, type SviParams, sviDurrlemanG, sviTotalVariance, sviWingSlopes } from "./svi.js";
import { type SurfaceSlice, type SurfaceWeighting, surfaceQuoteWeights } from "./sliceData.js";
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
  /**
   * An explicit k-range [lo, hi] instead of the symmetric width (then `points` spans it, or one
   * point every `step` when given).
   */
  readonly range?: { readonly lo: number; readonly hi: number };
  /** Grid spacing in k with `range` (overrides `points`). */
  readonly step?: number;
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
  /** The k-range checked [first, last grid point]. */
  readonly range: { readonly lo: number; readonly hi: number };
  /**
   * Grid points where the out-of-the-money price rises moving away from the forward (a call or put
   * spread of negative price), and the first such k (null when none). Not part of `free`, which is
   * the butterfly verdict; the surface report's `verticalSpreadFree` collects them.
   */
  readonly verticalSpreadPoints: number;
  readonly verticalSpreadAt: number | null;
  /** Butterfly-free: g >= -tolerance on the grid, w > 0, wing slopes < 2. */
  readonly free: boolean;
}

export interface CalendarPairReport {
  readonly fromExpiry: number;
  readonly toExpiry: number;
  /** min over the grid of w(k, T2) - w(k, T1) and where. */
  readonly minIncrease: number;
  readonly minIncreaseAt: number;
  readonly violations: number;
  /** The k-range checked [first, last grid point]. */
  readonly range: { readonly lo: number; readonly hi: number };
  readonly free: boolean;
}

export interface ArbitrageReport {
  readonly butterfly: ButterflySliceReport[];
  readonly calendar: CalendarPairReport[];
  readonly butterflyFree: boolean;
  readonly calendarFree: boolean;
  /** No slice has a vertical-spread point (ButterflySliceReport.verticalSpreadPoints). */
  readonly verticalSpreadFree: boolean;
  /** Free of static arbitrage: butterflies, calendars and vertical spreads. */
  readonly free: boolean;
}

/** Relative rise of an out-of-the-money price between neighbouring grid points counted as a vertical-spread point. */
const VERTICAL_TOLERANCE = 1e-9;

/** Out-of-the-money Black price over the forward at k = ln(K/F) with total variance w: e^{k/2} b(-|k|, sqrt(w)). */
function otmPrice(k: number, w: number): number {
  return Math.exp(0.5 * k) * normalisedBlackOtm(-Math.abs(k), Math.sqrt(Math.max(w, 0)));
}

/**
 * Vertical-spread points of a smile on an increasing grid with total variances ws: a call price
 * (k >= 0) above the one at the previous grid point, a put price (k <= 0) above the one at the
 * next, by more than VERTICAL_TOLERANCE relative.
 */
export function verticalSpreadScan(
  grid: Float64Array,
  ws: Float64Array,
): { points: number; at: number | null } {
  let points = 0;
  let first: number | null = null;
  const mark = (k: number) => {
    points++;
    if (first === null || Math.abs(k) < Math.abs(first)) first = k;
  };
  for (let i = 1; i < grid.length; i++) {
    const k0 = at(grid, i - 1);
    const k1 = at(grid, i);
    if (k0 >= 0 && otmPrice(k1, at(ws, i)) > otmPrice(k0, at(ws, i - 1)) * (1 + VERTICAL_TOLERANCE)) mark(k1);
    if (k1 <= 0 && otmPrice(k0, at(ws, i - 1)) > otmPrice(k1, at(ws, i)) * (1 + VERTICAL_TOLERANCE)) mark(k0);
  }
  return { points, at: first };
}

/** The k grid used for a smile with ATM total variance w0. */
export function arbitrageGrid(w0: number, options: ArbitrageGridOptions = {}): Float64Array {
  const r = options.range;
  if (r) {
    const m = options.step ? Math.ceil((r.hi - r.lo) / options.step) + 1 : (options.points ?? 401);
    const n = Math.max(3, m);
    return Float64Array.from({ length: n }, (_, i) => r.lo + ((r.hi - r.lo) * i) / (n - 1));
  }
  const width = Math.max(
    options.minHalfWidth ?? 1,
    (options.widthInStdDevs ?? 6) * Math.sqrt(Math.max(w0, 0)),
  );
  const n = Math.max(3, options.points ?? 401);
  return Float64Array.from({ length: n }, (_, i) => -width + (2 * width * i) / (n - 1));
}

function gridRange(grid: Float64Array): { lo: number; hi: number } {
  return { lo: grid[0] ?? 0, hi: grid[grid.length - 1] ?? 0 };
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
  const ws = new Float64Array(grid.length);
  for (const [i, k] of grid.entries()) {
    const w = smile.totalVariance(k);
    ws[i] = w;
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
    left: -smile.firstDerivative(at(grid, 0) * 50),
    right: smile.firstDerivative(at(grid, n - 1) * 50),
  };
  const free = neg === 0 && minW > 0 && slopes.left < 2 && slopes.right < 2;
  const vertical = verticalSpreadScan(grid, ws);
  return {
    expiry: smile.expiry,
    minDensityG: minG,
    minDensityAt: minAt,
    negativeDensityPoints: neg,
    minTotalVariance: minW,
    leftWingSlope: slopes.left,
    rightWingSlope: slopes.right,
    range: gridRange(grid),
    verticalSpreadPoints: vertical.points,
    verticalSpreadAt: vertical.at,
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
    range: gridRange(grid),
    free: viol === 0,
  };
}

/**
 * Full report of a surface at its node expiries. With `ranges` (one per node, e.g. sliceData.ts
 * servedRanges) each node's butterfly check covers its own range and each calendar pair the union
 * of the two ranges, instead of the symmetric grid of `options`.
 */
export function surfaceArbitrageReport(
  surface: SliceSurface,
  options: ArbitrageGridOptions = {},
  ranges: readonly { readonly lo: number; readonly hi: number }[] | null = null,
): ArbitrageReport {
  const smiles = surface.expiries.map((T) => surface.smileAt(T));
  const at = (i: number) => {
    const r = ranges?.[i];
    return r ? { ...options, range: r } : options;
  };
  const butterfly = smiles.map((s, i) => butterflyCheck(s, at(i)));
  const calendar: CalendarPairReport[] = [];
  for (let i = 1; i < smiles.length; i++) {
    const a = smiles[i - 1];
    const b = smiles[i];
    const ra = ranges?.[i - 1];
    const rb = ranges?.[i];
    const union =
      ra && rb ? { ...options, range: { lo: Math.min(ra.lo, rb.lo), hi: Math.max(ra.hi, rb.hi) } } : options;
    if (a && b) calendar.push(calendarCheck(a, b, union));
  }
  const butterflyFree = butterfly.every((b) => b.free);
  const calendarFree = calendar.every((c) => c.free);
  const verticalSpreadFree = butterfly.every((b) => b.verticalSpreadPoints === 0);
  return {
    butterfly,
    calendar,
    butterflyFree,
    calendarFree,
    verticalSpreadFree,
    free: butterflyFree && calendarFree && verticalSpreadFree,
  };
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
  /** RMS change in implied vol over the grid points within 3 ATM standard deviations, vol points. */
  readonly rmsVolChangePts: number;
  /** Distance minimized (weighted sum of squared vol differences to the quotes or the original). */
  readonly distance: number;
  /** Whether the repaired slice passes the checks on the grid. */
  readonly free: boolean;
}

/** Margins of the repair: g >= G_MARGIN and w >= (1 + W_MARGIN) w_previous on its grid. */
const G_MARGIN = 1e-4;
const W_MARGIN = 1e-6;

/** Largest violation on the grid without margins: wings, g < 0, and the calendar bound against the neighbour. */
function violationNoMargin(
  p: SviParams,
  grid: Float64Array,
  neighbor: SviParams | null,
  dir: 1 | -1,
): number {
  const slopes = sviWingSlopes(p);
  let worst = Math.max(0, slopes.left - 2, slopes.right - 2);
  for (const k of grid) {
    const w = sviTotalVariance(p, k);
    if (!(w > 0)) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, -sviDurrlemanG(p, k));
    if (neighbor) worst = Math.max(worst, dir * (sviTotalVariance(neighbor, k) - w));
  }
  return worst;
}

export interface SviRepairOptions extends ArbitrageGridOptions {
  /**
   * Optional quotes per slice (aligned with `slices`): "closest" is then measured on the quotes
   * (the weighted vol-space fit objective) instead of on the original smile near the money.
   */
  readonly data?: readonly SurfaceSlice[];
  readonly weighting?: SurfaceWeighting;
  /**
   * "forward": each slice is repaired against the (repaired) earlier one (w >= w_prev);
   * "backward": against the later one (w <= w_next), so the long expiries' wings bound the short
   * ones'; "auto" (default): both, keeping the one with fewer unrepaired slices, then the
   * smaller total distance.
   */
  readonly order?: "forward" | "backward" | "auto";
}

/**
 * Closest arbitrage-free raw SVI parameters for slices sorted by expiry (see the module
 * comment). Distance: vol-space differences to the original smile on the grid points within 3
 * ATM standard deviations, or to the quotes when `data` is given. Slices already free of
 * arbitrage (including against the neighbouring, possibly repaired, slice) are returned unchanged.
 */
export function repairSviSlices(
  slices: readonly { expiry: number; params: SviParams }[],
  options: SviRepairOptions = {},
): SviRepairResult[] {
  if (options.data && options.data.length !== slices.length)
    throw new InvalidInputError(
      "data.length",
      options.data.length,
      `must equal slices.length (${slices.length})`,
    );
  for (const [s, { expiry }] of slices.entries()) {
    if (!(expiry > 0)) throw new InvalidInputError(`slices[${s}].expiry`, expiry, "must be > 0");
    const previous = slices[s - 1];
    if (previous && !(expiry > previous.expiry))
      throw new InvalidInputError(`slices[${s}].expiry`, expiry, "must be strictly increasing");
  }
  const order = options.order ?? "auto";
  if (order !== "auto") return repairPass(slices, options, order === "forward" ? 1 : -1);
  const fwd = repairPass(slices, options, 1);
  if (fwd.every((r) => r.unchanged)) return fwd;
  const bwd = repairPass(slices, options, -1);
  const bad = (rs: SviRepairResult[]) => rs.filter((r) => !r.free).length;
  const dist = (rs: SviRepairResult[]) => rs.reduce((a, r) => a + r.distance, 0);
  if (bad(bwd) < bad(fwd) || (bad(bwd) === bad(fwd) && dist(bwd) < dist(fwd))) return bwd;
  return fwd;
}

/** One slice's repair problem: its grid, the neighbour it is bounded by and the distance to keep small. */
interface RepairContext {
  readonly expiry: number;
  readonly params: SviParams;
  /** The (repaired) slice before it in the pass, or null for the first. */
  readonly neighbor: SviParams | null;
  readonly dir: 1 | -1;
  readonly grid: Float64Array;
  /** ATM total variance scale of the slice and its neighbour. */
  readonly w0: number;
  /** The grid points within 3 ATM standard deviations. */
  readonly near: readonly number[];
  /** Distance points: the quotes' k, target vols and weights, or the original smile near the money. */
  readonly distK: Float64Array;
  readonly distTarget: Float64Array;
  readonly distWeight: Float64Array;
}

function volAt(p: SviParams, k: number, expiry: number): number {
  return Math.sqrt(Math.max(sviTotalVariance(p, k), 0) / expiry);
}

function repairContext(
  slice: { expiry: number; params: SviParams },
  data: SurfaceSlice | undefined,
  neighbor: SviParams | null,
  options: SviRepairOptions,
  dir: 1 | -1,
): RepairContext {
  const { expiry, params } = slice;
  const w0 = Math.max(sviTotalVariance(params, 0), neighbor ? sviTotalVariance(neighbor, 0) : 0, 1e-8);
  // a little wider and denser than the report's grid, so the report finds nothing in between
  const grid = arbitrageGrid(w0, {
    ...options,
    widthInStdDevs: 1.5 * (options.widthInStdDevs ?? 6),
    minHalfWidth: 1.5 * (options.minHalfWidth ?? 1),
    points: 2 * (options.points ?? 401) + 1,
  });
  const sd = Math.sqrt(w0);
  const near = Array.from(grid).filter((k) => Math.abs(k) <= 3 * sd);
  return {
    expiry,
    params,
    neighbor,
    dir,
    grid,
    w0,
    near,
    distK: data ? Float64Array.from(data.quotes, (q) => q.k) : Float64Array.from(near),
    distTarget: data
      ? Float64Array.from(data.quotes, (q) => q.targetVol)
      : Float64Array.from(near, (k) => volAt(params, k, expiry)),
    distWeight: data
      ? surfaceQuoteWeights(data, options.weighting ?? "spread")
      : new Float64Array(near.length).fill(1 / Math.sqrt(Math.max(near.length, 1))),
  };
}

/** Weighted vol difference of p at distance point i. */
function distanceResidual(ctx: RepairContext, p: SviParams, i: number): number {
  return at(ctx.distWeight, i) * (volAt(p, at(ctx.distK, i), ctx.expiry) - at(ctx.distTarget, i));
}

/** The distance minimized: weighted sum of squared vol differences. */
function repairDistance(ctx: RepairContext, p: SviParams): number {
  let c = 0;
  for (let i = 0; i < ctx.distK.length; i++) c += distanceResidual(ctx, p, i) ** 2;
  return c;
}

function repairPass(
  slices: readonly { expiry: number; params: SviParams }[],
  options: SviRepairOptions,
  dir: 1 | -1,
): SviRepairResult[] {
  const out: (SviRepairResult | null)[] = slices.map(() => null);
  let neighbor: SviParams | null = null;
  const indexed = [...slices.entries()];
  for (const [s, slice] of dir === 1 ? indexed : indexed.reverse()) {
    const ctx = repairContext(slice, options.data?.[s], neighbor, options, dir);
    const result =
      violationNoMargin(ctx.params, ctx.grid, ctx.neighbor, dir) <= 0
        ? unchangedResult(ctx)
        : repairedResult(ctx, searchRepair(ctx));
    out[s] = result;
    neighbor = result.repaired;
  }
  return out as SviRepairResult[];
}

function unchangedResult(ctx: RepairContext): SviRepairResult {
  const { expiry, params } = ctx;
  return {
    expiry,
    original: params,
    repaired: params,
    unchanged: true,
    rmsVolChangePts: 0,
    distance: repairDistance(ctx, params),
    free: true,
  };
}

function repairedResult(ctx: RepairContext, repaired: SviParams): SviRepairResult {
  const { expiry, params, near } = ctx;
  let ss = 0;
  for (const k of near) ss += (volAt(repaired, k, expiry) - volAt(params, k, expiry)) ** 2;
  return {
    expiry,
    original: params,
    repaired,
    unchanged: false,
    rmsVolChangePts: 100 * Math.sqrt(ss / Math.max(near.length, 1)),
    distance: repairDistance(ctx, repaired),
    free: violationNoMargin(repaired, ctx.grid, ctx.neighbor, ctx.dir) <= 0,
  };
}

/** Calendar bound with margin: forward w >= (1+2M) w_prev, backward w <= w_next / (1+2M). */
function calendarBound(ctx: RepairContext): Float64Array | null {
  const { neighbor, dir } = ctx;
  if (!neighbor) return null;
  return ctx.grid.map((k) =>
    dir === 1
      ? sviTotalVariance(neighbor, k) * (1 + 2 * W_MARGIN)
      : sviTotalVariance(neighbor, k) / (1 + 2 * W_MARGIN),
  );
}

/** Largest violation with margins (wings, g >= G_MARGIN, the calendar bound); <= 0 when p passes. */
function marginViolation(ctx: RepairContext, bound: Float64Array | null, p: SviParams): number {
  const { grid, dir, w0 } = ctx;
  const slopes = sviWingSlopes(p);
  let worst = Math.max(0, slopes.left - 2, slopes.right - 2);
  for (let i = 0; i < grid.length; i++) {
    const k = at(grid, i);
    const w = sviTotalVariance(p, k);
    if (!(w > 0)) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, G_MARGIN - sviDurrlemanG(p, k));
    if (bound) worst = Math.max(worst, (dir * (at(bound, i) - w)) / w0);
  }
  return worst;
}

/** Penalty weight and g margin of the current round (raised between rounds). */
interface PenaltyState {
  sqrtMu: number;
  margin: number;
}

/** LM problem: distance residuals, then g below the margin and calendar gaps, both penalized. */
function repairProblem(ctx: RepairContext, bound: Float64Array | null, state: PenaltyState) {
  const { grid, dir, w0 } = ctx;
  const nd = ctx.distK.length;
  const n = grid.length;
  return {
    parameters: 5,
    residuals: nd + 2 * n,
    evaluate(x: Float64Array, r: Float64Array) {
      const p = sviFromInternal(x);
      for (let i = 0; i < nd; i++) r[i] = distanceResidual(ctx, p, i);
      for (let i = 0; i < n; i++) {
        const k = at(grid, i);
        const w = sviTotalVariance(p, k);
        const g = w > 0 ? sviDurrlemanG(p, k) : -1;
        r[nd + i] = g < state.margin ? state.sqrtMu * (state.margin - g) : 0;
        const gap = bound ? dir * (at(bound, i) - w) : 0;
        r[nd + n + i] = gap > 0 ? (state.sqrtMu * gap) / w0 : 0;
      }
    },
  };
}

/** The neighbour scaled to the slice's ATM level, kept on the right side of the calendar bound. */
function scaledNeighbor(ctx: RepairContext, nb: SviParams): SviParams {
  const ratio = sviTotalVariance(ctx.params, 0) / Math.max(sviTotalVariance(nb, 0), 1e-12);
  const lam = ctx.dir === 1 ? Math.max(1 + 4 * W_MARGIN, ratio) : Math.min(1 / (1 + 4 * W_MARGIN), ratio);
  return { ...nb, a: nb.a * lam, b: nb.b * lam };
}

/** Removes a residual calendar crossing by shifting the whole smile (a +- delta), checked on a 5x denser grid. */
function shiftAcrossNeighbor(ctx: RepairContext, p: SviParams): SviParams {
  const { neighbor, grid, dir } = ctx;
  if (!neighbor) return p;
  const n = grid.length;
  const lo = at(grid, 0);
  const hi = at(grid, n - 1);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i <= 5 * n; i++) {
    const k = lo + ((hi - lo) * i) / (5 * n);
    const nb = sviTotalVariance(neighbor, k);
    const b = dir === 1 ? nb * (1 + 2 * W_MARGIN) : nb / (1 + 2 * W_MARGIN);
    worst = Math.max(worst, dir * (b - sviTotalVariance(p, k)));
  }
  return worst > 0 ? { ...p, a: p.a + dir * worst } : p;
}

/**
 * Penalized LM rounds from the slice and the scaled neighbour; feasible candidates (no violation on
 * the grid without margins) win by distance, else the smallest violation.
 */
function searchRepair(ctx: RepairContext): SviParams {
  const { params, neighbor, grid, dir, w0 } = ctx;
  const bound = calendarBound(ctx);
  const state: PenaltyState = { sqrtMu: 10, margin: 2 * G_MARGIN };
  const problem = repairProblem(ctx, bound, state);
  const lower = [1e-12, 0, -0.999, params.m - 2, 1e-4];
  const upper = [Math.max(10 * w0, 1), 0.999, 0.999, params.m + 2, 10];
  const clamp = (x: number[]) => x.map((v, j) => Math.min(at(upper, j), Math.max(at(lower, j), v)));
  const starts = [clamp(sviToInternal(params))];
  if (neighbor) starts.push(clamp(sviToInternal(scaledNeighbor(ctx, neighbor))));
  const pick: { best: { p: SviParams; viol: number; cost: number } | null } = { best: null };
  const consider = (raw: SviParams) => {
    const shifted = shiftAcrossNeighbor(ctx, raw);
    const p =
      violationNoMargin(shifted, grid, neighbor, dir) <= violationNoMargin(raw, grid, neighbor, dir)
        ? shifted
        : raw;
    const viol = Math.max(violationNoMargin(p, grid, neighbor, dir), 0);
    const cost = repairDistance(ctx, p);
    const b = pick.best;
    if (b === null || viol < b.viol || (viol === b.viol && cost < b.cost)) pick.best = { p, viol, cost };
  };
  if (neighbor) consider(scaledNeighbor(ctx, neighbor));
  for (const x0 of starts) {
    state.sqrtMu = 10;
    state.margin = 2 * G_MARGIN;
    let x = x0;
    for (let round = 0; round < 10; round++) {
      const res = levenbergMarquardt(problem, x, { lower, upper, maxIterations: 200 });
      x = Array.from(res.x);
      const p = sviFromInternal(x);
      consider(p);
      if (marginViolation(ctx, bound, p) <= 0) break;
      state.sqrtMu *= 10;
      state.margin *= 2;
    }
  }
  return pick.best ? pick.best.p : params;
}
