/**
 * Strategies as data (`StrategySpec`, validated at the edge by src/adapters/strategyFile.ts) and
 * their deterministic decision rules. A rule sees only the current step and the book; it returns
 * option orders. Hedging is separate (the spec's `hedge` policy, applied by the engine).
 *
 * Units: option quantities in contracts (an inverse option is 1 coin; fractional allowed);
 * capital in coins (`coins`) or USD (`usd`); deltas are absolute core deltas (Black's forward
 * delta at the market's vol: 0.25 = 25-delta, Deribit's `delta`); tenors days. Hedge orders and the
 * context's `hedge` are coins of delta (the engine converts to contracts of its inverse future).
 */
import { nearestExpiry } from "../market/byExpiry.js";
import {
  checkRegimeTrackerConfig,
  DEFAULT_REGIME_TRACKER,
  type RegimeTrackerConfig,
} from "../regime/tracker.js";
import { withRegimeScaling } from "./regimeScaling.js";
import { InvalidInputError, requirePositive } from "../errors.js";
import type { CostModel } from "../hedge/costs.js";
import type { HedgePolicy } from "../hedge/policies.js";
import type { OptionContract, OptionKind, Position } from "../instruments/types.js";
import type { OptimizeSpecCore } from "../optimize/fromChain.js";
import type { CandidateFilter } from "../optimize/spec.js";
import { positionGreeks } from "../risk/greeks.js";
import type { ScenarioGridOptions } from "../risk/scenario.js";
import type { BacktestStep } from "./market.js";
import { DAY_MS } from "../time.js";

export interface StrategyBase {
  readonly name?: string;
  /** Default { policy: "none" }. */
  readonly hedge?: HedgePolicy;
  readonly costs?: Partial<CostModel>;
  /**
   * Short-vol strategies only (covered-call, cash-secured-put, short-strangle): scale opening
   * sales by the HMM regime signal of the index (src/core/backtest/regimeScaling.ts); fields
   * default to DEFAULT_REGIME_TRACKER (window and refit counted in steps).
   */
  readonly regime?: Partial<RegimeTrackerConfig>;
}

export type StrategySpec =
  | (StrategyBase & {
      readonly type: "covered-call";
      readonly params: { readonly coins: number; readonly targetDelta: number; readonly tenorDays: number };
    })
  | (StrategyBase & {
      readonly type: "cash-secured-put";
      readonly params: { readonly usd: number; readonly targetDelta: number; readonly tenorDays: number };
    })
  | (StrategyBase & {
      readonly type: "short-strangle";
      readonly params: {
        readonly usd: number;
        readonly quantity: number;
        readonly callDelta: number;
        readonly putDelta: number;
        readonly tenorDays: number;
      };
    })
  | (StrategyBase & {
      readonly type: "calendar";
      readonly params: {
        readonly usd: number;
        readonly quantity: number;
        readonly nearDays: number;
        readonly farDays: number;
      };
    })
  | (StrategyBase & {
      readonly type: "tail-hedge";
      readonly params: {
        readonly coins: number;
        /** Puts per coin held. */
        readonly hedgeRatio: number;
        /** Strike / forward, e.g. 0.8. */
        readonly moneyness: number;
        readonly tenorDays: number;
        /** Roll when fewer than this many days are left. */
        readonly rollDays: number;
      };
    })
  | (StrategyBase & {
      readonly type: "optimizer";
      readonly params: OptimizerStrategyParams;
    })
  | (StrategyBase & {
      readonly type: "variance-swap";
      readonly params: VarianceSwapStrategyParams;
    });

export type StrategyType = StrategySpec["type"];

export type Weekday = "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday";

/**
 * When the optimizer strategy rebalances (UTC): `everyDays` - on the first step, then on the
 * first step at least that many days after the previous rebalance; `weekday` - on the first step
 * of each such UTC day at or after `hourUtc` (default 0).
 */
export type RebalanceSchedule =
  | { readonly everyDays: number }
  | { readonly weekday: Weekday; readonly hourUtc?: number };

/**
 * The optimizer's targets, in the shape of the `volfolio optimize` spec file
 * (src/adapters/optimizeSpec.ts) without `surfaceModel` and `frontier`: objective, constraints
 * (delta band in coins, vega band USD/vol pt, CVaR, worst stress, margin and premium budgets USD),
 * costs, lots, the candidate filter (tenor range `minDays`/`maxDays`, |delta| window, size caps),
 * the scenario grid and the stress library switch.
 */
