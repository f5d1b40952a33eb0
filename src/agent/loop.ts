/**
 * The agent loop: for each tick of the feed, check the feed's health and the kill switch, settle
 * expired options, value the book on the tick's market, decide, pass every order through the
 * pre-trade limits, send it, record the result.
 *
 * Valuation (valuation.ts, DESIGN.md "one market, one valuation"): each healthy tick's market is
 * THE core chain -> market step (chainMarketInputs on the tick's chain; with analytics, the
 * analytics' fitted surface pinned to the chain's marks), and the book's positions are core
 * Positions valued by core portfolioGreeks / bookEquity on it. Rules, limits, the optimizer,
 * margin, CVaR, the tick log and GET /state all read that one valuation. A position the market
 * cannot value (chainRiskMarket: another underlying, outside the listed expiries) is named with
 * its reason in the mode record, the tick log and `risk.unpriced`, and the agent goes
 * `reduce-only` while any exists: only orders that shrink a held position (limits.ts).
 *
 * Expired options (expiry at or before the tick's chain time) are settled before the valuation
 * (core splitExpired: the feed's delivery price when it has one, else intrinsic at the chain's
 * index, stated in the record): each settlement is journaled (`settlement`, with the amount
 * credited in the settlement currency) and folded into the book, so a restart replays to the same
 * book. A leg with no price to settle at stays in the book, unpriced (reduce-only).
 *
 * Durability (write-ahead): the decision (with its client order ids) is journaled and fsync'ed
 * before any order is sent; each order's result is journaled when the broker answers; a
 * `step-done` record closes the tick. On restart the book is rebuilt from the journaled fills and
 * settlements and an interrupted tick is finished: orders the broker already has are recorded
 * from the broker (found by client order id), the others are sent again under the same id (the
 * broker is idempotent on it). So a crash anywhere neither duplicates nor loses an order.
 *
 * Analytics (optional, `deps.analytics`; src/agent/analytics.ts): each healthy tick refits the
 * surface (every `recalibrateEveryTicks`), computes margin and CVaR on the tick's market; CVaR or
 * margin over its limit fires a risk-reducing rebalance; with `useOptimizer` every fired rule
 * other than a pure delta hedge runs the optimizer (optimizerRule.ts), whose run is journaled
 * (status, diagnosis, fallback) before the decision. The pre-trade check then gets the margin
 * before and after each order.
 *
 * The state (and GET /state, the tick log) describes the book after the tick's orders, on the
 * tick's market; `decidedOn` in the tick log holds the figures the tick decided on.
 *
 * Where the pieces live: the records, deps and state types in agentTypes.ts; the tick's mode,
 * timings and log line in tickReport.ts; an order's broker request and touch in
 * orderExecution.ts; the journal replay and the recovery gate in recovery.ts; the broker policy
 * (retries, abandonment) in brokerPolicy.ts. This file keeps the sequence: every journal write
 * happens here, in the order described above.
 */
import type { OrderState } from "../adapters/broker/types.js";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { ChainSnapshot } from "../core/market/types.js";
import type {
  AgentDeps,
  AgentMode,
  AgentState,
  DecidedOrder,
  DecisionRecord,
  JournalRecord,
  SettlementRecord,
} from "./agentTypes.js";
import { DEFAULT_MAX_DECISION_AGE_MS } from "./agentTypes.js";
import { AgentAnalytics } from "./analytics.js";
import { applyFill, applySettlement, EMPTY_BOOK } from "./book.js";
import {
  type BrokerErrorEvent,
  DEFAULT_BROKER_POLICY,
  lookupOrder,
  placeWithPolicy,
} from "./brokerPolicy.js";
import { type FeedHealthState, feedHealthStep, INITIAL_FEED_HEALTH } from "./feedHealth.js";
import type { HealthReason } from "./health.js";
import type { LimitCheck } from "./limits.js";
import { agentLpSolver, optimizerRebalance } from "./optimizerRule.js";
import { orderQuote, orderRequest } from "./orderExecution.js";
import {
  decideOrders,
  hedgeOrder,
  type PolicyConfig,
  type ProposedOrder,
  rollingPositions,
} from "./policy.js";
import {
  contractOf,
  equityUsdOf,
  preTradeCheck,
  type TickContext,
  TradingCounters,
  tickContext,
} from "./preTrade.js";
import { needsReconciliation, unconfirmedOrders } from "./reconcile.js";
import { type RecoveryBlock, recoveryBlock, replayJournal, type StepDoneRecord } from "./recovery.js";
import { AgentRegime, regimeScaledVegaTarget } from "./regime.js";
import { expiredKeys, settleExpiredLegs } from "./settle.js";
import { decidedOnOf, stepTimings, tickLogFields, tickMode } from "./tickReport.js";
import { type AgentRiskReport, agentRiskReport, type FittedSurface, valueAgentBook } from "./valuation.js";

