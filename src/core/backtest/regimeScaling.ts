/**
 * Regime scaling for short-vol strategies: the strategy's opening sales are scaled by the regime
 * signal (src/core/regime/tracker.ts) computed from the index prices of the steps seen so far
 * (filtered HMM probability: no look-ahead). Scale 1 in a calm regime, 0 in a stressed one (no new
 * short vol is opened); sizes round down to 0.1-coin lots. Closing, rolling and hedging orders are
 * never scaled: the signal decides how much risk to add, not whether to manage what is held.
 * The same wrapper scales by the walk-forward volatility forecast (withForecastScaling).
 */
import type { RegimeSignalView, RegimeTrackerConfig } from "../regime/tracker.js";
import { RegimeTracker } from "../regime/tracker.js";
import { type ForecastSignalView, forecastScaleAt, type ScheduledSignal } from "../regime/forecast/signal.js";

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

export type RegimeScaledRule<
  C extends ScalableContext = ScalableContext,
  O extends ScalableOrder = ScalableOrder,
> = SignalScaledRule<C, O, RegimeSignalView>;

/** A short-vol scale in [0, 1] and why. */
export interface ScaleView {
  readonly scale: number;
  readonly reason: string;
}

/**
 * Opening sales scaled by `scale` (rounded down to 0.1-coin lots; a sale that rounds to 0 is
 * dropped); closing, rolling, buying and hedge orders pass unchanged.
 */
export function scaleOpeningSales<O extends ScalableOrder>(orders: readonly O[], scale: number): O[] {
  if (scale === 1) return [...orders];
  const out: O[] = [];
  for (const o of orders) {
    if ("hedge" in o || o.tag !== "open" || o.quantity >= 0) {
      out.push(o);
      continue;
    }
    const q = -Math.floor(-o.quantity * scale * 10 + 1e-9) / 10;
    if (q < 0) out.push({ ...o, quantity: q });
  }
  return out;
}

export interface SignalScaledRule<
  C extends ScalableContext = ScalableContext,
  O extends ScalableOrder = ScalableOrder,
  V extends ScaleView = ScaleView,
> extends ScalableRule<C, O> {
  /** The signal at each decision, in step order (time epoch ms). */
  readonly signals: readonly (V & { readonly time: number })[];
}

/**
 * A rule whose opening sales are scaled by `signal(step, indexPrice, time)`, called once per
 * decision in step order (the signal may only use what it was given so far: no look-ahead).
 */
export function withScaleSignal<C extends ScalableContext, O extends ScalableOrder, V extends ScaleView>(
  rule: ScalableRule<C, O>,
  signal: (step: number, indexPrice: number, time: number) => V,
): SignalScaledRule<C, O, V> {
  const signals: (V & { time: number })[] = [];
  let n = 0;
  return {
    initial: rule.initial,
    signals,
    decide(ctx: C): readonly O[] {
      const view = signal(n++, ctx.step.indexPrice, ctx.step.time);
      signals.push({ ...view, time: ctx.step.time });
      return scaleOpeningSales(rule.decide(ctx), view.scale);
    },
  };
}

export function withRegimeScaling<C extends ScalableContext, O extends ScalableOrder>(
  rule: ScalableRule<C, O>,
  config: RegimeTrackerConfig,
): RegimeScaledRule<C, O> {
  const tracker = new RegimeTracker(config);
  return withScaleSignal(rule, (step, index, time) => {
    tracker.observe(step, index, time);
    return tracker.view(step);
  });
}

/**
 * A rule scaled by a walk-forward forecast schedule (core/regime/forecast/signal.ts): at each
 * decision the last forecast known at or before the step's time.
 */
export function withForecastScaling<C extends ScalableContext, O extends ScalableOrder>(
  rule: ScalableRule<C, O>,
  schedule: readonly ScheduledSignal[],
): SignalScaledRule<C, O, ForecastSignalView> {
  return withScaleSignal(rule, (_step, _index, time) => forecastScaleAt(schedule, time));
}
