/**
 * Regime scaling for short-vol strategies: the strategy's opening sales are scaled by the regime
 * signal (src/core/regime/tracker.ts) computed from the index prices of the steps seen so far
 * (filtered HMM probability: no look-ahead). Scale 1 in a calm regime, 0 in a stressed one (no new
 * short vol is opened); sizes round down to 0.1-coin lots. Closing, rolling and hedging orders are
 * never scaled: the signal decides how much risk to add, not whether to manage what is held.
 */
import type { RegimeSignalView, RegimeTrackerConfig } from "../regime/tracker.js";
import { RegimeTracker } from "../regime/tracker.js";

/**
 * The shapes this wrapper needs, structurally (strategies.ts imports this module, so it cannot
 * import strategies.ts back): a decision context with the step's index and time, and orders with
 * a tag and signed quantity (hedge orders carry `hedge`).
 */
interface ScalableContext {
  readonly step: { readonly indexPrice: number; readonly time: number };
}
interface ScalableOrder {
  readonly quantity: number;
  readonly tag: string;
}
interface ScalableRule<C extends ScalableContext, O extends ScalableOrder> {
  readonly initial: { readonly coins: number; readonly usd: number };
  decide(ctx: C): readonly O[];
}

export interface RegimeScaledRule<
  C extends ScalableContext = ScalableContext,
  O extends ScalableOrder = ScalableOrder,
> extends ScalableRule<C, O> {
  /** The signal at each decision, in step order (time epoch ms). */
  readonly signals: readonly (RegimeSignalView & { readonly time: number })[];
}

export function withRegimeScaling<C extends ScalableContext, O extends ScalableOrder>(
  rule: ScalableRule<C, O>,
  config: RegimeTrackerConfig,
): RegimeScaledRule<C, O> {
  const tracker = new RegimeTracker(config);
  const signals: (RegimeSignalView & { time: number })[] = [];
  let n = 0;
  return {
    initial: rule.initial,
    signals,
    decide(ctx: C): readonly O[] {
      const step = n++;
      tracker.observe(step, ctx.step.indexPrice, ctx.step.time);
      const view = tracker.view(step);
      signals.push({ ...view, time: ctx.step.time });
      const orders = rule.decide(ctx);
      if (view.scale === 1) return orders;
      const out: O[] = [];
      for (const o of orders) {
        if ("hedge" in o || o.tag !== "open" || o.quantity >= 0) {
          out.push(o);
          continue;
        }
        const q = -Math.floor(-o.quantity * view.scale * 10 + 1e-9) / 10;
        if (q < 0) out.push({ ...o, quantity: q });
      }
      return out;
    },
  };
}
