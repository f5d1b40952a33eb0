/**
 * The agent's types: its modes, the journal's records (the write-ahead log recovery replays),
 * what the loop is given (AgentDeps: feed, broker, journal, limits, clocks) and the state it
 * publishes (GET /state, the tick log). The loop itself is loop.ts.
 */
import type { Broker, OrderState } from "../adapters/broker/types.js";
import type { Journal } from "../adapters/journal.js";
import type { Instrument } from "../core/instruments/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import type { SurfaceInfo } from "./analytics.js";
import type { AgentBook } from "./book.js";
import type { BrokerErrorClass, BrokerPolicy } from "./brokerPolicy.js";
import type { AgentAnalyticsConfig } from "./config.js";
import type { FeedHealthState } from "./feedHealth.js";
import type { HealthLimits, HealthReason } from "./health.js";
import type { PreTradeLimits } from "./limits.js";
import type { PolicyConfig, ProposedOrder } from "./policy.js";
import type { AgentRegimeConfig, RegimeView } from "./regime.js";
import type { SettlementRecord } from "./settle.js";
import type { AgentRiskReport } from "./valuation.js";

/**
 * trading: all rules; reduce-only: a position the market cannot value is held (only orders that
 * shrink a position); safe: bad or missing data, or no market (no orders); killed: kill switch.
 */
export type AgentMode = "trading" | "reduce-only" | "safe" | "killed";

export type { SettlementRecord } from "./settle.js";

/** An order as decided: the policy's order with its client order id (run-step-index). */
export type DecidedOrder = ProposedOrder & { clientOrderId: string };

/** A `decision` record (the write-ahead entry of a tick's orders). */
export type DecisionRecord = Extract<JournalRecord, { type: "decision" }>;

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
      /** Found at the venue by its client order id after the broker policy abandoned it (reconcile.ts). */
      reconciled?: boolean;
    }
  | {
      /** An abandoned order the venue says it never received, asked a tick or more later (reconcile.ts). */
      type: "reconciled";
      step: number;
      clientOrderId: string;
      found: false;
      detail: string;
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

/** A started feed with what the agent needs around it (feeds.ts builds one per feed type). */
export interface BuiltFeed {
  readonly feed: AgentFeed;
  readonly resolveInstrument: (name: string) => Instrument;
  readonly now: (step: number, snapshot: ChainSnapshot | null) => number;
  /** The wait after a tick; `signal` ends it early (SIGTERM during a long wait). */
  readonly pause?: (step: number, signal?: AbortSignal) => Promise<void>;
  /** What the feed is, for the start log line. */
  readonly describe: string;
  /** Releases connections. */
  readonly close: () => Promise<void>;
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
