/**
 * The backtest engine: deterministic, event-driven replay of a strategy over a series of market
 * steps (real chain snapshots via `backtestStepFromChain`, or the synthetic market).
 *
 * Per step, in order:
 *  1. the hedge (perpetual or dated future) marked to market (variation into cash), perpetual
 *     funding accrued since the last step;
 *  2. if the step opens a new UTC day (or is the last step): the day's Greek PnL attribution is
 *     closed on the book held at the start of the day, the daily equity recorded, a new day opened;
 *  3. options with expiry <= now settle in cash at intrinsic on the step's index price (Deribit
 *     uses a 30-min index TWAP before 08:00; the first step at or after expiry is used here);
 *  4. the strategy rule (current step + own book only) places option orders, filled at ask
 *     (buy) / bid (sell) with slippage and fees; a missing side rejects the order with a reason;
 *     a rule may also trade the hedge instrument (`HedgeOrder`, e.g. the optimizer strategy,
 *     whose LP chooses the perpetual together with the options), filled as the hedge below;
 *  5. a dated-future hedge about to expire is rolled into the next one; then the hedge policy
 *     trades the hedge instrument on net delta (coins + options + hedge).
 * No step is read before its turn: the engine consumes an iterator (no look-ahead; a test alters
 * every step after day t and shows that the result up to t is unchanged). It asks the iterator
 * whether a next step exists (to know the last one) but never reads it before its turn. The last step only
 * marks and closes; it does not trade.
 *
 * Hedge instrument (linear, 1 unit = 1 coin): the perpetual, marked at the step's perpMark and
 * paying funding at the policy's `fundingRatePerYear` (else the step's); or, with
 * `instrument: "future"`, the listed expiry closest to `futureTenorDays`, marked at that expiry's
 * forward (the step's forward(expiry): future or synthetic forward, so its basis moves and
 * converges to the index), settled at the index, rolled `rollDays` before expiry, no funding.
 * Accounting: USD cash + coin holdings + options (USD per coin, see market.ts) + perpetual.
 * Equity in USD; in coin = equity USD / index. No margin model: collateral is the cash/coins held.
 */
import { InvalidInputError } from "../errors.js";
import { type CostModel, hedgeFill, resolveCostModel } from "../hedge/costs.js";
import { type HedgePolicy, hedgeTrade, validateHedgePolicy } from "../hedge/policies.js";
import type { OptionKind } from "../instruments/types.js";
import { blackGreeks, blackPrice } from "../pricing/black76.js";
import { futureName, optionName, utcDayStart } from "./calendar.js";
import { futureHedgeExpiry, optionFill } from "./fills.js";
import type { BacktestStep } from "./market.js";
import { type PerformanceMetrics, performanceMetrics } from "./metrics.js";
import { optimizerStrategyRule } from "./optimizerStrategy.js";
import {
  type AsyncStrategyRule,
  type BookOption,
  isHedgeOrder,
  type OptionOrder,
  type StrategyContext,
  type StrategyOrder,
  type StrategyRule,
  type StrategySpec,
  strategyRule,
} from "./strategies.js";
import { DAY_MS, timeToExpiry } from "../time.js";

export interface TradeRecord {
  /** Epoch ms UTC. */
  readonly time: number;
  readonly instrument: string;
  readonly type: "option" | "perpetual" | "future";
  /** Signed coins. */
  readonly quantity: number;
  /** Executed price per coin, USD. */
  readonly priceUsd: number;
  readonly markUsd: number;
  readonly spreadUsd: number;
  readonly slippageUsd: number;
  readonly feeUsd: number;
  readonly tag: string;
}

export type RejectionReason = "not-listed" | "no-bid" | "no-ask";
export interface RejectionRecord {
  readonly time: number;
  readonly instrument: string;
  readonly quantity: number;
  readonly reason: RejectionReason;
}

