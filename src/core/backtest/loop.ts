/**
 * The backtest engine loop: deterministic, event-driven replay of a strategy over a series of market
 * steps (market.ts: real chain snapshots via `backtestStepFromChain`, or the synthetic market's
 * chains), valuing its book through the core (DESIGN.md: one market, one valuation).
 *
 * Accounting choices (Deribit's inverse contracts, as the chains quote them):
 * - Book: real core Positions. Options are the chain's instruments (inverse: premium and
 *   settlement in coin, 1 coin per contract); linear (USDC) options are refused with the reason
 *   "not-inverse" (the daily Deribit history and the synthetic market quote inverse ones only).
 *   The hedge is an inverse future: the perpetual (BTC-PERPETUAL: 10 USD contracts, ETH 1 USD)
 *   or, with `instrument: "future"`, a dated future of a listed expiry (same sizes).
 * - Cash per currency: the coin and USD (the strategy's starting `coins` and `usd`). Every flow
 *   after the start is in coin: option premiums and fees, option settlements, hedge variation,
 *   hedge costs and funding. Balances may go negative (no margin model: collateral is the cash
 *   and coins held; a negative coin balance is coin borrowed against the USD).
 * - Valuation: each step's market is the core's (market.ts: chainMarketInputs on the step's chain
 *   with the marks surface, then chainRiskMarket); option value and greeks are valuePosition /
 *   positionGreeks on it (coin = Black-76 on the expiry forward / F, USD = coin x index). The
 *   hedge future is marked to the core's mark (the perpetual at the index, a dated future at its
 *   expiry's forward) at every step; its PnL m (1/M_prev - 1/M) coin is paid into coin cash
 *   (variation) and the entry reset to the mark, so the position's value is 0 after each step.
 * - Equity: core/risk bookEquity(positions, cash, market): per currency and in USD; equity in
 *   coin = equity USD / index (the whole account in coin, USD cash included at the index).
 * - Fills (fills.ts): options at the ask (buy) / bid (sell) in coin, plus slippage bps, fee in coin
 *   min(feeRate, feeCap x price) per contract; the hedge at the perpetual's quote moved onto the
 *   mark (else mark -/+ hedgeHalfSpreadBps) plus slippage, fee hedgeFeeRate x notional / price
 *   coin. Costs are reported in coin (exact: they are paid in coin) and in USD at the trade's index.
 * - Funding (perpetual only): longs pay rate x (notional / mark) x years coin per step, at the
 *   policy's `fundingRatePerYear`, else the step's.
 * - Hedge decisions: the policy trades the hedge to move the account's USD delta (coins): coin
 *   cash + options' deltaUnderlyingCoin (Black forward delta, Deribit's `delta`) + the hedge's
 *   (notional / mark). A hedge order of x coins is x x mark / contractSize contracts.
 * - Expired legs: at each step, BEFORE anything is valued, every leg whose expiry is at or
 *   before the step (options and a dated hedge future) is settled once by core/risk splitExpired
 *   at the step's delivery price when the data has one (`BacktestStep.deliveryPrice`), else at
 *   the step's index (intrinsic; Deribit uses a 30-minute TWAP before 08:00 UTC: on daily data the
 *   first snapshot after the expiry is used, stated in each settlement's `detail`), paid into
 *   coin cash, and leaves the book: no later valuation, greek or attribution window carries it.
 * - Positions the step's market cannot value (their expiry no longer listed at all) are carried at
 *   their last coin value and counted in `carriedMarks`; a held option the chain does not quote at
 *   that step is valued on the marks surface between its neighbours and counted in `staleMarks`.
 * - What the engine valued is exposed: `onValuation` receives, at each day boundary, the step,
 *   the core RiskMarket, the live positions, cash, bookEquity and portfolioGreeks; the result's
 *   `final` holds the last of them. market.ts backtestStepMarket(chain) builds the same market
 *   from a chain (for cross-path checks against `volfolio risk --chain`).
 *
 * Per step, in order:
 *  1. expired legs settled (above);
 *  2. the hedge marked to the core mark (variation into coin cash); perpetual funding accrued;
 *  3. if the step opens a new UTC day (or is the last step): the day's PnL attribution closed on
 *     the book held at the start of the day (attribution.ts) and the daily equity recorded (after
 *     settlement, before trading); the new day's window opens after step 5, on the book after
 *     this step's trades (on daily data a position opened at the day's step is then in the Greek
 *     terms; the costs of those trades, paid between the daily equity and the window's book, are
 *     in the new day's trading term);
 *  4. the strategy rule (current step + own book only) places option orders, and may trade the
 *     hedge (`HedgeOrder`, e.g. the optimizer strategy); a missing side rejects an order with a
 *     reason;
 *  5. a dated-future hedge about to expire is rolled into the next one; then the hedge policy
 *     trades the hedge on the net delta.
 * No step is read before its turn: the engine consumes an iterator (no look-ahead; a test alters
 * every step after day t and shows that the result up to t is unchanged). It asks the iterator
 * whether a next step exists (to know the last one) but never reads it before its turn. The last
 * step only settles, marks and closes; it does not trade.
 */
