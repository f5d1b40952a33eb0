/**
 * Feed health from the decision clock (issue 19 item 5): each problem has its own reason code
 * (stale, repeated, out-of-order, crossed, missing-underlying, index-jump, missing) in the mode
 * record, the log and GET /state; a lasting move is accepted as the new level after
 * jumpConfirmTicks consistent ticks (it stayed in safe mode forever before); a restart in the
 * middle of safe mode reaches the same decisions as an uninterrupted run; the files feed decides
 * on its replay clock, so a repeated or day-old snapshot file is never traded on.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import { DERIBIT_CSV_COLUMNS, formatDeribitCsvRows } from "../../src/adapters/deribit/files.js";
import { Journal } from "../../src/adapters/journal.js";
import { parseAgentConfig } from "../../src/agent/config.js";
import { feedHealthStep, INITIAL_FEED_HEALTH } from "../../src/agent/feedHealth.js";
import { buildFeed } from "../../src/agent/feeds.js";
import { DEFAULT_HEALTH_LIMITS } from "../../src/agent/health.js";
import { Agent, type AgentFeed, type JournalRecord } from "../../src/agent/loop.js";
import { agentHttpState } from "../../src/agent/run.js";
import { KillSwitch } from "../../src/agent/killSwitch.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { syntheticSeries } from "../../src/core/market/syntheticSeries.js";
import {
  chainAt,
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

const codes = (r: { health: { reasons: readonly { code: string }[] } }) =>
  r.health.reasons.map((x) => x.code);

describe("feed health state machine", () => {
  it("gives each problem its own reason", () => {
    const L = DEFAULT_HEALTH_LIMITS;
    const a = chainAt(T0, 100_000);
    const s1 = feedHealthStep(INITIAL_FEED_HEALTH, a, T0 + 1_000, L);
    expect(s1.health.healthy).toBe(true);
    expect(codes(feedHealthStep(s1.state, null, T0 + HOUR, L))).toEqual(["missing"]);
    // The same snapshot again, an hour later on the decision clock: repeated and stale.
    expect(codes(feedHealthStep(s1.state, a, T0 + HOUR, L))).toEqual(["stale", "repeated"]);
    expect(codes(feedHealthStep(s1.state, a, T0 + 2_000, L))).toEqual(["repeated"]);
    const b = chainAt(T0 + HOUR, 100_500);
    const s2 = feedHealthStep(s1.state, b, T0 + HOUR, L);
    expect(s2.health.healthy).toBe(true);
    expect(
      codes(feedHealthStep(s2.state, chainAt(T0 + HOUR - 60_000, 100_400), T0 + HOUR + 1_000, L)),
    ).toEqual(["out-of-order"]);
    expect(
      codes(
        feedHealthStep(s2.state, chainAt(T0 + 2 * HOUR, 100_000, 0.6, { crossed: true }), T0 + 2 * HOUR, L),
      ),
    ).toEqual(["crossed"]);
    expect(
      codes(
        feedHealthStep(
          s2.state,
          { ...chainAt(T0 + 2 * HOUR, 100_000), indexPrice: Number.NaN },
          T0 + 2 * HOUR,
          L,
        ),
      ),
    ).toEqual(["missing-underlying"]);
    expect(codes(feedHealthStep(s2.state, chainAt(T0 + 2 * HOUR, 60_000), T0 + 2 * HOUR, L))).toEqual([
      "index-jump",
    ]);
    // A snapshot a day old on the decision clock.
    expect(codes(feedHealthStep(s2.state, chainAt(T0 + 2 * HOUR, 100_000), T0 + 26 * HOUR, L))).toEqual([
      "stale",
    ]);
  });

  it("accepts a lasting move after jumpConfirmTicks consistent clean ticks; a glitch back to the level clears it", () => {
    const L = { ...DEFAULT_HEALTH_LIMITS, jumpConfirmTicks: 3 };
    let st = feedHealthStep(INITIAL_FEED_HEALTH, chainAt(T0, 100_000), T0, L).state;
    const seen: string[] = [];
    const spots = [62_000, 61_500, 61_800, 61_900];
    spots.forEach((s, i) => {
      const r = feedHealthStep(st, chainAt(T0 + (i + 1) * HOUR, s), T0 + (i + 1) * HOUR, L);
      seen.push(r.health.healthy ? (r.accepted ? "accepted" : "ok") : codes(r).join());
      st = r.state;
    });
    expect(seen).toEqual(["index-jump", "index-jump", "accepted", "ok"]);
    expect(st.level).toBe(61_900);
    // A one-tick glitch: safe on the glitch, healthy when the index is back at the level.
    let g = feedHealthStep(INITIAL_FEED_HEALTH, chainAt(T0, 100_000), T0, L).state;
    const glitch = feedHealthStep(g, chainAt(T0 + HOUR, 150_000), T0 + HOUR, L);
    expect(codes(glitch)).toEqual(["index-jump"]);
    g = glitch.state;
    const back = feedHealthStep(g, chainAt(T0 + 2 * HOUR, 100_300), T0 + 2 * HOUR, L);
    expect(back.health.healthy).toBe(true);
    expect(back.state.pending).toBeNull();
    // A stale tick in the middle does not count toward the confirmation.
    let c = feedHealthStep(INITIAL_FEED_HEALTH, chainAt(T0, 100_000), T0, L).state;
    const out: boolean[] = [];
    [
      [1, 62_000, 0],
      [2, 62_100, 5 * HOUR],
      [3, 62_200, 0],
      [4, 62_300, 0],
    ].forEach(([h, s, late]) => {
      const r = feedHealthStep(
        c,
        chainAt(T0 + (h as number) * HOUR, s as number),
        T0 + (h as number) * HOUR + (late as number),
        L,
      );
      out.push(r.health.healthy);
      c = r.state;
    });
    expect(out).toEqual([false, false, false, true]);
  });
});

/** A replay with a lasting -38% move at tick 8 (the "over 30% keeps it in safe mode forever"). */
function movingFeed(steps: number): AgentFeed {
  const spots = Array.from(
    { length: steps },
    (_, i) => (i < 8 ? 100_000 : 62_000) * (1 + 0.001 * Math.sin(i)),
  );
  return replayFeed(hourlyChains(spots));
}

