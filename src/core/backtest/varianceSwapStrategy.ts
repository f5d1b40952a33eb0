/**
 * A variance swap replicated by its option strip, traded in the backtest engine with its fills
 * and costs (Demeterfi, Derman, Kamal & Zou 1999, "More than you ever wanted to know about
 * volatility swaps", eq. (20)-(29)). With r = 0 and a continuous path,
 *
 *   (1/T) int sigma^2 dt = L(S_T) - L(F_0) + (2/T) int (1/F_t - 1/K0) dF_t   (any center K0),
 *   L(S) = (2/T) [(S - K0)/K0 - ln(S/K0)] = (2/T) [int_0^K0 (K - S)+/K^2 dK + int_K0^inf (S - K)+/K^2 dK],
 *
 * so a long variance notional N (USD per unit of decimal variance) is: the static strip, N 2 dK /
 * (T K^2) contracts of each out-of-the-money option (puts below K0 = the listed strike at or below
 * the forward, calls above, half of each at K0; dK the Cboe midpoint widths, volindex
 * stripContributions), held to expiry; plus the dynamic leg, N (2/T) (1/F_t - 1/K0) coins of delta
 * on the hedge instrument (the perpetual, through the engine's hedger and fills). The account is in
 * USD: its coin cash (premiums paid in coin, settlements, hedge variation) is part of the delta
 * the leg is netted against, so the USD equity follows the replication.
 *
 * Each swap runs from a roll step to the step that settles its expiry. Its report
 * (`ReplicatedSwap`) compares the USD equity change with the ideal swap N (RV - K_var): RV is
 * volindex realizedVariance of the index at every step in between (the fixings), K_var the fair
 * strike of the expiry (default: core/volindex replicateExpiry, the DVOL-method strip with the
 * discrete-strike and wing corrections on an svi-af fit of that expiry's quotes). The error splits
 * exactly into three parts (varianceSwapReplication.ts adds the costs):
 *   - costs: spreads, slippage and fees of the swap's option and hedge fills (USD at each trade);
 *   - strikes and wings (static): N K_var - (V_0 - N L(F_0)) + strip payoff(S_T) - N L(S_T): the
 *     strip's price gap to the fair strike at the start (V_0 = the strip at the core's marks,
 *     valuePosition; N L(F_0) ~ N (1/T)(F_0/K0 - 1)^2 is Cboe's K0 term) and its payoff gap to the
 *     log contract at expiry (discrete strikes, truncated wings). Centering the log contract and
 *     the dynamic leg at K0 (not F_0) keeps the strip's own linear part hedged: centered at F_0
 *     the gap would carry (2/T)(1/F_0 - 1/K0) N coins of unhedged delta (up to ~3 coins per
 *     100,000 USD of notional at a 4,000-wide strike grid);
 *   - hedge (the rest): discrete rebalancing and fixings (third-order terms in the returns),
 *     forward vs index basis, funding, jumps.
 * Units: N per decimal variance internally (USD per variance point x 1e4); USD; epoch ms UTC.
 */
import { nearestExpiry } from "../market/byExpiry.js";
import { type CostModel, resolveCostModel } from "../hedge/costs.js";
import { InvalidInputError, requireNonNegative, requirePositive } from "../errors.js";
import type { OptionKind } from "../instruments/types.js";
import { blackGreeks } from "../pricing/black76.js";
import { valuePosition } from "../risk/valuation.js";
import { DAY_MS, timeToExpiry } from "../time.js";
import { DVOL_DEFAULTS, dvolExpiryVariance } from "../volindex/dvol.js";
import { stripContributions, stripQuantities } from "../volindex/modelFreeVariance.js";
import { type IndexFixing, replicateExpiry, replicationSurface } from "../volindex/varianceSwap.js";
import { optionFill } from "./fills.js";
import type { BacktestStep } from "./market.js";
import type {
  OptionOrder,
  StrategyContext,
  StrategyOrder,
  StrategyRule,
  StrategySpec,
  VarianceSwapStrategyParams,
} from "./strategies.js";

