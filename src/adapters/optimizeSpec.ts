/**
 * The optimizer's JSON spec, validated with zod (all problems collected with their paths).
 *
 * {
 *   "underlying": "BTC",
 *   "objective": { "kind": "edge" } | { "kind": "theta", "costWeight"?: 1 }
 *              | { "kind": "vega-target", "targetUsdPerVolPt": 1000, "penaltyUsd"?: 100 },
 *   "constraints": { "delta"?: {"min"?, "max"?} (coin), "gamma"? (USD cash gamma per 1%),
 *     "vega"? (USD per vol pt), "theta"? (USD/day), "buckets"?: { "30-90d": { "vega": {...} } },
 *     "cvar"?: { "alpha": 0.95, "maxLossUsd": 50000 }, "worstStress"?: { "maxLossUsd": 80000 },
 *     "marginBudgetUsd"?, "premiumBudgetUsd"? },
 *   "costs"?: { "feePerContractUsd"?, "slippageSpreadFraction"? },
 *   "lots"?: { "lotSize": 1 }  (whole lots: each instrument in multiples of its minimum trade amount,
 *            BTC options 0.1, ETH options 1, others 1 contract; lotSize for candidates without one),
 *   "candidates"?: { "minDays", "maxDays", "minAbsDelta", "maxAbsDelta", "maxRelativeSpread",
 *     "minOpenInterest", "displayedSizeFraction", "openInterestFraction", "maxContracts" },
 *   "scenarios"?: { "spotShifts"?: [...], "volShifts"?: [...], "surfaceDynamics"?, "timeRollDays"? },
 *   "stress"?: true, "surfaceModel"?: "svi-af" | "svi" | "ssvi" | "essvi" (default svi-af, core/surface DEFAULT_SURFACE_MODEL),
 *   "frontier"?: { "points": 8 }
 * }
 */
import { readInputText } from "./inputFile.js";
import { z } from "zod";
import type {
  Band,
  CandidateFilter,
  OptimizeConstraints,
  OptimizeCosts,
  OptimizeObjective,
  OptimizeProblem,
} from "../core/optimize/spec.js";
import { DEFAULT_SURFACE_MODEL, SURFACE_MODELS } from "../core/surface/calibrate.js";
import { formatZodIssues } from "./zodIssues.js";

const num = z.number().finite();
const band = z
  .object({ min: num.exactOptional(), max: num.exactOptional() })
  .strict()
  .refine((b) => b.min === undefined || b.max === undefined || b.min <= b.max, {
    message: "min must be <= max",
  }) satisfies z.ZodType<Band>;
const greekBands = z
  .object({
    delta: band.exactOptional(),
    gamma: band.exactOptional(),
    vega: band.exactOptional(),
    theta: band.exactOptional(),
  })
  .strict();

/** The objective, parsed straight into core's OptimizeObjective. */
const objectiveSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("edge") }).strict(),
  z.object({ kind: z.literal("theta"), costWeight: num.nonnegative().exactOptional() }).strict(),
  z
    .object({
      kind: z.literal("vega-target"),
      targetUsdPerVolPt: num,
      penaltyUsd: num.positive().exactOptional(),
    })
    .strict(),
]) satisfies z.ZodType<OptimizeObjective>;

/** The constraints, parsed straight into core's OptimizeConstraints. */
const constraintsSchema = z
  .object({
    delta: band.exactOptional(),
    gamma: band.exactOptional(),
    vega: band.exactOptional(),
    theta: band.exactOptional(),
    buckets: z.record(z.string(), greekBands).exactOptional(),
    cvar: z
      .object({ alpha: num.gt(0).lt(1), maxLossUsd: num })
      .strict()
      .exactOptional(),
    worstStress: z.object({ maxLossUsd: num }).strict().exactOptional(),
    marginBudgetUsd: num.nonnegative().exactOptional(),
    premiumBudgetUsd: num.exactOptional(),
  })
  .strict() satisfies z.ZodType<OptimizeConstraints>;

const costsSchema = z
  .object({
    feePerContractUsd: num.nonnegative().exactOptional(),
    slippageSpreadFraction: num.nonnegative().exactOptional(),
  })
  .strict() satisfies z.ZodType<OptimizeCosts>;

/** The candidate filter, parsed straight into core's CandidateFilter. */
const candidateFilterSchema = z
  .object({
    minDays: num.nonnegative().exactOptional(),
    maxDays: num.positive().exactOptional(),
    minAbsDelta: num.min(0).max(1).exactOptional(),
    maxAbsDelta: num.min(0).max(1).exactOptional(),
    maxRelativeSpread: num.positive().exactOptional(),
    minOpenInterest: num.nonnegative().exactOptional(),
    displayedSizeFraction: num.positive().exactOptional(),
    openInterestFraction: num.positive().exactOptional(),
    maxContracts: num.positive().exactOptional(),
  })
  .strict() satisfies z.ZodType<CandidateFilter>;

export const optimizeSpecSchema = z
  .object({
    underlying: z.string().min(1).default("BTC"),
    objective: objectiveSchema,
    constraints: constraintsSchema.default({}),
    costs: costsSchema.exactOptional(),
    lots: z.object({ lotSize: num.positive() }).strict().exactOptional(),
    candidates: candidateFilterSchema.exactOptional(),
    scenarios: z
      .object({
        spotShifts: z.array(num.gt(-1)).min(1).exactOptional(),
        volShifts: z.array(num).min(1).exactOptional(),
        surfaceDynamics: z.enum(["sticky-strike", "sticky-moneyness"]).exactOptional(),
        timeRollDays: num.nonnegative().exactOptional(),
      })
      .strict()
      .exactOptional(),
    stress: z.boolean().default(true),
    surfaceModel: z.enum(SURFACE_MODELS).default(DEFAULT_SURFACE_MODEL),
    frontier: z
      .object({ points: z.number().int().min(2).max(50) })
      .strict()
      .exactOptional(),
  })
  .strict();

export type OptimizeSpecFile = z.infer<typeof optimizeSpecSchema>;

/** Parses a spec object; throws one Error listing every problem with its path. */
export function parseOptimizeSpec(doc: unknown): OptimizeSpecFile {
  const r = optimizeSpecSchema.safeParse(doc);
  if (!r.success) {
    throw new Error(`invalid optimize spec: ${formatZodIssues(r.error)}`);
  }
  return r.data;
}

/** Reads and validates a spec file (JSON). */
export async function loadOptimizeSpecFile(path: string): Promise<OptimizeSpecFile> {
  const text = await readInputText(path, "spec file");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`invalid optimize spec: ${path} is not JSON (${(e as Error).message})`);
  }
  return parseOptimizeSpec(doc);
}

/** The core spec parts (objective, constraints, costs, lots) and the candidate filter. */
export function optimizeSpecParts(s: OptimizeSpecFile): {
  spec: Pick<OptimizeProblem, "objective" | "constraints" | "costs" | "lots">;
  filter: CandidateFilter;
} {
  return {
    spec: {
      objective: s.objective,
      constraints: s.constraints,
      ...(s.costs ? { costs: s.costs } : {}),
      ...(s.lots ? { lots: s.lots } : {}),
    },
    filter: s.candidates ?? {},
  };
}
