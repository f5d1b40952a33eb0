/**
 * The `optimizer` strategy: the book optimizer (core/optimize, HiGHS) run on a schedule inside a
 * backtest. On each rebalance date it sees only that step and its own book, builds an
 * OptimizeProblem with the same spec as `volfolio optimize` (objective, greek bands, CVaR, stress,
 * margin and premium budgets, candidate filter, scenario grid), solves it and turns the solution
 * into orders. Synchronous: the LP solver is passed in (loaded once at the edge with
 * `loadLpSolver()`, core/optimize/lpSolver.ts); `runBacktest` builds this rule from
 * `BacktestOptions.lpSolver`.
 *
 * Market: the step's core market (market.ts `step.market`: chainMarketInputs with the marks
 * surface + chainRiskMarket, over the candidate window's expiries, the held options' and the
 * hedge's), the one the engine values the book on; its clean quotes are the candidates' quotes.
 *
 * Problem per rebalance (the ideas of src/agent/optimizerRule.ts, on backtest data):
 * - fresh candidates: every quoted option of the step whose expiry is inside the spec's tenor
 *   range (`candidates.minDays`/`maxDays`), filtered by the rest of `candidates` (|delta|,
 *   spread, size caps) in buildOptimizeCandidates (greeks and scenario PnL of the inverse option
 *   by the core: USD = coin value x index);
 * - option prices are the engine's all-in cash per contract (fills.ts optionFill, the function
 *   the engine fills with, in coin): ask + slippage bps + fee to buy, bid - slippage bps - fee to
 *   sell, the fee min(feeRate, feeCap x price) coin, converted to USD at the index; fair value =
 *   the core value (the mark: the marks surface passes through it). A premium budget thus bounds
 *   the all-in cash (fees and slippage included);
 * - held options as "keep" decisions: a held short is a sell-only candidate up to its size at its
 *   all-in buy-back price (keeping earns the closing cost it avoids), not selling it closes it;
 *   a held long likewise (buy-only at its all-in selling price). So greeks, scenario PnL, margin
 *   (the optimizer's linear proxy charges shorts only when kept) and the cost of closing are
 *   exact. Held options without a closing quote stay in the book as fixed;
 * - the hedge instrument (unless `hedgeInOptimizer` is false) is the one the engine will trade
 *   the order on: the inverse perpetual, or with a `future` hedge policy the held dated inverse
 *   future, else the one the engine opens (fills.ts futureHedgeExpiry); candidate per contract
 *   (10 USD for BTC): delta notional / price (risk/greeks.ts), fair value 0 at its mark, each
 *   side costing what the engine's inverseHedgeFill charges for one contract, in USD at the
 *   index; the order goes to the engine as coins of delta (contracts x that delta);
 * - the held hedge (its Position, entry = its mark) and the coin cash (delta one: a linear 1-coin
 *   perpetual in the LP's book, collateral: not margined) stay in the book as fixed. The hedge
 *   candidate's margin is the engine's futures margin on a curve around the held contracts, fine
 *   near them and geometric further out (hedgeMarginCurve). Premiums are paid in coin, so a trade
 *   also moves the coin cash: that delta (the premium-adjusted part of an inverse option's delta)
 *   is not in the LP's figures; the engine's hedge policy sees it after the fills;
 * - the spec's `optimize.costs`, if given, are an extra LP penalty on top (the engine does not
 *   charge them); keep candidates get twice its fee, as the closing trade avoided pays it too.
 * The log's `costUsd` is the LP's cost of its trades at these prices against the marks; the
 * engine charges the same (spread + slippage + fees of the "optimize" fills, at the index).
 * Not priced exactly, and why: market impact (`impactBpsPerContract` > 0) makes the slippage
 * grow with the order size, which a linear program cannot charge: it is priced at one contract;
 * a dated future the engine rolls in the same step (after the orders, when it is within
 * `rollDays`) moves the hedge's delta and pays the roll after the LP decided: both belong to the
 * engine's roll, not to this decision.
 * The optimizer's figures before/after are thus of the book with held options counted as kept.
 * Continuous quantities (contracts, fractional like the engine) unless the spec sets `lots`.
 * An infeasible or failed solve trades nothing and is logged with its diagnosis; so does a step
 * with no quoted option in the tenor range and none held (status "no-candidates").
 *
 * Units: USD; delta in coins (dV/dS); vega USD per vol point; theta USD/day (optimize/spec.ts).
 */
