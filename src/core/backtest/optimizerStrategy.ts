/**
 * The `optimizer` strategy: the book optimizer (core/optimize, HiGHS) run on a schedule inside a
 * backtest. On each rebalance date it sees only that step (via stepSnapshot.ts) and its own book,
 * builds an OptimizeProblem with the same spec as `volfolio optimize` (objective, greek bands,
 * CVaR, stress, margin and premium budgets, candidate filter, scenario grid), solves it and turns
 * the solution into orders. Asynchronous (HiGHS is WASM): run it with `runBacktestAsync`.
 *
 * Problem per rebalance (the ideas of src/agent/optimizerRule.ts, on backtest data):
 * - fresh candidates: every quoted option of the step whose expiry is inside the spec's tenor
 *   range (`candidates.minDays`/`maxDays`), filtered by the rest of `candidates` (|delta|,
 *   spread, size caps) in buildOptimizeCandidates;
 * - held options as "keep" decisions: a held short is a sell-only candidate up to its size at the
 *   closing price (ask + 2 x fee: keeping earns the buy-back cost it avoids, fee included), not
 *   selling it closes it; a held long likewise (buy-only at bid - 2 x fee). So greeks, scenario
 *   PnL, margin (the optimizer's linear proxy charges shorts only when kept) and the cost of
 *   closing are exact. Held options without a closing quote stay in the book as fixed;
 * - the hedge instrument (unless `hedgeInOptimizer` is false): delta one per coin, fair value 0,
 *   cost per coin = index x (hedgeFeeRate + (hedgeHalfSpreadBps + slippageBps) / 1e4), as the
 *   engine charges it; the held hedge and coins stay in the book as fixed. The engine trades the
 *   resulting hedge order on the spec's hedge instrument (perpetual by default);
 * - option costs: the spec's `costs` if given, else a fee per contract of feeRate x index (the
 *   engine's fee before its premium cap; the engine's slippage bps are not in the LP).
 * The optimizer's figures before/after are thus of the book with held options counted as kept.
 * Continuous quantities (coins, fractional like the engine) unless the spec sets `lots`.
 * An infeasible or failed solve trades nothing and is logged with its diagnosis; so does a step
 * with no quoted option in the tenor range and none held (status "no-candidates").
 *
 * Units: USD; delta in coins (dV/dS); vega USD per vol point; theta USD/day (optimize/spec.ts).
 */
import { InvalidInputError, requirePositive } from "../errors.js";
import type { FutureContract, Position } from "../instruments/types.js";
import {
  buildOptimizeBook,
  buildOptimizeCandidates,
  hedgeCandidate,
  keepDecisionCandidate,
} from "../optimize/candidates.js";
import { optimizePortfolio } from "../optimize/optimize.js";
import type { OptimizeCandidate, OptimizeProblem } from "../optimize/spec.js";
import { riskMarketFromSnapshots } from "../risk/market.js";
import { type Scenario, scenarioGrid } from "../risk/scenario.js";
import { STRESS_LIBRARY } from "../risk/stressLibrary.js";
import { resolveCostModel } from "../hedge/costs.js";
import type { BacktestStep } from "./market.js";
import { stepMarketSnapshot, stepOptionContract } from "./stepSnapshot.js";
import type {
  AsyncStrategyRule,
  OptimizerStrategyParams,
  RebalanceSchedule,
  StrategyContext,
  StrategyOrder,
  StrategySpec,
  Weekday,
} from "./strategies.js";

const DAY_MS = 86_400_000;
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
  /** Margin, linear proxy, USD. */
  readonly marginAfterUsd: number;
  readonly objectiveUsd: number;
  /** Infeasibility diagnosis or solver status when not optimal. */
  readonly diagnosis: string | null;
}

