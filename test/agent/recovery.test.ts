/**
 * Recovery is a new decision, not a replay (issue 19): the agent crashes after journaling a
 * tick's decision and before sending its orders; at restart those unsent orders are re-checked.
 * With the kill switch engaged nothing is sent and each is journaled `cancelled` with reason
 * "kill-switch"; a decision older than the maximum age is cancelled "stale-decision"; a fresh one
 * on a healthy feed is sent (the broker sees each id once).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import type { Broker } from "../../src/adapters/broker/types.js";
import { Journal } from "../../src/adapters/journal.js";
import { Agent, type AgentFeed, type JournalRecord } from "../../src/agent/loop.js";
import {
  CrashOnBrokerErrorJournal,
  driftSpots,
  HOUR,
  hourlyChains,
  replayFeed,
  resolveInstrument,
  T0,
  TEST_POLICY,
  WIDE_LIMITS,
} from "./helpers.js";
import { tempDir } from "./tmp.js";

const feed = (steps: number): AgentFeed => replayFeed(hourlyChains(driftSpots(steps, 0.002)));

function agent(
  dir: string,
  o: { broker?: Broker; killed?: boolean; clock?: () => number; warn?: string[]; crash?: boolean } = {},
) {
  const path = join(dir, "journal.jsonl");
  const journal = o.crash ? new CrashOnBrokerErrorJournal(path) : new Journal<JournalRecord>(path);
  const broker = o.broker ?? new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
  return new Agent({
    runId: "r",
    feed: feed(6),
    broker,
    journal,
    resolveInstrument,
    policy: TEST_POLICY,
    limits: WIDE_LIMITS,
    now: (step) => T0 + step * HOUR,
    killed: () => o.killed ?? false,
    logger: {
      info() {},
      warn(_obj: object, msg?: string) {
        o.warn?.push(msg ?? "");
      },
      error() {},
    },
    ...(o.clock ? { clock: o.clock } : {}),
    maxDecisionAgeMs: 60_000,
  });
}

/**
 * Runs until the first order is about to be sent, then "crashes": the broker throws and the
 * journal throws when the agent records that error (CrashOnBrokerErrorJournal), as a SIGKILL at
 * that point would leave it.
 */
async function crashBeforeFirstOrder(dir: string, wallAt: number): Promise<string[]> {
  const paper = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
  const crashing: Broker = {
    name: "paper",
    getOrder: (id) => paper.getOrder(id),
    placeOrder: async () => {
      throw new Error("simulated crash before the order left");
    },
  };
  await expect(agent(dir, { broker: crashing, clock: () => wallAt, crash: true }).run()).rejects.toThrow(
    /simulated crash/,
  );
  paper.close();
  const records = new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;
  const decision = records.find((r) => r.type === "decision");
  expect(decision?.type === "decision" && decision.wallAt).toBe(wallAt);
  return decision?.type === "decision" ? decision.orders.map((o) => o.clientOrderId) : [];
}

const WALL = Date.UTC(2026, 11, 6, 12);

describe("crash recovery re-decides the interrupted tick", () => {
  it("kill switch engaged at restart: nothing sent, each unsent order cancelled 'kill-switch'", async () => {
    const dir = tempDir("agent-rec-kill");
    const ids = await crashBeforeFirstOrder(dir, WALL);
    expect(ids.length).toBeGreaterThan(0);
    const warn: string[] = [];
    const state = await agent(dir, { killed: true, clock: () => WALL + 1_000, warn }).run();
    expect(state.recovered).toMatchObject({
      ordersResent: 0,
      ordersCancelled: ids.length,
      ordersFromBroker: 0,
    });
    expect(state.ordersSent).toBe(0);
    const paper = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
    expect(paper.allOrders()).toHaveLength(0);
    const cancelled = new Journal<JournalRecord>(join(dir, "journal.jsonl"))
      .read()
      .records.filter((r) => r.type === "cancelled");
    expect(cancelled.map((r) => r.type === "cancelled" && [r.clientOrderId, r.reason])).toEqual(
      ids.map((id) => [id, "kill-switch"]),
    );
    expect(warn).toContain("recovery: unsent order cancelled (kill-switch)");
  });

  it("a decision older than the maximum age: cancelled 'stale-decision'; the next ticks decide afresh", async () => {
    const dir = tempDir("agent-rec-stale");
    const ids = await crashBeforeFirstOrder(dir, WALL);
    const state = await agent(dir, { clock: () => WALL + 2 * HOUR }).run();
    expect(state.recovered).toMatchObject({ ordersResent: 0, ordersCancelled: ids.length });
    const records = new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;
    const cancelled = records.filter((r) => r.type === "cancelled");
    expect(cancelled.map((r) => r.type === "cancelled" && r.reason)).toEqual(ids.map(() => "stale-decision"));
    expect(cancelled[0]?.type === "cancelled" && cancelled[0].detail).toMatch(
      /decided 7200\.0 s ago > max 60\.0 s/,
    );
    // None of the cancelled ids reached the broker; later ticks traded under their own ids.
    const sent = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }).allOrders();
    expect(sent.some((o) => ids.includes(o.clientOrderId))).toBe(false);
    expect(sent.length).toBeGreaterThan(0);
  });

  it("a fresh decision on a healthy feed is sent once at restart", async () => {
    const dir = tempDir("agent-rec-ok");
    const ids = await crashBeforeFirstOrder(dir, WALL);
    const state = await agent(dir, { clock: () => WALL + 5_000 }).run();
    expect(state.recovered).toMatchObject({ ordersResent: ids.length, ordersCancelled: 0 });
    const sent = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }).allOrders();
    const got = sent.map((o) => o.clientOrderId);
    expect(new Set(got).size).toBe(got.length);
    for (const id of ids) expect(got).toContain(id);
  });
});
