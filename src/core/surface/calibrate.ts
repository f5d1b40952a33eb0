/**
 * Surface calibration end to end: slices (or cleaned quotes) -> fitted model -> surface with a
 * fit report per expiry and an arbitrage report.
 *
 * Models: "svi-af" (the default: raw SVI per expiry fitted from the longest expiry inward with
 * butterfly (Gatheral-Jacquier g >= 0), calendar (ordered below the longer slices where they are
 * quoted) and Lee constraints inside the LM, served through the calendar envelope
 * W_i = max_{j <= i} w_j: free of static arbitrage on the served range |k| <= max(1.5, quoted |k|),
 * calendar-free at every k; see sviArbFree.ts for the method and the literature),
 * "svi" (raw SVI per expiry, unconstrained, for comparison: may hold static arbitrage, which its
 * warnings name; `repair: true` gives the svi-af fit),
 * "ssvi" (power-law SSVI, one global fit, arbitrage-free by construction), "essvi" (extended SSVI
 * slice by slice, arbitrage-free by construction). See sviFit.ts, ssviFit.ts and essviFit.ts.
 *
 * The arbitrage report covers exactly the served range |k| <= max(1.5, the quoted |k|) every 0.005
 * in k, at every expiry and between consecutive expiries (linear in total variance between them,
 * so ordered nodes are ordered at every T).
 *
 * Fit report per expiry: RMSE of fitted vs target vol in vol points (unweighted), RMS distance
 * to the bid/ask vol band, share of two-sided quotes whose fitted vol lies in [bidVol, askVol],
 * parameters (raw SVI equivalent for every model). Expected failures are Result values: no usable quotes, non-finite parameters.
 *
 * Units: k = ln(K/F), T years ACT/365, vols decimal, w = vol^2 T.
 */
import { type Result, fail, ok } from "../errors.js";
import type { CleanQuote } from "../market/types.js";
import { type ArbitrageReport, surfaceArbitrageReport } from "./arbitrage.js";
import { essviSurface, type SliceSurface, ssviSurface, sviSurface } from "./interpolate.js";
import {
  type QuoteRejection,
  type SliceBuildOptions,
  type SurfaceSlice,
  type SurfaceWeighting,
  servedRanges,
  surfaceSlicesFromQuotes,
} from "./sliceData.js";
import { type EssviSliceParams, essviToRawSvi, type SsviPowerLawParams, ssviSlice } from "./ssvi.js";
import { fitEssviSurface } from "./essviFit.js";
import { fitSsviSurface } from "./ssviFit.js";
import { type SviParams, sviTotalVariance } from "./svi.js";
import { fitSviArbFreeSurface, type SviArbFreeSlice, sviEnvelopeSurface } from "./sviArbFree.js";
import { fitSviSlice, type SviSliceFit } from "./sviFit.js";

export type SurfaceModel = "svi-af" | "svi" | "ssvi" | "essvi";

/** The surface models, the default first. */
export const SURFACE_MODELS = ["svi-af", "svi", "ssvi", "essvi"] as const satisfies readonly SurfaceModel[];

/**
 * The default surface model of every fit in the project (calibrateSurfaceFromQuotes, the CLI, the
 * book commands' market, the optimizer spec, the agent's refits): arbitrage-free SVI (issue 21).
 */
export const DEFAULT_SURFACE_MODEL: SurfaceModel = "svi-af";

/** Least half-width in k of every expiry's served range (issue 21: |k| <= 1.5 at least). */
export const SERVED_MIN_HALF_WIDTH = 1.5;

export interface SurfaceCalibrationOptions {
  readonly model?: SurfaceModel;
  readonly weighting?: SurfaceWeighting;
  /** SVI: LM restarts per slice (default 4). */
  readonly restarts?: number;
  /**
   * SVI: refit the unconstrained slices with the no-arbitrage constraints (default false): the
   * result is the svi-af fit (model "svi-af" in the result), same guarantee and time.
   */
  readonly repair?: boolean;
}

