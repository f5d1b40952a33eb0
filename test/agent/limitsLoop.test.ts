/**
 * The order-rate, position-size and daily-loss limits in the loop (issue 19 item 3): the loop
 * supplies their inputs (orders sent in the window on the decision clock, the held position, the
 * core-valued equity against the first valued tick of the UTC day, journaled `day-start`), each
 * binds with its own limit name, and a run interrupted and restarted decides like an
 * uninterrupted one (the window and the start-of-day equity come back from the journal).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import { Journal } from "../../src/adapters/journal.js";
import type { PreTradeLimits } from "../../src/agent/limits.js";
import { Agent, type JournalRecord } from "../../src/agent/loop.js";
import {
  HOUR,
  hourlyChains,
  replayFeed,
  resolveInstrument,
  SILENT,
  T0,
  TEST_POLICY,
  WIDE_LIMITS,
} from "./helpers.js";
import { tempDir } from "./tmp.js";

const STEPS = 20; // 09:00 on 5 Jan to 04:00 on 6 Jan: crosses a UTC midnight
/** Held quantity is a float sum of fills (coin sizes like 0.1): it may exceed the 12-coin cap by rounding only. */
const FILL_SUM_EPS = 1e-9;
const chains = hourlyChains(Array.from({ length: STEPS }, (_, i) => 100_000 * (1 + 0.004 * Math.sin(i))));

async function run(dir: string, limits: PreTradeLimits, maxSteps?: number) {
  const agent = new Agent({
    runId: "l",
    feed: replayFeed(chains),
    broker: new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }),
    journal: new Journal<JournalRecord>(join(dir, "journal.jsonl")),
    resolveInstrument,
    policy: { ...TEST_POLICY, maxOrderContracts: 5 },
    limits,
    now: (step) => T0 + step * HOUR,
    killed: () => false,
    logger: SILENT,
    ...(maxSteps !== undefined ? { maxSteps } : {}),
  });
  const state = await agent.run();
  const records = new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;
  return { state, records };
}

const rejectedBy = (records: JournalRecord[], limit: string) =>
  records.filter((r) => r.type === "limit-rejected" && r.limit === limit).length;
const decided = (records: JournalRecord[]) =>
  records.flatMap((r) =>
    r.type === "decision" ? r.orders.map((o) => [r.step, o.instrument, o.side, o.quantity]) : [],
  );

describe("order-rate, position-size and daily-loss limits in the loop", () => {
  it("order rate: at most maxOrdersPerWindow orders sent in any window of the decision clock", async () => {
    const limits = { ...WIDE_LIMITS, maxOrdersPerWindow: 2, orderWindowMs: 3 * HOUR };
    const { records } = await run(tempDir("agent-rate"), limits);
    const sent = records.flatMap((r) => (r.type === "order" && r.at !== undefined ? [r.at] : []));
    expect(sent.length).toBeGreaterThan(2);
    for (const t of sent)
      expect(sent.filter((s) => s > t - 3 * HOUR && s <= t).length).toBeLessThanOrEqual(2);
    expect(rejectedBy(records, "maxOrdersPerWindow")).toBeGreaterThan(0);
  });

  it("position size: no instrument's position grows past maxPositionCoins", async () => {
    const { state, records } = await run(tempDir("agent-pos"), { ...WIDE_LIMITS, maxPositionCoins: 12 });
    const held = new Map<string, number>();
    let worst = 0;
    for (const r of records)
      if (r.type === "order")
        for (const f of r.state.fills) {
          if (f.instrument === "BTC-PERPETUAL") continue;
          const q = (held.get(f.instrument) ?? 0) + (f.side === "buy" ? f.quantity : -f.quantity);
          held.set(f.instrument, q);
          worst = Math.max(worst, Math.abs(q));
        }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(12 + FILL_SUM_EPS);
    expect(rejectedBy(records, "maxPositionCoins")).toBeGreaterThan(0);
    expect(state.step).toBe(STEPS - 1);
  });

  it("daily loss: risk-adding orders stop once equity is the limit below the day's start; a new UTC day resets it; a restart decides the same", async () => {
    const limits = { ...WIDE_LIMITS, maxDailyLossUsd: 150 };
    const whole = await run(tempDir("agent-loss"), limits);
    const days = whole.records.flatMap((r) => (r.type === "day-start" ? [[r.day, r.equityUsd]] : []));
    expect(days.map((d) => d[0])).toEqual(["2026-01-05", "2026-01-06"]);
    expect(days[0]?.[1]).toBe(0); // the empty book at the first tick
    expect(whole.state.dayStart?.day).toBe("2026-01-06");
    const blocked = whole.records.filter((r) => r.type === "limit-rejected" && r.limit === "maxDailyLossUsd");
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked[0]?.type === "limit-rejected" && blocked[0].reason).toMatch(
      /equity \d+ USD below the start of the UTC day > limit 150: only risk-reducing orders pass/,
    );
    // Restart in the middle of the first day: the same decisions and book.
    const dir = tempDir("agent-loss-split");
    await run(dir, limits, 7);
    const resumed = await run(dir, limits);
    expect(resumed.state.recovered?.fromStep).toBe(7);
    expect(decided(resumed.records)).toEqual(decided(whole.records));
    expect(resumed.state.book).toEqual(whole.state.book);
  });
});