import { InvalidInputError, requirePositive } from "../errors.js";
import type { FutureContract, OptionContract, Position } from "../instruments/types.js";
import {
  buildOptimizeBook,
  buildOptimizeCandidates,
  futureMarginAt,
  hedgeCandidate,
  keepDecisionCandidate,
  standardMarginUsd,
} from "../optimize/candidates.js";
import type { LpSolver } from "../optimize/lpSolver.js";
import { type OptimizeResult, optimizePortfolio } from "../optimize/optimize.js";
import type { OptimizeCandidate, OptimizeProblem } from "../optimize/spec.js";
import { instrumentFromName } from "../instruments/names.js";
import { forwardAtExpiry } from "../risk/market.js";
import { type Scenario, scenarioGrid } from "../risk/scenario.js";
import { STRESS_LIBRARY } from "../risk/stressLibrary.js";
import { type CostModel, resolveCostModel } from "../hedge/costs.js";
import type { HedgePolicy } from "../hedge/policies.js";
import { futureName } from "./calendar.js";
import { futureHedgeExpiry, inverseHedgeFill, optionFill } from "./fills.js";
import { type BacktestStep, marketValues, type StepMarket, type StepOptionQuote } from "./market.js";
import type {
  BookOption,
  StrategyRule,
  OptimizerStrategyParams,
  RebalanceSchedule,
  StrategyContext,
  StrategyOrder,
  StrategySpec,
  Weekday,
} from "./strategies.js";
import { DAY_MS } from "../time.js";
const WEEKDAYS: readonly Weekday[] = [
  "sunday",
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
];

/** Validates a schedule; returns a stateful "is this step a rebalance date?" test. */
export function rebalanceDue(s: RebalanceSchedule, field = "params.rebalance"): (time: number) => boolean {
  if ("everyDays" in s) {
    requirePositive(`${field}.everyDays`, s.everyDays);
    let last = Number.NEGATIVE_INFINITY;
    return (time) => {
      // 1 ms tolerance so "every 1 day" on an hourly grid hits the same hour each day.
      if (time - last < s.everyDays * DAY_MS - 1) return false;
      last = time;
      return true;
    };
  }
  const wd = WEEKDAYS.indexOf(s.weekday);
  if (wd < 0)
    throw new InvalidInputError(`${field}.weekday`, s.weekday, `must be one of ${WEEKDAYS.join(", ")}`);
  const hour = s.hourUtc ?? 0;
  if (!(Number.isInteger(hour) && hour >= 0 && hour <= 23))
    throw new InvalidInputError(`${field}.hourUtc`, hour, "must be an integer in [0, 23]");
  let lastDay = Number.NEGATIVE_INFINITY;
  return (time) => {
    const d = new Date(time);
    const day = Math.floor(time / DAY_MS);
    if (d.getUTCDay() !== wd || d.getUTCHours() < hour || day === lastDay) return false;
    lastDay = day;
    return true;
  };
}