export interface SliceFitReport {
  /** Time to expiry, years. */
  readonly expiry: number;
  /** Expiry instant, epoch ms UTC, if known. */
  readonly expiryTime: number | null;
  /** Forward, USD. */
  readonly forward: number;
  readonly quoteCount: number;
  readonly twoSidedCount: number;
  /** RMSE of fitted minus target vol, vol points. */
  readonly rmseVolPts: number;
  readonly maxAbsErrorVolPts: number;
  /**
   * RMS distance of the fitted vol to each quote's band [bidVol, askVol] (0 inside; a missing
   * side is open), vol points: the quality measure that wide wing spreads do not inflate.
   */
  readonly bandDistanceRmsVolPts: number;
  /** Share of two-sided quotes with bidVol <= fitted <= askVol (null without two-sided quotes). */
  readonly insideBandShare: number | null;
  /** ATM vol of the fit (decimal). */
  readonly atmVol: number;
  /** Raw SVI parameters of the slice (the equivalent raw SVI for SSVI/eSSVI). */
  readonly rawSvi: SviParams;
  /** eSSVI parameters (ssvi/essvi models). */
  readonly essvi: EssviSliceParams | null;
  readonly converged: boolean;
  readonly iterations: number;
  /** Why this slice's fit is degraded, or null. */
  readonly degraded: string | null;
  /** SVI with repair: whether the slice was changed by the repair. */
  readonly repaired: boolean;
}

export interface SurfaceFit {
  readonly model: SurfaceModel;
  readonly surface: SliceSurface;
  readonly slices: SliceFitReport[];
  /** Global SSVI parameters (model "ssvi"). */
  readonly ssvi: SsviPowerLawParams | null;
  readonly arbitrage: ArbitrageReport;
  /** Human-readable notes on degraded fits and repairs. */
  readonly warnings: string[];
  /** The slices that were fitted (for rich/cheap and plots). */
  readonly data: SurfaceSlice[];
}

export type SurfaceFitFailure = "no-usable-quotes" | "non-finite-fit";

function sliceStats(slice: SurfaceSlice, surface: SliceSurface) {
  let ss = 0;
  let maxAbs = 0;
  let two = 0;
  let inside = 0;
  let band = 0;
  for (const q of slice.quotes) {
    const v = surface.impliedVol(q.k, slice.expiry);
    const e = v - q.targetVol;
    ss += e * e;
    const below = q.bidVol !== null ? Math.max(q.bidVol - v, 0) : 0;
    const above = q.askVol !== null ? Math.max(v - q.askVol, 0) : 0;
    band += (below + above) ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(e));
    if (q.bidVol !== null && q.askVol !== null) {
      two++;
      if (v >= q.bidVol - 1e-12 && v <= q.askVol + 1e-12) inside++;
    }
  }
  const n = slice.quotes.length;
  return {
    quoteCount: n,
    twoSidedCount: two,
    rmseVolPts: 100 * Math.sqrt(ss / n),
    maxAbsErrorVolPts: 100 * maxAbs,
    bandDistanceRmsVolPts: 100 * Math.sqrt(band / n),
    insideBandShare: two > 0 ? inside / two : null,
    atmVol: surface.impliedVol(0, slice.expiry),
  };
}

const finiteParams = (o: object): boolean =>
  Object.values(o).every((v) => typeof v !== "number" || Number.isFinite(v));

/** Where an out-of-the-money price rises away from the forward (a call or put spread of negative price). */
function verticalSpreadWarning(a: ArbitrageReport): string {
  const bad = a.butterfly.filter((b) => b.verticalSpreadPoints > 0);
  const where = bad
    .slice(0, 3)
    .map(
      (b) =>
        `T=${b.expiry.toFixed(4)}: ${b.verticalSpreadPoints} points from k=${b.verticalSpreadAt?.toFixed(3)}`,
    );
  return `vertical-spread arbitrage (an out-of-the-money price rising away from the forward) in ${bad.length} slice(s): ${where.join("; ")}`;
}