export type VarianceSwapSpec = Extract<StrategySpec, { type: "variance-swap" }>;

/** One option of the strip: signed contracts for the swap's notional. */
export interface StripLeg {
  readonly strike: number;
  readonly kind: OptionKind;
  /** Signed contracts (+ long). */
  readonly quantity: number;
}

/** A swap as opened: its strip, strikes and the state at the roll. */
export interface OpenedSwap {
  readonly entryTime: number;
  readonly expiry: number;
  /** Years from the roll to the expiry. */
  readonly timeToExpiry: number;
  /** Forward of the expiry at the roll, USD (F_0). */
  readonly forward: number;
  /**
   * The strip's center K0 (listed strike at or below F_0): the log contract the strip replicates
   * is L(S) = (2/T)[(S - K0)/K0 - ln(S/K0)], and the dynamic leg holds N (2/T)(1/F_t - 1/K0).
   */
  readonly center: number;
  /** Variance notional, USD per unit of decimal variance (signed: + long variance). */
  readonly notional: number;
  readonly legs: readonly StripLeg[];
  /** Fair variance strike K_var, decimal^2/yr, and where it came from. */
  readonly strikeVariance: number;
  readonly strikeSource: "surface" | "strip";
  /** Why the surface strike was not used (fit failed, no DVOL strip), else null. */
  readonly strikeIssue: string | null;
  /**
   * The traded strip at the core's marks: value V_0 USD (signed), and as a variance
   * V_0/N - L(F_0) (the Cboe strip with its (1/T)(F/K0 - 1)^2 term, exact in the log).
   */
  readonly stripValueUsd: number;
  readonly stripVariance: number;
  /** USD equity before the roll's trades (no option held: cash + coins x index). */
  readonly entryEquityUsd: number;
}

/** A swap from its roll to the step that settled its expiry (costs added by the runner). */
export interface ClosedSwap extends OpenedSwap {
  readonly exitTime: number;
  readonly exitEquityUsd: number;
  /** Equity change over the swap, USD (the replicated swap's P&L, after its costs). */
  readonly pnlUsd: number;
  /** Index fixings at every step from the roll to the exit. */
  readonly fixings: readonly IndexFixing[];
  /** Settlement price of the strip (delivery price when the data has it, else the index), USD. */
  readonly settlementPrice: number;
  /** The strip's payoff at settlement, USD, and the log contract's N (L(S_T) - L(F_0)). */
  readonly stripPayoffUsd: number;
  readonly logPayoffUsd: number;
}

/** The strategy: the engine rule plus the swap log it keeps. */
export interface VarianceSwapStrategy {
  readonly rule: StrategyRule;
  /** Swaps settled so far. */
  closed(): readonly ClosedSwap[];
  /** Closes the open swap on the run's last step (which the engine does not pass to the rule). */
  finish(step: BacktestStep, equityUsd: number): void;
}

interface State {
  readonly p: Required<Omit<VarianceSwapStrategyParams, "usd">> & { readonly usd: number };
  readonly costs: CostModel;
  open: (OpenedSwap & { fixings: IndexFixing[] }) | null;
  lastHedge: number;
  readonly closed: ClosedSwap[];
}