import { InvalidInputError } from "../errors.js";
import { resolveCostModel } from "../hedge/costs.js";
import { validateHedgePolicy } from "../hedge/policies.js";
import type { Position } from "../instruments/types.js";
import { mean } from "../math/stats.js";
import { bookEquity } from "../risk/account.js";
import { splitExpired } from "../risk/expiredLegs.js";
import { portfolioGreeks } from "../risk/greeks.js";
import { timeToExpiry } from "../time.js";
import { utcDayStart } from "./calendar.js";
import { DailyAttribution } from "./dailyAttribution.js";
import { Hedger } from "./hedger.js";
import { BacktestLedger } from "./ledger.js";
import type { BacktestStep, StepMarket } from "./market.js";
import { performanceMetrics } from "./metrics.js";
import type { BacktestResult, BookValuation, DailyRecord, StepValuation } from "./results.js";
import {
  isHedgeOrder,
  type StrategyContext,
  type StrategyOrder,
  type StrategyRule,
  type StrategySpec,
} from "./strategies.js";

/** What the loop reads of the backtest options (engine.ts `BacktestOptions` without the rule). */
export interface LoopOptions {
  readonly strategy: StrategySpec;
  /** The market series, consumed one step at a time. */
  readonly steps: Iterable<BacktestStep>;
  /** Keep the trade and settlement logs (default true). */
  readonly recordTrades?: boolean;
  /** Called after each step with its index. */
  readonly onStep?: (index: number) => void;
  /** Called at each day boundary (and the last step) with the book and the market it was valued on. */
  readonly onValuation?: (v: StepValuation) => void;
}

/** One run's state: the ledger (cash, book, records), the hedger, the daily explain, the series. */
interface Run {
  readonly o: LoopOptions;
  readonly initial: StrategyRule["initial"];
  readonly ledger: BacktestLedger;
  readonly hedger: Hedger;
  readonly explain: DailyAttribution;
  readonly daily: DailyRecord[];
  first: BacktestStep | null;
  prev: BacktestStep | null;
  final: BookValuation | null;
  count: number;
  /** Equity (USD) of a day boundary whose window opens after the step's trades. */
  openAt: number | null;
}

/**
 * The engine loop (see the module comment): yields the strategy's decision context on every step
 * but the last and resumes with its orders; returns the result.
 */
export function* backtestLoop(
  o: LoopOptions,
  initial: StrategyRule["initial"],
): Generator<StrategyContext, BacktestResult, readonly StrategyOrder[]> {
  const run = newRun(o, initial);
  const iter = o.steps[Symbol.iterator]();
  let cur = iter.next();
  while (!cur.done) {
    const s = cur.value;
    const next = iter.next();
    const isLast = next.done === true;
    beginStep(run, s);
    if (isLast || isNewDay(run, s)) dayBoundary(run, s, isLast);
    if (!isLast) trade(run, s, yield strategyContext(run, s));
    o.onStep?.(run.count);
    run.count++;
    run.prev = s;
    cur = next;
  }
  return backtestResult(run);
}