/** The unconstrained SVI warning: where its arbitrage is (the worst few slices and expiry pairs). */
function sviArbitrageWarning(a: ArbitrageReport): string {
  const bf = a.butterfly
    .filter((b) => !b.free)
    .sort((x, y) => x.minDensityG - y.minDensityG)
    .slice(0, 3)
    .map(
      (b) =>
        `T=${b.expiry.toFixed(4)}: ${b.negativeDensityPoints} points with g < 0, min g ${b.minDensityG.toExponential(2)} at k=${b.minDensityAt.toFixed(3)}`,
    );
  const cal = a.calendar
    .filter((c) => !c.free)
    .sort((x, y) => x.minIncrease - y.minIncrease)
    .slice(0, 3)
    .map(
      (c) =>
        `T=${c.fromExpiry.toFixed(4)}->${c.toExpiry.toFixed(4)}: w decreases at ${c.violations} points, most (${c.minIncrease.toExponential(2)}) at k=${c.minIncreaseAt.toFixed(3)}`,
    );
  const nb = a.butterfly.filter((b) => !b.free).length;
  const nc = a.calendar.filter((c) => !c.free).length;
  return (
    "model svi (unconstrained per-slice SVI) holds static arbitrage" +
    (nb > 0 ? `; butterfly in ${nb} slice(s): ${bf.join("; ")}` : "") +
    (nc > 0 ? `; calendar between ${nc} expiry pair(s): ${cal.join("; ")}` : "") +
    ' (model "svi-af" fits with the no-arbitrage constraints)'
  );
}

/** A model's fit before the per-slice statistics: its surface, per-slice reports, warnings. */
type SliceFitBase = Omit<SliceFitReport, keyof ReturnType<typeof sliceStats>>;
interface ModelFit {
  readonly surface: SliceSurface;
  readonly perSlice: SliceFitBase[];
  readonly ssvi: SsviPowerLawParams | null;
  readonly warnings: string[];
}

const expiryTimeOf = (data: readonly SurfaceSlice[], i: number): number | null => data[i]?.expiryTime ?? null;

/** The RMS change of a repaired slice from its unconstrained fit at its quotes, vol points. */
function repairChangePts(f: SviArbFreeSlice, slice: SurfaceSlice | undefined): number {
  const quotes = slice?.quotes ?? [];
  let ss = 0;
  for (const q of quotes) {
    const d =
      Math.sqrt(Math.max(sviTotalVariance(f.params, q.k), 0) / f.expiry) -
      Math.sqrt(Math.max(sviTotalVariance(f.unconstrained, q.k), 0) / f.expiry);
    ss += d * d;
  }
  return 100 * Math.sqrt(ss / Math.max(quotes.length, 1));
}

/** svi-af (and svi with repair, which is the same fit): constrained slices served through the envelope. */
function fitArbFreeModel(
  data: readonly SurfaceSlice[],
  weighting: SurfaceWeighting,
  restarts: number | undefined,
  repair: boolean,
): ModelFit {
  const fits = fitSviArbFreeSurface(data, {
    weighting,
    minHalfWidth: SERVED_MIN_HALF_WIDTH,
    ...(restarts === undefined ? {} : { restarts }),
  });
  const warnings: string[] = [];
  if (repair)
    warnings.push('svi --repair: the svi fit refitted with the no-arbitrage constraints (model "svi-af")');
  const perSlice = fits.map((f, i): SliceFitBase => {
    const T = f.expiry.toFixed(4);
    if (f.method === "scaled-fallback")
      warnings.push(
        `T=${T}: constrained fit did not verify; fell back to ${i === fits.length - 1 ? "a flattened smile" : "the longer slice scaled"}`,
      );
    if (!f.verified)
      warnings.push(
        `T=${T}: svi-af slice not ordered below the longer slices on their quoted range; the calendar envelope orders the surface there`,
      );
    if (repair && f.method !== "unconstrained")
      warnings.push(
        `T=${T}: repaired (RMS change ${repairChangePts(f, data[i]).toFixed(3)} vol pts at the quotes)`,
      );
    return sviSliceRecord(f, data, i, f.method !== "unconstrained");
  });
  const surface = sviEnvelopeSurface(fits.map((f) => ({ expiry: f.expiry, params: f.params })));
  return { surface, perSlice, ssvi: null, warnings };
}