/** Validated parameters with their defaults. */
function resolveParams(spec: VarianceSwapSpec): State["p"] {
  const p = spec.params;
  requirePositive("params.usd", p.usd);
  requirePositive("params.tenorDays", p.tenorDays);
  if (!(Number.isFinite(p.varianceNotional) && p.varianceNotional !== 0))
    throw new InvalidInputError(
      "params.varianceNotional",
      p.varianceNotional,
      "must be a finite non-zero number",
    );
  const minDelta = p.minDelta ?? DVOL_DEFAULTS.minDelta;
  if (!(minDelta >= 0 && minDelta < 0.5))
    throw new InvalidInputError("params.minDelta", minDelta, "must be in [0, 0.5)");
  const dynamicLeg = p.dynamicLeg ?? "log-contract";
  if (dynamicLeg !== "log-contract" && dynamicLeg !== "engine")
    throw new InvalidInputError("params.dynamicLeg", dynamicLeg, 'must be "log-contract" or "engine"');
  const policy = spec.hedge?.policy ?? "none";
  if (dynamicLeg === "log-contract" && policy !== "none")
    throw new InvalidInputError("hedge.policy", policy, 'must be "none" with the log-contract dynamic leg');
  const fairStrike = p.fairStrike ?? "surface";
  if (fairStrike !== "surface" && fairStrike !== "strip")
    throw new InvalidInputError("params.fairStrike", fairStrike, 'must be "surface" or "strip"');
  return {
    usd: p.usd,
    tenorDays: p.tenorDays,
    minDays: requirePositive("params.minDays", p.minDays ?? 1),
    varianceNotional: p.varianceNotional,
    dynamicLeg,
    hedgeEveryHours: requireNonNegative("params.hedgeEveryHours", p.hedgeEveryHours ?? 0),
    minDelta,
    fairStrike,
  };
}

/** Listed expiry closest to now + tenorDays among those at least minDays away, or null. */
export function swapExpiry(step: BacktestStep, tenorDays: number, minDays: number): number | null {
  return nearestExpiry(step.expiries(), step.time, step.time + tenorDays * DAY_MS, minDays * DAY_MS);
}

/** |Black forward delta| of an option at vol `vol` (core/pricing black76; the strip's floor, as DVOL's). */
function absForwardDelta(kind: OptionKind, F: number, K: number, T: number, vol: number): number {
  return Math.abs(blackGreeks({ forward: F, strike: K, expiry: T, vol, kind }).delta);
}

/**
 * The replicating strip of `expiry` for a variance notional `notional` (USD per unit of decimal
 * variance, signed): out-of-the-money options with a usable quote and the touch the trade needs
 * (ask to buy, bid to sell), |delta| >= minDelta, weighted N 2 dK/(T K^2) (half put, half call
 * at K0). Also returns the strip's model-free variance at the marks' USD prices. Null when fewer
 * than two strikes qualify or no strike is at or below the forward.
 */
export function replicatingStrip(
  step: BacktestStep,
  expiry: number,
  o: { readonly notional: number; readonly minDelta: number },
): { legs: StripLeg[]; forward: number; center: number; timeToExpiry: number } | null {
  const F = step.forward(expiry);
  const T = timeToExpiry(expiry, step.time);
  const strikes = step.strikes(expiry);
  let k0: number | null = null;
  for (const K of strikes) if (K <= F) k0 = K;
  if (k0 === null || !(T > 0)) return null;
  const buy = o.notional > 0;
  const picks: { strike: number; kind: "put" | "call" | "put-call-average"; mid: number }[] = [];
  for (const K of strikes) {
    const kinds: OptionKind[] = K < k0 ? ["put"] : K > k0 ? ["call"] : ["put", "call"];
    const ok = kinds.every((kind) => {
      const q = step.quote(expiry, K, kind);
      if (!q || (buy ? q.ask : q.bid) === null) return false;
      return K === k0 || absForwardDelta(kind, F, K, T, q.markVol) >= o.minDelta;
    });
    if (ok)
      picks.push({
        strike: K,
        kind: K === k0 ? "put-call-average" : kinds[0] === "put" ? "put" : "call",
        mid: 0,
      });
  }
  if (picks.length < 2) return null;
  const legs: StripLeg[] = stripQuantities(stripContributions(picks), T, o.notional);
  return { legs, forward: F, center: k0, timeToExpiry: T };
}

