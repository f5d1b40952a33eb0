/**
 * Pre-trade limits fuzzed (issue 19): thousands of random orders and books through checkOrder.
 * An order with any non-finite input (quantity, price, index, contract size, greeks, margin,
 * held position, or a limit itself) never passes; every order that passes is inside every
 * configured limit by an independent recomputation here. And the margin limit binds without an
 * analytics block: the loop supplies the core margin on the tick's market.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import type { OrderRequest } from "../../src/adapters/broker/types.js";
import { Journal } from "../../src/adapters/journal.js";
import { checkOrder, type OrderRiskContext, type PreTradeLimits } from "../../src/agent/limits.js";
import { Agent, type JournalRecord } from "../../src/agent/loop.js";
import type { Instrument } from "../../src/core/instruments/types.js";
import { createRng } from "../../src/core/math/rng.js";
import {
  chainAt,
  HOUR,
  hourlyChains,
  PERP,
  replayFeed,
  resolveInstrument,
  SILENT,
  T0,
  TEST_POLICY,
  WIDE_LIMITS,
} from "./helpers.js";
import { tempDir } from "./tmp.js";

const N = 5_000;
const BAD = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const FIELDS = [
  "quantity",
  "limitPrice",
  "indexPrice",
  "contractSize",
  "deltaBefore",
  "vegaBefore",
  "deltaPerContract",
  "vegaPerContract",
  "marginBefore",
  "marginAfter",
  "positionBefore",
  "maxOptionContracts",
  "maxFutureContracts",
  "maxOrderNotionalUsd",
  "maxAbsDelta",
  "maxAbsVegaPerVolPoint",
  "maxMarginUsd",
] as const;

describe("checkOrder fuzz", () => {
  it(`${N} random orders and books: 0 passes on non-finite input, 0 passes outside a limit`, () => {
    const rng = createRng(1919);
    const u = () => rng.uniform();
    const options = chainAt(T0, 100_000).quotes.map((q) => q.instrument);
    let nonFinite = 0;
    let nonFinitePassed = 0;
    let passed = 0;
    const breaches: string[] = [];
    for (let i = 0; i < N; i++) {
      const isOption = u() < 0.6;
      let instrument: Instrument = isOption
        ? (options[Math.floor(u() * options.length)] as Instrument)
        : PERP;
      const order: { -readonly [K in keyof OrderRequest]: OrderRequest[K] } = {
        clientOrderId: `f${i}`,
        instrument: instrument.name,
        side: u() < 0.5 ? "buy" : "sell",
        quantity: isOption ? Math.round(u() * 30 * 10) / 10 + 0.1 : Math.round(u() * 200_000) + 1,
        limitPrice: u() < 0.5 ? null : u() * 0.2,
      };
      const withMargin = u() < 0.7;
      const reduce = u() < 0.2;
      const ctx: { -readonly [K in keyof OrderRiskContext]: OrderRiskContext[K] } = {
        instrument,
        indexPrice: 20_000 + u() * 150_000,
        deltaBefore: (u() - 0.5) * 20,
        vegaBefore: (u() - 0.5) * 1_000_000,
        deltaPerContract: isOption ? (u() - 0.5) * 2 : 1e-4 * u(),
        vegaPerContract: isOption ? (u() - 0.5) * 40_000 : 0,
        ...(withMargin ? { marginBefore: u() * 100_000, marginAfter: u() * 100_000 } : {}),
        ...(reduce ? { reduceOnly: { positionBefore: (u() - 0.5) * 40, reason: "fuzz" } } : {}),
      };
      const limits: { -readonly [K in keyof PreTradeLimits]: PreTradeLimits[K] } = {
        maxOptionContracts: 1 + u() * 30,
        maxFutureContracts: 1 + u() * 200_000,
        maxOrderNotionalUsd: 1_000 + u() * 5_000_000,
        maxAbsDelta: 0.5 + u() * 10,
        maxAbsVegaPerVolPoint: 100 + u() * 5_000,
        ...(u() < 0.5 ? { maxMarginUsd: 1_000 + u() * 100_000 } : {}),
      };
      const inject = u() < 0.5;
      if (inject) {
        const field = FIELDS[Math.floor(u() * FIELDS.length)] as (typeof FIELDS)[number];
        const v = BAD[Math.floor(u() * BAD.length)] as number;
        if (field === "quantity" || field === "limitPrice") order[field] = v;
        else if (field === "contractSize") instrument = ctx.instrument = { ...instrument, contractSize: v };
        else if (field === "positionBefore") ctx.reduceOnly = { positionBefore: v, reason: "fuzz" };
        else if (field in limits || field === "maxMarginUsd") limits[field as keyof PreTradeLimits] = v;
        else (ctx as Record<string, unknown>)[field] = v;
        nonFinite++;
      }
      const r = checkOrder(order, ctx, limits);
      if (inject) {
        if (r.ok) nonFinitePassed++;
        continue;
      }
      if (!r.ok) continue;
      passed++;
      // Independent judgement of a passed order.
      const sign = order.side === "buy" ? 1 : -1;
      const maxQ = isOption ? limits.maxOptionContracts : limits.maxFutureContracts;
      const notional =
        isOption || instrument.settlement === "linear"
          ? order.quantity * instrument.contractSize * ctx.indexPrice
          : order.quantity * instrument.contractSize;
      const dA = ctx.deltaBefore + sign * order.quantity * ctx.deltaPerContract;
      const vA = ctx.vegaBefore + sign * order.quantity * ctx.vegaPerContract;
      const hedge = !isOption && Math.abs(dA) < Math.abs(ctx.deltaBefore);
      if (!(order.quantity > 0 && order.quantity <= maxQ)) breaches.push(`${i} size`);
      if (!(notional <= limits.maxOrderNotionalUsd)) breaches.push(`${i} notional`);
      if (!(Math.abs(dA) <= limits.maxAbsDelta || Math.abs(dA) <= Math.abs(ctx.deltaBefore)))
        breaches.push(`${i} delta`);
      if (!(Math.abs(vA) <= limits.maxAbsVegaPerVolPoint * 100 || Math.abs(vA) <= Math.abs(ctx.vegaBefore)))
        breaches.push(`${i} vega`);
      if (ctx.reduceOnly) {
        const before = ctx.reduceOnly.positionBefore;
        const after = before + sign * order.quantity;
        if (!(Math.abs(after) < Math.abs(before) && before * after >= 0)) breaches.push(`${i} reduce-only`);
      } else if (limits.maxMarginUsd !== undefined && !hedge) {
        const { marginBefore: b, marginAfter: a } = ctx;
        if (a === undefined || b === undefined || !(a <= limits.maxMarginUsd || a <= b))
          breaches.push(`${i} margin`);
      }
    }
    console.info(
      `checkOrder fuzz: ${N} orders, ${nonFinite} with a non-finite input (${nonFinitePassed} passed), ${passed} finite passed, ${breaches.length} breaches`,
    );
    expect(nonFinite).toBeGreaterThan(2_000);
    expect(nonFinitePassed).toBe(0);
    expect(passed).toBeGreaterThan(100);
    expect(breaches).toEqual([]);
  });
});

describe("margin limit without analytics", () => {
  it("the loop checks maxMarginUsd on the core margin of the tick's market", async () => {
    const dir = tempDir("agent-margin");
    const chains = hourlyChains([100_000, 100_000, 100_000, 100_000]);
    const journal = new Journal<JournalRecord>(join(dir, "journal.jsonl"));
    const agent = new Agent({
      runId: "m",
      feed: replayFeed(chains),
      broker: new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }),
      journal,
      resolveInstrument,
      policy: TEST_POLICY,
      limits: { ...WIDE_LIMITS, maxMarginUsd: 1_000 },
      now: (step) => T0 + step * HOUR,
      killed: () => false,
      logger: SILENT,
    });
    const state = await agent.run();
    const records = new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;
    const rejected = records.filter((r) => r.type === "limit-rejected");
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((r) => r.type === "limit-rejected" && r.limit === "maxMarginUsd")).toBe(true);
    expect(rejected[0]?.type === "limit-rejected" && rejected[0].reason).toMatch(
      /margin after \d+ USD > limit 1000/,
    );
    // No short option got through the 1,000 USD margin limit.
    expect(Object.keys(state.book.positions).filter((n) => n !== "BTC-PERPETUAL")).toEqual([]);
  });
});