export interface BacktestOptimizeSpec extends OptimizeSpecCore {
  /** Must equal the market's underlying (default: not checked). */
  readonly underlying?: string;
  readonly candidates?: CandidateFilter;
  readonly scenarios?: ScenarioGridOptions;
  /** Include the stress library as stress scenarios (default true). */
  readonly stress?: boolean;
}

export interface OptimizerStrategyParams {
  /** Starting cash, USD. */
  readonly usd: number;
  readonly rebalance: RebalanceSchedule;
  readonly optimize: BacktestOptimizeSpec;
  /**
   * Let the optimizer trade the hedge instrument (delta one per coin) together with the options,
   * so the delta band is met by the cheapest mix (default true). False: options only.
   */
  readonly hedgeInOptimizer?: boolean;
  /** Largest hedge trade per rebalance, coins (default 1e6). */
  readonly maxHedgeCoins?: number;
}

/**
 * A variance swap replicated by its option strip (varianceSwapStrategy.ts, DDKZ 1999): at each
 * roll it buys (sells, for a short) the out-of-the-money strip of the listed expiry closest to
 * `tenorDays` with the log-contract weights 2 dK / (T K^2) per unit of variance notional, and
 * runs the dynamic leg (the log contract's delta) on the hedge instrument.
 */
export interface VarianceSwapStrategyParams {
  /** Starting cash, USD. */
  readonly usd: number;
  /** Target tenor, days: each swap runs to the listed expiry closest to it (at least `minDays` away). */
  readonly tenorDays: number;
  /** Nearest expiry allowed, days (default 1). */
  readonly minDays?: number;
  /**
   * Variance notional, USD per variance point (vol points squared): the swap pays
   * N (RV_pts^2 - K_pts^2); vega notional = 2 K_pts N. Positive: long variance (buys the strip).
   */
  readonly varianceNotional: number;
  /**
   * The dynamic leg: "log-contract" (default): the rule holds N (2/T) (1/F_t - 1/F_0) coins of the
   * hedge instrument net of the account's coin cash (DDKZ eq. (20)), rebalanced every
   * `hedgeEveryHours`; "engine": no hedge orders, the spec's hedge policy hedges the book's delta.
   */
  readonly dynamicLeg?: "log-contract" | "engine";
  /** Log-contract leg: hours between rebalances, due at 90% of it (default 0: every step). */
  readonly hedgeEveryHours?: number;
  /** Strip floor: options with |forward delta| below this are left out (default DVOL_DEFAULTS.minDelta, the index's own floor). */
  readonly minDelta?: number;
  /**
   * Fair strike of each swap: "surface" (default): the expiry's DVOL strip with the discrete-strike
   * and wing corrections of core/volindex replicateExpiry; "strip": the traded strip at the marks.
   */
  readonly fairStrike?: "surface" | "strip";
}

/** An option position as the book shows it. */
export interface BookOption {
  readonly expiry: number;
  readonly strike: number;
  readonly kind: OptionKind;
  /** Signed contracts (+ long). */
  readonly quantity: number;
  /** The chain's instrument (set by the engine). */
  readonly instrument?: OptionContract;
}

/** An option order: buy (+) or sell (-) `quantity` contracts of the step's quoted instrument. */
export interface OptionOrder {
  readonly expiry: number;
  readonly strike: number;
  readonly kind: OptionKind;
  readonly quantity: number;
  /** Why the strategy traded ("open", "roll", "close"). */
  readonly tag: string;
}

/** A trade of the hedge instrument (the perpetual, or the spec's dated future): signed coins of delta. */
export interface HedgeOrder {
  readonly hedge: true;
  readonly quantity: number;
  readonly tag: string;
}

export type StrategyOrder = OptionOrder | HedgeOrder;

export function isHedgeOrder(o: StrategyOrder): o is HedgeOrder {
  return "hedge" in o && o.hedge === true;
}

/** What a rule sees: the present step and its own book (never another instant). */
export interface StrategyContext {
  readonly step: BacktestStep;
  readonly options: readonly BookOption[];
  /** Cash in the coin (premiums, settlements, hedge PnL and costs all land here). */
  readonly coins: number;
  /** Cash in USD. */
  readonly usd: number;
  /** Hedge position as coins of delta (notional / mark; perpetual or dated future). */
  readonly hedge: number;
  /** Expiry of the dated future holding `hedge` (epoch ms UTC); null/absent: perpetual or flat. */
  readonly hedgeExpiry?: number | null;
  /** The hedge as a core Position (inverse future, entry = its mark), null when flat. */
  readonly hedgePosition?: Position | null;
}

