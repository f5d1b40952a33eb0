/**
 * The pieces of one walk-forward refit (walkForward.ts) and of one day's forecast, shared by the
 * batch walk-forward and the online tracker (online.ts) so both compute the same numbers.
 * Internal to core/regime/forecast (not re-exported by its index).
 */
import { InvalidInputError } from "../../errors.js";
import { mean } from "../../math/stats.js";
import { DAYS_PER_YEAR } from "../../time.js";
import { fitGarch, type GarchFit, garchForecastVariance, garchVariances } from "../garch.js";
import { fitHmm, type HmmParams, hmmForwardBackward } from "../hmm.js";
import {
  type DailySeries,
  FEATURE_WARMUP,
  featureRow,
  futureVariance,
  spikeEvent,
  trailingVariance,
} from "./features.js";
import { gbdtPredict, type GbdtModel, gbdtRaw, trainGbdt } from "./gbdt.js";
import { leastSquares } from "./linearModel.js";
import type { ForecastDay, WalkForwardOptions } from "./types.js";

export type ResolvedOptions = Required<Omit<WalkForwardOptions, "onProgress">>;

const EWMA_LAMBDA = 0.94;
const HAR_WINDOWS = [1, 7, 30] as const;

function harRow(s: DailySeries, t: number): number[] {
  return [1, ...HAR_WINDOWS.map((w) => trailingVariance(s, t, w))];
}

/** GARCH conditional variance for day t+1 of every day t, from one filter pass with fixed params. */
function garchNextVariances(s: DailySeries, fit: GarchFit, end: number): Float64Array {
  const r = Array.from(s.returns.subarray(1, end + 1));
  // The filter starts at the first 30 days' variance so no later data enters day t's value.
  const start = r.slice(0, 30).reduce((a, x) => a + x * x, 0) / 30;
  const v = garchVariances(r, fit.params, start);
  const out = new Float64Array(end + 1).fill(Number.NaN);
  for (let t = 1; t <= end; t++) out[t] = v[t] as number;
  return out;
}

function garchMeanVariance(fit: GarchFit, next: number, horizon: number): number {
  let total = 0;
  for (let h = 1; h <= horizon; h++) total += garchForecastVariance({ ...fit, nextVariance: next }, h);
  return (total / horizon) * DAYS_PER_YEAR;
}

/** The 2-state HMM fitted on the returns of days 1..train, and the index of its high-vol state. */
interface HmmHighVolFit {
  readonly params: HmmParams;
  readonly high: number;
}

function fitHighVolHmm(s: DailySeries, train: number): HmmHighVolFit {
  const fit = fitHmm(Array.from(s.returns.subarray(1, train + 1)), { states: 2 });
  return { params: fit.params, high: fit.params.stdevs.indexOf(Math.max(...fit.params.stdevs)) };
}

/** HMM high-vol state probability filtered up to each day (fixed params), days 1..end. */
function hmmHighVol(s: DailySeries, end: number, fit: HmmHighVolFit): Float64Array {
  const pass = hmmForwardBackward(Array.from(s.returns.subarray(1, end + 1)), fit.params);
  const out = new Float64Array(end + 1).fill(Number.NaN);
  for (let t = 1; t <= end; t++) out[t] = pass.filtered[t - 1]?.[fit.high] ?? Number.NaN;
  return out;
}

export function resolveOptions(options: WalkForwardOptions): ResolvedOptions {
  const o = {
    horizon: options.horizon ?? 30,
    refitEvery: options.refitEvery ?? 90,
    minTraining: options.minTraining ?? 730,
    rise: options.rise ?? 0.5,
    eventHorizon: options.eventHorizon ?? 7,
    rounds: options.rounds ?? 100,
  };
  for (const [k, v] of Object.entries(o))
    if (!(v > 0) || !Number.isFinite(v))
      throw new InvalidInputError(k, v, "must be a positive finite number");
  return o;
}

/** RiskMetrics EWMA variance (annualized) of each day from day 31, NaN before. */
export function ewmaVariances(s: DailySeries): Float64Array {
  const n = s.bars.length;
  const ewma = new Float64Array(n).fill(Number.NaN);
  let e = trailingVariance(s, 30, 30) / DAYS_PER_YEAR;
  for (let t = 31; t < n; t++) {
    e = EWMA_LAMBDA * e + (1 - EWMA_LAMBDA) * (s.returns[t] ?? 0) ** 2;
    ewma[t] = e * DAYS_PER_YEAR;
  }
  return ewma;
}

/** The time-series fits of one refit (data up to T) and their filters up to `end`. */
export interface SegmentFilters {
  readonly garch: GarchFit;
  readonly gjr: GarchFit;
  readonly hmmFit: HmmHighVolFit;
  readonly garchNext: Float64Array;
  readonly gjrNext: Float64Array;
  readonly hmm: Float64Array;
}

export function segmentFilters(s: DailySeries, T: number, end: number): SegmentFilters {
  const trainReturns = Array.from(s.returns.subarray(1, T + 1));
  const garch = fitGarch(trainReturns, { model: "garch" });
  const gjr = fitGarch(trainReturns, { model: "gjr" });
  return refilter(s, { garch, gjr, hmmFit: fitHighVolHmm(s, T) }, end);
}