/** What one rebalance did: the book's greeks before (as held) and the optimizer's figures after. */
export interface OptimizerRebalanceRecord {
  /** Epoch ms UTC. */
  readonly time: number;
  readonly status: string;
  readonly candidates: number;
  /** Orders sent (options + hedge). */
  readonly orders: number;
  readonly vegaBeforeUsdPerVolPt: number;
  readonly vegaAfterUsdPerVolPt: number;
  readonly deltaBeforeCoin: number;
  readonly deltaAfterCoin: number;
  /** Scenario CVaR at the spec's alpha (NaN without a CVaR constraint), USD. */
  readonly cvarAfterUsd: number;
  /**
   * Standard initial margin after the trades as the LP models it, USD: the engine's margin of the
   * fixed book (coin cash excluded) plus each candidate's margin change (options linear in the
   * short size, the hedge on its curve: on or above the engine's figure, within the curve's bound).
   */
  readonly marginAfterUsd: number;
  readonly objectiveUsd: number;
  /**
   * Trading cost of the rebalance's trades as the LP priced them, USD: per contract the LP's
   * all-in price (fill + fee, see the module comment) against the step's mark, over the fresh
   * trades, the hedge trade and the held options it closes (0 when nothing is traded). The engine
   * charges the same (spread + slippage + fees of the "optimize" fills).
   */
  readonly costUsd: number;
  /** Infeasibility diagnosis or solver status when not optimal. */
  readonly diagnosis: string | null;
}

export interface OptimizerStrategyRule extends StrategyRule {
  /** One record per rebalance, in time order. */
  readonly log: OptimizerRebalanceRecord[];
}

type OptimizerSpec = Extract<StrategySpec, { type: "optimizer" }>;

function checkParams(p: OptimizerStrategyParams): void {
  requirePositive("params.usd", p.usd);
  if (p.maxHedgeCoins !== undefined) requirePositive("params.maxHedgeCoins", p.maxHedgeCoins);
  const f = p.optimize.candidates ?? {};
  if (f.minDays !== undefined && f.maxDays !== undefined && !(f.maxDays > f.minDays))
    throw new InvalidInputError("params.optimize.candidates.maxDays", f.maxDays, "must be > minDays");
}

/** What every rebalance of one strategy shares: its parameters, costs, hedge policy and scenarios. */
interface StrategySetup {
  readonly p: OptimizerStrategyParams;
  readonly o: OptimizerStrategyParams["optimize"];
  readonly filter: NonNullable<OptimizerStrategyParams["optimize"]["candidates"]>;
  readonly costs: CostModel;
  readonly policy: HedgePolicy;
  readonly scenarios: Scenario[];
  readonly stress: Scenario[];
}

function strategySetup(spec: OptimizerSpec): StrategySetup {
  const p = spec.params;
  const o = p.optimize;
  return {
    p,
    o,
    filter: o.candidates ?? {},
    costs: resolveCostModel(spec.costs),
    policy: spec.hedge ?? { policy: "none" },
    scenarios: scenarioGrid(o.scenarios ?? {}),
    stress: o.stress === false ? [] : STRESS_LIBRARY.map((e) => ({ ...e.scenario, name: e.id })),
  };
}

/**
 * Builds the optimizer strategy's rule (validates the parameters): synchronous, solving with
 * `solver` (loaded once at the edge; the backtest driver passes BacktestOptions.lpSolver).
 */
export function optimizerStrategyRule(spec: OptimizerSpec, solver: LpSolver): OptimizerStrategyRule {
  checkParams(spec.params);
  const setup = strategySetup(spec);
  const due = rebalanceDue(spec.params.rebalance);
  const log: OptimizerRebalanceRecord[] = [];
  const decide = (ctx: StrategyContext): StrategyOrder[] =>
    due(ctx.step.time) ? rebalance(setup, solver, ctx, log) : [];
  return { initial: { coins: 0, usd: spec.params.usd }, decide, log };
}

/** One rebalance: the step's problem, solved; the log record; the orders. */
function rebalance(
  setup: StrategySetup,
  solver: LpSolver,
  ctx: StrategyContext,
  log: OptimizerRebalanceRecord[],
): StrategyOrder[] {
  const step = ctx.step;
  const o = setup.o;
  if (o.underlying !== undefined && o.underlying !== step.underlying)
    throw new InvalidInputError("params.optimize.underlying", o.underlying, `must be ${step.underlying}`);
  const problem = stepProblem(setup, step, ctx);
  if (problem === null) {
    // Nothing quoted in the tenor range and nothing held: a market gap, not a spec error.
    log.push(noCandidatesRecord(step.time, ctx.coins + ctx.hedge));
    return [];
  }
  const r = optimizePortfolio(problem.problem, solver);
  if (r.status !== "optimal") {
    log.push(
      rebalanceRecord(step.time, problem, r, {
        orders: 0,
        diagnosis: r.diagnosis?.text ?? `solver: ${r.solverStatus}`,
      }),
    );
    return [];
  }
  const { orders, costUsd } = ordersOf(problem, r);
  log.push(rebalanceRecord(step.time, problem, r, { orders: orders.length, diagnosis: null, costUsd }));
  return orders;
}