/** The per-slice record of a raw-SVI slice fit (svi and svi-af alike). */
function sviSliceRecord(
  f: Pick<SviSliceFit, "expiry" | "forward" | "params" | "converged" | "iterations" | "degraded">,
  data: readonly SurfaceSlice[],
  i: number,
  repaired: boolean,
): SliceFitBase {
  return {
    expiry: f.expiry,
    expiryTime: expiryTimeOf(data, i),
    forward: f.forward,
    rawSvi: f.params,
    essvi: null,
    converged: f.converged,
    iterations: f.iterations,
    degraded: f.degraded,
    repaired,
  };
}

/** Unconstrained raw SVI per slice. */
function fitSviModel(
  data: readonly SurfaceSlice[],
  weighting: SurfaceWeighting,
  restarts: number | undefined,
): ModelFit {
  const fits = data.map((s) =>
    fitSviSlice(s, restarts === undefined ? { weighting } : { weighting, restarts }),
  );
  const surface = sviSurface(fits.map((f) => ({ expiry: f.expiry, params: f.params })));
  const perSlice = fits.map((f, i) => sviSliceRecord(f, data, i, false));
  return { surface, perSlice, ssvi: null, warnings: [] };
}

/** Power-law SSVI, one global fit. */
function fitSsviModel(data: readonly SurfaceSlice[], weighting: SurfaceWeighting): ModelFit {
  const fit = fitSsviSurface(data, { weighting });
  const perSlice = fit.nodes.map((nd, i): SliceFitBase => {
    const p = ssviSlice(fit.params, nd.theta);
    return {
      expiry: nd.expiry,
      expiryTime: expiryTimeOf(data, i),
      forward: nd.forward,
      rawSvi: essviToRawSvi(p),
      essvi: p,
      converged: fit.converged,
      iterations: fit.iterations,
      degraded: fit.degraded,
      repaired: false,
    };
  });
  const warnings = fit.degraded ? [`ssvi: ${fit.degraded}`] : [];
  return { surface: ssviSurface(fit.params, fit.nodes), perSlice, ssvi: fit.params, warnings };
}

/** Extended SSVI, slice by slice. */
function fitEssviModel(data: readonly SurfaceSlice[], weighting: SurfaceWeighting): ModelFit {
  const fits = fitEssviSurface(data, { weighting });
  const perSlice = fits.map(
    (f, i): SliceFitBase => ({
      expiry: f.expiry,
      expiryTime: expiryTimeOf(data, i),
      forward: f.forward,
      rawSvi: essviToRawSvi(f.params),
      essvi: f.params,
      converged: f.converged,
      iterations: f.iterations,
      degraded: f.degraded,
      repaired: false,
    }),
  );
  return {
    surface: essviSurface(fits.map((f) => ({ expiry: f.expiry, params: f.params }))),
    perSlice,
    ssvi: null,
    warnings: [],
  };
}

/** The slices with quotes, sorted by expiry, or why they cannot be fitted (none; two with one expiry). */
function usableSlices(inputSlices: readonly SurfaceSlice[]): Result<SurfaceSlice[], SurfaceFitFailure> {
  const data = inputSlices.filter((s) => s.quotes.length > 0).sort((a, b) => a.expiry - b.expiry);
  if (data.length === 0) return fail("no-usable-quotes", "no expiry slice has a usable quote");
  let prev: SurfaceSlice | null = null;
  for (const s of data) {
    if (prev && !(s.expiry > prev.expiry))
      return fail("no-usable-quotes", `two slices share the expiry ${s.expiry} years; merge them first`);
    prev = s;
  }
  return ok(data);
}

