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
 *   "stress"?: true, "surfaceModel"?: "svi" | "ssvi" | "essvi",
 *   "frontier"?: { "points": 8 }
 * }
 */
import { readInputText } from "./inputFile.js";
import { z } from "zod";
import type { CandidateFilter, OptimizeConstraints, OptimizeProblem } from "../core/optimize/spec.js";

const num = z.number().finite();
const band = z
  .object({ min: num.optional(), max: num.optional() })
  .strict()
  .refine((b) => b.min === undefined || b.max === undefined || b.min <= b.max, {
    message: "min must be <= max",
  });
const greekBands = z
  .object({ delta: band.optional(), gamma: band.optional(), vega: band.optional(), theta: band.optional() })
  .strict();

export const optimizeSpecSchema = z
  .object({
    underlying: z.string().min(1).default("BTC"),
    objective: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("edge") }).strict(),
      z.object({ kind: z.literal("theta"), costWeight: num.nonnegative().optional() }).strict(),
      z
        .object({
          kind: z.literal("vega-target"),
          targetUsdPerVolPt: num,
          penaltyUsd: num.positive().optional(),
        })
        .strict(),
    ]),
    constraints: z
      .object({
        delta: band.optional(),
        gamma: band.optional(),
        vega: band.optional(),
        theta: band.optional(),
        buckets: z.record(z.string(), greekBands).optional(),
        cvar: z
          .object({ alpha: num.gt(0).lt(1), maxLossUsd: num })
          .strict()
          .optional(),
        worstStress: z.object({ maxLossUsd: num }).strict().optional(),
        marginBudgetUsd: num.nonnegative().optional(),
        premiumBudgetUsd: num.optional(),
      })
      .strict()
      .default({}),
    costs: z
      .object({
        feePerContractUsd: num.nonnegative().optional(),
        slippageSpreadFraction: num.nonnegative().optional(),
      })
      .strict()
      .optional(),
    lots: z.object({ lotSize: num.positive() }).strict().optional(),
    candidates: z
      .object({
        minDays: num.nonnegative().optional(),
        maxDays: num.positive().optional(),
        minAbsDelta: num.min(0).max(1).optional(),
        maxAbsDelta: num.min(0).max(1).optional(),
        maxRelativeSpread: num.positive().optional(),
        minOpenInterest: num.nonnegative().optional(),
        displayedSizeFraction: num.positive().optional(),
        openInterestFraction: num.positive().optional(),
        maxContracts: num.positive().optional(),
      })
      .strict()
      .optional(),
    scenarios: z
      .object({
        spotShifts: z.array(num.gt(-1)).min(1).optional(),
        volShifts: z.array(num).min(1).optional(),
        surfaceDynamics: z.enum(["sticky-strike", "sticky-moneyness"]).optional(),
        timeRollDays: num.nonnegative().optional(),
      })
      .strict()
      .optional(),
    stress: z.boolean().default(true),
    surfaceModel: z.enum(["svi", "ssvi", "essvi"]).default("svi"),
    frontier: z
      .object({ points: z.number().int().min(2).max(50) })
      .strict()
      .optional(),
  })
  .strict();

export type OptimizeSpecFile = z.infer<typeof optimizeSpecSchema>;

/** Parses a spec object; throws one Error listing every problem with its path. */
export function parseOptimizeSpec(doc: unknown): OptimizeSpecFile {
  const r = optimizeSpecSchema.safeParse(doc);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`invalid optimize spec: ${lines.join("; ")}`);
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
      constraints: s.constraints as OptimizeConstraints,
      ...(s.costs ? { costs: s.costs } : {}),
      ...(s.lots ? { lots: s.lots } : {}),
    },
    filter: s.candidates ?? {},
  };
}