function noCandidatesRecord(time: number, deltaCoin: number): OptimizerRebalanceRecord {
  return {
    time,
    status: "no-candidates",
    candidates: 0,
    orders: 0,
    vegaBeforeUsdPerVolPt: 0,
    vegaAfterUsdPerVolPt: 0,
    deltaBeforeCoin: deltaCoin,
    deltaAfterCoin: deltaCoin,
    cvarAfterUsd: Number.NaN,
    marginAfterUsd: 0,
    objectiveUsd: Number.NaN,
    costUsd: 0,
    diagnosis: "no quoted option in the candidate tenor range and no held option",
  };
}

function rebalanceRecord(
  time: number,
  problem: StepProblem,
  r: OptimizeResult,
  x: { orders: number; diagnosis: string | null; costUsd?: number },
): OptimizerRebalanceRecord {
  return {
    time,
    status: r.status,
    candidates: problem.problem.candidates.length,
    orders: x.orders,
    vegaBeforeUsdPerVolPt: problem.before.vegaUsdPerVolPt,
    vegaAfterUsdPerVolPt: r.after.greeks.vegaUsdPerVolPt,
    deltaBeforeCoin: problem.before.deltaCoin,
    deltaAfterCoin: r.after.greeks.deltaCoin,
    cvarAfterUsd: r.after.cvarUsd,
    marginAfterUsd: r.after.marginUsd,
    objectiveUsd: r.objectiveUsd,
    costUsd: x.costUsd ?? 0,
    diagnosis: x.diagnosis,
  };
}

/** Target position per option (kept part of held + net fresh trades), the hedge, and the LP's cost. */
function tradeTargets(problem: StepProblem, r: OptimizeResult) {
  const target = new Map<string, number>();
  for (const [name, h] of problem.held) target.set(name, problem.keepIndex.has(name) ? 0 : h.quantity);
  let hedge = 0;
  // The LP's cost of its trades: each at its candidate's all-in price against the mark.
  let costUsd = 0;
  const kept = new Map<string, number>();
  for (const t of r.trades) {
    const sign = t.side === "buy" ? 1 : -1;
    const c = problem.problem.candidates[t.index];
    const price = t.side === "buy" ? c?.askUsd : c?.bidUsd;
    const mark = problem.marks[t.index];
    const name = problem.names[t.index];
    if (!c || typeof price !== "number" || mark === undefined || name === undefined)
      throw new RangeError(`optimizer trade index ${t.index} has no priced candidate`);
    if (t.index === problem.hedgeIndex) {
      hedge += sign * t.contracts * problem.hedgeCoinsPerContract;
      costUsd += sign * t.contracts * (price - mark);
      continue;
    }
    if (c.name.endsWith(" (held)")) kept.set(name, t.contracts);
    else costUsd += sign * t.contracts * (price - mark);
    target.set(name, (target.get(name) ?? 0) + sign * t.contracts);
  }
  return { target, hedge, costUsd: costUsd + closingCostUsd(problem, kept) };
}

/** Cost of closing the held options not (fully) kept, at their keep candidates' prices, USD. */
function closingCostUsd(problem: StepProblem, kept: ReadonlyMap<string, number>): number {
  let costUsd = 0;
  for (const [name, i] of problem.keepIndex) {
    const c = problem.problem.candidates[i];
    const h = problem.held.get(name)?.quantity ?? 0;
    const closed = Math.abs(h) - (kept.get(name) ?? 0);
    const mark = problem.marks[i] ?? 0;
    if (c && closed > 0)
      costUsd += h < 0 ? closed * ((c.bidUsd ?? 0) - mark) : closed * (mark - (c.askUsd ?? 0));
  }
  return costUsd;
}

