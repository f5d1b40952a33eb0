/**
 * Strategy and sweep files (JSON) validated with zod at the edge; every problem is reported
 * with its path. Shapes mirror `StrategySpec` / `SweepSpec` in src/core/backtest.
 *
 * The `optimizer` strategy's params: {"usd", "rebalance": {"everyDays": 7} | {"weekday": "friday",
 * "hourUtc"?: 8}, "optimize": <the `volfolio optimize` spec without surfaceModel/frontier>,
 * "hedgeInOptimizer"?: true, "maxHedgeCoins"?} (examples/strategies/optimizer.json).
 *
 * Example (examples/strategies/short-strangle-hedged.json):
 *   {"type": "short-strangle", "params": {"usd": 60000, "quantity": 1, "callDelta": 0.2,
 *    "putDelta": 0.2, "tenorDays": 7}, "hedge": {"policy": "delta-band", "band": 0.1},
 *    "costs": {"feeRate": 0.0003, "slippageBps": 5}}
 */
import { readInputText } from "./inputFile.js";
import { z } from "zod";
import type { BacktestOptimizeSpec, StrategySpec } from "../core/backtest/strategies.js";
import type { SweepSpec } from "../core/backtest/sweep.js";
import type { SyntheticMarketConfig } from "../core/backtest/syntheticMarket.js";
import { InvalidInputError } from "../core/errors.js";
import { optimizeSpecSchema } from "./optimizeSpec.js";
import { regimeTrackerSchema } from "./regimeConfig.js";
import { formatZodIssues } from "./zodIssues.js";

const pos = z.number().finite().positive();
const nonNeg = z.number().finite().nonnegative();
const delta = z.number().gt(0).lt(1);

const hedgeBase = {
  instrument: z.enum(["perpetual", "future"]).exactOptional(),
  fundingRatePerYear: z.number().finite().exactOptional(),
  futureTenorDays: pos.exactOptional(),
  rollDays: nonNeg.exactOptional(),
};
export const strategyHedgeSchema = z.discriminatedUnion("policy", [
  z.strictObject({ policy: z.literal("none"), ...hedgeBase }),
  z.strictObject({ policy: z.literal("interval"), intervalHours: pos, ...hedgeBase }),
  z.strictObject({
    policy: z.literal("delta-band"),
    band: nonNeg,
    rehedgeTo: z.enum(["center", "edge"]).exactOptional(),
    ...hedgeBase,
  }),
  z.strictObject({
    policy: z.literal("whalley-wilmott"),
    riskAversion: pos,
    costRate: nonNeg.exactOptional(),
    ...hedgeBase,
  }),
  z.strictObject({
    policy: z.literal("zakamouline"),
    riskAversion: pos,
    costRate: nonNeg.exactOptional(),
    ...hedgeBase,
  }),
]);

export const strategyCostsSchema = z.strictObject({
  feeRate: nonNeg.exactOptional(),
  feeCap: nonNeg.exactOptional(),
  hedgeFeeRate: nonNeg.exactOptional(),
  hedgeHalfSpreadBps: nonNeg.exactOptional(),
  slippageBps: nonNeg.exactOptional(),
  impactBpsPerContract: nonNeg.exactOptional(),
});

