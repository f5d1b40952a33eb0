/**
 * The agent's regime signal (config schema): the core RegimeTracker (src/core/regime/tracker.ts)
 * fed with the index price of every healthy tick; its scale multiplies a short-vol vega target.
 * Only short-vol targets (vega target < 0) are scaled: a long-vol book is the hedge, not the risk.
 * The index price of every healthy tick is journaled (step-done `index`), so a restarted agent
 * rebuilds the same history and takes the same decisions as an uninterrupted one.
 */
import { regimeTrackerSchema } from "../adapters/regimeConfig.js";
import {
  DEFAULT_REGIME_TRACKER,
  RegimeTracker,
  type RegimeSignalView,
  type RegimeTrackerConfig,
} from "../core/regime/tracker.js";

/** The agent config's `regime` block, defaults filled in. */
export const agentRegimeSchema = regimeTrackerSchema.transform(
  (r): RegimeTrackerConfig => ({ ...DEFAULT_REGIME_TRACKER, ...r }),
);

export type AgentRegimeConfig = RegimeTrackerConfig;
export type RegimeView = RegimeSignalView;
export { RegimeTracker as AgentRegime };

/** The vega target after the regime scale: only a short-vol target is scaled. */
export function regimeScaledVegaTarget(targetPerVolPoint: number, scale: number): number {
  // (+ 0 turns a -0 into 0 when the scale is 0.)
  return targetPerVolPoint < 0 ? targetPerVolPoint * scale + 0 : targetPerVolPoint;
}
