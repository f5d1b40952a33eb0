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
import { type CostModel, resolveCostModel } from "../hedge/costs.js";
import { type HedgePolicy, hedgeTrade, validateHedgePolicy } from "../hedge/policies.js";
import { deribitOptionName, instrumentFromName } from "../instruments/names.js";
import type { FutureContract, OptionContract, Position } from "../instruments/types.js";
import { bookEquity } from "../risk/account.js";
import { splitExpired } from "../risk/expiredLegs.js";
import { portfolioGreeks, positionGreeks } from "../risk/greeks.js";
import { forwardAtExpiry, type RiskMarket } from "../risk/market.js";
import { optionMarketInputs, valuePosition } from "../risk/valuation.js";
import { DAY_MS, timeToExpiry } from "../time.js";
import {
  type AttributionDay,
  type AttributionWindow,
  closeAttributionWindow,
  type WindowLeg,
} from "./attribution.js";
import { futureName, utcDayStart } from "./calendar.js";
import { futureHedgeExpiry, inverseHedgeFill, optionFill } from "./fills.js";
import { type BacktestStep, marketValues, type StepMarket } from "./market.js";
import { performanceMetrics } from "./metrics.js";
import type {
  BacktestResult,
  BacktestSettlement,
  BookValuation,
  DailyRecord,
  RejectionReason,
  RejectionRecord,
  StepValuation,
  TradeRecord,
} from "./results.js";
import {
  type BookOption,
  isHedgeOrder,
  type OptionOrder,
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

interface HedgeHolding {
  readonly instrument: FutureContract;
  contracts: number;
  /** Entry = the core mark at the last variation, USD. */
  entry: number;
}

/**
 * The engine loop (see the module comment): yields the strategy's decision context on every step
 * but the last and resumes with its orders; returns the result.
 */
export function* backtestLoop(
  o: LoopOptions,
  initial: StrategyRule["initial"],
): Generator<StrategyContext, BacktestResult, readonly StrategyOrder[]> {
  const spec = o.strategy;
  const policy: HedgePolicy = validateHedgePolicy(spec.hedge ?? { policy: "none" });
  const costs: CostModel = resolveCostModel(spec.costs);
  const record = o.recordTrades ?? true;
  const hedgeCostRate = costs.hedgeFeeRate + (costs.hedgeHalfSpreadBps + costs.slippageBps) / 1e4;
  const useFuture = policy.instrument === "future";

  let coin = "";
  const cash: Record<string, number> = {};
  const options = new Map<string, Position>();
  let hedge: HedgeHolding | null = null;
  /** Coin value per contract at the last valuation (for legs a later market cannot value). */
  const lastCoin = new Map<string, number>();
  let lastHedge = Number.NEGATIVE_INFINITY;
  const trades: TradeRecord[] = [];
  const settledLog: BacktestSettlement[] = [];
  const rejections: RejectionRecord[] = [];
  const daily: DailyRecord[] = [];
  const attribution: AttributionDay[] = [];
  let settlements = 0;
  const settlementSources = { delivery: 0, indexIntrinsic: 0 };
  const hedgeFills = { venue: 0, mark: 0, basisCoin: 0, basisUsd: 0 };
  let tradeCount = 0;
  let staleMarks = 0;
  let carriedMarks = 0;
  const cost = {
    spread: 0,
    slippage: 0,
    fees: 0,
    funding: 0,
    spreadUsd: 0,
    slippageUsd: 0,
    feesUsd: 0,
    fundingUsd: 0,
  };
  /** Adds a fill's costs (coin, and USD at the index S) to the run's totals; returns them for its trade record. */
  const chargeCosts = (f: { spread: number; slippage: number; fee: number }, S: number) => {
    cost.spread += f.spread;
    cost.slippage += f.slippage;
    cost.fees += f.fee;
    cost.spreadUsd += f.spread * S;
    cost.slippageUsd += f.slippage * S;
    cost.feesUsd += f.fee * S;
    return {
      spread: f.spread,
      slippage: f.slippage,
      fee: f.fee,
      spreadUsd: f.spread * S,
      slippageUsd: f.slippage * S,
      feeUsd: f.fee * S,
      indexPrice: S,
    };
  };
  let turnoverUsd = 0;
  let prev: BacktestStep | null = null;
  let first: BacktestStep | null = null;
  let final: BookValuation | null = null;
  let count = 0;
  let win: AttributionWindow | null = null;
  let winSettled = new Map<string, { coinPerContract: number; indexPrice: number }>();
  let winHedgeSettle: number | null = null;
  /** Equity (USD) of a day boundary whose window opens after the step's trades. */
  let openAt: number | null = null;

  const optionExpiries = (): number[] => [...options.values()].map((p) => p.instrument.expiry as number);
  const hedgePosition = (): Position | null =>
    hedge && hedge.contracts !== 0
      ? { instrument: hedge.instrument, quantity: hedge.contracts, entryPrice: hedge.entry }
      : null;
  /** The step's core market for the book (options + dated hedge) and `extra` expiries. */
  const marketFor = (s: BacktestStep, extra: readonly number[] = []): StepMarket => {
    const es = optionExpiries();
    if (hedge?.instrument.expiry != null) es.push(hedge.instrument.expiry);
    const m = s.market([...es, ...extra]);
    if (!m)
      throw new InvalidInputError(
        "steps[].chain",
        new Date(s.time).toISOString(),
        "has no quote with a mark vol: no market to value the book on",
      );
    return m;
  };
  /** The core mark of a future on `m` (perpetual: the index; dated: its expiry's forward). */
  const futureMark = (m: RiskMarket, ins: FutureContract): number =>
    forwardAtExpiry(
      m.underlyings[ins.underlying] as RiskMarket["underlyings"][string],
      m.valuationTime,
      ins.expiry,
    );

  /** 1. Settles every leg expired at `s` (options and a dated hedge) once, into coin cash. */
  const settle = (s: BacktestStep) => {
    const legs: Position[] = [];
    for (const p of options.values()) if ((p.instrument.expiry as number) <= s.time) legs.push(p);
    const h = hedgePosition();
    if (h && h.instrument.expiry !== null && h.instrument.expiry <= s.time) legs.push(h);
    if (legs.length === 0) return;
    const split = splitExpired(legs, s.time, {
      indexPrice: (u) => (u === coin ? s.indexPrice : null),
      deliveryPrice: (_u, e) => s.deliveryPrice?.(e) ?? null,
    });
    for (const x of split.settled) {
      const ins = x.position.instrument;
      cash[x.currency] = (cash[x.currency] ?? 0) + x.value;
      settlements++;
      if (x.source === "delivery") settlementSources.delivery++;
      else settlementSources.indexIntrinsic++;
      if (ins.type === "option") {
        options.delete(ins.name);
        lastCoin.delete(ins.name);
        winSettled.set(ins.name, {
          coinPerContract: x.value / x.position.quantity,
          indexPrice: s.indexPrice,
        });
      } else {
        if (win?.hedge?.instrument.name === ins.name) winHedgeSettle = x.settlementPrice;
        hedge = null;
      }
      if (record)
        settledLog.push({
          time: s.time,
          instrument: ins.name,
          quantity: x.position.quantity,
          price: x.settlementPrice,
          source: x.source,
          value: x.value,
          currency: x.currency,
          valueUsd: x.valueUsd,
          detail: x.detail,
        });
    }
    if (split.unsettled.length > 0)
      throw new InvalidInputError("steps[].indexPrice", s.indexPrice, split.unsettled[0]?.detail ?? "");
  };

  /** Values the book on `sm` (day boundaries): positions, carried coin, equity. */
  const valueBook = (s: BacktestStep, sm: StepMarket) => {
    const market = sm.market;
    const valued: Position[] = [];
    let carried = 0;
    for (const p of options.values()) {
      const ins = p.instrument as OptionContract;
      if (marketValues(market, p)) {
        valued.push(p);
        lastCoin.set(ins.name, valuePosition({ instrument: ins, quantity: 1 }, market).valueCoin);
        if (!s.quote(ins.expiry, ins.strike, ins.kind)) staleMarks++;
      } else {
        carriedMarks++;
        carried += (lastCoin.get(ins.name) ?? 0) * p.quantity;
      }
    }
    const h = hedgePosition();
    if (h) valued.push(h);
    const cashNow = { ...cash };
    const equity = bookEquity(
      valued,
      carried !== 0 ? { ...cash, [coin]: (cash[coin] ?? 0) + carried } : cash,
      market,
    );
    return { valued, equity, cash: cashNow };
  };

  const openWindow = (s: BacktestStep, sm: StepMarket, equityUsd: number) => {
    const market = sm.market;
    const legs: WindowLeg[] = [];
    for (const p of options.values()) {
      const ins = p.instrument as OptionContract;
      if (marketValues(market, p)) {
        const g = positionGreeks(p, market);
        const mi = optionMarketInputs(ins, market);
        legs.push({
          position: p,
          valueUsd: g.valueUsd,
          valueCoin: g.valueCoin,
          greeks: g,
          forward: mi.forward,
          vol: mi.vol,
        });
      } else {
        const v = (lastCoin.get(ins.name) ?? 0) * p.quantity;
        legs.push({
          position: p,
          valueUsd: v * s.indexPrice,
          valueCoin: v,
          greeks: null,
          forward: 0,
          vol: 0,
        });
      }
    }
    win = {
      start: s.time,
      indexPrice: s.indexPrice,
      equityUsd,
      coin,
      cash: { ...cash },
      legs,
      hedge:
        hedge && hedge.contracts !== 0
          ? { instrument: hedge.instrument, contracts: hedge.contracts, mark: hedge.entry }
          : null,
    };
    winSettled = new Map();
    winHedgeSettle = null;
  };

  const closeWindow = (s: BacktestStep, sm: StepMarket, equityUsd: number) => {
    const w = win;
    if (!w) return;
    const market = sm.market;
    let hedgeMark: number | null = null;
    if (w.hedge) {
      const ins = w.hedge.instrument;
      if (ins.expiry !== null && ins.expiry <= s.time) hedgeMark = winHedgeSettle ?? s.indexPrice;
      else if (marketValues(market, { instrument: ins, quantity: 1 })) hedgeMark = futureMark(market, ins);
    }
    attribution.push(
      closeAttributionWindow(w, {
        time: s.time,
        indexPrice: s.indexPrice,
        equityUsd,
        revalue: (p) => {
          if (!marketValues(market, p)) return null;
          const v = valuePosition(p, market);
          const mi = optionMarketInputs(p.instrument as OptionContract, market);
          return { valueUsd: v.valueUsd, valueCoin: v.valueCoin, forward: mi.forward, vol: mi.vol };
        },
        carriedCoinPerContract: (name) => lastCoin.get(name) ?? null,
        settled: winSettled,
        hedgeMark,
      }),
    );
  };

  const reject = (s: BacktestStep, instrument: string, quantity: number, reason: RejectionReason) =>
    rejections.push({ time: s.time, instrument, quantity, reason });

  const fillOption = (s: BacktestStep, ord: OptionOrder) => {
    if (ord.quantity === 0) return;
    const q = s.quote(ord.expiry, ord.strike, ord.kind);
    const name =
      q?.instrument.name ??
      deribitOptionName({ underlying: s.underlying, expiry: ord.expiry, strike: ord.strike, kind: ord.kind });
    if (!q) return reject(s, name, ord.quantity, "not-listed");
    const ins = q.instrument;
    if (ins.settlement !== "inverse") return reject(s, name, ord.quantity, "not-inverse");
    const touch = ord.quantity > 0 ? q.ask : q.bid;
    if (touch === null) return reject(s, name, ord.quantity, ord.quantity > 0 ? "no-ask" : "no-bid");
    const f = optionFill({
      costs,
      quantity: ord.quantity,
      touch,
      mark: q.mark,
      contractSize: ins.contractSize,
    });
    const S = s.indexPrice;
    cash[coin] = (cash[coin] ?? 0) + f.cash;
    const charged = chargeCosts(f, S);
    turnoverUsd += Math.abs(ord.quantity) * ins.contractSize * S;
    tradeCount++;
    const nq = (options.get(name)?.quantity ?? 0) + ord.quantity;
    if (Math.abs(nq) < 1e-12) {
      options.delete(name);
      lastCoin.delete(name);
    } else options.set(name, { instrument: ins, quantity: nq });
    if (record)
      trades.push({
        time: s.time,
        instrument: name,
        type: "option",
        quantity: ord.quantity,
        price: f.price,
        mark: q.mark,
        currency: coin,
        ...charged,
        tag: ord.tag,
      });
  };

  /**
   * Trades `contracts` of the inverse future `ins`. The position enters at the core mark M (the
   * index for the perpetual, the expiry's forward for a dated future) and is varied at it; the
   * fill is at the data's price of the instrument when the step has one (venue quote: the chain's
   * perpetual, e.g. the stored perpetual price, or the chain's future of that expiry; its bid/ask
   * when quoted, else its price -/+ hedgeHalfSpreadBps), else at M -/+ hedgeHalfSpreadBps
   * (fills.ts). Cash: m (1/price - 1/M) - fee, so a round trip pays exactly the venue prices.
   */
  const tradeFuture = (s: BacktestStep, ins: FutureContract, contracts: number, tag: string) => {
    if (contracts === 0) return;
    const M = ins.expiry === null ? s.indexPrice : futureMark(marketFor(s, [ins.expiry]).market, ins);
    const q =
      ins.expiry === null
        ? s.perpetual
        : (s.chain([]).futures?.find((x) => x.expiry === ins.expiry && x.name === ins.name) ?? null);
    const venue = q && q.mark > 0 ? q : null;
    const P = venue ? venue.mark : M;
    const fill = inverseHedgeFill({
      costs,
      contracts,
      contractSize: ins.contractSize,
      mark: P,
      quote: venue,
    });
    const m = contracts * ins.contractSize;
    const f = { ...fill, cash: m * (1 / fill.price - 1 / M) - fill.fee };
    if (venue) {
      hedgeFills.venue++;
      hedgeFills.basisCoin += m * (1 / P - 1 / M);
      hedgeFills.basisUsd += m * (1 / P - 1 / M) * s.indexPrice;
    } else hedgeFills.mark++;
    const S = s.indexPrice;
    cash[coin] = (cash[coin] ?? 0) + f.cash;
    if (hedge && hedge.instrument.name === ins.name) {
      hedge.contracts += contracts;
      hedge.entry = M;
      if (Math.abs(hedge.contracts) < 1e-9) hedge = null;
    } else hedge = { instrument: ins, contracts, entry: M };
    const charged = chargeCosts(f, S);
    turnoverUsd += Math.abs(contracts * ins.contractSize);
    tradeCount++;
    if (record)
      trades.push({
        time: s.time,
        instrument: ins.name,
        type: ins.expiry === null ? "perpetual" : "future",
        quantity: contracts,
        price: f.price,
        mark: M,
        currency: coin,
        ...charged,
        tag,
      });
  };

  /** Trades `coins` of delta on the hedge instrument (choosing a future expiry when flat). */
  const tradeHedge = (s: BacktestStep, coins: number, tag: string) => {
    let ins = hedge?.instrument ?? null;
    if (!ins) {
      if (useFuture) {
        const e = futureHedgeExpiry(s, policy);
        if (e === null) return reject(s, `${s.underlying}-FUTURE`, coins, "not-listed");
        ins = instrumentFromName(futureName(s.underlying, e)) as FutureContract;
      } else ins = instrumentFromName(`${s.underlying}-PERPETUAL`) as FutureContract;
    }
    const M = ins.expiry === null ? s.indexPrice : futureMark(marketFor(s, [ins.expiry]).market, ins);
    tradeFuture(s, ins, (coins * M) / ins.contractSize, tag);
  };

  /** The hedge's coin delta (notional / mark), 0 when flat. */
  const hedgeCoins = () => (hedge ? (hedge.contracts * hedge.instrument.contractSize) / hedge.entry : 0);

  const hedgeStep = (s: BacktestStep) => {
    if (policy.policy === "none") return;
    const market = marketFor(s).market;
    let delta = (cash[coin] ?? 0) + hedgeCoins();
    let gamma = 0;
    let gW = 0;
    let volW = 0;
    let tW = 0;
    for (const p of options.values()) {
      if (!marketValues(market, p)) continue;
      const g = positionGreeks(p, market);
      const mi = optionMarketInputs(p.instrument as OptionContract, market);
      delta += g.deltaUnderlyingCoin;
      gamma += g.gammaCoinPerUsd;
      const w = Math.abs(g.gammaCoinPerUsd);
      gW += w;
      volW += w * mi.vol;
      tW += w * mi.timeToExpiry;
    }
    const qty = hedgeTrade(policy, {
      now: s.time,
      lastHedgeTime: lastHedge,
      netDelta: delta,
      gamma,
      spot: s.indexPrice,
      vol: gW > 0 ? volW / gW : 0.5,
      timeToExpiry: gW > 0 ? tW / gW : 0.1,
      costRate: hedgeCostRate,
    });
    if (qty === 0 || Math.abs(qty) < 1e-9) return;
    tradeHedge(s, qty, "hedge");
    lastHedge = s.time;
  };

  /** Rolls a dated-future hedge within `rollDays` of its expiry into the next one. */
  const rollFuture = (s: BacktestStep) => {
    if (!useFuture || !hedge || hedge.instrument.expiry === null) return;
    if (hedge.instrument.expiry - s.time >= (policy.rollDays ?? 1) * DAY_MS) return;
    const coins = hedgeCoins();
    tradeFuture(s, hedge.instrument, -hedge.contracts, "roll");
    hedge = null;
    tradeHedge(s, coins, "roll");
  };

  const iter = o.steps[Symbol.iterator]();
  let cur = iter.next();
  while (!cur.done) {
    const s = cur.value;
    const next = iter.next();
    const isLast = next.done === true;
    if (prev && !(s.time > prev.time))
      throw new InvalidInputError("steps[].time", s.time, `must increase (previous ${prev.time})`);
    if (!first) {
      first = s;
      coin = s.underlying;
      cash[coin] = initial.coins;
      cash.USD = initial.usd;
    } else if (s.underlying !== coin)
      throw new InvalidInputError("steps[].underlying", s.underlying, `must be ${coin} throughout`);
    // 1. expired legs settled, once, before anything is valued.
    settle(s);
    // 2. hedge variation to the core mark, and perpetual funding.
    if (prev && hedge) {
      const h: HedgeHolding = hedge;
      const M = h.instrument.expiry === null ? s.indexPrice : futureMark(marketFor(s).market, h.instrument);
      const m = h.contracts * h.instrument.contractSize;
      cash[coin] = (cash[coin] ?? 0) + m * (1 / h.entry - 1 / M);
      if (h.instrument.expiry === null) {
        const rate = policy.fundingRatePerYear ?? prev.fundingRatePerYear ?? 0;
        const fund = (m / h.entry) * rate * timeToExpiry(s.time, prev.time);
        cash[coin] = (cash[coin] ?? 0) - fund;
        cost.funding += fund;
        cost.fundingUsd += fund * s.indexPrice;
      }
      h.entry = M;
    }
    // 3. day boundary: close yesterday's window, record, open today's.
    const newDay = !prev || utcDayStart(s.time) !== utcDayStart(prev.time);
    if (newDay || isLast) {
      const extra: number[] = [];
      // (assigned in closures: TypeScript cannot see it here)
      const w0 = win as AttributionWindow | null;
      for (const l of w0?.legs ?? []) {
        const e = l.position.instrument.expiry as number;
        if (e > s.time) extra.push(e);
      }
      const we = w0?.hedge?.instrument.expiry;
      if (we != null && we > s.time) extra.push(we);
      const sm = marketFor(s, extra);
      const b = valueBook(s, sm);
      const eq = b.equity.equityUsd;
      closeWindow(s, sm, eq);
      daily.push({ time: s.time, indexPrice: s.indexPrice, equityUsd: eq, equityCoin: eq / s.indexPrice });
      if (o.onValuation || isLast) {
        const v: BookValuation = {
          time: s.time,
          positions: b.valued,
          cash: b.cash,
          equity: b.equity,
          greeks: portfolioGreeks(b.valued, sm.market),
        };
        o.onValuation?.({ ...v, step: s, market: sm.market });
        if (isLast) final = v;
      }
      if (!isLast) openAt = eq;
    }
    if (!isLast) {
      // 4. strategy.
      const book: BookOption[] = [...options.values()].map((p) => {
        const ins = p.instrument as OptionContract;
        return {
          expiry: ins.expiry,
          strike: ins.strike,
          kind: ins.kind,
          quantity: p.quantity,
          instrument: ins,
        };
      });
      const orders = yield {
        step: s,
        options: book,
        coins: cash[coin] ?? 0,
        usd: cash.USD ?? 0,
        hedge: hedgeCoins(),
        hedgeExpiry: (hedge as HedgeHolding | null)?.instrument.expiry ?? null,
        hedgePosition: hedgePosition(),
      };
      for (const ord of orders) {
        if (!isHedgeOrder(ord)) fillOption(s, ord);
        else if (ord.quantity !== 0 && Math.abs(ord.quantity) >= 1e-9) tradeHedge(s, ord.quantity, ord.tag);
      }
      // 5. hedge.
      rollFuture(s);
      hedgeStep(s);
      // The day's window opens on the book after this step's trades (equity: before them).
      if (openAt !== null) openWindow(s, marketFor(s), openAt);
      openAt = null;
    }
    o.onStep?.(count);
    count++;
    prev = s;
    cur = next;
  }
  if (!first || !prev || !final) throw new InvalidInputError("steps", 0, "must contain at least one step");
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
    settlementSources,
    hedgeFills,
    settled: settledLog,
    staleMarks,
    carriedMarks,
    costs: {
      spreadUsd: cost.spreadUsd,
      slippageUsd: cost.slippageUsd,
      feesUsd: cost.feesUsd,
      fundingUsd: cost.fundingUsd,
      totalUsd: cost.spreadUsd + cost.slippageUsd + cost.feesUsd + cost.fundingUsd,
      spreadCoin: cost.spread,
      slippageCoin: cost.slippage,
      feesCoin: cost.fees,
      fundingCoin: cost.funding,
      totalCoin: cost.spread + cost.slippage + cost.fees + cost.funding,
    },
    turnoverUsd,
    turnover: avgEq !== 0 ? turnoverUsd / avgEq : Number.NaN,
    metricsUsd: daily.length >= 2 ? performanceMetrics(eqUsd, ppy) : null,
    metricsCoin: daily.length >= 2 ? performanceMetrics(eqCoin, ppy) : null,
    finalEquityUsd: last.equityUsd,
    finalEquityCoin: last.equityCoin,
    final,
  };
}
