/**
 * The agent's regime signal (config schema): the core RegimeTracker (src/core/regime/tracker.ts)
 * fed with the index price of every healthy tick; its scale multiplies a short-vol vega target.
 * Only short-vol targets (vega target < 0) are scaled: a long-vol book is the hedge, not the risk.
 * The index price of every healthy tick is journaled (step-done `index`), so a restarted agent
 * rebuilds the same history and takes the same decisions as an uninterrupted one.
 */
import { z } from "zod";
import { DEFAULT_REGIME_TRACKER as D, RegimeTracker, type RegimeSignalView } from "../core/regime/tracker.js";

export const agentRegimeSchema = z
  .object({
    /** HMM states (2: calm/stressed; 3: calm/normal/stressed). */
    states: z.union([z.literal(2), z.literal(3)]).default(D.states),
    /** Returns (ticks) in the fit window. */
    window: z.number().int().min(40).max(100_000).default(D.window),
    /** Fewest returns before the signal acts. */
    minReturns: z.number().int().min(40).default(D.minReturns),
    refitEveryTicks: z.number().int().positive().default(D.refitEveryTicks),
    calmProbability: z.number().min(0).max(1).default(D.calmProbability),
    stressProbability: z.number().min(0).max(1).default(D.stressProbability),
    minVolRatio: z.number().min(1).default(D.minVolRatio),
  })
  .strict()
  .refine((r) => r.calmProbability < r.stressProbability, {
    message: "calmProbability must be below stressProbability",
    path: ["calmProbability"],
  })
  .refine((r) => r.minReturns <= r.window, {
    message: "minReturns must be at most window",
    path: ["minReturns"],
  });

export type AgentRegimeConfig = z.infer<typeof agentRegimeSchema>;
export type RegimeView = RegimeSignalView;
export { RegimeTracker as AgentRegime };

/** The vega target after the regime scale: only a short-vol target is scaled. */
export function regimeScaledVegaTarget(targetPerVolPoint: number, scale: number): number {
  // (+ 0 turns a -0 into 0 when the scale is 0.)
  return targetPerVolPoint < 0 ? targetPerVolPoint * scale + 0 : targetPerVolPoint;
}