/** The log contract centered at the strip's K0, per unit of decimal variance notional: (2/T)[(S - K0)/K0 - ln(S/K0)]. */
function logContract(o: { readonly center: number; readonly timeToExpiry: number }, S: number): number {
  const c = o.center;
  return (2 / o.timeToExpiry) * ((S - c) / c - Math.log(S / c));
}

/** Fair variance of `expiry` from the step's chain: surface-corrected DVOL strip, or why not. */
function surfaceStrike(
  step: BacktestStep,
  expiry: number,
): { variance: number; issue: null } | { issue: string } {
  const sm = step.market([expiry]);
  if (!sm) return { issue: "no market at the expiry" };
  const snapshot = sm.input.normalized.snapshot;
  const quotes = snapshot.quotes.filter((q) => q.instrument.expiry === expiry);
  const v = dvolExpiryVariance(quotes);
  if (!v.ok) return { issue: `no DVOL strip: ${v.message}` };
  const { surface, issue } = replicationSurface(
    { ...snapshot, quotes },
    { tenorDays: v.value.timeToExpiry * 365 },
  );
  if (!surface) return { issue: issue ?? "no surface" };
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const q of quotes) {
    first = Math.min(first, q.instrument.strike);
    last = Math.max(last, q.instrument.strike);
  }
  return { variance: replicateExpiry(v.value, surface, { first, last }).fairVariance, issue: null };
}

/** The strip's value at the core's marks, USD (valuePosition on the step's market of the expiry). */
function stripValueUsd(step: BacktestStep, expiry: number, legs: readonly StripLeg[]): number | null {
  const sm = step.market([expiry]);
  if (!sm) return null;
  let v = 0;
  for (const l of legs) {
    const q = step.quote(expiry, l.strike, l.kind);
    if (!q) return null;
    v += valuePosition({ instrument: q.instrument, quantity: l.quantity }, sm.market).valueUsd;
  }
  return v;
}

/** Coin cash the strip's fills will move (fills.ts optionFill with the engine's cost model). */
function predictedCash(
  step: BacktestStep,
  expiry: number,
  legs: readonly StripLeg[],
  costs: CostModel,
): number {
  let cash = 0;
  for (const l of legs) {
    const q = step.quote(expiry, l.strike, l.kind);
    const touch = q ? (l.quantity > 0 ? q.ask : q.bid) : null;
    if (!q || touch === null) continue;
    cash += optionFill({
      costs,
      quantity: l.quantity,
      touch,
      mark: q.mark,
      contractSize: q.instrument.contractSize,
    }).cash;
  }
  return cash;
}

/** Opens a swap at `step` (or null when no expiry or strip qualifies): its record and orders. */
function openSwap(
  s: State,
  ctx: StrategyContext,
  equityUsd: number,
): { orders: OptionOrder[]; cash: number } | null {
  const { step } = ctx;
  const e = swapExpiry(step, s.p.tenorDays, s.p.minDays);
  if (e === null) return null;
  const notional = s.p.varianceNotional * 1e4;
  const strip = replicatingStrip(step, e, { notional, minDelta: s.p.minDelta });
  if (!strip) return null;
  const v0 = stripValueUsd(step, e, strip.legs);
  if (v0 === null) return null;
  const stripVariance = v0 / notional - logContract(strip, strip.forward);
  const fair =
    s.p.fairStrike === "surface" ? surfaceStrike(step, e) : { issue: null, variance: stripVariance };
  const useSurface = "variance" in fair && s.p.fairStrike === "surface";
  s.open = {
    entryTime: step.time,
    expiry: e,
    timeToExpiry: strip.timeToExpiry,
    forward: strip.forward,
    center: strip.center,
    notional,
    legs: strip.legs,
    strikeVariance: "variance" in fair ? fair.variance : stripVariance,
    strikeSource: useSurface ? "surface" : "strip",
    strikeIssue: fair.issue,
    stripValueUsd: v0,
    stripVariance,
    entryEquityUsd: equityUsd,
    fixings: [{ time: step.time, price: step.indexPrice }],
  };
  const orders = strip.legs.map((l) => ({
    expiry: e,
    strike: l.strike,
    kind: l.kind,
    quantity: l.quantity,
    tag: "open",
  }));
  return { orders, cash: predictedCash(step, e, strip.legs, s.costs) };
}