export * from "./agentTypes.js";

export class Agent {
  readonly state: AgentState = {
    step: -1,
    mode: "trading",
    modeReasons: [],
    book: EMPTY_BOOK,
    risk: null,
    delta: 0,
    vega: 0,
    settlements: [],
    ordersSent: 0,
    fills: 0,
    limitRejections: 0,
    lastStepMs: {},
    recovered: null,
    marginUsd: null,
    cvarUsd: null,
    varUsd: null,
    surface: null,
    lastOptimizer: null,
    regime: null,
    vegaTargetPerVolPoint: Number.NaN,
    feedHealth: null,
    brokerErrors: 0,
    ordersAbandoned: 0,
    dayStart: null,
  };
  private readonly analytics: AgentAnalytics | null;
  private readonly regime: AgentRegime | null;
  /** The feed-health state machine (feedHealth.ts), restored from the last `step-done` on restart. */
  private feedState: FeedHealthState = INITIAL_FEED_HEALTH;
  private readonly counters: TradingCounters;
  private stopRequested = false;
  /** Orders abandoned by the broker policy that the venue may have: asked for at each tick (reconcile.ts). */
  private readonly unconfirmed = new Set<string>();
  /** The last valued tick's chain and fitted surface (what GET /state values the book on). */
  private lastMarket: { snapshot: ChainSnapshot; fitted: FittedSurface | null } | null = null;
  /** The optimizer rule's LP solver: loaded on first use, synchronous after (optimizerRule.ts). */
  private readonly lpSolver = agentLpSolver();

  constructor(private readonly deps: AgentDeps) {
    this.analytics = deps.analytics
      ? new AgentAnalytics(deps.analytics, (obj, msg) => deps.logger.warn(obj, msg))
      : null;
    this.regime = deps.regime ? new AgentRegime(deps.regime) : null;
    this.state.vegaTargetPerVolPoint = deps.policy.vegaTargetPerVolPoint;
    this.counters = new TradingCounters(deps.limits.orderWindowMs);
  }