function newRun(o: LoopOptions, initial: StrategyRule["initial"]): Run {
  const spec = o.strategy;
  const ledger = new BacktestLedger(resolveCostModel(spec.costs), o.recordTrades ?? true);
  const hedger = new Hedger(validateHedgePolicy(spec.hedge ?? { policy: "none" }), ledger);
  return {
    o,
    initial,
    ledger,
    hedger,
    explain: new DailyAttribution(),
    daily: [],
    first: null,
    prev: null,
    final: null,
    count: 0,
    openAt: null,
  };
}

/** Checks the step's order and underlying, opens the account at the first; steps 1 and 2. */
function beginStep(run: Run, s: BacktestStep): void {
  const prev = run.prev;
  if (prev && !(s.time > prev.time))
    throw new InvalidInputError("steps[].time", s.time, `must increase (previous ${prev.time})`);
  if (!run.first) {
    run.first = s;
    run.ledger.open(s.underlying, run.initial);
  } else if (s.underlying !== run.ledger.coin)
    throw new InvalidInputError("steps[].underlying", s.underlying, `must be ${run.ledger.coin} throughout`);
  // 1. expired legs settled, once, before anything is valued.
  settleExpired(run, s);
  // 2. hedge variation to the core mark, and perpetual funding.
  if (prev) run.hedger.vary(s, prev);
}

/** 1. Settles every leg expired at `s` (options and a dated hedge) once, into cash. */
function settleExpired(run: Run, s: BacktestStep): void {
  const { ledger, hedger, explain } = run;
  const legs: Position[] = [];
  for (const p of ledger.options.values()) if (p.instrument.expiry <= s.time) legs.push(p);
  const h = hedger.position();
  if (h && h.instrument.expiry !== null && h.instrument.expiry <= s.time) legs.push(h);
  if (legs.length === 0) return;
  const split = splitExpired(legs, s.time, {
    indexPrice: (u) => (u === ledger.coin ? s.indexPrice : null),
    deliveryPrice: (_u, e) => s.deliveryPrice?.(e) ?? null,
  });
  for (const x of split.settled) {
    const ins = x.position.instrument;
    ledger.bookSettlement(s, x);
    if (ins.type === "option") explain.legSettled(ins.name, x.value / x.position.quantity, s.indexPrice);
    else {
      explain.hedgeSettled(ins.name, x.settlementPrice);
      hedger.settled();
    }
  }
  if (split.unsettled.length > 0)
    throw new InvalidInputError("steps[].indexPrice", s.indexPrice, split.unsettled[0]?.detail ?? "");
}

function isNewDay(run: Run, s: BacktestStep): boolean {
  return !run.prev || utcDayStart(s.time) !== utcDayStart(run.prev.time);
}

/** 3. Day boundary: close yesterday's window, record the equity, report the valuation. */
function dayBoundary(run: Run, s: BacktestStep, isLast: boolean): void {
  const sm = run.hedger.marketFor(s, run.explain.pendingExpiries(s.time));
  const b = valueBook(run, s, sm);
  const eq = b.equity.equityUsd;
  run.explain.close(s, sm.market, eq, (name) => run.ledger.carriedCoinPerContract(name));
  run.daily.push({ time: s.time, indexPrice: s.indexPrice, equityUsd: eq, equityCoin: eq / s.indexPrice });
  if (run.o.onValuation || isLast) {
    const v: BookValuation = { ...b, greeks: portfolioGreeks(b.positions, sm.market) };
    run.o.onValuation?.({ ...v, step: s, market: sm.market });
    if (isLast) run.final = v;
  }
  if (!isLast) run.openAt = eq;
}

