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
    expect(threads).toEqual(serial);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(serial.results[0]).toEqual(runSweepJob(expandSweep(spec)[0]!));
    const summary = summarizeSweep(serial.results);
    expect(summary.length).toBe(4);
    expect(summary[0]!.seeds).toBe(2);
    const r0 = serial.results.filter((r) => JSON.stringify(r.params) === JSON.stringify(summary[0]!.params));
    expect(summary[0]!.meanCostsUsd).toBeCloseTo((r0[0]!.costsUsd + r0[1]!.costsUsd) / 2, 9);
    // Different parameters do give different results (the comparison can fail).
    expect(serial.results[0]!.finalEquityUsd).not.toBe(serial.results[4]!.finalEquityUsd);
  });

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
      expect(JSON.stringify(queue)).toBe(JSON.stringify(threads));
    },
  );
});
