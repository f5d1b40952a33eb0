/**
 * The tick's mode and its report (pure): the mode the tick trades in and why, the time spent
 * in each phase, and the fields of the `tick` log line. The loop (loop.ts) decides and journals;
 * these only describe.
 */
import type { AgentMode, AgentState } from "./agentTypes.js";
import type { HealthReason } from "./health.js";
import type { TickContext } from "./preTrade.js";
import type { UnpricedPosition } from "./valuation.js";

export interface TickModeDecision {
  readonly mode: AgentMode;
  readonly reasons: string[];
  /** Positions the tick's market cannot value (reduce-only while any exists). */
  readonly unpriced: readonly UnpricedPosition[];
}

/**
 * killed (kill switch) > safe (unhealthy feed or no market) > reduce-only (a position the market
 * cannot value) > trading; the reasons name the first cause that applies.
 */
export function tickMode(
  killed: boolean,
  health: { readonly healthy: boolean; readonly reasons: readonly { code: HealthReason; detail: string }[] },
  ctx: TickContext | null,
  noMarket: string | null,
): TickModeDecision {
  const unpriced = ctx?.valuation.report.unpriced ?? [];
  const mode: AgentMode = killed ? "killed" : !ctx ? "safe" : unpriced.length > 0 ? "reduce-only" : "trading";
  const reasons =
    mode === "killed"
      ? ["kill switch engaged"]
      : !health.healthy
        ? health.reasons.map((r) => `${r.code}: ${r.detail}`)
        : noMarket !== null
          ? [`no-market: ${noMarket}`]
          : unpriced.map((u) => `unpriced ${u.instrument} (${u.quantity}): ${u.reason}: ${u.detail}`);
  return { mode, reasons, unpriced };
}

/** The figures a tick decided on (before its orders): delta, vega, and margin/CVaR with analytics. */
export function decidedOnOf(ctx: TickContext | null) {
  return ctx
    ? {
        deltaUnderlyingCoin: ctx.valuation.report.greeks.deltaUnderlyingCoin,
        vegaUsdPerVolPt: ctx.valuation.report.greeks.vegaUsdPerVolPt,
        ...(ctx.view ? { marginUsd: ctx.view.marginUsd, cvarUsd: ctx.view.cvarUsd } : {}),
      }
    : null;
}

/** performance.now() at the tick's phase boundaries: start, ingested, risk, decided, orders, valued. */
export type TickMarks = readonly [number, number, number, number, number, number];

/**
 * Time spent in each phase of the tick, ms; with analytics also the optimizer and the analytics'
 * own phases of this tick (`analyticsMs`, null without analytics).
 */
export function stepTimings(
  marks: TickMarks,
  optimizeMs: number,
  analyticsMs: Record<string, number> | null,
): Record<string, number> {
  const [t0, t1, t2, t3, t4, t5] = marks;
  return {
    ingest: t1 - t0,
    risk: t2 - t1 + (t5 - t4),
    decide: t3 - t2,
    orders: t4 - t3,
    total: t5 - t0,
    ...(analyticsMs
      ? {
          optimize: optimizeMs,
          ...Object.fromEntries(Object.entries(analyticsMs).map(([k, v]) => [`analytics.${k}`, v])),
        }
      : {}),
  };
}

/** The fields of the `tick` log line: the book after the tick, what it decided on, analytics, regime. */
export function tickLogFields(
  state: AgentState,
  t: {
    readonly step: number;
    readonly mode: AgentMode;
    readonly orders: number;
    readonly valued: boolean;
    readonly decidedOn: ReturnType<typeof decidedOnOf>;
    readonly unpriced: readonly UnpricedPosition[];
    readonly analytics: boolean;
    readonly regime: boolean;
  },
): object {
  const g = state.risk?.greeks;
  return {
    step: t.step,
    mode: t.mode,
    orders: t.orders,
    delta: state.delta,
    vega: state.vega,
    ...(g && t.valued
      ? {
          risk: {
            deltaUnderlyingCoin: g.deltaUnderlyingCoin,
            vegaUsdPerVolPt: g.vegaUsdPerVolPt,
            thetaUsdPerDay: g.thetaUsdPerDay,
            equityUsd: state.risk?.equity.equityUsd,
          },
          decidedOn: t.decidedOn,
        }
      : {}),
    ...(t.unpriced.length > 0
      ? { unpriced: t.unpriced.map((u) => ({ instrument: u.instrument, reason: u.reason })) }
      : {}),
    ...(t.analytics ? analyticsLogFields(state) : {}),
    ...(t.regime && state.regime
      ? {
          regime: {
            highVolProbability: state.regime.highVolProbability,
            scale: state.regime.scale,
            vegaTargetPerVolPoint: state.vegaTargetPerVolPoint,
          },
        }
      : {}),
    ms: state.lastStepMs,
  };
}

function analyticsLogFields(state: AgentState): object {
  return {
    marginUsd: state.marginUsd,
    cvarUsd: state.cvarUsd,
    surface: state.surface
      ? {
          rmseVolPts: state.surface.rmseVolPts,
          ageTicks: state.surface.ageTicks,
          refitted: state.surface.refitted,
        }
      : null,
  };
}
