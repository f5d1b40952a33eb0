/**
 * The agent's regime signal: HMM fitted on the index's tick returns, filtered P(high vol) scaling a
 * short-vol target. Checked against the states that generated the returns, in the loop (the vega
 * target the policy sees), and across a restart (the same history, the same decisions).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import { Journal } from "../../src/adapters/journal.js";
import { parseAgentConfig } from "../../src/agent/config.js";
import { Agent, type JournalRecord } from "../../src/agent/loop.js";
import { AgentRegime, agentRegimeSchema, regimeScaledVegaTarget } from "../../src/agent/regime.js";
import { createRng } from "../../src/core/math/rng.js";
import { simulateHmm } from "../../src/core/regime/hmm.js";
import { HOUR, hourlyChains, replayFeed, resolveInstrument, SILENT, T0, TEST_POLICY } from "./helpers.js";
import { tempDir } from "./tmp.js";

const CALM = 0.5 / Math.sqrt(8760); // 50% annual vol per hourly tick
const STRESS = 2.0 / Math.sqrt(8760); // 200%

/** Hourly index path: `calm` calm ticks then `stress` stressed ticks (known states). */
function regimePath(calm: number, stress: number, seed: number): number[] {
  const rng = createRng(seed);
  const spots = [100_000];
  for (let i = 0; i < calm + stress; i++) {
    const sd = i < calm ? CALM : STRESS;
    spots.push((spots.at(-1) as number) * Math.exp(sd * rng.normal()));
  }
  return spots;
}

describe("agent regime signal", () => {
  it("classifies HMM-simulated returns like the states that generated them (filtered, no look-ahead)", () => {
    const truth = {
      initial: [0.5, 0.5],
      transition: [
        [0.98, 0.02],
        [0.04, 0.96],
      ],
      means: [0, 0],
      stdevs: [CALM, STRESS],
    };
    const { returns, states } = simulateHmm(truth, 1200, createRng(11));
    const regime = new AgentRegime(
      agentRegimeSchema.parse({ window: 400, minReturns: 200, refitEveryTicks: 50 }),
    );
    let index = 100_000;
    regime.observe(0, index, T0);
    let agree = 0;
    let counted = 0;
    for (let t = 0; t < returns.length; t++) {
      index *= Math.exp(returns[t] as number);
      regime.observe(t + 1, index, T0 + (t + 1) * HOUR);
      const v = regime.view(t + 1);
      if (v.returns < 200) continue;
      counted++;
      if ((v.highVolProbability > 0.5 ? 1 : 0) === states[t]) agree++;
      expect(v.scale).toBeGreaterThanOrEqual(0);
      expect(v.scale).toBeLessThanOrEqual(1);
      if (v.highVolProbability <= 0.3) expect(v.scale).toBe(1);
      if (v.highVolProbability >= 0.8) expect(v.scale).toBe(0);
    }
    expect(counted).toBe(1001);
    expect(agree / counted).toBeGreaterThan(0.9);
    // State vols annualised with the tick interval (1 h): close to 50% and 200%.
    const last = regime.view(returns.length);
    expect(last.stateVols?.[0]).toBeGreaterThan(0.4);
    expect(last.stateVols?.[0]).toBeLessThan(0.6);
    expect(last.stateVols?.[1]).toBeGreaterThan(1.6);
    expect(last.stateVols?.[1]).toBeLessThan(2.4);
  });

  it("keeps full exposure in a single-vol market (no distinct high-vol state) and while warming up", () => {
    const spots = regimePath(600, 0, 5);
    const regime = new AgentRegime(agentRegimeSchema.parse({ window: 300, minReturns: 100 }));
    const scales: number[] = [];
    spots.forEach((s, i) => {
      regime.observe(i, s, T0 + i * HOUR);
      const v = regime.view(i);
      if (i < 100) expect(v.reason).toMatch(/warming up/);
      scales.push(v.scale);
    });
    expect(scales.filter((s) => s === 1).length / scales.length).toBeGreaterThan(0.95);
  });

  it("only scales short-vol targets", () => {
    expect(regimeScaledVegaTarget(-1000, 0.25)).toBe(-250);
    expect(regimeScaledVegaTarget(800, 0)).toBe(800);
  });

  it("rejects bad regime configs naming the field", () => {
    expect(() => parseAgentConfigWith({ calmProbability: 0.9, stressProbability: 0.5 })).toThrow(
      /regime\.calmProbability/,
    );
    expect(() => parseAgentConfigWith({ states: 4 })).toThrow(/regime\.states/);
  });

  const policy = TEST_POLICY;
  const limits = {
    maxOptionContracts: 60,
    maxFutureContracts: 1_000_000,
    maxOrderNotionalUsd: 50_000_000,
    maxAbsDelta: 50,
    maxAbsVegaPerVolPoint: 10_000,
  };
  const spots = regimePath(200, 100, 21);
  const chains = hourlyChains(spots);
  const feed = replayFeed(chains);
  const regimeConfig = agentRegimeSchema.parse({ window: 300, minReturns: 100, refitEveryTicks: 24 });

  function agentIn(dir: string, maxSteps?: number, ticks: Record<string, unknown>[] = []) {
    return new Agent({
      runId: "regime",
      feed,
      broker: new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }),
      journal: new Journal<JournalRecord>(join(dir, "journal.jsonl")),
      resolveInstrument,
      policy,
      limits,
      now: (step) => T0 + step * HOUR,
      killed: () => false,
      logger: {
        ...SILENT,
        info: (obj: object, msg?: string) => {
          if (msg === "tick") ticks.push(obj as Record<string, unknown>);
        },
      },
      regime: regimeConfig,
      ...(maxSteps !== undefined ? { maxSteps } : {}),
    });
  }

  it("cuts the short-vol target in a stress regime, and a restarted agent decides as an uninterrupted one", async () => {
    const ticks: Record<string, unknown>[] = [];
    const whole = agentIn(tempDir("regime-whole"), undefined, ticks);
    await whole.run();
    const target = (step: number) =>
      (ticks[step]?.regime as { vegaTargetPerVolPoint: number } | undefined)?.vegaTargetPerVolPoint;
    // Warm-up and calm (ticks 0..200): the configured target.
    const calm = Array.from({ length: 190 }, (_, i) => target(i + 10));
    expect(calm.filter((t) => t === -2_000).length / calm.length).toBeGreaterThan(0.95);
    // After 100 stressed ticks the high-vol probability is high and short vol is cut to nothing.
    expect(whole.state.regime?.highVolProbability).toBeGreaterThan(0.8);
    expect(whole.state.regime?.scale).toBe(0);
    expect(target(chains.length - 1)).toBe(0);
    expect(Math.abs(whole.state.vega / 100)).toBeLessThan(Math.abs(policy.vegaTargetPerVolPoint) / 4);

    const dir = tempDir("regime-split");
    const first = agentIn(dir, 230);
    await first.run();
    const second = agentIn(dir);
    await second.run();
    expect(second.state.recovered?.fromStep).toBe(230);
    expect(second.state.book.positions).toEqual(whole.state.book.positions);
    expect(second.state.ordersSent + first.state.ordersSent).toBe(whole.state.ordersSent);
    expect(second.state.regime).toEqual(whole.state.regime);
  });
});

/** The example agent config (examples/agent.json) with a `regime` block. */
function parseAgentConfigWith(regime: object) {
  const example = JSON.parse(readFileSync(resolve(__dirname, "../../examples/agent.json"), "utf8"));
  return parseAgentConfig({ ...example, regime });
}