export interface StrategyRule {
  /** Starting balances. */
  readonly initial: { readonly coins: number; readonly usd: number };
  decide(ctx: StrategyContext): readonly StrategyOrder[];
}

/** Listed expiry closest to now + tenorDays (at least one hour away), or null. */
export function pickExpiry(step: BacktestStep, tenorDays: number): number | null {
  return nearestExpiry(step.expiries(), step.time, step.time + tenorDays * DAY_MS, 3_600_000);
}

/**
 * Listed strike whose |delta| is closest to `absDelta`, or null. The delta is the core's
 * (risk/greeks.ts positionGreeks on the step's market, one contract): for an inverse option
 * deltaUnderlyingCoin = Black's forward delta at the market's vol, Deribit's `delta` column.
 */
export function pickStrikeByDelta(
  step: BacktestStep,
  expiry: number,
  kind: OptionKind,
  absDelta: number,
): number | null {
  const m = step.market([expiry]);
  if (!m) return null;
  let best: number | null = null;
  let bestErr = Number.POSITIVE_INFINITY;
  for (const k of step.strikes(expiry)) {
    const q = step.quote(expiry, k, kind);
    if (!q) continue;
    const g = positionGreeks({ instrument: q.instrument, quantity: 1 }, m.market);
    const d = Math.abs(g.deltaUnderlyingCoin / q.instrument.contractSize);
    const err = Math.abs(d - absDelta);
    if (err < bestErr) {
      bestErr = err;
      best = k;
    }
  }
  return best;
}

/** Listed strike closest to `target` USD, or null. */
export function pickStrikeNear(step: BacktestStep, expiry: number, target: number): number | null {
  let best: number | null = null;
  for (const k of step.strikes(expiry))
    if (best === null || Math.abs(k - target) < Math.abs(best - target)) best = k;
  return best;
}

function checkDelta(field: string, d: number): void {
  if (!(d > 0 && d < 1)) throw new InvalidInputError(field, d, "must be in (0, 1)");
}

const REGIME_SCALED_TYPES: readonly StrategyType[] = ["covered-call", "cash-secured-put", "short-strangle"];

/** Builds the decision rule of a strategy spec (validates its parameters), regime-scaled if asked. */
export function strategyRule(spec: StrategySpec): StrategyRule {
  const rule = baseStrategyRule(spec);
  if (spec.regime === undefined) return rule;
  if (!REGIME_SCALED_TYPES.includes(spec.type))
    throw new InvalidInputError(
      "regime",
      spec.type,
      `applies to short-vol strategies only (${REGIME_SCALED_TYPES.join(", ")})`,
    );
  const config = { ...DEFAULT_REGIME_TRACKER, ...spec.regime };
  checkRegimeTrackerConfig(config, "regime.");
  return withRegimeScaling(rule, config);
}

type SpecOf<T extends StrategyType> = Extract<StrategySpec, { type: T }>;

function coveredCallRule(p: SpecOf<"covered-call">["params"]): StrategyRule {
  requirePositive("params.coins", p.coins);
  checkDelta("params.targetDelta", p.targetDelta);
  requirePositive("params.tenorDays", p.tenorDays);
  return {
    initial: { coins: p.coins, usd: 0 },
    decide: ({ step, options }) => {
      if (options.length > 0) return [];
      const e = pickExpiry(step, p.tenorDays);
      const k = e === null ? null : pickStrikeByDelta(step, e, "call", p.targetDelta);
      if (e === null || k === null) return [];
      return [{ expiry: e, strike: k, kind: "call", quantity: -p.coins, tag: "open" }];
    },
  };
}

function cashSecuredPutRule(p: SpecOf<"cash-secured-put">["params"]): StrategyRule {
  requirePositive("params.usd", p.usd);
  checkDelta("params.targetDelta", p.targetDelta);
  requirePositive("params.tenorDays", p.tenorDays);
  return {
    initial: { coins: 0, usd: p.usd },
    decide: ({ step, options, usd }) => {
      if (options.length > 0) return [];
      const e = pickExpiry(step, p.tenorDays);
      const k = e === null ? null : pickStrikeByDelta(step, e, "put", p.targetDelta);
      if (e === null || k === null) return [];
      // Secured: notional strike x quantity <= cash, in lots of 0.1 coin.
      const qty = Math.floor((usd / k) * 10) / 10;
      return qty > 0 ? [{ expiry: e, strike: k, kind: "put", quantity: -qty, tag: "open" }] : [];
    },
  };
}