  private clock(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** Asks the loop to stop after the current tick. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * The book's risk now, as GET /state reports it: agentRiskReport on the last valued tick's
   * chain (and the analytics' surface of that tick); null before the first valued tick.
   */
  currentRisk(): AgentRiskReport | null {
    const m = this.lastMarket;
    if (!m) return null;
    return agentRiskReport(m.snapshot, this.state.book, {
      resolveInstrument: this.deps.resolveInstrument,
      fitted: m.fitted,
    });
  }

  /** Runs until the feed ends (or maxSteps, or stop()). Resumes from the journal if it has one. */
  async run(): Promise<AgentState> {
    const { feed, journal } = this.deps;
    const startStep = await this.recover();
    if (startStep === 0)
      journal.append({ type: "start", runId: this.deps.runId, at: this.deps.now(0, null) });
    const last = Math.min(
      this.deps.maxSteps ?? Number.POSITIVE_INFINITY,
      feed.steps ?? Number.POSITIVE_INFINITY,
    );
    for (let step = startStep; step < last && !this.stopRequested; step++) {
      await this.tick(step);
      if (this.deps.pause) await this.deps.pause(step);
      // Let the HTTP endpoint and signal handlers run between ticks at any replay speed (speed 0
      // replays never wait on a timer, so without this a replay would hold the event loop).
      await yieldToEventLoop();
    }
    if (feed.steps !== null && this.state.step === feed.steps - 1)
      journal.append({ type: "finished", steps: feed.steps });
    return this.state;
  }

  private async tick(step: number): Promise<void> {
    if (this.unconfirmed.size > 0) await this.reconcile(step);
    const t0 = performance.now();
    const snapshot = await this.deps.feed.at(step);
    const t1 = performance.now();
    const now = this.deps.now(step, snapshot);
    const health = this.assessHealth(step, snapshot, now);
    const killed = this.deps.killed();
    const { ctx, noMarket, policy } = await this.tickMarket(step, snapshot, health.healthy);
    if (ctx) this.observeDay(step, now, ctx);
    const t2 = performance.now();
    const { mode, reasons, unpriced } = tickMode(killed, health, ctx, noMarket);
    this.setMode(step, mode, reasons);
    const trades = ctx && (mode === "trading" || mode === "reduce-only") ? ctx : null;
    const reduceOnly = mode === "reduce-only" ? reasons.join("; ") : null;
    const decided = trades ? await this.decide(step, trades, policy, reduceOnly) : null;
    const t3 = performance.now();
    const orders = trades ? await this.sendTick(step, trades, policy, reduceOnly, decided?.orders ?? []) : [];
    const t4 = performance.now();
    const decidedOn = decidedOnOf(ctx);
    if (ctx) this.valueAfterOrders(ctx);
    const t5 = performance.now();
    this.finishStep(step, mode, snapshot && health.healthy ? snapshot : null);
    const current = this.analytics?.current;
    this.state.lastStepMs = stepTimings(
      [t0, t1, t2, t3, t4, t5],
      decided?.optimizeMs ?? 0,
      this.analytics ? (current?.step === step ? current.ms : {}) : null,
    );
    this.deps.logger.info(
      tickLogFields(this.state, {
        step,
        mode,
        orders: orders.length,
        valued: ctx !== null,
        decidedOn,
        unpriced,
        analytics: this.analytics !== null,
        regime: this.regime !== null,
      }),
      "tick",
    );
  }

  /**
   * The tick's market on a healthy snapshot: the regime's policy, expired options settled, the
   * market and the book on it built (or why not). Nothing on an unhealthy or missing snapshot.
   */
  private async tickMarket(
    step: number,
    snapshot: ChainSnapshot | null,
    healthy: boolean,
  ): Promise<{ ctx: TickContext | null; noMarket: string | null; policy: PolicyConfig }> {
    if (!snapshot || !healthy) return { ctx: null, noMarket: null, policy: this.deps.policy };
    const policy = this.regimePolicy(step, snapshot);
    await this.settleExpired(step, snapshot);
    const built = this.buildTick(step, snapshot);
    return "reason" in built
      ? { ctx: null, noMarket: built.reason, policy }
      : { ctx: built, noMarket: null, policy };
  }

  /** The tick's orders before the hedge (policy rules, analytics' rules, the optimizer), with their ids. */
  private async decide(
    step: number,
    ctx: TickContext,
    policy: PolicyConfig,
    reduceOnly: string | null,
  ): Promise<{ orders: DecidedOrder[]; optimizeMs: number }> {
    const extra = await this.analyticsRules(step, ctx, policy, reduceOnly !== null);
    const orders = decideOrders({
      book: this.state.book,
      greeks: ctx.valuation.report.greeks,
      snapshot: ctx.snapshot,
      quotes: ctx.quotes,
      resolveInstrument: this.deps.resolveInstrument,
      config: policy,
      contractGreeks: (i) => contractOf(ctx, i),
      reduceOnly,
      ...extra.inputs,
      // The hedge is sized after these orders passed (or not) the limits and the broker.
      hedge: false,
    }).map((o, k) => ({ ...o, clientOrderId: `${this.deps.runId}-${step}-${k}` }));
    return { orders, optimizeMs: extra.optimizeMs };
  }

  /**
   * Journals the decision (write-ahead), sends its orders through the limits and the broker, then
   * decides and sends the hedge on the book they left. Returns every order decided.
   */
  private async sendTick(
    step: number,
    ctx: TickContext,
    policy: PolicyConfig,
    reduceOnly: string | null,
    orders: DecidedOrder[],
  ): Promise<DecidedOrder[]> {
    if (orders.length > 0) {
      this.deps.journal.append({ type: "decision", step, orders, wallAt: this.clock() });
      for (const order of orders) await this.execute(step, order, ctx, null);
    }
    const hedge = await this.hedgePhase(step, ctx, policy, reduceOnly, orders.length);
    return hedge ? [...orders, hedge] : orders;
  }

  /** The policy in force this tick: the configured one, its short-vol target scaled by the regime. */
  private regimePolicy(step: number, snapshot: ChainSnapshot): PolicyConfig {
    const base = this.deps.policy;
    if (!this.regime) return base;
    this.regime.observe(step, snapshot.indexPrice, snapshot.valuationTime);
    const view = this.regime.view(step);
    const previous = this.state.regime;
    this.state.regime = view;
    const target = regimeScaledVegaTarget(base.vegaTargetPerVolPoint, view.scale);
    this.state.vegaTargetPerVolPoint = target;
    if (previous && previous.scale !== view.scale)
      this.deps.logger.info(
        {
          step,
          highVolProbability: view.highVolProbability,
          scale: view.scale,
          vegaTargetPerVolPoint: target,
        },
        `regime: ${view.reason}`,
      );
    return target === base.vegaTargetPerVolPoint ? base : { ...base, vegaTargetPerVolPoint: target };
  }

  /**
   * Settles the book's options (and dated futures) expired at the chain's time: core splitExpired
   * at the feed's delivery price, else intrinsic at the chain's index. Each settlement is
   * journaled, then folded into the book; a leg with no price stays (unpriced).
   */
  private async settleExpired(step: number, snapshot: ChainSnapshot): Promise<void> {
    const keys = expiredKeys(this.state.book, snapshot, this.deps.resolveInstrument);
    if (keys.length === 0) return;
    const delivery = new Map<string, number | null>();
    const feed = this.deps.feed;
    if (feed.deliveryPrice)
      for (const k of keys)
        delivery.set(
          `${k.underlying}:${k.expiry}`,
          await feed.deliveryPrice(k.underlying, k.expiry).catch(() => null),
        );
    const r = settleExpiredLegs(
      step,
      this.state.book,
      snapshot,
      this.deps.resolveInstrument,
      (u, e) => delivery.get(`${u}:${e}`) ?? null,
    );
    for (const record of r.records) {
      this.deps.journal.append({ type: "settlement", ...record });
      this.applySettlement(record);
      this.deps.logger.info({ step, settlement: record }, `settled ${record.instrument}`);
    }
    for (const u of r.unsettled)
      this.deps.logger.warn({ step, instrument: u.instrument, detail: u.detail }, "expired leg not settled");
  }

  private applySettlement(record: SettlementRecord): void {
    this.state.book = applySettlement(this.state.book, record);
    this.state.settlements.push(record);
  }

  /** The tick's market and the book on it, with analytics (preTrade.ts tickContext). */
  private buildTick(step: number, snapshot: ChainSnapshot): TickContext | { reason: string } {
    const t = tickContext(this.analytics, step, snapshot, this.state.book, this.deps.resolveInstrument);
    if (!("reason" in t) && t.fit) this.state.surface = t.fit.info;
    return t;
  }

  /**
   * Feed health of the tick (feedHealth.ts): the state machine steps on, the reasons go to the
   * state (GET /state) and the log; an accepted move is logged.
   */
  private assessHealth(step: number, snapshot: ChainSnapshot | null, now: number) {
    const r = feedHealthStep(this.feedState, snapshot, now, this.deps.health);
    this.feedState = r.state;
    this.publishHealth(r.health.healthy, r.health.reasons);
    if (r.accepted)
      this.deps.logger.warn(
        { step, from: r.accepted.from, to: r.accepted.to },
        `feed health: index move ${r.accepted.from} -> ${r.accepted.to} accepted as the new level after ${this.deps.health?.jumpConfirmTicks ?? 3} consistent ticks`,
      );
    return r.health;
  }

  private publishHealth(healthy: boolean, reasons: readonly { code: HealthReason; detail: string }[]): void {
    const p = this.feedState.pending;
    this.state.feedHealth = {
      healthy,
      reasons: reasons.map((x) => ({ ...x })),
      level: this.feedState.level,
      pendingMove: p
        ? { index: p.index, ticks: p.ticks, needed: this.deps.health?.jumpConfirmTicks ?? 3 }
        : null,
    };
  }

  /** Sets the start-of-day equity at the first valued tick of a UTC day (decision clock); journaled. */
  private observeDay(step: number, now: number, ctx: TickContext): void {
    if (this.deps.limits.maxDailyLossUsd === undefined) return;
    const set = this.counters.observeDay(now, equityUsdOf(ctx.valuation));
    if (set) {
      this.deps.journal.append({ type: "day-start", step, day: set.day, equityUsd: set.equityUsd });
      this.deps.logger.info({ step, day: set.day, equityUsd: set.equityUsd }, "start-of-day equity");
    }
    this.state.dayStart =
      this.counters.dayStart && Number.isFinite(this.counters.dayStart.equityUsd)
        ? { ...this.counters.dayStart }
        : null;
  }

  /**
   * The tick's delta hedge, decided after its other orders went through the pre-trade limits and
   * the broker: sized on the book they left (an order the limits blocked or the broker did not
   * fill adds no delta), valued on the tick's market. Journaled as its own decision (phase
   * "hedge") before it is sent. Returns the hedge order, or null.
   */
  private async hedgePhase(
    step: number,
    ctx: TickContext,
    policy: PolicyConfig,
    reduceOnly: string | null,
    index: number,
  ): Promise<DecidedOrder | null> {
    if (reduceOnly) return null;
    const book = this.state.book;
    const v =
      book === ctx.book ? ctx.valuation : valueAgentBook(ctx.input, book, this.deps.resolveInstrument);
    // A leg the market cannot value makes the delta unknown: no hedge (reduce-only next tick).
    if (v.report.unpriced.length > 0) return null;
    const h = hedgeOrder({
      delta: v.report.greeks.deltaUnderlyingCoin,
      config: policy,
      resolveInstrument: this.deps.resolveInstrument,
      contractGreeks: (i) => contractOf(ctx, i),
    });
    if (!h) return null;
    const order = { ...h, clientOrderId: `${this.deps.runId}-${step}-${index}` };
    this.deps.journal.append({
      type: "decision",
      step,
      orders: [order],
      wallAt: this.clock(),
      phase: "hedge",
    });
    await this.execute(step, order, ctx, null);
    return order;
  }

  /** The analytics' inputs to the policy: a CVaR/margin breach, the optimizer's orders. */
  private async analyticsRules(
    step: number,
    ctx: TickContext,
    policy: PolicyConfig,
    reduceOnly: boolean,
  ): Promise<{ inputs: Partial<Parameters<typeof decideOrders>[0]>; optimizeMs: number }> {
    const analytics = this.analytics;
    const view = ctx.view;
    if (!analytics || !view) return { inputs: {}, optimizeMs: 0 };
    const cfg = analytics.config;
    const { limits } = this.deps;
    const breaches: string[] = [];
    if (cfg.maxCvarUsd !== undefined && view.cvarUsd > cfg.maxCvarUsd)
      breaches.push(`CVaR ${view.cvarUsd.toFixed(0)} USD > limit ${cfg.maxCvarUsd}`);
    if (limits.maxMarginUsd !== undefined && view.marginUsd > limits.maxMarginUsd)
      breaches.push(`margin ${view.marginUsd.toFixed(0)} USD > limit ${limits.maxMarginUsd}`);
    const inputs: Partial<Parameters<typeof decideOrders>[0]> = {
      riskReduction:
        breaches.length > 0 ? { reason: breaches.join("; "), fraction: cfg.reduceFraction } : null,
    };
    // Reduce-only: no optimizer (its trades may open positions); the risk rule only closes.
    if (!cfg.useOptimizer || reduceOnly) return { inputs, optimizeMs: 0 };
    const rolling = rollingPositions(
      this.state.book,
      ctx.snapshot.valuationTime,
      policy,
      this.deps.resolveInstrument,
    );
    const vegaPt = view.greeks.vegaUsdPerVolPt;
    const vegaOff = Math.abs(vegaPt - policy.vegaTargetPerVolPoint) > policy.vegaTolerancePerVolPoint;
    const reasons = [
      ...breaches,
      ...(vegaOff ? [`vega ${vegaPt.toFixed(1)} off target ${policy.vegaTargetPerVolPoint} USD/vol pt`] : []),
      ...(rolling.size > 0 ? [`roll ${[...rolling].join(", ")}`] : []),
    ];
    if (reasons.length === 0) return { inputs, optimizeMs: 0 };
    const t0 = performance.now();
    const solver = await this.lpSolver();
    const r = optimizerRebalance({
      view,
      positions: view.positions,
      rolling,
      policy,
      limits,
      analytics: cfg,
      resolveInstrument: this.deps.resolveInstrument,
      reason: reasons.join("; "),
      solver,
    });
    const optimizeMs = performance.now() - t0;
    const ok = r.status === "optimal";
    const fallback = ok ? null : cfg.optimizer.fallback;
    this.deps.journal.append({
      type: "optimizer",
      step,
      status: r.status,
      summary: r.summary,
      diagnosis: r.diagnosis,
      fallback,
    });
    this.state.lastOptimizer = { step, status: r.status, summary: r.summary, diagnosis: r.diagnosis };
    if (ok) return { inputs: { ...inputs, optimizerOrders: r.orders }, optimizeMs };
    this.deps.logger.warn(
      { step, status: r.status, diagnosis: r.diagnosis, fallback },
      fallback === "simple"
        ? "optimizer found no solution; falling back to the simple rules"
        : "optimizer found no solution; no option trade this tick (roll and delta hedge only)",
    );
    return fallback === "simple"
      ? { inputs, optimizeMs }
      : { inputs: { ...inputs, optimizerOrders: [] }, optimizeMs };
  }

  /** Sends one order through the limits; `existing` is the broker's state found during recovery. */
  private async execute(
    step: number,
    order: DecidedOrder,
    ctx: TickContext,
    existing: OrderState | null,
  ): Promise<void> {
    let state = existing;
    const at = this.deps.now(step, ctx.snapshot);
    if (!state) {
      if (!this.passesLimits(step, order, ctx, at)) return;
      const placed = await placeWithPolicy(
        this.deps.broker,
        orderRequest(order),
        orderQuote(order, ctx),
        this.deps.brokerPolicy ?? DEFAULT_BROKER_POLICY,
        (e) => this.onBrokerError(step, e),
        this.deps.sleep,
      );
      this.state.ordersSent++;
      this.counters.recordSent(at);
      if (!placed.ok) {
        this.state.ordersAbandoned++;
        if (needsReconciliation(placed.errorClass)) this.unconfirmed.add(order.clientOrderId);
        return;
      }
      state = placed.state;
    }
    this.deps.journal.append({ type: "order", step, state, at, ...(existing ? { recovered: true } : {}) });
    if (state.status === "rejected")
      this.deps.logger.warn(
        { step, clientOrderId: state.clientOrderId, reason: state.reason },
        "order rejected by the broker",
      );
    this.applyOrder(state);
  }

  /** The pre-trade check of `order`; a blocked order is journaled `limit-rejected` and logged. */
  private passesLimits(step: number, order: DecidedOrder, ctx: TickContext, at: number): boolean {
    const check = this.preTradeCheck(order, ctx, at);
    if (check.ok) return true;
    this.deps.journal.append({
      type: "limit-rejected",
      step,
      clientOrderId: order.clientOrderId,
      reason: check.reason,
      limit: check.limit,
    });
    this.state.limitRejections++;
    this.deps.logger.warn(
      { step, clientOrderId: order.clientOrderId, reason: check.reason },
      "order blocked by pre-trade limit",
    );
    return false;
  }

  /**
   * Asks the broker for each unconfirmed (abandoned) order by its client order id (reconcile.ts):
   * found, its state is journaled and booked; not found, journaled `reconciled`; a failed
   * lookup is asked again next tick. Nothing is sent, so it runs in every mode.
   */
  private async reconcile(step: number): Promise<void> {
    for (const id of [...this.unconfirmed]) {
      let found: OrderState | null;
      try {
        found = await lookupOrder(this.deps.broker, id, this.deps.brokerPolicy ?? DEFAULT_BROKER_POLICY);
      } catch (err) {
        this.deps.logger.warn(
          { step, clientOrderId: id, error: String((err as Error)?.message ?? err) },
          "reconcile: the broker could not say whether it has the abandoned order; asking again next tick",
        );
        continue;
      }
      this.unconfirmed.delete(id);
      if (found) {
        this.deps.journal.append({ type: "order", step, state: found, recovered: true, reconciled: true });
        this.deps.logger.warn(
          { step, clientOrderId: id, status: found.status, filled: found.filledQuantity },
          "reconcile: an abandoned order reached the venue; its fills are booked",
        );
        this.applyOrder(found);
      } else {
        const detail = "the venue has no order with this client order id a tick after it was abandoned";
        this.deps.journal.append({ type: "reconciled", step, clientOrderId: id, found: false, detail });
        this.deps.logger.info({ step, clientOrderId: id }, `reconcile: ${detail}`);
      }
    }
  }

  /** A broker exception (brokerPolicy.ts): counted, journaled `broker-error`, logged. */
  private onBrokerError(step: number, e: BrokerErrorEvent): void {
    this.state.brokerErrors++;
    this.deps.journal.append({ type: "broker-error", step, ...e });
    this.deps.logger.warn(
      { step, ...e },
      `broker error (${e.errorClass}) on ${e.clientOrderId}, attempt ${e.attempt}: ${e.action}`,
    );
  }

  /** The pre-trade limits for `order` on the tick's market and the book now (preTrade.ts). */
  private preTradeCheck(order: ProposedOrder, ctx: TickContext, at: number): LimitCheck {
    return preTradeCheck(order, {
      book: this.state.book,
      ctx,
      limits: this.deps.limits,
      resolveInstrument: this.deps.resolveInstrument,
      analytics: this.analytics,
      ordersInWindow: this.counters.inWindow(at),
      startOfDayEquityUsd: this.counters.startOfDay(at),
    });
  }

  private applyOrder(state: OrderState): void {
    for (const fill of state.fills) {
      this.state.book = applyFill(this.state.book, fill, this.deps.resolveInstrument(fill.instrument));
      this.state.fills++;
    }
  }

  private setMode(step: number, mode: AgentMode, reasons: string[]): void {
    const changed = mode !== this.state.mode || reasons.join("|") !== this.state.modeReasons.join("|");
    if (changed) {
      this.deps.journal.append({ type: "mode", step, mode, reasons });
      const log = mode === "trading" ? this.deps.logger.info : this.deps.logger.warn;
      log.call(
        this.deps.logger,
        { step, mode, reasons },
        mode === "trading" ? "trading resumed" : `entering ${mode} mode`,
      );
    }
    this.state.mode = mode;
    this.state.modeReasons = reasons;
  }

  /**
   * Values the book after the tick's orders on the tick's market: the state, the tick log and
   * GET /state show this (margin and CVaR too when analytics are on).
   */
  private valueAfterOrders(ctx: TickContext): void {
    // Books are immutable: a fill or settlement during the tick made a new one.
    const traded = this.state.book !== ctx.book;
    const v = traded
      ? valueAgentBook(ctx.input, this.state.book, this.deps.resolveInstrument)
      : ctx.valuation;
    this.setRisk(v.report);
    this.lastMarket = { snapshot: ctx.snapshot, fitted: ctx.fitted };
    if (!this.analytics || !ctx.fit || !ctx.view) return;
    const view = traded
      ? this.analytics.evaluate({
          step: ctx.step,
          market: v.market,
          snapshot: ctx.input.normalized.snapshot,
          positions: v.chain.accepted,
          greeks: v.report.greeks,
          surface: ctx.fit.info,
          fitMs: ctx.fit.fitMs,
        })
      : ctx.view;
    this.state.marginUsd = view.marginUsd;
    this.state.cvarUsd = view.cvarUsd;
    this.state.varUsd = view.varUsd;
  }

  /** Journals `step-done` with the book's delta and vega after the tick. */
  private finishStep(step: number, mode: AgentMode, healthy: ChainSnapshot | null): void {
    this.deps.journal.append({
      type: "step-done",
      step,
      delta: this.state.delta,
      vega: this.state.vega,
      mode,
      ...(healthy ? { index: healthy.indexPrice, time: healthy.valuationTime } : {}),
      feed: this.feedState,
    });
    this.state.step = step;
  }

  private setRisk(report: AgentRiskReport): void {
    this.state.risk = report;
    this.state.delta = report.greeks.deltaUnderlyingCoin;
    this.state.vega = report.greeks.vegaUsdPerVol;
  }

  /** Rebuilds the book from the journal, finishes an interrupted tick; returns the next tick. */
  private async recover(): Promise<number> {
    const { records, tornTail } = this.readJournal();
    if (records.length === 0) return 0;
    const replay = replayJournal(records, {
      state: this.state,
      counters: this.counters,
      applyOrder: (s) => this.applyOrder(s),
      applySettlement: (r) => this.applySettlement(r),
      stepDone: (r) => this.restoreStepDone(r),
    });
    for (const id of unconfirmedOrders(records)) this.unconfirmed.add(id);
    let lastDone = replay.lastDone;
    this.state.step = lastDone;
    const counts = { fromBroker: 0, resent: 0, cancelled: 0 };
    const pending = replay.pending;
    const interrupted = pending && pending.step > lastDone ? pending : null;
    const restoreStep = interrupted ? interrupted.step : lastDone;
    if (this.analytics && restoreStep >= 0)
      await this.analytics.restore(restoreStep, (s) => this.deps.feed.at(s));
    if (interrupted) {
      await this.finishInterruptedTick(interrupted, replay.handled, counts);
      lastDone = interrupted.step;
    }
    this.state.recovered = {
      fromStep: lastDone + 1,
      ordersFromBroker: counts.fromBroker,
      ordersResent: counts.resent,
      ordersCancelled: counts.cancelled,
      tornTail,
    };
    this.deps.logger.warn(
      { recovered: this.state.recovered, fills: this.state.fills },
      "resumed from journal",
    );
    return lastDone + 1;
  }

  /** The journal's complete records; a torn tail (an interrupted write) is truncated and logged. */
  private readJournal(): { records: JournalRecord[]; tornTail: boolean } {
    const read = this.deps.journal.read({ repair: true });
    if (read.tornTail)
      this.deps.logger.warn(
        {
          journal: this.deps.journal.path,
          tornBytes: read.tornBytes,
          line: read.tornLine,
          truncated: read.truncated,
        },
        `journal: torn tail (${read.tornBytes} bytes from line ${read.tornLine}, an interrupted write) truncated; resuming from the last complete record`,
      );
    return { records: read.records, tornTail: read.tornTail };
  }

  /** A completed tick of the journal: the feed-health state after it, the regime's history. */
  private restoreStepDone(r: StepDoneRecord): void {
    // The feed-health state after that tick (a journal before it had none: the level is the
    // last healthy index, no move pending).
    this.feedState = r.feed ?? {
      lastTime: r.time ?? this.feedState.lastTime,
      level: r.index ?? this.feedState.level,
      pending: null,
    };
    if (this.regime && r.index !== undefined && r.time !== undefined)
      this.regime.observe(r.step, r.index, r.time);
  }

  /**
   * Finishes the interrupted tick of `decision` (recovery is a new decision, not a replay): an
   * unsent order goes out only if the kill switch is off, the decision is recent, the tick's feed
   * is healthy now and its market builds; then the pre-trade limits check it on that market
   * (execute). Then its hedge when it had not been decided, its valuation and `step-done`.
   */
  private async finishInterruptedTick(
    decision: DecisionRecord,
    handled: ReadonlySet<string>,
    counts: { fromBroker: number; resent: number; cancelled: number },
  ): Promise<void> {
    const step = decision.step;
    const snapshot = await this.deps.feed.at(step);
    // That tick's market (surface restored above), for the pre-trade checks. The tick's
    // settlements were journaled before its decision and are already in the book.
    const built = snapshot ? this.buildTick(step, snapshot) : null;
    const ctx = built && !("reason" in built) ? built : null;
    const ageMs = decision.wallAt === undefined ? null : this.clock() - decision.wallAt;
    // The feed health of that tick, from the state before it (as the uninterrupted run had it).
    const health = this.assessHealth(step, snapshot, this.deps.now(step, snapshot));
    const blocked = recoveryBlock({
      killed: this.deps.killed(),
      ageMs,
      maxAgeMs: this.deps.maxDecisionAgeMs ?? DEFAULT_MAX_DECISION_AGE_MS,
      health,
      noMarket: ctx ? null : built && "reason" in built ? built.reason : "no snapshot for the tick",
    });
    for (const order of decision.orders) {
      if (handled.has(order.clientOrderId)) continue;
      counts[await this.recoverOrder(step, order, ctx, blocked)]++;
    }
    // The interrupted tick's hedge, when it had not been decided yet: sized now on the book its
    // orders left, as the uninterrupted run would have (only when recovery may send at all).
    if (ctx && !blocked && decision.phase !== "hedge" && this.state.mode === "trading") {
      await this.hedgePhase(step, ctx, this.deps.policy, null, decision.orders.length);
    }
    // The interrupted tick was healthy (it decided): its index belongs to the regime history.
    if (snapshot) this.regime?.observe(step, snapshot.indexPrice, snapshot.valuationTime);
    if (ctx) this.valueAfterOrders(ctx);
    this.finishStep(step, this.state.mode, snapshot);
  }

  /**
   * One unsent order of the interrupted tick: recorded from the broker when the broker has it
   * (found by client order id), else cancelled when recovery is blocked, else sent again under
   * the same id through the limits and the broker policy (the broker is idempotent on it).
   */
  private async recoverOrder(
    step: number,
    order: DecidedOrder,
    ctx: TickContext | null,
    blocked: RecoveryBlock | null,
  ): Promise<"fromBroker" | "cancelled" | "resent"> {
    const existing = await this.deps.broker.getOrder(order.clientOrderId).catch((err: unknown) => {
      this.deps.logger.warn(
        { step, clientOrderId: order.clientOrderId, error: String((err as Error)?.message ?? err) },
        "recovery: the broker could not say whether it has the order",
      );
      return null;
    });
    if (existing) {
      this.deps.journal.append({ type: "order", step, state: existing, recovered: true });
      this.applyOrder(existing);
      return "fromBroker";
    }
    if (blocked || !ctx) {
      const reason = blocked?.reason ?? "no-market";
      const detail = blocked?.detail ?? "no market";
      this.deps.journal.append({
        type: "cancelled",
        step,
        clientOrderId: order.clientOrderId,
        reason,
        detail,
      });
      this.deps.logger.warn(
        { step, clientOrderId: order.clientOrderId, reason, detail },
        `recovery: unsent order cancelled (${reason})`,
      );
      return "cancelled";
    }
    await this.execute(step, order, ctx, null);
    return "resent";
  }
}
