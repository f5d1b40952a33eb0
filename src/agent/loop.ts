/**
 * The agent loop: for each tick of the feed, check the feed's health and the kill switch, value
 * the book, decide, pass every order through the pre-trade limits, send it, record the result.
 *
 * Durability (write-ahead): the decision (with its client order ids) is journaled and fsync'ed
 * before any order is sent; each order's result is journaled when the broker answers; a
 * `step-done` record closes the tick. On restart the book is rebuilt from the journaled fills and
 * an interrupted tick is finished: orders the broker already has are recorded from the broker
 * (found by client order id), the others are sent again under the same id (the broker is
 * idempotent on it). So a crash anywhere neither duplicates nor loses an order.
 *
 * Analytics (optional, `deps.analytics`; src/agent/analytics.ts): each healthy tick refits the
 * surface (every `recalibrateEveryTicks`), values the book on it (risk-engine greeks), computes
 * margin and CVaR; CVaR or margin over its limit fires a risk-reducing rebalance; with
 * `useOptimizer` every fired rule other than a pure delta hedge runs the optimizer
 * (optimizerRule.ts), whose run is journaled (status, diagnosis, fallback) before the decision.
 * The pre-trade check then gets the margin before and after each order. Without analytics the
 * loop behaves exactly as before.
 */
import type { Broker, OrderState } from "../adapters/broker/types.js";
import type { Journal } from "../adapters/journal.js";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot, OptionQuote } from "../core/market/types.js";
import { AgentAnalytics, bookPositions, type SurfaceInfo } from "./analytics.js";
import { type AgentBook, applyFill, EMPTY_BOOK } from "./book.js";
import type { AgentAnalyticsConfig } from "./config.js";
import { assessFeed, type HealthLimits } from "./health.js";
import { checkOrder, type PreTradeLimits } from "./limits.js";
import { optimizerRebalance } from "./optimizerRule.js";
import { decideOrders, type PolicyConfig, type ProposedOrder, rollingPositions } from "./policy.js";
import { AgentRegime, type AgentRegimeConfig, type RegimeView, regimeScaledVegaTarget } from "./regime.js";
import { type BookRisk, bookRisk, optionContractGreeks, quoteIndex } from "./valuation.js";

export type AgentMode = "trading" | "safe" | "killed";

export type JournalRecord =
  | { type: "start"; runId: string; at: number }
  | { type: "mode"; step: number; mode: AgentMode; reasons: string[] }
  | { type: "decision"; step: number; orders: (ProposedOrder & { clientOrderId: string })[] }
  | { type: "limit-rejected"; step: number; clientOrderId: string; reason: string; limit?: string }
  | {
      type: "optimizer";
      step: number;
      status: string;
      summary: string;
      diagnosis: string | null;
      /** What was done instead when the optimizer found no solution. */
      fallback: "none" | "simple" | null;
    }
  | { type: "order"; step: number; state: OrderState; recovered?: boolean }
  | {
      type: "step-done";
      step: number;
      delta: number;
      vega: number;
      mode: AgentMode;
      /** Index price (USD) and time (epoch ms) of a healthy tick: the regime signal's history. */
      index?: number;
      time?: number;
    }
  | { type: "finished"; steps: number };

/** A source of snapshots addressed by tick number (replay: random access; live: the next tick). */
export interface AgentFeed {
  /** Number of ticks, or null for an endless live feed. */
  readonly steps: number | null;
  /** The snapshot of tick `step`, or null when the feed has nothing usable (missing data). */
  at(step: number): Promise<ChainSnapshot | null>;
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
}

export interface AgentState {
  step: number;
  mode: AgentMode;
  modeReasons: string[];
  book: AgentBook;
  delta: number;
  vega: number;
  ordersSent: number;
  fills: number;
  limitRejections: number;
  lastStepMs: Record<string, number>;
  recovered: { fromStep: number; ordersFromBroker: number; ordersResent: number; tornTail: boolean } | null;
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
}

export class Agent {
  readonly state: AgentState = {
    step: -1,
    mode: "trading",
    modeReasons: [],
    book: EMPTY_BOOK,
    delta: 0,
    vega: 0,
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
  };
  private readonly analytics: AgentAnalytics | null;
  private readonly regime: AgentRegime | null;
  private previousIndex: number | null = null;
  private stopRequested = false;