/** Calibrates a surface to slices sorted by expiry (any order accepted; sorted here). */
export function calibrateSurface(
  inputSlices: readonly SurfaceSlice[],
  options: SurfaceCalibrationOptions = {},
): Result<SurfaceFit, SurfaceFitFailure> {
  const model = options.model ?? DEFAULT_SURFACE_MODEL;
  const usable = usableSlices(inputSlices);
  if (!usable.ok) return usable;
  const data = usable.value;
  const warnings: string[] = [];
  const emptied = inputSlices.length - data.length;
  if (emptied > 0) warnings.push(`${emptied} expiry slice(s) without quotes skipped`);
  const weighting = options.weighting ?? "spread";
  // --repair of the unconstrained SVI is the svi-af fit: the same constrained refit from the same
  // unconstrained slices, in milliseconds (the old parameter-space repair, arbitrage.ts
  // repairSviSlices, took seconds per chain and is no longer used here)
  const repairSvi = model === "svi" && options.repair === true;
  const m: ModelFit =
    model === "svi-af" || repairSvi
      ? fitArbFreeModel(data, weighting, options.restarts, repairSvi)
      : model === "svi"
        ? fitSviModel(data, weighting, options.restarts)
        : model === "ssvi"
          ? fitSsviModel(data, weighting)
          : fitEssviModel(data, weighting);
  warnings.push(...m.warnings);
  const surface = m.surface;
  const slices: SliceFitReport[] = [];
  m.perSlice.forEach((p, i) => {
    const s = data[i];
    if (s) slices.push({ ...p, ...sliceStats(s, surface) });
  });
  for (const s of slices) {
    if (s.degraded) warnings.push(`T=${s.expiry.toFixed(4)}: degraded fit: ${s.degraded}`);
    if (!finiteParams(s.rawSvi) || (s.essvi && !finiteParams(s.essvi)) || !Number.isFinite(s.rmseVolPts))
      return fail("non-finite-fit", `fit at T=${s.expiry} gave non-finite parameters`);
  }
  // exactly the served range of each expiry (issue 21), every 0.005 in k (sliceData.ts servedRanges:
  // [min(-1.5, lowest quoted k), max(1.5, highest quoted k)])
  const arbitrage = surfaceArbitrageReport(
    surface,
    { step: 0.005 },
    servedRanges(data, SERVED_MIN_HALF_WIDTH),
  );
  if (model === "svi" && !arbitrage.free) warnings.push(sviArbitrageWarning(arbitrage));
  else {
    if (!arbitrage.butterflyFree) warnings.push("butterfly arbitrage detected (see arbitrage report)");
    if (!arbitrage.calendarFree) warnings.push("calendar arbitrage detected (see arbitrage report)");
  }
  if (!arbitrage.verticalSpreadFree) warnings.push(verticalSpreadWarning(arbitrage));
  return ok({
    model: repairSvi ? "svi-af" : model,
    surface,
    slices,
    ssvi: m.ssvi,
    arbitrage,
    warnings: [...new Set(warnings)],
    data,
  });
}

export interface QuoteSurfaceFit {
  readonly fit: Result<SurfaceFit, SurfaceFitFailure>;
  readonly inputCount: number;
  readonly accepted: number;
  readonly rejected: QuoteRejection[];
}

/** Builds slices from cleaned quotes (see sliceData.ts) and calibrates; counts reconcile. */
export function calibrateSurfaceFromQuotes(
  quotes: readonly CleanQuote[],
  options: SurfaceCalibrationOptions & SliceBuildOptions = {},
): QuoteSurfaceFit {
  const built = surfaceSlicesFromQuotes(quotes, options);
  if (built.slices.length === 0) {
    const counts = new Map<string, number>();
    for (const r of built.rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
    const detail = [...counts].map(([k, v]) => `${k} ${v}`).join(", ");
    return {
      fit: fail("no-usable-quotes", `all ${quotes.length} quotes rejected${detail ? ` (${detail})` : ""}`),
      inputCount: quotes.length,
      accepted: 0,
      rejected: built.rejected,
    };
  }
  return {
    fit: calibrateSurface(built.slices, options),
    inputCount: quotes.length,
    accepted: built.accepted,
    rejected: built.rejected,
  };
}