/** The engine's orders from an optimal result: per option new - held; the hedge in coins. */
function ordersOf(problem: StepProblem, r: OptimizeResult): { orders: StrategyOrder[]; costUsd: number } {
  const { target, hedge, costUsd } = tradeTargets(problem, r);
  const orders: StrategyOrder[] = [];
  for (const [name, q] of target) {
    const ins = problem.contracts.get(name);
    const d = q - (problem.held.get(name)?.quantity ?? 0);
    if (!ins || Math.abs(d) < 1e-7) continue;
    orders.push({ expiry: ins.expiry, strike: ins.strike, kind: ins.kind, quantity: d, tag: "optimize" });
  }
  if (Math.abs(hedge) >= 1e-7) orders.push({ hedge: true, quantity: hedge, tag: "optimize" });
  return { orders, costUsd };
}

type HeldOption = BookOption & { instrument: OptionContract };

/** The OptimizeProblem of one step and book, with what turns its solution into orders. */
interface StepProblem {
  readonly problem: OptimizeProblem;
  readonly names: string[];
  readonly marks: number[];
  readonly contracts: Map<string, OptionContract>;
  readonly held: Map<string, HeldOption>;
  readonly keepIndex: Map<string, number>;
  readonly hedgeIndex: number;
  readonly hedgeCoinsPerContract: number;
  readonly before: { vegaUsdPerVolPt: number; deltaCoin: number };
}

/** Candidates with their marks (USD per contract) and names, built in order. */
interface CandidateList {
  readonly candidates: OptimizeCandidate[];
  readonly marks: number[];
  readonly names: string[];
}

/** Where the step's decision happens: the candidate window, the held legs and hedge, the market. */
interface StepScope {
  readonly step: BacktestStep;
  readonly window: number[];
  readonly heldList: BookOption[];
  readonly hedgeHeld: Position | null;
  /** Expiry of the future a hedge order trades (null: the perpetual); undefined: no future to trade. */
  readonly tradeExpiry: number | null | undefined;
  readonly sm: StepMarket;
}

/** The candidate window's expiries, the held legs and the step's core market over all of them. */
function stepScope(setup: StrategySetup, step: BacktestStep, ctx: StrategyContext): StepScope | null {
  const t = step.time;
  const { filter } = setup;
  const days = (e: number) => (e - t) / DAY_MS;
  const window = step
    .expiries()
    .filter(
      (e) =>
        e > t &&
        (filter.minDays === undefined || days(e) >= filter.minDays) &&
        (filter.maxDays === undefined || days(e) <= filter.maxDays),
    );
  const heldList = ctx.options.filter((h) => h.expiry > t);
  const hedgeHeld = ctx.hedgePosition ?? null;
  const heldExpiry = hedgeHeld ? hedgeHeld.instrument.expiry : null;
  // The instrument the engine trades a hedge order on: the held future, else the one it opens.
  const useFuture = setup.policy.instrument === "future";
  const future = useFuture ? (heldExpiry ?? futureHedgeExpiry(step, setup.policy)) : null;
  const tradeExpiry = useFuture && future === null ? undefined : future;
  if (window.length === 0 && heldList.length === 0) return null;
  // The step's core market (market.ts) over the candidate window, the held options and hedge.
  const sm = step.market([
    ...window,
    ...heldList.map((h) => h.expiry),
    ...(heldExpiry !== null ? [heldExpiry] : []),
    ...(typeof tradeExpiry === "number" ? [tradeExpiry] : []),
  ]);
  return sm ? { step, window, heldList, hedgeHeld, tradeExpiry, sm } : null;
}