/** Rebalance schedule of the optimizer strategy: exactly one of everyDays / weekday. */
const rebalanceSchema = z
  .strictObject({
    everyDays: pos.exactOptional(),
    weekday: z
      .enum(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
      .exactOptional(),
    hourUtc: z.number().int().min(0).max(23).exactOptional(),
  })
  .refine((r) => (r.everyDays === undefined) !== (r.weekday === undefined), {
    message: "give exactly one of everyDays or weekday",
  })
  .refine((r) => r.hourUtc === undefined || r.weekday !== undefined, {
    message: "hourUtc goes with weekday",
    path: ["hourUtc"],
  })
  .transform((r) =>
    r.weekday !== undefined
      ? { weekday: r.weekday, ...(r.hourUtc !== undefined ? { hourUtc: r.hourUtc } : {}) }
      : { everyDays: r.everyDays as number },
  );

/**
 * The optimizer strategy's `params.optimize`: the `volfolio optimize` spec (optimizeSpec.ts, same
 * fields and validation) without `surfaceModel` (the backtest prices on the step's mark vols, see
 * core/backtest/market.ts: the surface through the marks, surface/markSurface.ts) and `frontier`.
 */
const backtestOptimizeSchema = optimizeSpecSchema.omit({
  surfaceModel: true,
  frontier: true,
}) satisfies z.ZodType<BacktestOptimizeSpec>;

const common = {
  name: z.string().min(1).exactOptional(),
  hedge: strategyHedgeSchema.exactOptional(),
  costs: strategyCostsSchema.exactOptional(),
};
/** The short-vol strategies also take `regime` (strict objects reject it elsewhere, naming it). */
const shortVolCommon = { ...common, regime: regimeTrackerSchema.exactOptional() };

/** A strategy file, parsed straight into core's StrategySpec. */
export const strategySpecSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("covered-call"),
    params: z.strictObject({ coins: pos, targetDelta: delta, tenorDays: pos }),
    ...shortVolCommon,
  }),
  z.strictObject({
    type: z.literal("cash-secured-put"),
    params: z.strictObject({ usd: pos, targetDelta: delta, tenorDays: pos }),
    ...shortVolCommon,
  }),
  z.strictObject({
    type: z.literal("short-strangle"),
    params: z.strictObject({ usd: pos, quantity: pos, callDelta: delta, putDelta: delta, tenorDays: pos }),
    ...shortVolCommon,
  }),
  z.strictObject({
    type: z.literal("calendar"),
    params: z
      .strictObject({ usd: pos, quantity: pos, nearDays: pos, farDays: pos })
      .refine((p) => p.farDays > p.nearDays, { message: "farDays must be > nearDays", path: ["farDays"] }),
    ...common,
  }),
  z.strictObject({
    type: z.literal("tail-hedge"),
    params: z
      .strictObject({ coins: pos, hedgeRatio: pos, moneyness: pos, tenorDays: pos, rollDays: nonNeg })
      .refine((p) => p.rollDays < p.tenorDays, {
        message: "rollDays must be < tenorDays",
        path: ["rollDays"],
      }),
    ...common,
  }),
  z.strictObject({
    type: z.literal("optimizer"),
    params: z
      .strictObject({
        usd: pos,
        rebalance: rebalanceSchema,
        optimize: backtestOptimizeSchema,
        hedgeInOptimizer: z.boolean().exactOptional(),
        maxHedgeCoins: pos.exactOptional(),
      })
      .refine(
        (p) =>
          p.optimize.candidates?.minDays === undefined ||
          p.optimize.candidates?.maxDays === undefined ||
          p.optimize.candidates.maxDays > p.optimize.candidates.minDays,
        { message: "maxDays must be > minDays", path: ["optimize", "candidates", "maxDays"] },
      ),
    ...common,
  }),
  z.strictObject({
    type: z.literal("variance-swap"),
    params: z.strictObject({
      usd: pos,
      tenorDays: pos,
      minDays: pos.exactOptional(),
      varianceNotional: z
        .number()
        .finite()
        .refine((x) => x !== 0, { message: "must be non-zero" }),
      dynamicLeg: z.enum(["log-contract", "engine"]).exactOptional(),
      hedgeEveryHours: nonNeg.exactOptional(),
      minDelta: z.number().min(0).lt(0.5).exactOptional(),
      fairStrike: z.enum(["surface", "strip"]).exactOptional(),
    }),
    ...common,
  }),
]) satisfies z.ZodType<StrategySpec>;

