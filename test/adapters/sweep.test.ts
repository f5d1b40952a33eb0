import { describe, expect, it } from "vitest";
import { runSweepQueue } from "../../src/adapters/sweepQueue.js";
import { runSweepThreads } from "../../src/adapters/sweepRunner.js";
import {
  expandSweep,
  runSweepJob,
  type SweepSpec,
  setDottedPath,
  summarizeSweep,
} from "../../src/core/backtest/sweep.js";

/** Mean of two seeds' costs (~1e2-1e3 USD) by the summary vs (a + b) / 2 here: at most an ulp or two of rounding; 11 digits (was a bare 9). */
const MEAN_OF_TWO_DIGITS = 11;
const spec: SweepSpec = {
  base: {
    type: "short-strangle",
    params: { usd: 60_000, quantity: 1, callDelta: 0.2, putDelta: 0.2, tenorDays: 7 },
    hedge: { policy: "delta-band", band: 0.1 },
  },
  grid: { "params.callDelta": [0.1, 0.3], "hedge.band": [0.05, 0.2] },
  market: { steps: 24 * 20, model: { type: "gbm", drift: 0, vol: 0.6 } },
  seeds: [1, 2],
};

describe("sweep expansion", () => {
  it("lists the cartesian grid x seeds in a fixed order, applying dotted paths without mutating the base", () => {
    const jobs = expandSweep(spec);
    expect(jobs.length).toBe(8);
    expect(jobs.map((j) => j.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(jobs[0]!.params).toEqual({ "params.callDelta": 0.1, "hedge.band": 0.05 });
    expect(jobs[3]!.params).toEqual({ "params.callDelta": 0.1, "hedge.band": 0.2 });
    expect(jobs[3]!.seed).toBe(2);
    expect((jobs[7]!.strategy as { params: { callDelta: number } }).params.callDelta).toBe(0.3);
    expect((spec.base as { params: { callDelta: number } }).params.callDelta).toBe(0.2);
    expect(() => setDottedPath({}, "__proto__.x", 1)).toThrow(/dotted path/);
    expect(() => expandSweep({ ...spec, seeds: [] })).toThrow(/seeds/);
  });
});

describe("sweep executors", () => {
  it("worker threads (piscina, 2 threads) give exactly the serial results, with progress", async () => {
    const serial = await runSweepThreads(spec, { threads: 0 });
    const seen: number[] = [];
    const threads = await runSweepThreads(spec, { threads: 2, onProgress: (d) => seen.push(d) });
    expect(threads.results).toEqual(serial.results);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // This thread and one worker thread take jobs from one list: every job ran exactly once.
    const ex = threads.execution;
    expect(ex?.threads).toBe(2);
    expect((ex?.jobsOnThisThread ?? 0) + (ex?.jobsOnWorkers ?? 0)).toBe(8);
    expect(ex?.note === null).toBe((ex?.jobsOnWorkers ?? 0) > 0);
    expect(serial.results[0]).toEqual(runSweepJob(expandSweep(spec)[0]!));
    const summary = summarizeSweep(serial.results);
    expect(summary.length).toBe(4);
    expect(summary[0]!.seeds).toBe(2);
    const r0 = serial.results.filter((r) => JSON.stringify(r.params) === JSON.stringify(summary[0]!.params));
    expect(summary[0]!.meanCostsUsd).toBeCloseTo((r0[0]!.costsUsd + r0[1]!.costsUsd) / 2, MEAN_OF_TWO_DIGITS);
    // Different parameters do give different results (the comparison can fail).
    expect(serial.results[0]!.finalEquityUsd).not.toBe(serial.results[4]!.finalEquityUsd);
  });

  it("the optimizer strategy sweeps: 2 threads (each loading HiGHS once) give the serial results, on target", async () => {
    const TARGETS = [500, 1500];
    const opt: SweepSpec = {
      base: {
        type: "optimizer",
        params: {
          usd: 1_000_000,
          rebalance: { everyDays: 7 },
          optimize: {
            underlying: "BTC",
            objective: { kind: "vega-target", targetUsdPerVolPt: 1000, penaltyUsd: 100 },
            constraints: { delta: { min: -0.2, max: 0.2 } },
            candidates: { minDays: 14, maxDays: 40, minAbsDelta: 0.2, maxAbsDelta: 0.5, maxContracts: 30 },
            scenarios: { spotShifts: [-0.1, 0, 0.1], volShifts: [0] },
            stress: false,
          },
        },
      },
      grid: { "params.optimize.objective.targetUsdPerVolPt": TARGETS },
      market: { steps: 24 * 3, start: Date.UTC(2026, 0, 5) },
      seeds: [3],
    };
    const serial = await runSweepThreads(opt, { threads: 0 });
    const threads = await runSweepThreads(opt, { threads: 2 });
    expect(threads.results).toEqual(serial.results);
    expect(serial.results.map((r) => r.params["params.optimize.objective.targetUsdPerVolPt"])).toEqual(
      TARGETS,
    );
    // The optimizer traded (one rebalance each): option trades plus the hedge, and the two targets differ.
    for (const r of serial.results) expect(r.trades).toBeGreaterThan(0);
    expect(serial.results[0]!.finalEquityUsd).not.toBe(serial.results[1]!.finalEquityUsd);
    // Without a solver an optimizer job is refused by name (executors must pass one).
    expect(() => runSweepJob(expandSweep(opt)[0]!)).toThrow(/lpSolver/);
  }, 60_000);

  const redisUrl = process.env.VOLFOLIO_REDIS_URL;
  if (!redisUrl)
    console.warn(
      'sweep queue test skipped: VOLFOLIO_REDIS_URL is not set (eval "$(bash scripts/ci-services.sh)")',
    );
  it.skipIf(!redisUrl)(
    "a BullMQ queue with 2 worker processes gives exactly the thread results",
    async () => {
      const reachable = await import("ioredis").then(async ({ Redis }) => {
        const r = new Redis(redisUrl as string, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        try {
          await r.connect();
          return (await r.ping()) === "PONG";
        } catch {
          return false;
        } finally {
          r.disconnect();
        }
      });
      if (!reachable) {
        console.warn(`sweep queue test skipped: Redis at ${redisUrl} is unreachable`);
        return;
      }
      const threads = await runSweepThreads(spec, { threads: 2 });
      const queue = await runSweepQueue(spec, { redisUrl, workers: 2 });
      expect(JSON.stringify(queue.results)).toBe(JSON.stringify(threads.results));
    },
  );
});