  constructor(private readonly deps: AgentDeps) {
    this.analytics = deps.analytics
      ? new AgentAnalytics(deps.analytics, deps.resolveInstrument, (obj, msg) => deps.logger.warn(obj, msg))
      : null;
    this.regime = deps.regime ? new AgentRegime(deps.regime) : null;
    this.state.vegaTargetPerVolPoint = deps.policy.vegaTargetPerVolPoint;
  }

  /** Asks the loop to stop after the current tick. */
  stop(): void {
    this.stopRequested = true;
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
    const health = assessFeed(snapshot, now, this.previousIndex, this.deps.health);
    const mode: AgentMode = this.deps.killed() ? "killed" : health.healthy ? "trading" : "safe";
    const reasons =
      mode === "killed" ? ["kill switch engaged"] : health.reasons.map((r) => `${r.code}: ${r.detail}`);
    this.setMode(step, mode, reasons);
    let orders: (ProposedOrder & { clientOrderId: string })[] = [];
    let t2 = t1;
    let tOpt = 0;
    if (snapshot && health.healthy) {
      this.previousIndex = snapshot.indexPrice;
      const policy = this.regimePolicy(step, snapshot);
      const risk = this.valueBook(step, snapshot);
      t2 = performance.now();
      if (mode === "trading") {
        const extra = await this.analyticsRules(step, snapshot, risk, policy);
        tOpt = extra.optimizeMs;
        orders = decideOrders({
          book: this.state.book,
          risk,
          snapshot,
          quotes: quoteIndex(snapshot),
          resolveInstrument: this.deps.resolveInstrument,
          config: policy,
          ...extra.inputs,
        }).map((o, k) => ({ ...o, clientOrderId: `${this.deps.runId}-${step}-${k}` }));
      }
    }
    const t3 = performance.now();
    if (orders.length > 0 && snapshot) {
      this.deps.journal.append({ type: "decision", step, orders });
      for (const order of orders) await this.execute(step, order, snapshot, null);
    }
    const t4 = performance.now();
    this.finishStep(step, mode, snapshot && health.healthy ? snapshot : null);
    this.state.lastStepMs = {
      ingest: t1 - t0,
      risk: t2 - t1,
      decide: t3 - t2,
      orders: t4 - t3,
      total: t4 - t0,
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
    this.deps.logger.info(
      {
        step,
        mode,
        orders: orders.length,
        delta: this.state.delta,
        vega: this.state.vega,
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

  /** Values the book (on the fitted surface with analytics, else at venue mark IVs); sets state. */
  private valueBook(step: number, snapshot: ChainSnapshot): BookRisk {
    const view = this.analytics?.update(step, snapshot, this.state.book) ?? null;
    const risk = view ? view.risk : bookRisk(this.state.book, snapshot, this.deps.resolveInstrument);
    this.state.delta = risk.delta;
    this.state.vega = risk.vega;
    if (view) {
      this.state.marginUsd = view.marginUsd;
      this.state.cvarUsd = view.cvarUsd;
      this.state.varUsd = view.varUsd;
      this.state.surface = view.surface;
    }
    return risk;
  }

  /** The analytics' inputs to the policy: surface greeks, a CVaR/margin breach, the optimizer's orders. */
  private async analyticsRules(
    step: number,
    snapshot: ChainSnapshot,
    risk: BookRisk,
    policy: PolicyConfig,
  ): Promise<{ inputs: Partial<Parameters<typeof decideOrders>[0]>; optimizeMs: number }> {
    const analytics = this.analytics;
    const view = analytics?.current;
    if (!analytics || !view || view.step !== step) return { inputs: {}, optimizeMs: 0 };
    const cfg = analytics.config;
    const { limits } = this.deps;
    const breaches: string[] = [];
    if (cfg.maxCvarUsd !== undefined && view.cvarUsd > cfg.maxCvarUsd)
      breaches.push(`CVaR ${view.cvarUsd.toFixed(0)} USD > limit ${cfg.maxCvarUsd}`);
    if (limits.maxMarginUsd !== undefined && view.marginUsd > limits.maxMarginUsd)
      breaches.push(`margin ${view.marginUsd.toFixed(0)} USD > limit ${limits.maxMarginUsd}`);
    const inputs: Partial<Parameters<typeof decideOrders>[0]> = {
      contractGreeks: (q) => analytics.contractGreeks(q),
      riskReduction:
        breaches.length > 0 ? { reason: breaches.join("; "), fraction: cfg.reduceFraction } : null,
    };
    if (!cfg.useOptimizer) return { inputs, optimizeMs: 0 };
    const rolling = rollingPositions(
      this.state.book,
      snapshot.valuationTime,
      policy,
      this.deps.resolveInstrument,
    );
    const vegaOff =
      Math.abs(risk.vega / 100 - policy.vegaTargetPerVolPoint) > policy.vegaTolerancePerVolPoint;
    const reasons = [
      ...breaches,
      ...(vegaOff
        ? [`vega ${(risk.vega / 100).toFixed(1)} off target ${policy.vegaTargetPerVolPoint} USD/vol pt`]
        : []),
      ...(rolling.size > 0 ? [`roll ${[...rolling].join(", ")}`] : []),
    ];
    if (reasons.length === 0) return { inputs, optimizeMs: 0 };
    const t0 = performance.now();
    const r = await optimizerRebalance({
      view,
      positions: view.positions,
      rolling,
      policy,
      limits,
      analytics: cfg,
      resolveInstrument: this.deps.resolveInstrument,
      reason: reasons.join("; "),
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
    snapshot: ChainSnapshot,
    existing: OrderState | null,
  ): Promise<void> {
    let state = existing;
    if (!state) {
      const check = this.preTradeCheck(order, snapshot);
      if (!check.ok) {
        this.deps.journal.append({
          type: "limit-rejected",
          step,
          clientOrderId: order.clientOrderId,
          reason: check.reason,
          ...("limit" in check ? { limit: check.limit } : {}),
        });
        this.state.limitRejections++;
        this.deps.logger.warn(
          { step, clientOrderId: order.clientOrderId, reason: check.reason },
          "order blocked by pre-trade limit",
        );
        return;
      }
      const q = quoteIndex(snapshot).get(order.instrument);
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
      state = await this.deps.broker.placeOrder(
        {
          clientOrderId: order.clientOrderId,
          instrument: order.instrument,
          side: order.side,
          quantity: order.quantity,
          limitPrice: order.limitPrice,
        },
        quote,
      );
      this.state.ordersSent++;
    }
    this.deps.journal.append({ type: "order", step, state, ...(existing ? { recovered: true } : {}) });
    this.applyOrder(state);
  }

  private preTradeCheck(order: ProposedOrder, snapshot: ChainSnapshot) {
    const view = this.analytics?.current;
    if (this.analytics && view && view.market.valuationTime === snapshot.valuationTime)
      return this.preTradeCheckAnalytics(order, snapshot, this.analytics, view.market);
    const risk = bookRisk(this.state.book, snapshot, this.deps.resolveInstrument);
    return this.checkWith(order, snapshot, risk, "vol", (q) =>
      optionContractGreeks(q, snapshot.valuationTime, snapshot.indexPrice),
    );
  }

  /** Pre-trade check on the fitted surface, with the margin before and after the order (configured model). */
  private preTradeCheckAnalytics(
    order: ProposedOrder,
    snapshot: ChainSnapshot,
    analytics: AgentAnalytics,
    market: Parameters<AgentAnalytics["marginOf"]>[1],
  ) {
    const instrument = this.deps.resolveInstrument(order.instrument);
    const positions = bookPositions(this.state.book, this.deps.resolveInstrument);
    const signed = order.side === "buy" ? order.quantity : -order.quantity;
    const after = positions.filter((p) => p.instrument.name !== order.instrument);
    const prev = positions.find((p) => p.instrument.name === order.instrument)?.quantity ?? 0;
    if (Math.abs(prev + signed) > 1e-9) after.push({ instrument, quantity: prev + signed });
    return this.checkWith(
      order,
      snapshot,
      analytics.riskOf(positions, market),
      "surface",
      (q) => analytics.contractGreeks(q),
      { marginBefore: analytics.marginOf(positions, market), marginAfter: analytics.marginOf(after, market) },
    );
  }

  /** The pre-trade limits for `order` given the book's greeks and a way to value one option contract. */
  private checkWith(
    order: ProposedOrder,
    snapshot: ChainSnapshot,
    risk: { delta: number; vega: number },
    valuedOn: string,
    contractGreeks: (q: OptionQuote) => { delta: number; vega: number } | null,
    margin: { marginBefore: number; marginAfter: number } | Record<string, never> = {},
  ) {
    const instrument = this.deps.resolveInstrument(order.instrument);
    let deltaPerContract: number;
    let vegaPerContract = 0;
    if (instrument.type === "future") {
      deltaPerContract =
        instrument.settlement === "inverse"
          ? instrument.contractSize / snapshot.indexPrice
          : instrument.contractSize;
    } else {
      const q = quoteIndex(snapshot).get(order.instrument);
      const g = q ? contractGreeks(q) : null;
      if (!g)
        return { ok: false as const, reason: `cannot value ${order.instrument}: no quote or ${valuedOn}` };
      deltaPerContract = g.delta;
      vegaPerContract = g.vega;
    }
    return checkOrder(
      {
        clientOrderId: "",
        instrument: order.instrument,
        side: order.side,
        quantity: order.quantity,
        limitPrice: order.limitPrice,
      },
      {
        instrument,
        indexPrice: snapshot.indexPrice,
        deltaBefore: risk.delta,
        vegaBefore: risk.vega,
        deltaPerContract,
        vegaPerContract,
        ...margin,
      },
      this.deps.limits,
    );
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

  private finishStep(step: number, mode: AgentMode, healthy: ChainSnapshot | null): void {
    this.deps.journal.append({
      type: "step-done",
      step,
      delta: this.state.delta,
      vega: this.state.vega,
      mode,
      ...(healthy ? { index: healthy.indexPrice, time: healthy.valuationTime } : {}),
    });
    this.state.step = step;
  }

  /** Rebuilds the book from the journal, finishes an interrupted tick; returns the next tick. */
  private async recover(): Promise<number> {
    const { records, tornTail } = this.deps.journal.read();
    if (records.length === 0) return 0;
    const applied = new Set<string>();
    let lastDone = -1;
    let pending: Extract<JournalRecord, { type: "decision" }> | null = null;
    const handled = new Set<string>();
    for (const r of records) {
      if (r.type === "order") {
        handled.add(r.state.clientOrderId);
        if (!applied.has(r.state.clientOrderId)) {
          applied.add(r.state.clientOrderId);
          this.applyOrder(r.state);
        }
      } else if (r.type === "limit-rejected") {
        handled.add(r.clientOrderId);
        this.state.limitRejections++;
      } else if (r.type === "step-done") {
        lastDone = r.step;
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
    const pendingDecision = pending as Extract<JournalRecord, { type: "decision" }> | null;
    const restoreStep = pendingDecision && pendingDecision.step > lastDone ? pendingDecision.step : lastDone;
    if (this.analytics && restoreStep >= 0)
      await this.analytics.restore(restoreStep, (s) => this.deps.feed.at(s));
    if (pendingDecision && pendingDecision.step > lastDone) {
      const step = pendingDecision.step;
      const snapshot = await this.deps.feed.at(step);
      // The analytics view of that tick (surface restored above), for the pre-trade checks.
      if (snapshot && this.analytics) this.analytics.update(step, snapshot, this.state.book);
      for (const order of pendingDecision.orders) {
        if (handled.has(order.clientOrderId)) continue;
        const existing = await this.deps.broker.getOrder(order.clientOrderId);
        if (existing) fromBroker++;
        else resent++;
        if (existing || snapshot) await this.execute(step, order, snapshot as ChainSnapshot, existing);
      }
      if (snapshot) {
        this.valueBook(step, snapshot);
        this.previousIndex = snapshot.indexPrice;
        // The interrupted tick was healthy (it decided): its index belongs to the regime history.
        this.regime?.observe(step, snapshot.indexPrice, snapshot.valuationTime);
      }
      this.finishStep(step, this.state.mode, snapshot);
      lastDone = step;
    } else if (lastDone >= 0) {
      const snapshot = await this.deps.feed.at(lastDone);
      if (snapshot) this.previousIndex = snapshot.indexPrice;
    }
    this.state.recovered = {
      fromStep: lastDone + 1,
      ordersFromBroker: fromBroker,
      ordersResent: resent,
      tornTail,
    };
    this.deps.logger.warn(
      { recovered: this.state.recovered, fills: this.state.fills },
      "resumed from journal",
    );
    return lastDone + 1;
  }
}
