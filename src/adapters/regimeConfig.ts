/**
 * The `regime` block of agent configs and strategy files (zod, at the edge): every field of
 * RegimeTrackerConfig optional (defaults DEFAULT_REGIME_TRACKER), cross-field rules from the
 * core check (calm < stress, minReturns <= window), reported on the offending field.
 */
import { z } from "zod";
import { InvalidInputError } from "../core/errors.js";
import {
  checkRegimeTrackerConfig,
  DEFAULT_REGIME_TRACKER,
  type RegimeTrackerConfig,
} from "../core/regime/tracker.js";

export const regimeTrackerSchema = z
  .strictObject({
    /** HMM states (2: calm/stressed; 3: calm/normal/stressed). */
    states: z.union([z.literal(2), z.literal(3)]).exactOptional(),
    /** Returns (ticks or steps) in the fit window. */
    window: z.number().int().min(40).max(100_000).exactOptional(),
    /** Fewest returns before the signal acts. */
    minReturns: z.number().int().min(40).exactOptional(),
    refitEveryTicks: z.number().int().positive().exactOptional(),
    calmProbability: z.number().min(0).max(1).exactOptional(),
    stressProbability: z.number().min(0).max(1).exactOptional(),
    minVolRatio: z.number().min(1).exactOptional(),
  })
  .superRefine((r, ctx) => {
    try {
      checkRegimeTrackerConfig({ ...DEFAULT_REGIME_TRACKER, ...r });
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      ctx.addIssue({ code: "custom", path: [err.field], message: err.message });
    }
  }) satisfies z.ZodType<Partial<RegimeTrackerConfig>>;
