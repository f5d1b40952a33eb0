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
 */
import type { Broker, OrderState } from "../adapters/broker/types.js";
import type { Journal } from "../adapters/journal.js";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { type AgentBook, applyFill, EMPTY_BOOK } from "./book.js";
import { assessFeed, type HealthLimits } from "./health.js";
import { checkOrder, type PreTradeLimits } from "./limits.js";
import { decideOrders, type PolicyConfig, type ProposedOrder } from "./policy.js";
import { bookRisk, optionContractGreeks, quoteIndex } from "./valuation.js";

export type AgentMode = "trading" | "safe" | "killed";

export type JournalRecord =
  | { type: "start"; runId: string; at: number }
  | { type: "mode"; step: number; mode: AgentMode; reasons: string[] }
  | { type: "decision"; step: number; orders: (ProposedOrder & { clientOrderId: string })[] }
  | { type: "limit-rejected"; step: number; clientOrderId: string; reason: string }
  | { type: "order"; step: number; state: OrderState; recovered?: boolean }
  | { type: "step-done"; step: number; delta: number; vega: number; mode: AgentMode }
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
  };
  private previousIndex: number | null = null;
  private stopRequested = false;

  constructor(private readonly deps: AgentDeps) {}

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
    if (snapshot && health.healthy) {
      this.previousIndex = snapshot.indexPrice;
      const risk = bookRisk(this.state.book, snapshot, this.deps.resolveInstrument);
      this.state.delta = risk.delta;
      this.state.vega = risk.vega;
      t2 = performance.now();
      if (mode === "trading") {
        orders = decideOrders({
          book: this.state.book,
          risk,
          snapshot,
          quotes: quoteIndex(snapshot),
          resolveInstrument: this.deps.resolveInstrument,
          config: this.deps.policy,
        }).map((o, k) => ({ ...o, clientOrderId: `${this.deps.runId}-${step}-${k}` }));
      }
    }
    const t3 = performance.now();
    if (orders.length > 0 && snapshot) {
      this.deps.journal.append({ type: "decision", step, orders });
      for (const order of orders) await this.execute(step, order, snapshot, null);
    }
    const t4 = performance.now();
    this.finishStep(step, mode);
    this.state.lastStepMs = {
      ingest: t1 - t0,
      risk: t2 - t1,
      decide: t3 - t2,
      orders: t4 - t3,
      total: t4 - t0,
    };
    this.deps.logger.info(
      {
        step,
        mode,
        orders: orders.length,
        delta: this.state.delta,
        vega: this.state.vega,
        ms: this.state.lastStepMs,
      },
      "tick",
    );
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
    const instrument = this.deps.resolveInstrument(order.instrument);
    const risk = bookRisk(this.state.book, snapshot, this.deps.resolveInstrument);
    let deltaPerContract: number;
    let vegaPerContract = 0;
    if (instrument.type === "future") {
      deltaPerContract =
        instrument.settlement === "inverse"
          ? instrument.contractSize / snapshot.indexPrice
          : instrument.contractSize;
    } else {
      const q = quoteIndex(snapshot).get(order.instrument);
      const g = q ? optionContractGreeks(q, snapshot.valuationTime, snapshot.indexPrice) : null;
      if (!g) return { ok: false as const, reason: `cannot value ${order.instrument}: no quote or vol` };
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

  private finishStep(step: number, mode: AgentMode): void {
    this.deps.journal.append({
      type: "step-done",
      step,
      delta: this.state.delta,
      vega: this.state.vega,
      mode,
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
    if (pendingDecision && pendingDecision.step > lastDone) {
      const step = pendingDecision.step;
      const snapshot = await this.deps.feed.at(step);
      for (const order of pendingDecision.orders) {
        if (handled.has(order.clientOrderId)) continue;
        const existing = await this.deps.broker.getOrder(order.clientOrderId);
        if (existing) fromBroker++;
        else resent++;
        if (existing || snapshot) await this.execute(step, order, snapshot as ChainSnapshot, existing);
      }
      if (snapshot) {
        const risk = bookRisk(this.state.book, snapshot, this.deps.resolveInstrument);
        this.state.delta = risk.delta;
        this.state.vega = risk.vega;
        this.previousIndex = snapshot.indexPrice;
      }
      this.finishStep(step, this.state.mode);
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