function shortStrangleRule(p: SpecOf<"short-strangle">["params"]): StrategyRule {
  requirePositive("params.usd", p.usd);
  requirePositive("params.quantity", p.quantity);
  checkDelta("params.callDelta", p.callDelta);
  checkDelta("params.putDelta", p.putDelta);
  requirePositive("params.tenorDays", p.tenorDays);
  return {
    initial: { coins: 0, usd: p.usd },
    decide: ({ step, options }) => {
      if (options.length > 0) return [];
      const e = pickExpiry(step, p.tenorDays);
      if (e === null) return [];
      const kc = pickStrikeByDelta(step, e, "call", p.callDelta);
      const kp = pickStrikeByDelta(step, e, "put", p.putDelta);
      if (kc === null || kp === null) return [];
      return [
        { expiry: e, strike: kc, kind: "call", quantity: -p.quantity, tag: "open" },
        { expiry: e, strike: kp, kind: "put", quantity: -p.quantity, tag: "open" },
      ];
    },
  };
}

function calendarRule(p: SpecOf<"calendar">["params"]): StrategyRule {
  requirePositive("params.usd", p.usd);
  requirePositive("params.quantity", p.quantity);
  requirePositive("params.nearDays", p.nearDays);
  if (!(p.farDays > p.nearDays))
    throw new InvalidInputError("params.farDays", p.farDays, "must be > nearDays");
  return {
    initial: { coins: 0, usd: p.usd },
    decide: ({ step, options }) => {
      const shorts = options.filter((o) => o.quantity < 0);
      if (shorts.length > 0) return [];
      // Near leg gone: close what is left, open a new pair at the near forward.
      const orders: OptionOrder[] = options.map((o) => ({ ...o, quantity: -o.quantity, tag: "close" }));
      const en = pickExpiry(step, p.nearDays);
      const ef = pickExpiry(step, p.farDays);
      if (en === null || ef === null || ef <= en) return orders;
      const k = pickStrikeNear(step, en, step.forward(en));
      if (k === null || !step.quote(ef, k, "call")) return orders;
      orders.push({ expiry: en, strike: k, kind: "call", quantity: -p.quantity, tag: "open" });
      orders.push({ expiry: ef, strike: k, kind: "call", quantity: p.quantity, tag: "open" });
      return orders;
    },
  };
}

function tailHedgeRule(p: SpecOf<"tail-hedge">["params"]): StrategyRule {
  requirePositive("params.coins", p.coins);
  requirePositive("params.hedgeRatio", p.hedgeRatio);
  requirePositive("params.moneyness", p.moneyness);
  requirePositive("params.tenorDays", p.tenorDays);
  if (!(p.rollDays >= 0 && p.rollDays < p.tenorDays))
    throw new InvalidInputError("params.rollDays", p.rollDays, "must be in [0, tenorDays)");
  return {
    initial: { coins: p.coins, usd: 0 },
    decide: ({ step, options }) => {
      const live = options.filter((o) => o.expiry - step.time > p.rollDays * DAY_MS);
      if (live.length > 0) return [];
      const orders: OptionOrder[] = options.map((o) => ({ ...o, quantity: -o.quantity, tag: "roll" }));
      const e = pickExpiry(step, p.tenorDays);
      const k = e === null ? null : pickStrikeNear(step, e, p.moneyness * step.forward(e));
      if (e === null || k === null) return orders;
      orders.push({ expiry: e, strike: k, kind: "put", quantity: p.coins * p.hedgeRatio, tag: "open" });
      return orders;
    },
  };
}

/** The decision rule of a spec without its regime scaling (validates its parameters). */
export function baseStrategyRule(spec: StrategySpec): StrategyRule {
  switch (spec.type) {
    case "covered-call":
      return coveredCallRule(spec.params);
    case "cash-secured-put":
      return cashSecuredPutRule(spec.params);
    case "short-strangle":
      return shortStrangleRule(spec.params);
    case "calendar":
      return calendarRule(spec.params);
    case "tail-hedge":
      return tailHedgeRule(spec.params);
    case "optimizer":
      throw new InvalidInputError(
        "type",
        spec.type,
        "solves LPs: build it with optimizerStrategyRule(spec, solver) or pass runBacktest an lpSolver",
      );
    case "variance-swap":
      throw new InvalidInputError(
        "type",
        spec.type,
        "keeps a swap log: build it with varianceSwapStrategy(spec) (varianceSwapStrategy.ts) or run runBacktest",
      );
    default:
      throw new InvalidInputError("type", (spec as { type: unknown }).type, "is not a known strategy type");
  }
}