/** Fresh option candidates of the window at the engine's all-in prices. */
function freshCandidates(setup: StrategySetup, scope: StepScope, list: CandidateList) {
  const { step, sm } = scope;
  const snapshot = sm.input.normalized.snapshot;
  const inWindow = new Set(scope.window);
  const quoteOf = (ins: OptionContract) => step.quote(ins.expiry, ins.strike, ins.kind);
  const fresh = buildOptimizeCandidates({
    snapshot: {
      ...snapshot,
      quotes: snapshot.quotes.filter((q) => inWindow.has(q.instrument.expiry) && quoteOf(q.instrument)),
    },
    market: sm.market,
    scenarios: setup.scenarios,
    ...(setup.stress.length > 0 ? { stressScenarios: setup.stress } : {}),
    filter: setup.filter,
  });
  fresh.candidates.forEach((c, i) => {
    const ins = fresh.instruments[i];
    if (!ins) return;
    const q = quoteOf(ins);
    list.candidates.push(engineOptionPrices(c, q, setup.costs, step.indexPrice));
    list.marks.push(markOf(q, ins.name) * step.indexPrice);
    list.names.push(ins.name);
  });
  return new Map(fresh.instruments.map((i) => [i.name, i]));
}

/**
 * Held options as keep decisions (at the engine's all-in closing price; the extra LP fee twice
 * over: the one on this "trade" and the one on the closing trade avoided); held options without
 * a closing quote go to `fixed`.
 */
function keepCandidates(
  setup: StrategySetup,
  scope: StepScope,
  list: CandidateList,
  out: { contracts: Map<string, OptionContract>; fixed: Position[] },
) {
  const { step, sm } = scope;
  const snapshot = sm.input.normalized.snapshot;
  const quoteOf = (ins: OptionContract) => step.quote(ins.expiry, ins.strike, ins.kind);
  const held = new Map<string, HeldOption>();
  for (const h of scope.heldList) {
    const ins = h.instrument ?? step.quote(h.expiry, h.strike, h.kind)?.instrument;
    if (ins) held.set(ins.name, { ...h, instrument: ins });
  }
  const kept = buildOptimizeCandidates({
    snapshot: {
      ...snapshot,
      quotes: snapshot.quotes.filter((q) => held.has(q.instrument.name) && quoteOf(q.instrument)),
    },
    market: sm.market,
    scenarios: setup.scenarios,
    ...(setup.stress.length > 0 ? { stressScenarios: setup.stress } : {}),
  });
  const extraFee = setup.o.costs?.feePerContractUsd ?? 0;
  const keepIndex = new Map<string, number>();
  for (const [name, h] of held) {
    const ins = h.instrument;
    out.contracts.set(name, ins);
    const i = kept.instruments.findIndex((x) => x.name === name);
    const c = i >= 0 ? kept.candidates[i] : undefined;
    const keep = c
      ? keepDecisionCandidate(
          engineOptionPrices(c, quoteOf(ins), setup.costs, step.indexPrice),
          h.quantity,
          2 * extraFee,
        )
      : null;
    const valued = marketValues(sm.market, { instrument: ins, quantity: 1 });
    if (!keep || !valued) {
      if (valued) out.fixed.push({ instrument: ins, quantity: h.quantity });
      continue;
    }
    keepIndex.set(name, list.candidates.length);
    list.names.push(name);
    list.marks.push(markOf(quoteOf(ins), name) * step.indexPrice);
    list.candidates.push(keep);
  }
  return { held, keepIndex };
}