/** One day's Greek PnL attribution (USD and coin = USD / end-of-day index). */
export interface AttributionDay {
  /** Window start / end, epoch ms UTC. */
  readonly start: number;
  readonly end: number;
  readonly deltaUsd: number;
  readonly gammaUsd: number;
  readonly vegaUsd: number;
  readonly thetaUsd: number;
  readonly vannaUsd: number;
  readonly volgaUsd: number;
  /** Options actual PnL minus the Taylor terms of the options book (reported, never hidden). */
  readonly residualUsd: number;
  /** Actual PnL of the start-of-day book (options + coins + hedge). */
  readonly bookActualUsd: number;
  /** Everything else in the equity change: trades during the day, their costs, funding. */
  readonly tradingUsd: number;
  /** Equity change over the window = bookActual + trading. */
  readonly totalUsd: number;
  readonly deltaCoin: number;
  readonly gammaCoin: number;
  readonly vegaCoin: number;
  readonly thetaCoin: number;
  readonly vannaCoin: number;
  readonly volgaCoin: number;
  readonly residualCoin: number;
  readonly tradingCoin: number;
  readonly totalCoin: number;
}

export interface DailyRecord {
  /** Epoch ms UTC of the step recorded (first step of the day, before trading). */
  readonly time: number;
  readonly indexPrice: number;
  readonly equityUsd: number;
  readonly equityCoin: number;
}

export interface CostSummary {
  readonly spreadUsd: number;
  readonly slippageUsd: number;
  readonly feesUsd: number;
  /** Funding paid on the perpetual (negative = received). */
  readonly fundingUsd: number;
  /** spread + slippage + fees + funding. */
  readonly totalUsd: number;
}

export interface BacktestResult {
  readonly strategy: string;
  readonly steps: number;
  readonly start: number;
  readonly end: number;
  readonly daily: readonly DailyRecord[];
  readonly attribution: readonly AttributionDay[];
  /** Trade log (empty when `recordTrades` is false; `tradeCount` always counts). */
  readonly trades: readonly TradeRecord[];
  readonly tradeCount: number;
  readonly rejections: readonly RejectionRecord[];
  readonly settlements: number;
  /** Positions valued with their last known vol because the step had no quote. */
  readonly staleMarks: number;
  readonly costs: CostSummary;
  /** Traded notional (|qty| x index) in USD, and divided by average equity. */
  readonly turnoverUsd: number;
  readonly turnover: number;
  readonly metricsUsd: PerformanceMetrics | null;
  readonly metricsCoin: PerformanceMetrics | null;
  readonly finalEquityUsd: number;
  readonly finalEquityCoin: number;
}

export interface BacktestOptions {
  readonly strategy: StrategySpec;
  /** The market series, consumed one step at a time. */
  readonly steps: Iterable<BacktestStep>;
  /** Overrides the rule built from `strategy` (e.g. the optimizer strategy). */
  readonly rule?: StrategyRule;
  /** Keep the trade log (default true). */
  readonly recordTrades?: boolean;
  /** Called after each step with its index. */
  readonly onStep?: (index: number) => void;
}

/** Options of `runBacktestAsync`: the same, with a rule whose decisions may be asynchronous. */
export interface AsyncBacktestOptions extends Omit<BacktestOptions, "rule"> {
  /** Overrides the rule built from `strategy` (`optimizer` specs build `optimizerStrategyRule`). */
  readonly rule?: AsyncStrategyRule;
}

interface Held {
  expiry: number;
  strike: number;
  kind: OptionKind;
  quantity: number;
  vol: number;
}

interface WindowPos {
  readonly p: Held;
  readonly quantity: number;
  readonly value: number;
  readonly forward: number;
  readonly vol: number;
  readonly g: ReturnType<typeof blackGreeks>;
}

const posKey = (e: number, k: number, kind: OptionKind) => `${e}|${k}|${kind}`;

/**
 * Runs a backtest. Deterministic: the same spec and steps give the same result. Synchronous: the
 * `optimizer` strategy (HiGHS is asynchronous WASM) needs `runBacktestAsync`.
 */
export function runBacktest(o: BacktestOptions): BacktestResult {
  const rule = o.rule ?? strategyRule(o.strategy);
  const run = backtestLoop(o, rule.initial);
  let r = run.next();
  while (!r.done) r = run.next(rule.decide(r.value));
  return r.value;
}

