/**
 * Feed health across ticks (pure): one step of a small state machine, so that a restart that
 * restores the state from the journal reaches the same decision as an uninterrupted run.
 *
 * The decision clock `now` is the wall clock for a live feed and the replay clock for a replay
 * (start + tick x step, feeds.ts), never the snapshot's own time, so a repeated or day-old
 * snapshot is judged by how old it really is. Each tick gets, besides the one-snapshot checks of
 * health.ts (missing, stale, missing-underlying, too-few-quotes, crossed):
 *  - out-of-order: its time is before the previous snapshot's (the previous time is kept);
 *  - repeated: its time equals the previous snapshot's (the same snapshot again);
 *  - index-jump: the index is more than maxIndexJump away from the accepted level (the index of
 *    the last healthy tick).
 *
 * Safe-mode exit rule for a move: a move beyond maxIndexJump opens a candidate level (that tick's
 * index). Each following clean tick (no other reason) whose index is within maxIndexJump of the
 * candidate counts; when `jumpConfirmTicks` consecutive clean ticks (the move's tick included)
 * agree, the move is accepted as the new level and that tick trades. A tick back within
 * maxIndexJump of the old level drops the candidate (the jump was a glitch) and is healthy; a
 * tick far from both opens a new candidate. Any other reason (stale, crossed, ...) exits by
 * itself on the next tick without it.
 *
 * Example (maxIndexJump 0.3, jumpConfirmTicks 3): level 100,000; ticks at 62,000, 61,500, 61,800:
 * safe (index-jump 1 of 3), safe (2 of 3), then accepted: level 61,800, trading.
 */
import type { ChainSnapshot } from "../core/market/types.js";
import {
  assessFeed,
  DEFAULT_HEALTH_LIMITS,
  type FeedHealth,
  type HealthLimits,
  type HealthReason,
} from "./health.js";

/** What the health check remembers between ticks (journaled with each `step-done`). */
export interface FeedHealthState {
  /** Time of the latest snapshot seen (epoch ms), null before the first. */
  readonly lastTime: number | null;
  /** The accepted index level (USD) a jump is measured from, null before the first healthy tick. */
  readonly level: number | null;
  /** A move beyond maxIndexJump waiting to be confirmed: its first index and the consistent clean ticks so far. */
  readonly pending: { readonly index: number; readonly ticks: number } | null;
}

export const INITIAL_FEED_HEALTH: FeedHealthState = { lastTime: null, level: null, pending: null };

export interface FeedHealthStep {
  readonly health: FeedHealth;
  readonly state: FeedHealthState;
  /** Set on the tick a move is accepted as the new level. */
  readonly accepted?: { readonly from: number; readonly to: number };
}

/** One tick of the feed-health state machine (module comment). */
export function feedHealthStep(
  state: FeedHealthState,
  snapshot: ChainSnapshot | null,
  now: number,
  limits: HealthLimits = DEFAULT_HEALTH_LIMITS,
): FeedHealthStep {
  if (snapshot === null)
    return {
      health: { healthy: false, reasons: [{ code: "missing", detail: "no snapshot this tick" }] },
      state,
    };
  const reasons: { code: HealthReason; detail: string }[] = [
    ...assessFeed(snapshot, now, null, limits).reasons,
  ];
  const t = snapshot.valuationTime;
  let lastTime = state.lastTime;
  if (Number.isFinite(t)) {
    if (lastTime !== null && t < lastTime)
      reasons.push({
        code: "out-of-order",
        detail: `snapshot of ${iso(t)} arrived after one of ${iso(lastTime)}`,
      });
    else if (lastTime !== null && t === lastTime)
      reasons.push({ code: "repeated", detail: `the same snapshot (${iso(t)}) as the previous tick` });
    if (lastTime === null || t > lastTime) lastTime = t;
  }
  const index = snapshot.indexPrice;
  const indexOk = Number.isFinite(index) && index > 0;
  const clean = reasons.length === 0;
  let level = state.level;
  let pending = state.pending;
  let accepted: { from: number; to: number } | undefined;
  if (indexOk && level !== null) {
    const jump = limits.maxIndexJump;
    if (Math.abs(index / level - 1) <= jump) {
      if (clean) pending = null; // back at the level: the move was a glitch
    } else {
      const consistent = pending !== null && Math.abs(index / pending.index - 1) <= jump;
      const base = consistent && pending ? pending : { index, ticks: 0 };
      pending = { index: base.index, ticks: base.ticks + (clean ? 1 : 0) };
      if (clean && pending.ticks >= limits.jumpConfirmTicks) {
        accepted = { from: level, to: index };
        pending = null;
      } else {
        reasons.push({
          code: "index-jump",
          detail: `index ${level} -> ${index} (${pct(index / level - 1)}) beyond ±${(jump * 100).toFixed(1)}% of the accepted level; accepted as the new level after ${limits.jumpConfirmTicks} consistent clean ticks (${pending.ticks} so far)`,
        });
      }
    }
  }
  const healthy = reasons.length === 0;
  if (healthy && indexOk) level = index;
  return {
    health: { healthy, reasons },
    state: { lastTime, level, pending },
    ...(accepted ? { accepted } : {}),
  };
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function pct(x: number): string {
  return `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
}
