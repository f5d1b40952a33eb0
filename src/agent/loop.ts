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
 */
import type { Broker, OrderState } from "../adapters/broker/types.js";
import type { Journal } from "../adapters/journal.js";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { AgentAnalytics, type SurfaceInfo } from "./analytics.js";
import { type AgentBook, applyFill, applySettlement, EMPTY_BOOK } from "./book.js";
import {
  type BrokerErrorClass,
  type BrokerPolicy,
  DEFAULT_BROKER_POLICY,
  placeWithPolicy,
} from "./brokerPolicy.js";
import type { AgentAnalyticsConfig } from "./config.js";
import { type FeedHealthState, feedHealthStep, INITIAL_FEED_HEALTH } from "./feedHealth.js";
import type { HealthLimits, HealthReason } from "./health.js";
import type { LimitCheck, PreTradeLimits } from "./limits.js";
import { agentLpSolver, optimizerRebalance } from "./optimizerRule.js";
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
import { expiredKeys, type SettlementRecord, settleExpiredLegs } from "./settle.js";
import { AgentRegime, type AgentRegimeConfig, type RegimeView, regimeScaledVegaTarget } from "./regime.js";
import { type AgentRiskReport, agentRiskReport, type FittedSurface, valueAgentBook } from "./valuation.js";

/**
 * trading: all rules; reduce-only: a position the market cannot value is held (only orders that
 * shrink a position); safe: bad or missing data, or no market (no orders); killed: kill switch.
 */
export type AgentMode = "trading" | "reduce-only" | "safe" | "killed";

export type { SettlementRecord } from "./settle.js";

export type JournalRecord =
  | { type: "start"; runId: string; at: number }
  | { type: "mode"; step: number; mode: AgentMode; reasons: string[] }
  | {
      type: "decision";
      step: number;
      orders: (ProposedOrder & { clientOrderId: string })[];
      /** Wall-clock time of the decision, epoch ms (a recovered decision older than the maximum age is cancelled). */
      wallAt?: number;
      /**
       * "hedge": the tick's delta hedge, decided after its other orders went through the limits
       * and the broker, on the book they left (absent: the tick's first decision).
       */
      phase?: "hedge";
    }
  | { type: "limit-rejected"; step: number; clientOrderId: string; reason: string; limit?: string }
  | {
      /** An interrupted tick's unsent order that recovery did not send (re-checked at restart). */
      type: "cancelled";
      step: number;
      clientOrderId: string;
      reason: RecoveryCancelReason;
      detail: string;
    }
  | {
      type: "optimizer";
      step: number;
      status: string;
      summary: string;
      diagnosis: string | null;
      /** What was done instead when the optimizer found no solution. */
      fallback: "none" | "simple" | null;
    }
  | {
      type: "order";
      step: number;
      state: OrderState;
      recovered?: boolean;
      /** Decision-clock time the order was sent (the order-rate window), epoch ms. */
      at?: number;
    }
  | {
      /** A broker exception and what the broker policy did about it (brokerPolicy.ts). */
      type: "broker-error";
      step: number;
      clientOrderId: string;
      errorClass: BrokerErrorClass;
      attempt: number;
      message: string;
      action: "retry" | "abandon" | "found";
    }
  | {
      /** The book's equity at the first valued tick of a UTC day (the daily-loss limit's base). */
      type: "day-start";
      step: number;
      day: string;
      equityUsd: number;
    }
  | ({ type: "settlement" } & SettlementRecord)
  | {
      type: "step-done";
      step: number;
      /** The book after the tick: deltaUnderlyingCoin (coins) and vega (USD per 1.00 vol). */
      delta: number;
      vega: number;
      mode: AgentMode;
      /** Index price (USD) and time (epoch ms) of a healthy tick: the regime signal's history. */
      index?: number;
      time?: number;
      /** The feed-health state after the tick (feedHealth.ts): a restart decides as if uninterrupted. */
      feed?: FeedHealthState;
    }
  | { type: "finished"; steps: number };