/**
 * `runBacktest` with an asynchronous decision hook (the `optimizer` strategy awaits HiGHS).
 *
 * Design: the engine loop is written once, as a generator (`backtestLoop`) that yields the
 * decision context at step 4 and resumes with the orders. `runBacktest` drives it synchronously,
 * this function awaits each decision; everything else (fills, settlement, hedging, accounting,
 * metrics) is the same code, so both give identical results for the same decisions. The
 * generator pulls the next market step only after the decision of the current one has been
 * received (no look-ahead: a decision sees the current step and the book, as in `runBacktest`).
 * Steps are processed one at a time (no overlap of decisions).
 */
export async function runBacktestAsync(o: AsyncBacktestOptions): Promise<BacktestResult> {
  const spec = o.strategy;
  const rule: AsyncStrategyRule =
    o.rule ?? (spec.type === "optimizer" ? optimizerStrategyRule(spec) : strategyRule(spec));
  const run = backtestLoop(o, rule.initial);
  let r = run.next();
  while (!r.done) r = run.next(await rule.decide(r.value));
  return r.value;
}

/**
 * The engine loop (see the module comment): yields the strategy's decision context on every step
 * but the last and resumes with its orders (option orders, and hedge orders for rules that trade
 * the hedge instrument themselves); returns the result.
 */
