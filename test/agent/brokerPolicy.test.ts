/**
 * The agent survives its broker (issue 19 item 6): every class of broker error (a rejection, a
 * timeout, a 5xx, a disabled broker) is journaled (`broker-error` with its class, attempt and
 * what the policy did) and retried or abandoned by the configured policy; the run always ends
 * normally. Fake brokers wrap the paper broker; a transient error that clears reaches the same
 * book as a run with no errors, a timeout whose order did reach the venue is found by its id and
 * never sent twice.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BrokerDisabledError, DeribitBroker, DeribitBrokerError } from "../../src/adapters/broker/deribit.js";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import type { Broker } from "../../src/adapters/broker/types.js";
import { Journal } from "../../src/adapters/journal.js";
import { BrokerTimeoutError, classifyBrokerError } from "../../src/agent/brokerPolicy.js";
import { parseAgentConfig } from "../../src/agent/config.js";
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

const STEPS = 8;
const chains = hourlyChains(driftSpots(STEPS, 0.003));
const POLICY = { retries: 2, backoffMs: 5, timeoutMs: 100 };

async function run(
  name: string,
  makeBroker: (paper: PaperBroker) => Broker,
): Promise<{ state: AgentState; records: JournalRecord[]; paper: PaperBroker; waits: number[] }> {
  const dir = tempDir(`agent-broker-${name}`);
  const paper = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
  const waits: number[] = [];
  const agent = new Agent({
    runId: "b",
    feed: replayFeed(chains),
    broker: makeBroker(paper),
    journal: new Journal<JournalRecord>(join(dir, "journal.jsonl")),
    resolveInstrument,
    policy: TEST_POLICY,
    limits: WIDE_LIMITS,
    now: (step) => T0 + step * HOUR,
    killed: () => false,
    logger: SILENT,
    brokerPolicy: POLICY,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  const state = await agent.run();
  const records = new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;
  return { state, records, paper, waits };
}

const errors = (records: JournalRecord[]) => records.flatMap((r) => (r.type === "broker-error" ? [r] : []));

describe("broker error classes", () => {
  it("classifies what the brokers throw", () => {
    expect(classifyBrokerError(new DeribitBrokerError("private/buy", "HTTP 503"))).toBe("server");
    expect(classifyBrokerError(new DeribitBrokerError("private/sell", "10009 not_enough_funds"))).toBe(
      "rejection",
    );
    expect(classifyBrokerError(new DeribitBrokerError("private/buy", "HTTP 400"))).toBe("rejection");
    expect(classifyBrokerError(new BrokerDisabledError())).toBe("disabled");
    expect(classifyBrokerError(new BrokerTimeoutError("placeOrder x", 100))).toBe("timeout");
    expect(
      classifyBrokerError(new DeribitBrokerError("private/buy", "cannot reach https://x: fetch failed")),
    ).toBe("network");
    expect(classifyBrokerError(Object.assign(new Error("no space"), { code: "ENOSPC" }))).toBe("local-io");
  });

  it("the config carries the policy with defaults", () => {
    const base = {
      runId: "x",
      feed: { type: "synthetic", steps: 2 },
      stateDir: "/tmp/x",
      policy: {
        deltaBand: 0.5,
        hedgeInstrument: "BTC-PERPETUAL",
        vegaTargetPerVolPoint: 0,
        vegaTolerancePerVolPoint: 1,
        maxOrderContracts: 1,
      },
      limits: WIDE_LIMITS,
    };
    expect(parseAgentConfig(base).brokerPolicy).toEqual({ retries: 2, backoffMs: 500, timeoutMs: 10_000 });
    expect(() => parseAgentConfig({ ...base, brokerPolicy: { retries: -1 } })).toThrow(
      /brokerPolicy\.retries/,
    );
  });
});

describe("the agent under a failing broker", () => {
  it("no errors: the reference run", async () => {
    const ref = await run("ref", (p) => p);
    expect(ref.state.ordersSent).toBeGreaterThan(2);
    expect(errors(ref.records)).toEqual([]);
  });

  it("rejection: journaled and abandoned at once (no retry), the run goes on", async () => {
    const r = await run("reject", (paper) => ({
      name: "rejecting",
      getOrder: (id) => paper.getOrder(id),
      placeOrder: async (o, q) => {
        if (o.instrument !== "BTC-PERPETUAL")
          throw new DeribitBrokerError(`private/${o.side}`, "10009 not_enough_funds");
        return paper.placeOrder(o, q);
      },
    }));
    expect(r.state.step).toBe(STEPS - 1);
    const e = errors(r.records);
    expect(e.length).toBeGreaterThan(0);
    expect(e.every((x) => x.errorClass === "rejection" && x.action === "abandon" && x.attempt === 1)).toBe(
      true,
    );
    expect(r.state.ordersAbandoned).toBe(e.length);
    expect(r.waits).toEqual([]);
    // No option reached the book.
    expect(Object.keys(r.state.book.positions).filter((n) => n !== "BTC-PERPETUAL")).toEqual([]);
  });

  it("5xx then success: retried with backoff, same book as the reference run", async () => {
    const ref = await run("ref5", (p) => p);
    const failures = new Map<string, number>();
    const r = await run("5xx", (paper) => ({
      name: "flaky",
      getOrder: (id) => paper.getOrder(id),
      placeOrder: async (o, q) => {
        const n = failures.get(o.clientOrderId) ?? 0;
        if (n < 2) {
          failures.set(o.clientOrderId, n + 1);
          throw new DeribitBrokerError(`private/${o.side}`, "HTTP 502");
        }
        return paper.placeOrder(o, q);
      },
    }));
    const e = errors(r.records);
    expect(e.length).toBe(2 * r.state.ordersSent);
    expect(e.every((x) => x.errorClass === "server" && x.action === "retry")).toBe(true);
    expect(r.waits.slice(0, 2)).toEqual([5, 10]); // backoffMs x 2^(attempt - 1)
    expect(r.state.book).toEqual(ref.state.book);
    expect(r.state.ordersAbandoned).toBe(0);
  });

  it("5xx that lasts: abandoned after the retries, the run goes on", async () => {
    const r = await run("5xx-hard", (paper) => ({
      name: "down",
      getOrder: (id) => paper.getOrder(id),
      placeOrder: async (o) => {
        throw new DeribitBrokerError(`private/${o.side}`, "HTTP 503");
      },
    }));
    expect(r.state.step).toBe(STEPS - 1);
    const e = errors(r.records);
    const first = e.filter((x) => x.clientOrderId === e[0]?.clientOrderId);
    expect(first.map((x) => [x.attempt, x.action])).toEqual([
      [1, "retry"],
      [2, "retry"],
      [3, "abandon"],
    ]);
    expect(r.state.ordersAbandoned).toBe(r.state.ordersSent);
    expect(r.state.book.positions).toEqual({});
  });

  it("timeout: the hung call is abandoned after timeoutMs and retried; an order that did arrive is found, not sent twice", async () => {
    const ref = await run("ref-timeout", (p) => p);
    const seen = new Set<string>();
    const r = await run("timeout", (paper) => ({
      name: "slow",
      getOrder: (id) => paper.getOrder(id),
      placeOrder: async (o, q) => {
        if (!seen.has(o.clientOrderId)) {
          seen.add(o.clientOrderId);
          // Odd orders reach the venue and then the answer is lost; even ones hang before sending.
          if (seen.size % 2 === 1) await paper.placeOrder(o, q);
          return new Promise(() => undefined);
        }
        return paper.placeOrder(o, q);
      },
    }));
    const e = errors(r.records);
    expect(e.every((x) => x.errorClass === "timeout")).toBe(true);
    expect(e.some((x) => x.action === "found")).toBe(true);
    expect(e.some((x) => x.action === "retry")).toBe(true);
    expect(r.state.book).toEqual(ref.state.book);
    const ids = r.paper.allOrders().map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a disabled Deribit broker: every order journaled 'disabled' and abandoned, no crash", async () => {
    const r = await run(
      "disabled",
      () => new DeribitBroker({ enabled: false, resolveInstrument, currency: "BTC", env: {} }),
    );
    expect(r.state.step).toBe(STEPS - 1);
    const e = errors(r.records);
    expect(e.length).toBeGreaterThan(0);
    expect(e.every((x) => x.errorClass === "disabled" && x.action === "abandon")).toBe(true);
    expect(e[0]?.message).toMatch(/broker is disabled/);
    expect(r.state.book.positions).toEqual({});
  });
});