/** The filters of fixed fits run up to `end` (each day's value uses data up to that day only). */
export function refilter(
  s: DailySeries,
  fits: Pick<SegmentFilters, "garch" | "gjr" | "hmmFit">,
  end: number,
): SegmentFilters {
  return {
    ...fits,
    garchNext: garchNextVariances(s, fits.garch, end),
    gjrNext: garchNextVariances(s, fits.gjr, end),
    hmm: hmmHighVol(s, end, fits.hmmFit),
  };
}

export function dayFeatures(s: DailySeries, t: number, f: SegmentFilters, horizon: number): number[] {
  return featureRow(s, t, {
    garchVol30: Math.sqrt(garchMeanVariance(f.garch, f.garchNext[t] ?? Number.NaN, horizon)),
    hmmHighVolProbability: f.hmm[t] ?? Number.NaN,
  });
}

export interface TrainingSets {
  readonly harX: number[][];
  readonly harY: number[];
  readonly gbX: number[][];
  readonly gbY: number[];
  readonly evX: number[][];
  readonly evY: number[];
}

/** Training rows of a refit at T: only rows whose targets are known by T. */
export function trainingSets(
  s: DailySeries,
  rows: readonly number[][],
  T: number,
  o: ResolvedOptions,
): TrainingSets {
  const sets: TrainingSets = { harX: [], harY: [], gbX: [], gbY: [], evX: [], evY: [] };
  const eventOptions = { rise: o.rise, horizon: o.eventHorizon, window: o.horizon };
  for (let t = FEATURE_WARMUP; t + o.eventHorizon <= T; t++) {
    const row = rows[t] ?? [];
    const event = spikeEvent(s, t, eventOptions);
    if (Number.isFinite(event)) {
      sets.evX.push(row);
      sets.evY.push(event);
    }
    if (t + o.horizon > T) continue;
    const future = futureVariance(s, t, o.horizon);
    const now = trailingVariance(s, t, o.horizon);
    sets.harX.push(harRow(s, t));
    sets.harY.push(future);
    if (future > 0 && now > 0) {
      sets.gbX.push(row);
      sets.gbY.push(Math.log(future / now));
    }
  }
  return sets;
}

/** The cross-sectional models of one refit. */
export interface SegmentModels {
  readonly har: number[];
  readonly harFloor: number;
  readonly varModel: GbdtModel;
  readonly residualVariance: number;
  readonly eventModel: GbdtModel;
  readonly baseRate: number;
}

export function fitSegmentModels(sets: TrainingSets, rounds: number): SegmentModels {
  const varModel = trainGbdt(sets.gbX, sets.gbY, { loss: "squared", rounds, seed: 1 });
  return {
    har: leastSquares(sets.harX, sets.harY),
    harFloor: Math.min(...sets.harY.filter((v) => v > 0)),
    varModel,
    residualVariance: logResidualVariance(varModel, sets.gbX, sets.gbY),
    eventModel: trainGbdt(sets.evX, sets.evY, { loss: "logistic", rounds, seed: 2 }),
    baseRate: sets.evY.length > 0 ? mean(sets.evY) : 0,
  };
}

export interface DayContext {
  readonly s: DailySeries;
  readonly o: ResolvedOptions;
  readonly ewma: Float64Array;
  readonly filters: SegmentFilters;
  readonly models: SegmentModels;
}

export function forecastDay(c: DayContext, t: number, row: readonly number[]): ForecastDay {
  const { s, o, filters: f, models: m } = c;
  const now = trailingVariance(s, t, o.horizon);
  const implied = s.extras[t]?.impliedVol ?? Number.NaN;
  const harValue = harRow(s, t).reduce((a, x, j) => a + x * (m.har[j] ?? 0), 0);
  return {
    index: t,
    variance: {
      naive: now,
      ewma: c.ewma[t] ?? Number.NaN,
      implied: implied > 0 ? implied * implied : Number.NaN,
      har: Math.max(harValue, m.harFloor),
      garch: garchMeanVariance(f.garch, f.garchNext[t] ?? Number.NaN, o.horizon),
      gjr: garchMeanVariance(f.gjr, f.gjrNext[t] ?? Number.NaN, o.horizon),
      gbdt: now * Math.exp(gbdtRaw(m.varModel, row) + 0.5 * m.residualVariance),
    },
    event: {
      climatology: m.baseRate,
      hmm: f.hmm[t] ?? Number.NaN,
      gbdt: gbdtPredict(m.eventModel, row),
    },
    realizedVariance: futureVariance(s, t, o.horizon),
    eventOutcome: spikeEvent(s, t, { rise: o.rise, horizon: o.eventHorizon, window: o.horizon }),
  };
}

function logResidualVariance(model: GbdtModel, x: readonly number[][], y: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += ((y[i] as number) - gbdtRaw(model, x[i] as number[])) ** 2;
  return x.length > 1 ? s / (x.length - 1) : 0;
}
