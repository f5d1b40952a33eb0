/**
 * Hedges are sized on what will fill (issue 19 item 4). The book holds short options; the vega
 * rule proposes an option order every tick and the limits block every one of them (option orders
 * above 0.05 contracts are refused). The delta hedge is decided after those orders went through
 * the limits and the broker, on the book they left, so the book's delta after every tick stays
 * inside the band (plus half a perpetual contract of rounding). The old rule sized the hedge as
 * if the blocked orders filled: the book ended at -4.36 BTC against a 0.25 band.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import { Journal } from "../../src/adapters/journal.js";
import { Agent, type JournalRecord } from "../../src/agent/loop.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import {
  HOUR,
  hourlyChains,
  hourlyPathSpots,
  replayFeed,
  resolveInstrument,
  SILENT,
  T0,
  TEST_POLICY,
} from "./helpers.js";
import { tempDir } from "./tmp.js";

const STEPS = 40;

describe("the hedge is sized after the option orders' pre-trade check", () => {
  it("option orders blocked every tick: the book's delta stays inside the band", async () => {
    const dir = tempDir("agent-hedge");
    const spots = hourlyPathSpots(STEPS, 44, 0.8);
    const chains = hourlyChains(spots);
    // The starting book: short 20 of a 30-day option (journaled as a filled order before the run).
    const first = chains[0] as ChainSnapshot;
    const short = first.quotes.find(
      (q) =>
        q.instrument.kind === "call" &&
        q.instrument.strike === 105_000 &&
        q.instrument.expiry - T0 > 25 * 24 * HOUR &&
        q.instrument.expiry - T0 < 35 * 24 * HOUR,
    );
    if (!short) throw new Error("no 30-day 105,000 call in the test chain");
    const path = join(dir, "journal.jsonl");
    const seed = new Journal<JournalRecord>(path);
    seed.append({ type: "start", runId: "h", at: T0 - HOUR });
    seed.append({
      type: "order",
      step: -1,
      state: {
        clientOrderId: "seed-short",
        instrument: short.instrument.name,
        side: "sell",
        requestedQuantity: 20,
        status: "filled",
        filledQuantity: 20,
        fills: [
          {
            clientOrderId: "seed-short",
            instrument: short.instrument.name,
            side: "sell",
            quantity: 20,
            price: short.bid as number,
            fee: 0,
            feeCurrency: "BTC",
            timestamp: T0 - HOUR,
          },
        ],
      },
    });
    seed.close();
    const policy = { ...TEST_POLICY, deltaBand: 0.25, vegaTargetPerVolPoint: 2_000 };
    const agent = new Agent({
      runId: "h",
      feed: replayFeed(chains),
      broker: new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }),
      journal: new Journal<JournalRecord>(path),
      resolveInstrument,
      policy,
      limits: {
        maxOptionContracts: 0.05,
        maxFutureContracts: 1_000_000,
        maxOrderNotionalUsd: 100_000_000,
        maxAbsDelta: 50,
        maxAbsVegaPerVolPoint: 50_000,
      },
      now: (step) => T0 + step * HOUR,
      killed: () => false,
      logger: SILENT,
    });
    const state = await agent.run();
    expect(state.step).toBe(STEPS - 1);
    const records = new Journal<JournalRecord>(path).read().records;
    const optionOrders = records.flatMap((r) =>
      r.type === "decision" && r.phase !== "hedge" ? r.orders.filter((o) => o.rule !== "delta") : [],
    );
    const rejected = new Set(records.flatMap((r) => (r.type === "limit-rejected" ? [r.clientOrderId] : [])));
    // The vega rule wanted to buy back vega every tick; every one of its orders was blocked.
    expect(optionOrders.length).toBe(STEPS);
    expect(optionOrders.every((o) => rejected.has(o.clientOrderId))).toBe(true);
    const hedges = records.flatMap((r) =>
      r.type === "order" && r.state.instrument === "BTC-PERPETUAL" ? [r.state] : [],
    );
    expect(hedges.length).toBeGreaterThan(5);
    // After every tick the book's delta is inside the band (+ half a contract of rounding).
    const done = records.filter((r) => r.type === "step-done");
    expect(done).toHaveLength(STEPS);
    const worst = Math.max(...done.map((r) => (r.type === "step-done" ? Math.abs(r.delta) : 0)));
    const halfContract = 0.5 * (10 / Math.min(...spots));
    console.info(
      `hedge after check: ${optionOrders.length} option orders blocked, ${hedges.length} hedges, worst |delta| after a tick ${worst.toFixed(4)} BTC (band ${policy.deltaBand})`,
    );
    expect(worst).toBeLessThanOrEqual(policy.deltaBand + halfContract);
  });
});
