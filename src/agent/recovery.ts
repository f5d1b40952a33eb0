/**
 * Crash recovery's pure parts (the loop's `recover` drives them, loop.ts):
 *  - `replayJournal` folds the journal's records into the agent (book from the journaled fills
 *    and settlements, counters, mode, feed-health and regime history) and finds the interrupted
 *    tick's decision and which of its orders already have an outcome;
 *  - `recoveryBlock` decides whether recovery may send that tick's unsent orders at all
 *    (recovery is a new decision, not a replay: kill switch, decision age, feed health, market).
 */
import type { OrderState } from "../adapters/broker/types.js";
import type {
  AgentState,
  DecisionRecord,
  JournalRecord,
  RecoveryCancelReason,
  SettlementRecord,
} from "./agentTypes.js";
import type { HealthReason } from "./health.js";
import type { TradingCounters } from "./preTrade.js";

export type StepDoneRecord = Extract<JournalRecord, { type: "step-done" }>;

/** What the replay writes into: the agent's state and counters, and its book/history updates. */
export interface ReplayTarget {
  readonly state: AgentState;
  readonly counters: TradingCounters;
  applyOrder(state: OrderState): void;
  applySettlement(record: SettlementRecord): void;
  /** A completed tick: its feed-health state and regime history. */
  stepDone(record: StepDoneRecord): void;
}

export interface JournalReplay {
  /** The last tick with a `step-done` record (-1: none). */
  readonly lastDone: number;
  /** The last decision journaled (the interrupted tick's when its step is after `lastDone`). */
  readonly pending: DecisionRecord | null;
  /** Client order ids with an outcome (order, limit-rejected, cancelled, abandoned). */
  readonly handled: ReadonlySet<string>;
}

/** Folds the journal's records into `target`, in order (each order's fills applied once). */
export function replayJournal(records: readonly JournalRecord[], target: ReplayTarget): JournalReplay {
  const { state, counters } = target;
  const applied = new Set<string>();
  const handled = new Set<string>();
  let lastDone = -1;
  let pending: DecisionRecord | null = null;
  for (const r of records) {
    switch (r.type) {
      case "order": {
        const id = r.state.clientOrderId;
        handled.add(id);
        if (r.at !== undefined && !applied.has(id) && !r.recovered) counters.recordSent(r.at);
        if (!applied.has(id)) {
          applied.add(id);
          target.applyOrder(r.state);
        }
        break;
      }
      case "settlement": {
        const { type: _t, ...record } = r;
        target.applySettlement(record);
        break;
      }
      case "limit-rejected":
        handled.add(r.clientOrderId);
        state.limitRejections++;
        break;
      case "cancelled":
        handled.add(r.clientOrderId);
        break;
      case "broker-error":
        state.brokerErrors++;
        if (r.action === "abandon") {
          handled.add(r.clientOrderId);
          state.ordersAbandoned++;
        }
        break;
      case "day-start":
        counters.dayStart = { day: r.day, equityUsd: r.equityUsd };
        state.dayStart = { day: r.day, equityUsd: r.equityUsd };
        break;
      case "step-done":
        lastDone = r.step;
        target.stepDone(r);
        state.mode = r.mode;
        break;
      case "decision":
        pending = r;
        break;
      case "mode":
        state.mode = r.mode;
        state.modeReasons = r.reasons;
        break;
    }
  }
  return { lastDone, pending, handled };
}

export interface RecoveryBlock {
  readonly reason: RecoveryCancelReason;
  readonly detail: string;
}

/**
 * Why recovery may not send the interrupted tick's unsent orders, or null: the kill switch is
 * engaged, the decision is older than the maximum age (or has no time), the tick's feed is
 * unhealthy now, or its market does not build (`market`: the reason, null when it builds).
 */
export function recoveryBlock(o: {
  readonly killed: boolean;
  /** Age of the decision, ms (null: no time recorded). */
  readonly ageMs: number | null;
  readonly maxAgeMs: number;
  readonly health: {
    readonly healthy: boolean;
    readonly reasons: readonly { code: HealthReason; detail: string }[];
  };
  readonly noMarket: string | null;
}): RecoveryBlock | null {
  const { ageMs, maxAgeMs, health } = o;
  if (o.killed) return { reason: "kill-switch", detail: "kill switch engaged at restart" };
  if (ageMs === null || !(ageMs <= maxAgeMs))
    return {
      reason: "stale-decision",
      detail:
        ageMs === null
          ? "the decision has no time (version-1 journal)"
          : `decided ${(ageMs / 1000).toFixed(1)} s ago > max ${(maxAgeMs / 1000).toFixed(1)} s`,
    };
  if (!health.healthy)
    return {
      reason: "feed-unhealthy",
      detail: health.reasons.map((r) => `${r.code}: ${r.detail}`).join("; "),
    };
  if (o.noMarket !== null) return { reason: "no-market", detail: o.noMarket };
  return null;
}
