import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import type { Broker } from "../../src/adapters/broker/types.js";
import { Journal } from "../../src/adapters/journal.js";
import { Agent, type AgentFeed, type JournalRecord } from "../../src/agent/loop.js";
import { bookPositions } from "../../src/agent/valuation.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { bookEquity } from "../../src/core/risk/account.js";
import { chainBookMarket } from "../../src/core/risk/chainMarket.js";
import { portfolioGreeks } from "../../src/core/risk/greeks.js";
import {
  CrashOnBrokerErrorJournal,
  HOUR,
  hourlyChains,
  hourlyPathSpots,
  resolveInstrument,
  SILENT,
  T0,
  TEST_POLICY,
  WIDE_LIMITS,
} from "./helpers.js";
import { tempDir } from "./tmp.js";

const policy = TEST_POLICY;

function pathFeed(steps: number, faults: Record<number, "missing" | "crossed" | "stale"> = {}): AgentFeed {
  const chains = hourlyChains(hourlyPathSpots(steps, 3, 0.6), { crossed: (i) => faults[i] === "crossed" });
  return {
    steps,
    at: async (i) => {
      if (faults[i] === "missing") return null;
      const c = chains[i] as ChainSnapshot;
      return faults[i] === "stale" ? { ...c, valuationTime: c.valuationTime - HOUR } : c;
    },
  };
}

function makeAgent(
  dir: string,
  feed: AgentFeed,
  opts: { killed?: () => boolean; broker?: Broker; crash?: boolean } = {},
) {
  const path = join(dir, "journal.jsonl");
  const journal = opts.crash ? new CrashOnBrokerErrorJournal(path) : new Journal<JournalRecord>(path);
  const broker = opts.broker ?? new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
  const agent = new Agent({
    runId: "t",
    feed,
    broker,
    journal,
    resolveInstrument,
    policy,
    limits: WIDE_LIMITS,
    // The tick's scheduled time: a snapshot older than that reads as stale.
    now: (step) => T0 + step * HOUR,
    killed: opts.killed ?? (() => false),
    logger: SILENT,
  });
  return { agent, journal, broker };
}

describe("agent loop", () => {
  it("reaches the vega target and keeps delta inside the band", async () => {
    const dir = tempDir("agent");
    const { agent } = makeAgent(dir, pathFeed(60));
    const state = await agent.run();
    expect(state.step).toBe(59);
    expect(Math.abs(state.vega / 100 - policy.vegaTargetPerVolPoint)).toBeLessThan(
      policy.vegaTolerancePerVolPoint * 1.5,
    );
    expect(Math.abs(state.delta)).toBeLessThan(policy.deltaBand + 0.3);
    expect(state.ordersSent).toBeGreaterThan(0);
  });

  it("reports the greeks and equity of portfolioGreeks / bookEquity on chainBookMarket of the last chain", async () => {
    const dir = tempDir("agent");
    const feed = pathFeed(30);
    const { agent } = makeAgent(dir, feed);
    const state = await agent.run();
    const last = (await feed.at(29)) as ChainSnapshot;
    const positions = bookPositions(state.book, resolveInstrument);
    expect(positions.length).toBeGreaterThan(1);
    const v = chainBookMarket([last], positions, { surface: "marks" });
    const g = portfolioGreeks(v.accepted, v.market).byUnderlying.BTC;
    const risk = state.risk;
    if (!g || !risk) throw new Error("no greeks");
    expect(risk.valuationTime).toBe(last.valuationTime);
    expect(risk.greeks.deltaUnderlyingCoin).toBe(g.deltaUnderlyingCoin);
    expect(risk.greeks.vegaUsdPerVol).toBe(g.vegaUsd);
    expect(risk.greeks.thetaUsdPerDay).toBe(g.thetaUsdPerDay);
    expect(risk.greeks.deltaPremiumAdjustedCoin).toBe(g.deltaCoin);
    expect(risk.equity).toEqual(bookEquity(v.accepted, state.book.cash, v.market));
    expect(state.delta).toBe(g.deltaUnderlyingCoin);
    expect(state.vega).toBe(g.vegaUsd);
  });

  it("journals each decision before any of its orders", async () => {
    const dir = tempDir("agent");
    const { agent, journal } = makeAgent(dir, pathFeed(20));
    await agent.run();
    const records = journal.read().records;
    const decided = new Set<string>();
    for (const r of records) {
      if (r.type === "decision") for (const o of r.orders) decided.add(o.clientOrderId);
      if (r.type === "order") expect(decided.has(r.state.clientOrderId)).toBe(true);
    }
    expect(records.at(-1)?.type).toBe("finished");
  });

  it("goes to safe mode within one tick of bad data and resumes when it is healthy", async () => {
    const dir = tempDir("agent");
    const { agent, journal } = makeAgent(dir, pathFeed(12, { 5: "missing", 6: "crossed", 7: "stale" }));
    await agent.run();
    const records = journal.read().records;
    const modes = records.filter((r) => r.type === "mode") as Extract<JournalRecord, { type: "mode" }>[];
    expect(modes.map((m) => [m.step, m.mode])).toEqual([
      [5, "safe"],
      [6, "safe"],
      [7, "safe"],
      [8, "trading"],
    ]);
    expect(modes[0]?.reasons[0]).toMatch(/missing/);
    expect(modes[1]?.reasons[0]).toMatch(/crossed/);
    expect(modes[2]?.reasons[0]).toMatch(/stale/);
    const tradedIn = new Set(
      records.filter((r) => r.type === "decision").map((r) => (r as { step: number }).step),
    );
    for (const s of [5, 6, 7]) expect(tradedIn.has(s)).toBe(false);
  });

  it("the kill switch stops all orders", async () => {
    const dir = tempDir("agent");
    const { agent } = makeAgent(dir, pathFeed(10), { killed: () => true });
    const state = await agent.run();
    expect(state.mode).toBe("killed");
    expect(state.ordersSent).toBe(0);
  });

  it("a crash after the broker accepted an order recovers it from the broker, not twice", async () => {
    const dir = tempDir("agent");
    const inner = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
    let calls = 0;
    const crashing: Broker = {
      name: "crashing",
      getOrder: (id) => inner.getOrder(id),
      placeOrder: async (o, q) => {
        const s = await inner.placeOrder(o, q);
        if (++calls === 3) throw new Error("simulated crash after the venue accepted the order");
        return s;
      },
    };
    // The broker throws after the venue accepted; the journal "crashes" on recording that error.
    const first = makeAgent(dir, pathFeed(15), { broker: crashing, crash: true });
    await expect(first.agent.run()).rejects.toThrow(/simulated crash/);
    first.journal.close();
    const second = makeAgent(dir, pathFeed(15), { broker: inner });
    const state = await second.agent.run();
    expect(state.recovered?.ordersFromBroker).toBe(1);
    // Uninterrupted reference run.
    const refDir = tempDir("agent");
    const ref = makeAgent(refDir, pathFeed(15));
    const refState = await ref.agent.run();
    expect(state.book).toEqual(refState.book);
    const ids = inner.allOrders().map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