function* backtestLoop(
  o: Omit<BacktestOptions, "rule">,
  initial: StrategyRule["initial"],
): Generator<StrategyContext, BacktestResult, readonly StrategyOrder[]> {
  const spec = o.strategy;
  const rule = { initial };
  const policy: HedgePolicy = validateHedgePolicy(spec.hedge ?? { policy: "none" });
  const costs: CostModel = resolveCostModel(spec.costs);
  const record = o.recordTrades ?? true;
  const hedgeCostRate = costs.hedgeFeeRate + (costs.hedgeHalfSpreadBps + costs.slippageBps) / 1e4;

  let usd = rule.initial.usd;
  const coins = rule.initial.coins;
  /** Hedge quantity (coins), its expiry (null = perpetual) and the mark of the last variation. */
  let perp = 0;
  let hedgeExpiry: number | null = null;
  let hedgeMark = 0;
  const useFuture = policy.instrument === "future";
  const hedgeMarkAt = (s: BacktestStep, e: number | null): number =>
    e === null ? s.perpMark : e <= s.time ? s.indexPrice : s.forward(e);
  let lastHedge = Number.NEGATIVE_INFINITY;
  const held = new Map<string, Held>();
  const trades: TradeRecord[] = [];
  const rejections: RejectionRecord[] = [];
  const daily: DailyRecord[] = [];
  const attribution: AttributionDay[] = [];
  let settlements = 0;
  let tradeCount = 0;
  let staleMarks = 0;
  let spreadUsd = 0;
  let slippageUsd = 0;
  let feesUsd = 0;
  let fundingUsd = 0;
  let turnoverUsd = 0;
  let prev: BacktestStep | null = null;
  let first: BacktestStep | null = null;
  let count = 0;
  let win: {
    start: number;
    equity: number;
    index: number;
    hedgeMark: number;
    hedgeExpiry: number | null;
    coins: number;
    perp: number;
    pos: WindowPos[];
  } | null = null;

  /** Value (USD per coin), forward and vol of a held option at step s. */
  const positionValue = (
    p: Held,
    s: BacktestStep,
  ): { value: number; forward: number; vol: number; expired: boolean } => {
    if (p.expiry <= s.time) {
      const v =
        p.kind === "call" ? Math.max(s.indexPrice - p.strike, 0) : Math.max(p.strike - s.indexPrice, 0);
      return { value: v, forward: s.indexPrice, vol: p.vol, expired: true };
    }
    const q = s.quote(p.expiry, p.strike, p.kind);
    if (q) return { value: q.markUsd, forward: q.forward, vol: q.markVol, expired: false };
    staleMarks++;
    const F = s.forward(p.expiry);
    const T = timeToExpiry(p.expiry, s.time);
    return {
      value: blackPrice({ forward: F, strike: p.strike, expiry: T, vol: p.vol, kind: p.kind }),
      forward: F,
      vol: p.vol,
      expired: false,
    };
  };

  const equityAt = (s: BacktestStep): number => {
    let e = usd + coins * s.indexPrice;
    for (const p of held.values()) e += p.quantity * positionValue(p, s).value;
    return e;
  };

  const openWindow = (s: BacktestStep, equity: number) => {
    const pos: WindowPos[] = [];
    for (const p of held.values()) {
      const v = positionValue(p, s);
      const T = timeToExpiry(p.expiry, s.time);
      const g = blackGreeks({
        forward: v.forward,
        strike: p.strike,
        expiry: Math.max(T, 1e-9),
        vol: v.vol,
        kind: p.kind,
      });
      pos.push({ p, quantity: p.quantity, value: v.value, forward: v.forward, vol: v.vol, g });
    }
    win = {
      start: s.time,
      equity,
      index: s.indexPrice,
      hedgeMark: hedgeMarkAt(s, hedgeExpiry),
      hedgeExpiry,
      coins,
      perp,
      pos,
    };
  };

  const closeWindow = (s: BacktestStep, equity: number) => {
    const w = win;
    if (!w) return;
    const dt = timeToExpiry(s.time, w.start);
    let d = 0;
    let ga = 0;
    let ve = 0;
    let th = 0;
    let va = 0;
    let vo = 0;
    let optActual = 0;
    for (const x of w.pos) {
      const v = positionValue(x.p, s);
      const dF = v.forward - x.forward;
      const dS = v.expired ? 0 : v.vol - x.vol;
      const q = x.quantity;
      optActual += q * (v.value - x.value);
      d += q * x.g.delta * dF;
      ga += 0.5 * q * x.g.gamma * dF * dF;
      ve += q * x.g.vega * dS;
      th += q * x.g.theta * dt;
      va += q * x.g.vanna * dF * dS;
      vo += 0.5 * q * x.g.volga * dS * dS;
    }
    const linear =
      w.coins * (s.indexPrice - w.index) + w.perp * (hedgeMarkAt(s, w.hedgeExpiry) - w.hedgeMark);
    const residual = optActual - (d + ga + ve + th + va + vo);
    const total = equity - w.equity;
    const bookActual = optActual + linear;
    const delta = d + linear;
    const S = s.indexPrice;
    attribution.push({
      start: w.start,
      end: s.time,
      deltaUsd: delta,
      gammaUsd: ga,
      vegaUsd: ve,
      thetaUsd: th,
      vannaUsd: va,
      volgaUsd: vo,
      residualUsd: residual,
      bookActualUsd: bookActual,
      tradingUsd: total - bookActual,
      totalUsd: total,
      deltaCoin: delta / S,
      gammaCoin: ga / S,
      vegaCoin: ve / S,
      thetaCoin: th / S,
      vannaCoin: va / S,
      volgaCoin: vo / S,
      residualCoin: residual / S,
      tradingCoin: (total - bookActual) / S,
      totalCoin: total / S,
    });
  };

  const fillOption = (s: BacktestStep, ord: OptionOrder) => {
    if (ord.quantity === 0) return;
    const name = optionName(s.underlying, ord.expiry, ord.strike, ord.kind);
    const q = s.quote(ord.expiry, ord.strike, ord.kind);
    const reject = (reason: RejectionReason) =>
      rejections.push({ time: s.time, instrument: name, quantity: ord.quantity, reason });
    if (!q) return reject("not-listed");
    const touch = ord.quantity > 0 ? q.askUsd : q.bidUsd;
    if (touch === null) return reject(ord.quantity > 0 ? "no-ask" : "no-bid");
    const f = optionFill({
      costs,
      quantity: ord.quantity,
      touchUsd: touch,
      markUsd: q.markUsd,
      underlyingPrice: s.indexPrice,
    });
    const price = f.priceUsd;
    const absQ = Math.abs(ord.quantity);
    const fee = f.feeUsd;
    const spr = f.spreadUsd;
    usd -= ord.quantity * price + fee;
    spreadUsd += spr;
    slippageUsd += f.slippageUsd;
    feesUsd += fee;
    turnoverUsd += absQ * s.indexPrice;
    tradeCount++;
    const k = posKey(ord.expiry, ord.strike, ord.kind);
    const h = held.get(k);
    const nq = (h?.quantity ?? 0) + ord.quantity;
    if (Math.abs(nq) < 1e-12) held.delete(k);
    else
      held.set(k, { expiry: ord.expiry, strike: ord.strike, kind: ord.kind, quantity: nq, vol: q.markVol });
    if (record)
      trades.push({
        time: s.time,
        instrument: name,
        type: "option",
        quantity: ord.quantity,
        priceUsd: price,
        markUsd: q.markUsd,
        spreadUsd: spr,
        slippageUsd: f.slippageUsd,
        feeUsd: fee,
        tag: ord.tag,
      });
  };

  const hedgeStep = (s: BacktestStep) => {
    if (policy.policy === "none") return;
    let delta = coins + perp;
    let gamma = 0;
    let vegaW = 0;
    let volW = 0;
    let tW = 0;
    for (const p of held.values()) {
      const q = s.quote(p.expiry, p.strike, p.kind);
      const F = q?.forward ?? s.forward(p.expiry);
      const vol = q?.markVol ?? p.vol;
      const T = timeToExpiry(p.expiry, s.time);
      const g = blackGreeks({ forward: F, strike: p.strike, expiry: T, vol, kind: p.kind });
      delta += p.quantity * g.delta;
      gamma += p.quantity * g.gamma;
      const w = Math.abs(p.quantity * g.gamma);
      vegaW += w;
      volW += w * vol;
      tW += w * T;
    }
    const qty = hedgeTrade(policy, {
      now: s.time,
      lastHedgeTime: lastHedge,
      netDelta: delta,
      gamma,
      spot: s.perpMark,
      vol: vegaW > 0 ? volW / vegaW : 0.5,
      timeToExpiry: vegaW > 0 ? tW / vegaW : 0.1,
      costRate: hedgeCostRate,
    });
    if (qty === 0 || Math.abs(qty) < 1e-9) return;
    tradeHedge(s, qty, "hedge");
    lastHedge = s.time;
  };

  /** Trades `qty` coins of the hedge instrument (choosing a future expiry when flat). */
  const tradeHedge = (s: BacktestStep, qty: number, tag: string) => {
    if (useFuture && (perp === 0 || hedgeExpiry === null)) {
      // The listed expiry closest to the target tenor, beyond the roll window.
      const e = futureHedgeExpiry(s, policy);
      if (e === null) {
        rejections.push({
          time: s.time,
          instrument: `${s.underlying}-FUTURE`,
          quantity: qty,
          reason: "not-listed",
        });
        return;
      }
      hedgeExpiry = e;
    }
    const mark = hedgeMarkAt(s, hedgeExpiry);
    const f = useFuture
      ? hedgeFill({ costs, quantity: qty, markUsd: mark })
      : hedgeFill({ costs, quantity: qty, markUsd: mark, bidUsd: s.perpBid, askUsd: s.perpAsk });
    // Traded at the fill price: the difference to mark is the crossing cost, paid now.
    usd -= (f.priceUsd - mark) * qty + f.feeUsd;
    perp += qty;
    hedgeMark = mark;
    if (Math.abs(perp) < 1e-12) perp = 0;
    spreadUsd += f.spreadUsd;
    slippageUsd += f.slippageUsd;
    feesUsd += f.feeUsd;
    turnoverUsd += Math.abs(qty) * mark;
    tradeCount++;
    if (record)
      trades.push({
        time: s.time,
        instrument:
          hedgeExpiry === null ? `${s.underlying}-PERPETUAL` : futureName(s.underlying, hedgeExpiry),
        type: hedgeExpiry === null ? "perpetual" : "future",
        quantity: qty,
        priceUsd: f.priceUsd,
        markUsd: mark,
        spreadUsd: f.spreadUsd,
        slippageUsd: f.slippageUsd,
        feeUsd: f.feeUsd,
        tag,
      });
  };

  /** Rolls (or, if already expired, settles) a dated-future hedge near its expiry. */
  const rollFuture = (s: BacktestStep) => {
    if (!useFuture || hedgeExpiry === null) return;
    if (perp === 0) {
      hedgeExpiry = null;
      return;
    }
    if (hedgeExpiry - s.time >= (policy.rollDays ?? 1) * DAY_MS) return;
    const q = perp;
    if (hedgeExpiry <= s.time) {
      perp = 0; // settled at the index by the variation of step 1
    } else {
      tradeHedge(s, -q, "roll");
    }
    hedgeExpiry = null;
    perp = 0;
    tradeHedge(s, q, "roll");
  };

  const iter = o.steps[Symbol.iterator]();
  let cur = iter.next();
  while (!cur.done) {
    const s = cur.value;
    const next = iter.next();
    const isLast = next.done === true;
    if (prev && !(s.time > prev.time))
      throw new InvalidInputError("steps[].time", s.time, `must increase (previous ${prev.time})`);
    if (!first) first = s;
    // 1. perpetual variation margin and funding.
    if (prev && perp !== 0) {
      const m = hedgeMarkAt(s, hedgeExpiry);
      usd += perp * (m - hedgeMark);
      hedgeMark = m;
      if (hedgeExpiry === null) {
        const rate = policy.fundingRatePerYear ?? prev.fundingRatePerYear ?? 0;
        const fund = perp * prev.perpMark * rate * timeToExpiry(s.time, prev.time);
        usd -= fund;
        fundingUsd += fund;
      }
    }
    // 2. day boundary.
    const newDay = !prev || utcDayStart(s.time) !== utcDayStart(prev.time);
    if (newDay || isLast) {
      const eq = equityAt(s);
      closeWindow(s, eq);
      daily.push({ time: s.time, indexPrice: s.indexPrice, equityUsd: eq, equityCoin: eq / s.indexPrice });
      if (!isLast) openWindow(s, eq);
    }
    // 3. settlement.
    for (const [k, p] of held) {
      if (p.expiry <= s.time) {
        const v =
          p.kind === "call" ? Math.max(s.indexPrice - p.strike, 0) : Math.max(p.strike - s.indexPrice, 0);
        usd += p.quantity * v;
        held.delete(k);
        settlements++;
      }
    }
    if (!isLast) {
      // 4. strategy.
      const options: BookOption[] = [...held.values()].map((p) => ({
        expiry: p.expiry,
        strike: p.strike,
        kind: p.kind,
        quantity: p.quantity,
      }));
      const orders = yield {
        step: s,
        options,
        coins,
        usd,
        hedge: perp,
        hedgeExpiry: perp !== 0 ? hedgeExpiry : null,
      };
      for (const ord of orders) {
        if (!isHedgeOrder(ord)) fillOption(s, ord);
        else if (ord.quantity !== 0 && Math.abs(ord.quantity) >= 1e-9) tradeHedge(s, ord.quantity, ord.tag);
      }
      // Remember the latest vols of what is held (for stale marks later).
      for (const p of held.values()) {
        const q = s.quote(p.expiry, p.strike, p.kind);
        if (q) p.vol = q.markVol;
      }
      // 5. hedge.
      rollFuture(s);
      hedgeStep(s);
    }
    o.onStep?.(count);
    count++;
    prev = s;
    cur = next;
  }
  if (!first || !prev) throw new InvalidInputError("steps", 0, "must contain at least one step");
  const eqUsd = daily.map((d) => d.equityUsd);
  const eqCoin = daily.map((d) => d.equityCoin);
  const span = timeToExpiry(prev.time, first.time);
  const ppy = daily.length > 1 && span > 0 ? (daily.length - 1) / span : 365;
  const avgEq = eqUsd.reduce((a, b) => a + b, 0) / Math.max(eqUsd.length, 1);
  const last = daily[daily.length - 1] as DailyRecord;
  return {
    strategy: spec.name ?? spec.type,
    steps: count,
    start: first.time,
    end: prev.time,
    daily,
    attribution,
    trades,
    tradeCount,
    rejections,
    settlements,
    staleMarks,
    costs: {
      spreadUsd,
      slippageUsd,
      feesUsd,
      fundingUsd,
      totalUsd: spreadUsd + slippageUsd + feesUsd + fundingUsd,
    },
    turnoverUsd,
    turnover: avgEq !== 0 ? turnoverUsd / avgEq : Number.NaN,
    metricsUsd: daily.length >= 2 ? performanceMetrics(eqUsd, ppy) : null,
    metricsCoin: daily.length >= 2 ? performanceMetrics(eqCoin, ppy) : null,
    finalEquityUsd: last.equityUsd,
    finalEquityCoin: last.equityCoin,
  };
}