function agentOn(dir: string, feed: AgentFeed, maxSteps?: number) {
  return new Agent({
    runId: "fh",
    feed,
    broker: new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }),
    journal: new Journal<JournalRecord>(join(dir, "journal.jsonl")),
    resolveInstrument,
    policy: TEST_POLICY,
    limits: WIDE_LIMITS,
    health: { ...DEFAULT_HEALTH_LIMITS, jumpConfirmTicks: 3 },
    now: (step) => T0 + step * HOUR,
    killed: () => false,
    logger: SILENT,
    ...(maxSteps !== undefined ? { maxSteps } : {}),
  });
}

/** Per tick: the mode and the orders decided (instrument, side, quantity). */
function decisions(dir: string) {
  const records = new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;
  const modes = records.flatMap((r) => (r.type === "step-done" ? [[r.step, r.mode]] : []));
  const orders = records.flatMap((r) =>
    r.type === "decision" ? r.orders.map((o) => [r.step, o.instrument, o.side, o.quantity]) : [],
  );
  return { modes, orders, records };
}

describe("safe mode after a lasting move", () => {
  it("exits by the rule, and a restart mid-safe-mode reaches the same decisions as an uninterrupted run", async () => {
    const steps = 16;
    const whole = tempDir("agent-fh-whole");
    const agent = agentOn(whole, movingFeed(steps));
    const state = await agent.run();
    const ref = decisions(whole);
    // Ticks 8 and 9 are safe (index-jump), tick 10 accepts the move and trades again.
    expect(ref.modes.slice(7, 12)).toEqual([
      [7, "trading"],
      [8, "safe"],
      [9, "safe"],
      [10, "trading"],
      [11, "trading"],
    ]);
    const modeRecords = ref.records.filter((r) => r.type === "mode" && r.step === 8);
    expect(modeRecords[0]?.type === "mode" && modeRecords[0].reasons[0]).toMatch(
      /^index-jump: index .* -> .* \(-38\.\d%\) beyond ±30\.0% of the accepted level; accepted as the new level after 3 consistent clean ticks \(1 so far\)/,
    );
    expect(ref.orders.some((o) => (o[0] as number) >= 10)).toBe(true);
    expect(state.feedHealth?.healthy).toBe(true);
    expect(state.feedHealth?.level).toBeLessThan(70_000);

    // Interrupted at tick 9 (mid safe mode), restarted by a new agent on the same journal.
    const split = tempDir("agent-fh-split");
    const firstAgent = agentOn(split, movingFeed(steps), 10);
    const first = await firstAgent.run();
    expect(first.mode).toBe("safe");
    expect(first.feedHealth?.pendingMove).toMatchObject({ ticks: 2, needed: 3 });
    // GET /state names the reason with its code and the move waiting to be accepted.
    const view = agentHttpState(firstAgent, {
      runId: "fh",
      broker: "paper",
      killSwitch: new KillSwitch(join(split, "KILL")),
    }) as { feedHealth: { reasons: { code: string; detail: string }[]; pendingMove: unknown } };
    expect(view.feedHealth.reasons.map((r) => r.code)).toEqual(["index-jump"]);
    expect(view.feedHealth.reasons[0]?.detail).toMatch(/\(2 so far\)/);
    const resumed = await agentOn(split, movingFeed(steps)).run();
    expect(resumed.recovered?.fromStep).toBe(10);
    const got = decisions(split);
    expect(got.modes).toEqual(ref.modes);
    expect(got.orders).toEqual(ref.orders);
    expect(resumed.book).toEqual(state.book);
  });
});