const gbm = z.strictObject({ type: z.literal("gbm"), drift: z.number().finite(), vol: nonNeg });
const merton = z.strictObject({
  type: z.literal("merton"),
  drift: z.number().finite(),
  vol: nonNeg,
  jumpIntensity: nonNeg,
  jumpMean: z.number().finite(),
  jumpVol: nonNeg,
});
const hestonFields = {
  drift: z.number().finite(),
  v0: nonNeg,
  kappa: pos,
  theta: nonNeg,
  xi: nonNeg,
  rho: z.number().min(-1).max(1),
  jumpIntensity: nonNeg.exactOptional(),
  jumpMean: z.number().finite().exactOptional(),
  jumpVol: nonNeg.exactOptional(),
  scheme: z.enum(["full-truncation", "qe"]).exactOptional(),
};
export const syntheticMarketSchema = z.strictObject({
  underlying: z.string().min(1).exactOptional(),
  start: z.number().int().exactOptional(),
  steps: z.number().int().positive(),
  stepHours: pos.exactOptional(),
  spot: pos.exactOptional(),
  seed: z.number().int().exactOptional(),
  model: z
    .discriminatedUnion("type", [
      gbm,
      merton,
      z.strictObject({ type: z.literal("heston"), ...hestonFields }),
      z.strictObject({ type: z.literal("bates"), ...hestonFields }),
    ])
    .exactOptional(),
  ivPremium: pos.exactOptional(),
  ivMeanReversion: pos.exactOptional(),
  ivVolOfVol: nonNeg.exactOptional(),
  skew: z.number().finite().exactOptional(),
  curvature: z.number().finite().exactOptional(),
  termSlope: z.number().finite().exactOptional(),
  spreadVol: nonNeg.exactOptional(),
  basisPerYear: z.number().finite().exactOptional(),
  fundingRatePerYear: z.number().finite().exactOptional(),
}) satisfies z.ZodType<Omit<SyntheticMarketConfig, "seed"> & { readonly seed?: number }>;

export const sweepSpecSchema = z.strictObject({
  // Every strategy sweeps; optimizer jobs get the LP solver their thread or process loaded once.
  base: strategySpecSchema,
  grid: z.record(
    z.string().regex(/^[A-Za-z]\w*(\.[A-Za-z]\w*)*$/),
    z.array(z.union([z.number(), z.string(), z.boolean()])).min(1),
  ),
  market: syntheticMarketSchema.omit({ seed: true }),
  seeds: z.array(z.number().int()).min(1),
}) satisfies z.ZodType<SweepSpec>;

/** Validates parsed JSON as a strategy; throws InvalidInputError listing every problem. */
export function parseStrategySpec(data: unknown, source = "strategy"): StrategySpec {
  const r = strategySpecSchema.safeParse(data);
  if (!r.success)
    throw new InvalidInputError(source, "(file)", `is not a valid strategy: ${formatZodIssues(r.error)}`);
  return r.data;
}

/** Validates parsed JSON as a sweep spec (the base strategy with each grid value applied is re-validated by the engine). */
export function parseSweepSpec(data: unknown, source = "sweep"): SweepSpec {
  const r = sweepSpecSchema.safeParse(data);
  if (!r.success)
    throw new InvalidInputError(source, "(file)", `is not a valid sweep: ${formatZodIssues(r.error)}`);
  return r.data;
}

/** Validates a synthetic market config. */
export function parseSyntheticMarket(data: unknown, source = "market"): SyntheticMarketConfig {
  const r = syntheticMarketSchema.safeParse(data);
  if (!r.success || r.data.seed === undefined)
    throw new InvalidInputError(
      source,
      "(file)",
      `is not a valid market: ${r.success ? "seed: required" : formatZodIssues(r.error)}`,
    );
  return { ...r.data, seed: r.data.seed };
}

async function readJson(path: string): Promise<unknown> {
  const text = await readInputText(path, "file");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(path, "(file)", `is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads and validates a strategy file. */
export async function loadStrategyFile(path: string): Promise<StrategySpec> {
  return parseStrategySpec(await readJson(path), path);
}

/** Reads and validates a sweep file. */
export async function loadSweepFile(path: string): Promise<SweepSpec> {
  return parseSweepSpec(await readJson(path), path);
}