/** Values the book on `sm` (day boundaries): live positions, cash, equity (carried legs at their last coin value). */
function valueBook(run: Run, s: BacktestStep, sm: StepMarket): Omit<BookValuation, "greeks"> {
  const { ledger } = run;
  const { valued, carried } = ledger.valueOptions(s, sm.market);
  const h = run.hedger.position();
  if (h) valued.push(h);
  const cash = ledger.cash;
  const coin = ledger.coin;
  const cashNow = { ...cash };
  const equity = bookEquity(
    valued,
    carried !== 0 ? { ...cash, [coin]: (cash[coin] ?? 0) + carried } : cash,
    sm.market,
  );
  return { time: s.time, positions: valued, cash: cashNow, equity };
}

/** 4. What the strategy sees: the step and its own book. */
function strategyContext(run: Run, s: BacktestStep): StrategyContext {
  const { ledger, hedger } = run;
  return {
    step: s,
    options: ledger.bookOptions(),
    coins: ledger.coins(),
    usd: ledger.cash.USD ?? 0,
    hedge: hedger.coins(),
    hedgeExpiry: hedger.holding?.instrument.expiry ?? null,
    hedgePosition: hedger.position(),
  };
}

/** 4-5. Fills the strategy's orders, rolls and rebalances the hedge, opens the day's window. */
function trade(run: Run, s: BacktestStep, orders: readonly StrategyOrder[]): void {
  const { ledger, hedger } = run;
  for (const ord of orders) {
    if (!isHedgeOrder(ord)) ledger.fillOption(s, ord);
    else if (ord.quantity !== 0 && Math.abs(ord.quantity) >= 1e-9)
      hedger.tradeCoins(s, ord.quantity, ord.tag);
  }
  // 5. hedge.
  hedger.roll(s);
  hedger.rebalance(s);
  // The day's window opens on the book after this step's trades (equity: before them).
  if (run.openAt !== null)
    run.explain.open(s, hedger.marketFor(s).market, run.openAt, {
      coin: ledger.coin,
      cash: ledger.cash,
      options: ledger.options.values(),
      carriedCoinPerContract: (name) => ledger.carriedCoinPerContract(name),
      hedge: hedger.holding,
    });
  run.openAt = null;
}

/** The result: records, counts, costs, turnover and the performance metrics of the daily equity. */
function backtestResult(run: Run): BacktestResult {
  const { first, prev, final, daily, ledger, hedger } = run;
  const last = daily[daily.length - 1];
  if (!first || !prev || !final || !last)
    throw new InvalidInputError("steps", 0, "must contain at least one step");
  const eqUsd = daily.map((d) => d.equityUsd);
  const eqCoin = daily.map((d) => d.equityCoin);
  const span = timeToExpiry(prev.time, first.time);
  const ppy = daily.length > 1 && span > 0 ? (daily.length - 1) / span : 365;
  const avgEq = mean(eqUsd); // daily is non-empty (checked above)
  return {
    strategy: run.o.strategy.name ?? run.o.strategy.type,
    steps: run.count,
    start: first.time,
    end: prev.time,
    daily,
    attribution: run.explain.days,
    trades: ledger.trades,
    tradeCount: ledger.tradeCount,
    rejections: ledger.rejections,
    settlements: ledger.settlements,
    settlementSources: ledger.settlementSources,
    hedgeFills: hedger.fills,
    settled: ledger.settledLog,
    staleMarks: ledger.staleMarks,
    carriedMarks: ledger.carriedMarks,
    costs: ledger.costSummary(),
    turnoverUsd: ledger.turnoverUsd,
    turnover: avgEq !== 0 ? ledger.turnoverUsd / avgEq : Number.NaN,
    metricsUsd: daily.length >= 2 ? performanceMetrics(eqUsd, ppy) : null,
    metricsCoin: daily.length >= 2 ? performanceMetrics(eqCoin, ppy) : null,
    finalEquityUsd: last.equityUsd,
    finalEquityCoin: last.equityCoin,
    final,
  };
}