/** The hedge instrument as a candidate (see the module comment), appended to `list`. */
function addHedgeCandidate(setup: StrategySetup, scope: StepScope, list: CandidateList) {
  const { step, sm, tradeExpiry } = scope;
  if (!(setup.p.hedgeInOptimizer ?? true) || tradeExpiry === undefined)
    return { hedgeIndex: -1, hedgeCoinsPerContract: 0 };
  const u = step.underlying;
  const S = step.indexPrice;
  const held = scope.hedgeHeld?.instrument;
  const ins = held && held.type === "future" ? held : hedgeInstrument(u, tradeExpiry);
  const und = sm.market.underlyings[u];
  if (!und) throw new InvalidInputError("step.market.underlyings", u, "has no market for the hedge");
  // The engine's fill of one contract each way (fills.ts inverseHedgeFill), in USD at the index.
  const mark = forwardAtExpiry(und, step.time, ins.expiry);
  const fill = (n: 1 | -1) =>
    inverseHedgeFill({
      costs: setup.costs,
      contracts: n,
      contractSize: ins.contractSize,
      mark,
      quote: ins.expiry === null ? step.perpetual : null,
    });
  const hedgeIndex = list.candidates.length;
  list.names.push(ins.name);
  list.marks.push(0);
  const maxContracts = ((setup.p.maxHedgeCoins ?? 1e6) * mark) / ins.contractSize;
  // The held hedge is in the fixed book (its margin g(H) in book.marginUsd): the candidate's
  // margin must be taken on the NET position, g(H + q) - g(H), or g(H) counts twice and closing
  // the hedge looks like it adds margin (issue 20).
  const heldContracts = held === ins && scope.hedgeHeld ? scope.hedgeHeld.quantity : 0;
  const hc = hedgeCandidate({
    instrument: ins,
    market: sm.market,
    scenarios: setup.scenarios,
    stressScenarios: setup.stress,
    costUsd: -fill(1).cash * S,
    maxContracts,
    ...(heldContracts !== 0 ? { heldContracts } : {}),
  });
  const marginCurve = hedgeMarginCurve(ins, sm.market, heldContracts, maxContracts, mark);
  list.candidates.push({ ...hc, bidUsd: fill(-1).cash * S, marginCurve });
  return { hedgeIndex, hedgeCoinsPerContract: hc.greeks.deltaCoin };
}

/** Breakpoint spacing of the hedge's margin curve within 16 coins of the held position (see hedgeMarginCurve). */
const HEDGE_CURVE_FINE_COINS = 0.5;

/**
 * The hedge's margin curve: the engine's standard margin of held + x contracts (as
 * candidates.ts futureMarginCurve, 0 at a flat position) at x every 0.5 coin within 16 coins,
 * then at 32, 64, 128, ... coins, up to the candidate's full range (maxContracts each way).
 * futureMarginCurve's uniform 32 segments a side over the full range (1e6 coins by default)
 * space its breakpoints 31,250 coins apart, and the chord over a trade of a few coins lay
 * hundreds of thousands of USD above the engine's convex futures margin (a margin budget would
 * bind on a phantom). Here a trade of q coins sits in a segment at most max(0.5, q) coins wide:
 * the chord is above the engine by at most perCoin x width^2 / 4 coins (BTC's 0.005%/BTC: 0.3 USD
 * within 16 coins at 100,000 USD; 1% of the margin of a 16-coin trade, 14% at 512 coins).
 * About 100 segments, against 64 for the uniform curve.
 */
function hedgeMarginCurve(
  ins: FutureContract,
  market: StepMarket["market"],
  heldContracts: number,
  maxContracts: number,
  markUsd: number,
): { contracts: number[]; marginUsd: number[] } {
  const fine = (HEDGE_CURVE_FINE_COINS * markUsd) / ins.contractSize;
  const offsets: number[] = [];
  for (let k = 1; k <= 32; k++) offsets.push(k * fine);
  for (let d = 64 * fine; d < maxContracts; d *= 2) offsets.push(d);
  offsets.push(maxContracts);
  const points = new Set<number>([0, heldContracts]);
  for (const d of offsets) {
    if (d > maxContracts) continue;
    points.add(heldContracts + d);
    points.add(heldContracts - d);
  }
  return futureMarginAt(ins, market, points);
}