export interface OptimizerStrategyRule extends AsyncStrategyRule {
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

/** Builds the optimizer strategy's rule (validates the parameters). */
export function optimizerStrategyRule(spec: OptimizerSpec): OptimizerStrategyRule {
  const p = spec.params;
  checkParams(p);
  const due = rebalanceDue(p.rebalance);
  const costs = resolveCostModel(spec.costs);
  const hedgeRate = costs.hedgeFeeRate + (costs.hedgeHalfSpreadBps + costs.slippageBps) / 1e4;
  const o = p.optimize;
  const filter = o.candidates ?? {};
  const scenarios = scenarioGrid(o.scenarios ?? {});
  const stress: Scenario[] =
    o.stress === false ? [] : STRESS_LIBRARY.map((e) => ({ ...e.scenario, name: e.id }));
  const log: OptimizerRebalanceRecord[] = [];

  const decide = async (ctx: StrategyContext): Promise<StrategyOrder[]> => {
    const step = ctx.step;
    if (!due(step.time)) return [];
    if (o.underlying !== undefined && o.underlying !== step.underlying)
      throw new InvalidInputError("params.optimize.underlying", o.underlying, `must be ${step.underlying}`);
    const problem = buildProblem(step, ctx);
    if (problem === null) {
      // Nothing quoted in the tenor range and nothing held: a market gap, not a spec error.
      log.push({
        time: step.time,
        status: "no-candidates",
        candidates: 0,
        orders: 0,
        vegaBeforeUsdPerVolPt: 0,
        vegaAfterUsdPerVolPt: 0,
        deltaBeforeCoin: ctx.coins + ctx.hedge,
        deltaAfterCoin: ctx.coins + ctx.hedge,
        cvarAfterUsd: Number.NaN,
        marginAfterUsd: 0,
        objectiveUsd: Number.NaN,
        diagnosis: "no quoted option in the candidate tenor range and no held option",
      });
      return [];
    }
    const r = await optimizePortfolio(problem.problem);
    const rec = (status: string, orders: number, diagnosis: string | null, after = r.after) =>
      log.push({
        time: step.time,
        status,
        candidates: problem.problem.candidates.length,
        orders,
        vegaBeforeUsdPerVolPt: problem.before.vegaUsdPerVolPt,
        vegaAfterUsdPerVolPt: after.greeks.vegaUsdPerVolPt,
        deltaBeforeCoin: problem.before.deltaCoin,
        deltaAfterCoin: after.greeks.deltaCoin,
        cvarAfterUsd: after.cvarUsd,
        marginAfterUsd: after.marginUsd,
        objectiveUsd: r.objectiveUsd,
        diagnosis,
      });
    if (r.status !== "optimal") {
      rec(r.status, 0, r.diagnosis?.text ?? `solver: ${r.solverStatus}`);
      return [];
    }
    // New position per option = kept part of a held one + net fresh trades; order = new - held.
    const target = new Map<string, number>();
    for (const [name, h] of problem.held) target.set(name, problem.keepIndex.has(name) ? 0 : h.quantity);
    let hedge = 0;
    for (const t of r.trades) {
      const sign = t.side === "buy" ? 1 : -1;
      if (t.index === problem.hedgeIndex) {
        hedge += sign * t.contracts;
        continue;
      }
      const name = problem.names[t.index] as string;
      target.set(name, (target.get(name) ?? 0) + sign * t.contracts);
    }
    const orders: StrategyOrder[] = [];
    for (const [name, q] of target) {
      const ins = problem.contracts.get(name);
      const d = q - (problem.held.get(name)?.quantity ?? 0);
      if (!ins || Math.abs(d) < 1e-7) continue;
      orders.push({ expiry: ins.expiry, strike: ins.strike, kind: ins.kind, quantity: d, tag: "optimize" });
    }
    if (Math.abs(hedge) >= 1e-7) orders.push({ hedge: true, quantity: hedge, tag: "optimize" });
    rec(r.status, orders.length, null);
    return orders;
  };

  /** The OptimizeProblem of one step and book (see the module comment). */
  const buildProblem = (step: BacktestStep, ctx: StrategyContext) => {
    const t = step.time;
    const u = step.underlying;
    const S = step.indexPrice;
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
    const { snapshot } = stepMarketSnapshot(step, window, heldList);
    if (!snapshot.surface) return null;
    const market = riskMarketFromSnapshots([snapshot]);
    const stressOpt = stress.length > 0 ? { stressScenarios: stress } : {};
    const inWindow = new Set(window);
    const fresh = buildOptimizeCandidates({
      snapshot: { ...snapshot, quotes: snapshot.quotes.filter((q) => inWindow.has(q.instrument.expiry)) },
      market,
      scenarios,
      ...stressOpt,
      filter,
    });
    const held = new Map(heldList.map((h) => [stepOptionContract(u, h.expiry, h.strike, h.kind).name, h]));
    const heldQuotes = snapshot.quotes.filter((q) => held.has(q.instrument.name));
    const kept = buildOptimizeCandidates({
      snapshot: { ...snapshot, quotes: heldQuotes },
      market,
      scenarios,
      ...stressOpt,
    });
    const optionCosts = o.costs ?? { feePerContractUsd: costs.feeRate * S };
    const fee = optionCosts.feePerContractUsd ?? 0;
    const candidates: OptimizeCandidate[] = [...fresh.candidates];
    const names: string[] = fresh.instruments.map((i) => i.name);
    const contracts = new Map(fresh.instruments.map((i) => [i.name, i]));
    const keepIndex = new Set<string>();
    const fixed: Position[] = [];
    for (const [name, h] of held) {
      const ins = stepOptionContract(u, h.expiry, h.strike, h.kind);
      contracts.set(name, ins);
      const i = kept.instruments.findIndex((x) => x.name === name);
      const c = i >= 0 ? kept.candidates[i] : undefined;
      // Closing costs the spread side plus the fee twice over (the fee of the trade avoided).
      const keep = c ? keepDecisionCandidate(c, h.quantity, 2 * fee) : null;
      if (!keep) {
        fixed.push({ instrument: ins, quantity: h.quantity });
        continue;
      }
      keepIndex.add(name);
      names.push(name);
      candidates.push(keep);
    }
    // Coins and the held hedge: delta-one linear positions (a linear perpetual of 1 coin).
    const perp: FutureContract = {
      type: "future",
      name: `${u}-PERPETUAL`,
      underlying: u,
      expiry: null,
      settlement: "linear",
      contractSize: 1,
    };
    if (ctx.coins !== 0) fixed.push({ instrument: perp, quantity: ctx.coins });
    if (ctx.hedge !== 0) fixed.push({ instrument: perp, quantity: ctx.hedge });
    let hedgeIndex = -1;
    if (p.hedgeInOptimizer ?? true) {
      hedgeIndex = candidates.length;
      names.push(perp.name);
      candidates.push(
        hedgeCandidate({
          instrument: perp,
          market,
          scenarios,
          stressScenarios: stress,
          costUsd: S * hedgeRate,
          maxContracts: p.maxHedgeCoins ?? 1e6,
        }),
      );
    }
    const book = buildOptimizeBook({ positions: fixed, market, scenarios, ...stressOpt });
    // The book as held (fixed part + every held option kept), for the log.
    const before = { vegaUsdPerVolPt: book.greeks.vegaUsdPerVolPt, deltaCoin: book.greeks.deltaCoin };
    candidates.forEach((c, i) => {
      const h =
        keepIndex.has(names[i] as string) && c.name.endsWith(" (held)")
          ? held.get(names[i] as string)
          : undefined;
      if (!h) return;
      before.vegaUsdPerVolPt += h.quantity * c.greeks.vegaUsdPerVolPt;
      before.deltaCoin += h.quantity * c.greeks.deltaCoin;
    });
    const problem: OptimizeProblem = {
      candidates,
      book,
      objective: o.objective,
      constraints: o.constraints,
      costs: optionCosts,
      ...(o.lots ? { lots: o.lots } : {}),
      scenarioNames: scenarios.map((s) => s.name ?? ""),
      stressNames: stress.map((s) => s.name ?? ""),
    };
    return { problem, names, contracts, held, keepIndex, hedgeIndex, before };
  };

  return { initial: { coins: 0, usd: p.usd }, decide, log };
}