/**
 * Why recovery cancelled an interrupted tick's unsent order: the kill switch is engaged, the
 * decision is older than `maxDecisionAgeMs` (or has no time: a version-1 journal), the tick's
 * feed is unhealthy now, or no market can be built from it. (An order the limits reject on the
 * current market is journaled `limit-rejected` as on any tick.)
 */
export type RecoveryCancelReason = "kill-switch" | "stale-decision" | "feed-unhealthy" | "no-market";

/** Default maximum age of a decision recovery may still send, ms. */
export const DEFAULT_MAX_DECISION_AGE_MS = 60_000;

/** A source of snapshots addressed by tick number (replay: random access; live: the next tick). */
export interface AgentFeed {
  /** Number of ticks, or null for an endless live feed. */
  readonly steps: number | null;
  /** The snapshot of tick `step`, or null when the feed has nothing usable (missing data). */
  at(step: number): Promise<ChainSnapshot | null>;
  /** The venue's settlement (delivery) price of (underlying, expiry), USD, when the feed knows it. */
  deliveryPrice?(underlying: string, expiry: number): Promise<number | null>;
}

export interface AgentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AgentDeps {
  readonly runId: string;
  readonly feed: AgentFeed;
  readonly broker: Broker;
  readonly journal: Journal<JournalRecord>;
  readonly resolveInstrument: (name: string) => Instrument;
  readonly policy: PolicyConfig;
  readonly limits: PreTradeLimits;
  readonly health?: HealthLimits;
  /** Decision time of a tick (replay: the tick's scheduled time; live: the wall clock). */
  readonly now: (step: number, snapshot: ChainSnapshot | null) => number;
  /** True while the kill switch is engaged. */
  readonly killed: () => boolean;
  readonly logger: AgentLogger;
  /** Wait between ticks (replay speed), ms; default none. */
  readonly pause?: (step: number) => Promise<void>;
  /** Stop after this many ticks (default: the feed's length). */
  readonly maxSteps?: number;
  /** Surface refits, risk-engine greeks, margin, CVaR, CVaR/margin rules, optimizer (optional). */
  readonly analytics?: AgentAnalyticsConfig;
  /** HMM regime signal scaling a short-vol target down as the high-vol probability rises. */
  readonly regime?: AgentRegimeConfig;
  /** Wall clock, epoch ms (decision age at recovery); default Date.now. */
  readonly clock?: () => number;
  /** An interrupted tick's unsent orders older than this at restart are cancelled, ms (default 60 s). */
  readonly maxDecisionAgeMs?: number;
  /** Retries, backoff and timeout of broker calls (brokerPolicy.ts; default 2 retries, 500 ms, 10 s). */
  readonly brokerPolicy?: BrokerPolicy;
  /** The wait between broker retries (tests: instant); default a timer. */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

export interface AgentState {
  step: number;
  mode: AgentMode;
  modeReasons: string[];
  book: AgentBook;
  /**
   * The book's risk on the last valued tick's market after that tick's orders (valuation.ts
   * AgentRiskReport: greeks with units, equity, unpriced positions); null before the first one.
   */
  risk: AgentRiskReport | null;
  /** risk.greeks.deltaUnderlyingCoin (coins) and risk.greeks.vegaUsdPerVol (USD per 1.00 vol). */
  delta: number;
  vega: number;
  /** Expired options settled out of the book, in order. */
  settlements: SettlementRecord[];
  ordersSent: number;
  fills: number;
  limitRejections: number;
  lastStepMs: Record<string, number>;
  recovered: {
    fromStep: number;
    ordersFromBroker: number;
    ordersResent: number;
    /** Unsent orders of the interrupted tick that recovery cancelled, by reason. */
    ordersCancelled: number;
    tornTail: boolean;
  } | null;
  /** Analytics (null without `deps.analytics` or before the first surface): initial margin, USD. */
  marginUsd: number | null;
  /** CVaR and VaR of the book at the configured confidence and horizon, USD (loss > 0). */
  cvarUsd: number | null;
  varUsd: number | null;
  surface: SurfaceInfo | null;
  /** The last optimizer run. */
  lastOptimizer: { step: number; status: string; summary: string; diagnosis: string | null } | null;
  /** The regime signal at the last healthy tick (null without `deps.regime`). */
  regime: RegimeView | null;
  /** The vega target in force after the regime scale, USD per vol point. */
  vegaTargetPerVolPoint: number;
  /**
   * Feed health of the last tick: each problem with its code (health.ts HealthReason) and
   * detail, the accepted index level and a move waiting to be accepted (feedHealth.ts).
   */
  feedHealth: {
    healthy: boolean;
    reasons: { code: HealthReason; detail: string }[];
    level: number | null;
    pendingMove: { index: number; ticks: number; needed: number } | null;
  } | null;
  /** Broker exceptions seen (each journaled `broker-error`) and orders abandoned by the broker policy. */
  brokerErrors: number;
  ordersAbandoned: number;
  /** The book's equity at the start of the UTC day (daily-loss limit), USD. */
  dayStart: { day: string; equityUsd: number } | null;
}

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
    const t0 = performance.now();
    const snapshot = await this.deps.feed.at(step);
    const t1 = performance.now();
    const now = this.deps.now(step, snapshot);
    const health = this.assessHealth(step, snapshot, now);
    const killed = this.deps.killed();
    let ctx: TickContext | null = null;
    let noMarket: string | null = null;
    let policy = this.deps.policy;
    if (snapshot && health.healthy) {
      policy = this.regimePolicy(step, snapshot);
      await this.settleExpired(step, snapshot);
      const built = this.buildTick(step, snapshot);
      if ("reason" in built) noMarket = built.reason;
      else ctx = built;
    }
    if (ctx) this.observeDay(step, now, ctx);
    const t2 = performance.now();
    const unpriced = ctx?.valuation.report.unpriced ?? [];
    const mode: AgentMode = killed
      ? "killed"
      : !ctx
        ? "safe"
        : unpriced.length > 0
          ? "reduce-only"
          : "trading";
    const reasons =
      mode === "killed"
        ? ["kill switch engaged"]
        : !health.healthy
          ? health.reasons.map((r) => `${r.code}: ${r.detail}`)
          : noMarket !== null
            ? [`no-market: ${noMarket}`]
            : unpriced.map((u) => `unpriced ${u.instrument} (${u.quantity}): ${u.reason}: ${u.detail}`);
    this.setMode(step, mode, reasons);
    let orders: (ProposedOrder & { clientOrderId: string })[] = [];
    let tOpt = 0;
    if (ctx && (mode === "trading" || mode === "reduce-only")) {
      const reduceOnly = mode === "reduce-only" ? reasons.join("; ") : null;
      const c = ctx;
      const extra = await this.analyticsRules(step, c, policy, reduceOnly !== null);
      tOpt = extra.optimizeMs;
      orders = decideOrders({
        book: this.state.book,
        greeks: c.valuation.report.greeks,
        snapshot: c.snapshot,
        quotes: c.quotes,
        resolveInstrument: this.deps.resolveInstrument,
        config: policy,
        contractGreeks: (i) => contractOf(c, i),
        reduceOnly,
        ...extra.inputs,
        // The hedge is sized after these orders passed (or not) the limits and the broker.
        hedge: false,
      }).map((o, k) => ({ ...o, clientOrderId: `${this.deps.runId}-${step}-${k}` }));
    }
    const t3 = performance.now();
    if (ctx && (mode === "trading" || mode === "reduce-only")) {
      if (orders.length > 0) {
        this.deps.journal.append({ type: "decision", step, orders, wallAt: this.clock() });
        for (const order of orders) await this.execute(step, order, ctx, null);
      }
      const hedge = await this.hedgePhase(
        step,
        ctx,
        policy,
        mode === "reduce-only" ? reasons.join("; ") : null,
        orders.length,
      );
      if (hedge) orders = [...orders, hedge];
    }
    const t4 = performance.now();
    const decidedOn = ctx
      ? {
          deltaUnderlyingCoin: ctx.valuation.report.greeks.deltaUnderlyingCoin,
          vegaUsdPerVolPt: ctx.valuation.report.greeks.vegaUsdPerVolPt,
          ...(ctx.view ? { marginUsd: ctx.view.marginUsd, cvarUsd: ctx.view.cvarUsd } : {}),
        }
      : null;
    if (ctx) this.valueAfterOrders(ctx);
    const t5 = performance.now();
    this.finishStep(step, mode, snapshot && health.healthy ? snapshot : null);
    this.state.lastStepMs = {
      ingest: t1 - t0,
      risk: t2 - t1 + (t5 - t4),
      decide: t3 - t2,
      orders: t4 - t3,
      total: t5 - t0,
      ...(this.analytics
        ? {
            optimize: tOpt,
            ...Object.fromEntries(
              Object.entries(this.analytics.current?.step === step ? this.analytics.current.ms : {}).map(
                ([k, v]) => [`analytics.${k}`, v],
              ),
            ),
          }
        : {}),
    };
    const g = this.state.risk?.greeks;
    this.deps.logger.info(
      {
        step,
        mode,
        orders: orders.length,
        delta: this.state.delta,
        vega: this.state.vega,
        ...(g && ctx
          ? {
              risk: {
                deltaUnderlyingCoin: g.deltaUnderlyingCoin,
                vegaUsdPerVolPt: g.vegaUsdPerVolPt,
                thetaUsdPerDay: g.thetaUsdPerDay,
                equityUsd: this.state.risk?.equity.equityUsd,
              },
              decidedOn,
            }
          : {}),
        ...(unpriced.length > 0
          ? { unpriced: unpriced.map((u) => ({ instrument: u.instrument, reason: u.reason })) }
          : {}),
        ...(this.analytics
          ? {
              marginUsd: this.state.marginUsd,
              cvarUsd: this.state.cvarUsd,
              surface: this.state.surface
                ? {
                    rmseVolPts: this.state.surface.rmseVolPts,
                    ageTicks: this.state.surface.ageTicks,
                    refitted: this.state.surface.refitted,
                  }
                : null,
            }
          : {}),
        ...(this.regime && this.state.regime
          ? {
              regime: {
                highVolProbability: this.state.regime.highVolProbability,
                scale: this.state.regime.scale,
                vegaTargetPerVolPoint: this.state.vegaTargetPerVolPoint,
              },
            }
          : {}),
        ms: this.state.lastStepMs,
      },
      "tick",
    );
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
  ): Promise<(ProposedOrder & { clientOrderId: string }) | null> {
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
    order: ProposedOrder & { clientOrderId: string },
    ctx: TickContext,
    existing: OrderState | null,
  ): Promise<void> {
    let state = existing;
    const at = this.deps.now(step, ctx.snapshot);
    if (!state) {
      const check = this.preTradeCheck(order, ctx, at);
      if (!check.ok) {
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
        return;
      }
      const { snapshot } = ctx;
      const q = ctx.quotes.get(order.instrument);
      const quote = q
        ? {
            bid: q.bid,
            ask: q.ask,
            bidSize: q.bidSize ?? null,
            askSize: q.askSize ?? null,
            underlyingPrice: q.underlyingPrice ?? snapshot.indexPrice,
            timestamp: snapshot.valuationTime,
          }
        : {
            // Futures hedge: the perpetual trades around the index (half a tick each side).
            bid: snapshot.indexPrice - 0.25,
            ask: snapshot.indexPrice + 0.25,
            bidSize: null,
            askSize: null,
            underlyingPrice: snapshot.indexPrice,
            timestamp: snapshot.valuationTime,
          };
      const placed = await placeWithPolicy(
        this.deps.broker,
        {
          clientOrderId: order.clientOrderId,
          instrument: order.instrument,
          side: order.side,
          quantity: order.quantity,
          limitPrice: order.limitPrice,
        },
        quote,
        this.deps.brokerPolicy ?? DEFAULT_BROKER_POLICY,
        (e) => {
          this.state.brokerErrors++;
          this.deps.journal.append({ type: "broker-error", step, ...e });
          this.deps.logger.warn(
            { step, ...e },
            `broker error (${e.errorClass}) on ${e.clientOrderId}, attempt ${e.attempt}: ${e.action}`,
          );
        },
        this.deps.sleep,
      );
      this.state.ordersSent++;
      this.counters.recordSent(at);
      if (!placed.ok) {
        this.state.ordersAbandoned++;
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
    const read = this.deps.journal.read({ repair: true });
    const { records, tornTail } = read;
    if (tornTail)
      this.deps.logger.warn(
        {
          journal: this.deps.journal.path,
          tornBytes: read.tornBytes,
          line: read.tornLine,
          truncated: read.truncated,
        },
        `journal: torn tail (${read.tornBytes} bytes from line ${read.tornLine}, an interrupted write) truncated; resuming from the last complete record`,
      );
    if (records.length === 0) return 0;
    const applied = new Set<string>();
    let lastDone = -1;
    let pending: Extract<JournalRecord, { type: "decision" }> | null = null;
    const handled = new Set<string>();
    for (const r of records) {
      if (r.type === "order") {
        handled.add(r.state.clientOrderId);
        if (r.at !== undefined && !applied.has(r.state.clientOrderId) && !r.recovered)
          this.counters.recordSent(r.at);
        if (!applied.has(r.state.clientOrderId)) {
          applied.add(r.state.clientOrderId);
          this.applyOrder(r.state);
        }
      } else if (r.type === "settlement") {
        const { type: _t, ...record } = r;
        this.applySettlement(record);
      } else if (r.type === "limit-rejected") {
        handled.add(r.clientOrderId);
        this.state.limitRejections++;
      } else if (r.type === "cancelled") {
        handled.add(r.clientOrderId);
      } else if (r.type === "broker-error") {
        this.state.brokerErrors++;
        if (r.action === "abandon") {
          handled.add(r.clientOrderId);
          this.state.ordersAbandoned++;
        }
      } else if (r.type === "day-start") {
        this.counters.dayStart = { day: r.day, equityUsd: r.equityUsd };
        this.state.dayStart = { day: r.day, equityUsd: r.equityUsd };
      } else if (r.type === "step-done") {
        lastDone = r.step;
        // The feed-health state after that tick (a journal before it had none: the level is
        // the last healthy index, no move pending).
        this.feedState = r.feed ?? {
          lastTime: r.time ?? this.feedState.lastTime,
          level: r.index ?? this.feedState.level,
          pending: null,
        };
        if (this.regime && r.index !== undefined && r.time !== undefined)
          this.regime.observe(r.step, r.index, r.time);
        this.state.mode = r.mode;
      } else if (r.type === "decision") {
        pending = r;
      } else if (r.type === "mode") {
        this.state.mode = r.mode;
        this.state.modeReasons = r.reasons;
      }
    }
    this.state.step = lastDone;
    let fromBroker = 0;
    let resent = 0;
    let cancelled = 0;
    const pendingDecision = pending as Extract<JournalRecord, { type: "decision" }> | null;
    const restoreStep = pendingDecision && pendingDecision.step > lastDone ? pendingDecision.step : lastDone;
    if (this.analytics && restoreStep >= 0)
      await this.analytics.restore(restoreStep, (s) => this.deps.feed.at(s));
    if (pendingDecision && pendingDecision.step > lastDone) {
      const step = pendingDecision.step;
      const snapshot = await this.deps.feed.at(step);
      // That tick's market (surface restored above), for the pre-trade checks. The tick's
      // settlements were journaled before its decision and are already in the book.
      const built = snapshot ? this.buildTick(step, snapshot) : null;
      const ctx = built && !("reason" in built) ? built : null;
      // Recovery is a new decision, not a replay: an unsent order goes out only if the kill
      // switch is off, the decision is recent, the tick's feed is healthy now and its market
      // builds; then the pre-trade limits check it on that market (execute).
      const age = pendingDecision.wallAt === undefined ? null : this.clock() - pendingDecision.wallAt;
      const maxAge = this.deps.maxDecisionAgeMs ?? DEFAULT_MAX_DECISION_AGE_MS;
      // The feed health of that tick, from the state before it (as the uninterrupted run had it).
      const health = this.assessHealth(step, snapshot, this.deps.now(step, snapshot));
      const blocked: { reason: RecoveryCancelReason; detail: string } | null = this.deps.killed()
        ? { reason: "kill-switch", detail: "kill switch engaged at restart" }
        : age === null || !(age <= maxAge)
          ? {
              reason: "stale-decision",
              detail:
                age === null
                  ? "the decision has no time (version-1 journal)"
                  : `decided ${(age / 1000).toFixed(1)} s ago > max ${(maxAge / 1000).toFixed(1)} s`,
            }
          : !health.healthy
            ? {
                reason: "feed-unhealthy",
                detail: health.reasons.map((r) => `${r.code}: ${r.detail}`).join("; "),
              }
            : !ctx
              ? {
                  reason: "no-market",
                  detail: built && "reason" in built ? built.reason : "no snapshot for the tick",
                }
              : null;
      for (const order of pendingDecision.orders) {
        if (handled.has(order.clientOrderId)) continue;
        // A broker that cannot answer here: the order goes through the broker policy like a new
        // one (idempotent on its client order id), or is cancelled when recovery is blocked.
        const existing = await this.deps.broker.getOrder(order.clientOrderId).catch((err: unknown) => {
          this.deps.logger.warn(
            { step, clientOrderId: order.clientOrderId, error: String((err as Error)?.message ?? err) },
            "recovery: the broker could not say whether it has the order",
          );
          return null;
        });
        if (existing) {
          fromBroker++;
          this.deps.journal.append({ type: "order", step, state: existing, recovered: true });
          this.applyOrder(existing);
        } else if (blocked || !ctx) {
          cancelled++;
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
        } else {
          resent++;
          await this.execute(step, order, ctx, null);
        }
      }
      // The interrupted tick's hedge, when it had not been decided yet: sized now on the book its
      // orders left, as the uninterrupted run would have (only when recovery may send at all).
      if (ctx && !blocked && pendingDecision.phase !== "hedge" && this.state.mode === "trading") {
        await this.hedgePhase(step, ctx, this.deps.policy, null, pendingDecision.orders.length);
      }
      if (snapshot) {
        // The interrupted tick was healthy (it decided): its index belongs to the regime history.
        this.regime?.observe(step, snapshot.indexPrice, snapshot.valuationTime);
      }
      if (ctx) this.valueAfterOrders(ctx);
      this.finishStep(step, this.state.mode, snapshot);
      lastDone = step;
    }
    this.state.recovered = {
      fromStep: lastDone + 1,
      ordersFromBroker: fromBroker,
      ordersResent: resent,
      ordersCancelled: cancelled,
      tornTail,
    };
    this.deps.logger.warn(
      { recovered: this.state.recovered, fills: this.state.fills },
      "resumed from journal",
    );
    return lastDone + 1;
  }
}