/** The OptimizeProblem of one step and book (see the module comment); null without candidates. */
function stepProblem(setup: StrategySetup, step: BacktestStep, ctx: StrategyContext): StepProblem | null {
  const scope = stepScope(setup, step, ctx);
  if (!scope) return null;
  const list: CandidateList = { candidates: [], marks: [], names: [] };
  const contracts = freshCandidates(setup, scope, list);
  const fixed: Position[] = [];
  const { held, keepIndex } = keepCandidates(setup, scope, list, { contracts, fixed });
  // Coin cash: delta one in USD (a linear perpetual of 1 coin at the index has the same USD
  // value change under every spot scenario).
  if (ctx.coins !== 0) fixed.push({ instrument: coinCashInstrument(step.underlying), quantity: ctx.coins });
  // The held hedge, as the engine holds it (inverse future, entered at its mark).
  if (scope.hedgeHeld) fixed.push(scope.hedgeHeld);
  const hedge = addHedgeCandidate(setup, scope, list);
  const stressOpt = setup.stress.length > 0 ? { stressScenarios: setup.stress } : {};
  const built = buildOptimizeBook({
    positions: fixed,
    market: scope.sm.market,
    scenarios: setup.scenarios,
    ...stressOpt,
  });
  // Coin cash is the account's collateral, not a position: no exchange margin on it (the linear
  // stand-in carries only its delta and scenario PnL). Margin of the rest of the fixed book.
  const margined = fixed.filter((p) => p.instrument.name !== coinCashInstrument(step.underlying).name);
  const book = {
    ...built,
    marginUsd: margined.length > 0 ? standardMarginUsd(margined, scope.sm.market) : 0,
  };
  // The book as held (fixed part + every held option kept), for the log.
  const before = { vegaUsdPerVolPt: book.greeks.vegaUsdPerVolPt, deltaCoin: book.greeks.deltaCoin };
  for (const [name, i] of keepIndex) {
    const c = list.candidates[i];
    const h = held.get(name);
    if (!c || !h) continue;
    before.vegaUsdPerVolPt += h.quantity * c.greeks.vegaUsdPerVolPt;
    before.deltaCoin += h.quantity * c.greeks.deltaCoin;
  }
  if (list.candidates.length === 0) return null;
  const o = setup.o;
  const problem: OptimizeProblem = {
    candidates: list.candidates,
    book,
    objective: o.objective,
    constraints: o.constraints,
    ...(o.costs ? { costs: o.costs } : {}),
    ...(o.lots ? { lots: o.lots } : {}),
    scenarioNames: setup.scenarios.map((s) => s.name ?? ""),
    stressNames: setup.stress.map((s) => s.name ?? ""),
  };
  return { problem, names: list.names, marks: list.marks, contracts, held, keepIndex, ...hedge, before };
}

/**
 * The candidate with the engine's all-in prices per contract, in USD at the index (fills.ts
 * optionFill in coin: the touch moved by the slippage bps, plus the capped fee on a buy, minus it
 * on a sell, times the index): what one contract bought / sold costs / earns, as cash.
 */
function engineOptionPrices(
  c: OptimizeCandidate,
  q: StepOptionQuote | null,
  costs: CostModel,
  indexUsd: number,
): OptimizeCandidate {
  const side = (touch: number | null, quantity: 1 | -1): number | null => {
    if (touch === null || !q) return null;
    const f = optionFill({ costs, quantity, touch, mark: q.mark, contractSize: q.instrument.contractSize });
    return -quantity * f.cash * indexUsd;
  };
  return { ...c, askUsd: side(q?.ask ?? null, 1), bidUsd: side(q?.bid ?? null, -1) };
}

function markOf(q: StepOptionQuote | null, name: string): number {
  if (!q) throw new InvalidInputError("step.quote", name, "candidate without a step quote");
  return q.mark;
}

/** The engine's hedge instrument: the inverse perpetual (expiry null) or a dated inverse future. */
function hedgeInstrument(underlying: string, expiry: number | null): FutureContract {
  return instrumentFromName(
    expiry === null ? `${underlying}-PERPETUAL` : futureName(underlying, expiry),
  ) as FutureContract;
}

/** Coin cash in the optimizer's book: a linear 1-coin perpetual (delta one in USD). */
function coinCashInstrument(underlying: string): FutureContract {
  return {
    type: "future",
    name: `${underlying} cash`,
    underlying,
    expiry: null,
    settlement: "linear",
    contractSize: 1,
  };
}