describe("files feed: the replay clock, not the snapshot's time", () => {
  it("a repeated file and a day-old file are flagged (repeated, stale, out-of-order) and not traded on", async () => {
    const dir = tempDir("agent-fh-files");
    const snaps = join(dir, "snapshots");
    mkdirSync(snaps, { recursive: true });
    const series = syntheticSeries({ start: Date.UTC(2026, 0, 5, 9), steps: 6, stepMs: HOUR, seed: 5 });
    const csv = (c: ChainSnapshot) => [DERIBIT_CSV_COLUMNS.join(","), ...formatDeribitCsvRows(c)].join("\n");
    const chains = Array.from({ length: 6 }, (_, i) => series.chainAt(i));
    // Files in name order: 0, 1, 1 again (repeated), 3, the day before tick 0 (old), 5.
    const order = [
      chains[0],
      chains[1],
      chains[1],
      chains[3],
      { ...chains[0], valuationTime: (chains[0] as ChainSnapshot).valuationTime - 24 * HOUR },
      chains[5],
    ];
    for (const [i, c] of order.entries())
      writeFileSync(join(snaps, `snap_${i}.csv`), csv(c as ChainSnapshot));
    // A 7th file with an ETH chain only: the BTC agent's underlying is missing.
    const eth = syntheticSeries({
      underlying: "ETH",
      start: Date.UTC(2026, 0, 5, 15),
      steps: 1,
      stepMs: HOUR,
      seed: 6,
    });
    writeFileSync(join(snaps, "snap_6.csv"), csv(eth.chainAt(0)));
    const config = parseAgentConfig({
      runId: "files-clock",
      feed: { type: "files", dir: snaps },
      stateDir: join(dir, "state"),
      policy: {
        deltaBand: 0.5,
        hedgeInstrument: "BTC-PERPETUAL",
        vegaTargetPerVolPoint: -500,
        vegaTolerancePerVolPoint: 100,
        maxOrderContracts: 5,
      },
      limits: WIDE_LIMITS,
    });
    const built = await buildFeed(config);
    // The clock: the first snapshot's time, one hour (the first gap) per tick.
    expect(built.now(4, null)).toBe(Date.UTC(2026, 0, 5, 13));
    const agent = new Agent({
      runId: "files-clock",
      feed: built.feed,
      broker: new PaperBroker({
        statePath: join(dir, "broker.jsonl"),
        resolveInstrument: built.resolveInstrument,
      }),
      journal: new Journal<JournalRecord>(join(dir, "journal.jsonl")),
      resolveInstrument: built.resolveInstrument,
      policy: config.policy,
      limits: config.limits,
      health: config.health,
      now: built.now,
      killed: () => false,
      logger: { info() {}, warn() {}, error() {} },
    });
    await agent.run();
    const records = new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;
    const mode = (step: number) => {
      const m = records.filter((r) => r.type === "mode" && r.step <= step).at(-1);
      return m?.type === "mode" ? [m.mode, m.reasons.map((x) => x.split(":")[0])] : null;
    };
    expect(mode(2)).toEqual(["safe", ["stale", "repeated"]]);
    expect(mode(4)).toEqual(["safe", ["stale", "out-of-order"]]);
    expect(mode(5)?.[0]).toBe("trading");
    expect(mode(6)).toEqual(["safe", ["missing-underlying", "too-few-quotes"]]);
    const decided = new Set(records.flatMap((r) => (r.type === "decision" ? [r.step] : [])));
    expect(decided.has(2)).toBe(false);
    expect(decided.has(4)).toBe(false);
    expect(decided.has(0)).toBe(true);
  });
});
