/**
 * An order abandoned after a timeout that the venue did receive (its lookup lagged) is
 * reconciled by client order id at the next tick: its fills enter the book once, the agent's
 * book equals the venue's positions, nothing is sent twice; a restart between the abandonment
 * and the next tick reconciles at the same tick. An abandoned order the venue never got is
 * journaled `reconciled` (found: false) and the book is unchanged.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import type { Broker } from "../../src/adapters/broker/types.js";
import { Journal } from "../../src/adapters/journal.js";
import { Agent, type AgentState, type JournalRecord } from "../../src/agent/loop.js";
import {
  driftSpots,
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

/** Book quantities are float sums of partial fills (e.g. 0.1 + 0.2): off the venue's by rounding of a few additions. */
const FILL_SUM_DIGITS = 9;

const STEPS = 6;
const chains = hourlyChains(driftSpots(STEPS, 0.003));
/** No retries, so the first lookup after the timeout is the policy's last. */
const POLICY = { retries: 0, backoffMs: 0, timeoutMs: 50 };

/**
 * The first option order reaches the venue, then its answer is lost (the call hangs); the venue
 * says it does not know the order for the first `lagLookups` lookups. `reaches: false`: the
 * order never reaches the venue.
 */
function laggingBroker(paper: PaperBroker, lagLookups: number, reaches: boolean) {
  let target: string | null = null;
  let lookups = 0;
  const broker: Broker = {
    name: "lagging",
    getOrder: async (id) => {
      if (id === target && lookups++ < lagLookups) return null;
      return paper.getOrder(id);
    },
    placeOrder: async (o, q) => {
      if (target === null && o.instrument !== "BTC-PERPETUAL") target = o.clientOrderId;
      if (o.clientOrderId !== target) return paper.placeOrder(o, q);
      if (reaches) await paper.placeOrder(o, q);
      return new Promise(() => undefined);
    },
  };
  return { broker, target: () => target };
}

function makeAgent(dir: string, broker: Broker, maxSteps?: number): Agent {
  return new Agent({
    runId: "r",
    feed: replayFeed(chains),
    broker,
    journal: new Journal<JournalRecord>(join(dir, "journal.jsonl")),
    resolveInstrument,
    policy: TEST_POLICY,
    limits: WIDE_LIMITS,
    now: (step) => T0 + step * HOUR,
    killed: () => false,
    logger: SILENT,
    brokerPolicy: POLICY,
    sleep: async () => undefined,
    ...(maxSteps !== undefined ? { maxSteps } : {}),
  });
}

/** The venue's net position by instrument, from the paper broker's fills (signed contracts). */
function venuePositions(paper: PaperBroker): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of paper.allOrders())
    for (const f of o.fills)
      out[f.instrument] = (out[f.instrument] ?? 0) + (f.side === "buy" ? 1 : -1) * f.quantity;
  return out;
}

function bookPositions(state: AgentState): Record<string, number> {
  return Object.fromEntries(
    Object.entries(state.book.positions)
      .map(([k, p]) => [k, p.quantity] as const)
      .filter(([, q]) => q !== 0),
  );
}

function expectBookIsVenue(state: AgentState, paper: PaperBroker): void {
  const venue = Object.fromEntries(Object.entries(venuePositions(paper)).filter(([, q]) => q !== 0));
  const book = bookPositions(state);
  expect(Object.keys(book).sort()).toEqual(Object.keys(venue).sort());
  for (const [k, q] of Object.entries(venue)) expect(book[k]).toBeCloseTo(q, FILL_SUM_DIGITS); // float sums of fills
  const ids = paper.allOrders().map((o) => o.clientOrderId);
  expect(new Set(ids).size).toBe(ids.length);
}

const read = (dir: string) => new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;

describe("reconciliation of abandoned orders", () => {
  it("a timed-out order the venue has is found at the next tick and booked once", async () => {
    const dir = tempDir("agent-reconcile-found");
    const paper = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
    const lag = laggingBroker(paper, 1, true);
    const state = await makeAgent(dir, lag.broker).run();
    const records = read(dir);
    const id = lag.target();
    expect(id).not.toBeNull();
    const abandon = records.find((r) => r.type === "broker-error" && r.clientOrderId === id);
    expect(abandon && abandon.type === "broker-error" && abandon.action).toBe("abandon");
    const found = records.filter((r) => r.type === "order" && r.state.clientOrderId === id);
    expect(found).toHaveLength(1);
    const rec = found[0];
    expect(rec?.type === "order" && rec.reconciled).toBe(true);
    // Found at the tick after the one that abandoned it.
    const stepOf = (r: JournalRecord | undefined) => (r && "step" in r ? r.step : Number.NaN);
    expect(stepOf(rec)).toBe(stepOf(abandon) + 1);
    expectBookIsVenue(state, paper);
  });

  it("a restart between the abandonment and the next tick reconciles the same way", async () => {
    const dir = tempDir("agent-reconcile-restart");
    const paper = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
    const lag = laggingBroker(paper, 1, true);
    // Stop right after the first tick (the abandonment is in its journal), then start again.
    await makeAgent(dir, lag.broker, 1).run();
    expect(read(dir).some((r) => r.type === "broker-error" && r.action === "abandon")).toBe(true);
    const state = await makeAgent(dir, lag.broker).run();
    const found = read(dir).filter((r) => r.type === "order" && r.state.clientOrderId === lag.target());
    expect(found).toHaveLength(1);
    expectBookIsVenue(state, paper);
  });

  it("an abandoned order the venue never got is journaled not found; the book is unchanged", async () => {
    const dir = tempDir("agent-reconcile-absent");
    const paper = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
    const lag = laggingBroker(paper, 0, false);
    const state = await makeAgent(dir, lag.broker).run();
    const records = read(dir);
    const rec = records.filter((r) => r.type === "reconciled");
    expect(rec).toHaveLength(1);
    expect(rec[0]?.type === "reconciled" && rec[0].clientOrderId).toBe(lag.target());
    expect(records.some((r) => r.type === "order" && r.state.clientOrderId === lag.target())).toBe(false);
    expectBookIsVenue(state, paper);
  });
});