/** Closes the open swap at `step` (its expiry has been settled by the engine before the rule runs). */
function closeSwap(s: State, step: BacktestStep, equityUsd: number): void {
  const o = s.open;
  if (!o) return;
  const fixings = [...o.fixings];
  if ((fixings[fixings.length - 1]?.time ?? Number.NEGATIVE_INFINITY) < step.time)
    fixings.push({ time: step.time, price: step.indexPrice });
  const S = step.deliveryPrice?.(o.expiry) ?? step.indexPrice;
  let stripPayoffUsd = 0;
  for (const l of o.legs)
    stripPayoffUsd += l.quantity * Math.max(l.kind === "call" ? S - l.strike : l.strike - S, 0);
  const logPayoffUsd = o.notional * (logContract(o, S) - logContract(o, o.forward));
  s.closed.push({
    ...o,
    fixings,
    exitTime: step.time,
    exitEquityUsd: equityUsd,
    pnlUsd: equityUsd - o.entryEquityUsd,
    settlementPrice: S,
    stripPayoffUsd,
    logPayoffUsd,
  });
  s.open = null;
}

/** The log contract's dynamic leg: the hedge order bringing coin cash + hedge to N (2/T)(1/F_t - 1/F_0). */
function dynamicLegOrder(s: State, ctx: StrategyContext, cashMove: number, force: boolean): StrategyOrder[] {
  const { step } = ctx;
  // Due at 90% of the interval: daily snapshots taken at varying times of day (real data) still
  // rebalance every day with hedgeEveryHours 24 instead of skipping the early ones.
  if (!force && step.time - s.lastHedge < 0.9 * s.p.hedgeEveryHours * 3_600_000) return [];
  const o = s.open;
  const target = o ? o.notional * (2 / o.timeToExpiry) * (1 / step.forward(o.expiry) - 1 / o.center) : 0;
  const qty = target - (ctx.coins + cashMove + ctx.hedge);
  s.lastHedge = step.time;
  return qty !== 0 ? [{ hedge: true, quantity: qty, tag: "log-contract" }] : [];
}

/** One decision: close a settled swap, roll into the next, run the dynamic leg. */
function decide(s: State, ctx: StrategyContext): StrategyOrder[] {
  const { step } = ctx;
  const equityUsd = ctx.usd + ctx.coins * step.indexPrice;
  let changed = false;
  if (s.open && step.time >= s.open.expiry) {
    closeSwap(s, step, equityUsd);
    changed = true;
  } else s.open?.fixings.push({ time: step.time, price: step.indexPrice });
  const orders: StrategyOrder[] = [];
  let cash = 0;
  if (!s.open && ctx.options.length === 0) {
    const opened = openSwap(s, ctx, equityUsd);
    if (opened) {
      orders.push(...opened.orders);
      cash = opened.cash;
      changed = true;
    }
  }
  if (s.p.dynamicLeg === "log-contract") orders.push(...dynamicLegOrder(s, ctx, cash, changed));
  return orders;
}

/** The variance-swap strategy of `spec` (validates it). */
export function varianceSwapStrategy(spec: VarianceSwapSpec): VarianceSwapStrategy {
  const s: State = {
    p: resolveParams(spec),
    costs: resolveCostModel(spec.costs),
    open: null,
    lastHedge: Number.NEGATIVE_INFINITY,
    closed: [],
  };
  return {
    rule: { initial: { coins: 0, usd: s.p.usd }, decide: (ctx) => decide(s, ctx) },
    closed: () => s.closed,
    finish: (step, equityUsd) => {
      if (s.open && step.time >= s.open.expiry) closeSwap(s, step, equityUsd);
    },
  };
}
