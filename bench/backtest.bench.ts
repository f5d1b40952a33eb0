/**
 * Backtest bench: snapshot-steps per second of a one-year hourly backtest (8,761 steps of the
 * surface-driven synthetic market) for each strategy, against a baseline measured in the same run
 * (generating the same steps without a strategy); and the speed-up of a sweep on 2 worker threads
 * versus the same sweep serially in this thread.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runBacktest } from "../src/core/backtest/engine.js";
import type { StrategySpec } from "../src/core/backtest/strategies.js";
import type { SweepSpec } from "../src/core/backtest/sweep.js";
import { syntheticSteps } from "../src/core/backtest/syntheticMarket.js";
import { fmt, header, timeOnce } from "./harness.js";

/**
 * The sweep runner from the build (dist/, as `volfolio sweep` runs) when present: its workers then
 * load plain JS. From source each worker thread loads tsx (`--import tsx`), whose module hooks
 * made jobs 1.5-2.5x slower there than on the main thread and hid the parallel speed-up.
 * `npm run bench` builds first.
 */
const distRunner = fileURLToPath(new URL("../dist/adapters/sweepRunner.js", import.meta.url));
const runnerFrom = existsSync(distRunner) ? "dist/ (built JS)" : "src/ via tsx (slower workers)";
const { openSweepPool, runSweepThreads } = (await import(
  existsSync(distRunner) ? distRunner : "../src/adapters/sweepRunner.js"
)) as typeof import("../src/adapters/sweepRunner.js");

const specs: StrategySpec[] = [
  { type: "covered-call", params: { coins: 1, targetDelta: 0.25, tenorDays: 7 } },
  {
    type: "short-strangle",
    params: { usd: 100_000, quantity: 1, callDelta: 0.2, putDelta: 0.2, tenorDays: 7 },
    hedge: { policy: "interval", intervalHours: 1 },
  },
  {
    type: "short-strangle",
    params: { usd: 100_000, quantity: 1, callDelta: 0.2, putDelta: 0.2, tenorDays: 7 },
    hedge: { policy: "zakamouline", riskAversion: 1e-3 },
  },
  { type: "calendar", params: { usd: 100_000, quantity: 1, nearDays: 7, farDays: 30 } },
  { type: "tail-hedge", params: { coins: 1, hedgeRatio: 1, moneyness: 0.8, tenorDays: 30, rollDays: 7 } },
];

async function best<T>(n: number, fn: () => T | Promise<T>): Promise<number> {
  let ms = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) ms = Math.min(ms, (await timeOnce(fn)).ms);
  return ms;
}

export async function run(): Promise<void> {
  header("backtest: one-year hourly synthetic backtest (8,761 snapshot-steps)");
  const market = { steps: 8760, seed: 1 };
  const baseMs = await best(3, () => {
    let n = 0;
    for (const s of syntheticSteps(market)) n += s.indexPrice > 0 ? 1 : 0;
    return n;
  });
  console.log(`baseline (generate the steps only): ${fmt(baseMs)} ms, ${fmt((8761 / baseMs) * 1e3)} steps/s`);
  for (const spec of specs) {
    const ms = await best(3, () =>
      runBacktest({ strategy: spec, steps: syntheticSteps(market), recordTrades: false }),
    );
    const label = `${spec.type}${spec.hedge ? ` (${spec.hedge.policy})` : ""}`;
    console.log(
      `${label.padEnd(36)} ${fmt(ms)} ms  ${fmt((8761 / ms) * 1e3)} steps/s  ${fmt(ms / baseMs)}x baseline time`,
    );
  }

  header(`sweep: 8 jobs x 90 days hourly, serial vs 2 worker threads (piscina); runner from ${runnerFrom}`);
  const sweep: SweepSpec = {
    base: specs[1] as StrategySpec,
    grid: { "params.callDelta": [0.1, 0.2, 0.3, 0.4], "params.putDelta": [0.15, 0.25] },
    market: { steps: 24 * 90 },
    seeds: [1],
  };
  const startMs = await best(1, async () => (await openSweepPool(2)).close());
  console.log(
    `pool start-up (2 threads, loading the worker module): ${fmt(startMs)} ms, paid once per sweep`,
  );
  const pool = await openSweepPool(2);
  try {
    for (const [label, sw] of [
      ["8 jobs x 90 days", sweep],
      ["16 jobs x 1 year", { ...sweep, market: { steps: 24 * 365 }, seeds: [1, 2] }],
    ] as const) {
      await pool.run(sw); // warm-up (JIT in the workers)
      const serialMs = await best(2, () => runSweepThreads(sw, { threads: 0 }));
      const threadMs = await best(2, () => pool.run(sw));
      // As `volfolio sweep --threads 2` runs it: cold (worker start-up included), this thread + 1 worker.
      let split = "";
      const cliMs = await best(2, async () => {
        const r = await runSweepThreads(sw, { threads: 2 });
        split = `${r.execution?.jobsOnThisThread ?? "?"} jobs here / ${r.execution?.jobsOnWorkers ?? "?"} on the worker`;
      });
      console.log(
        `${label}: serial ${fmt(serialMs)} ms; pre-warmed pool of 2 workers ${fmt(threadMs)} ms (${fmt(serialMs / threadMs)}x); ` +
          `CLI path (--threads 2, cold start: this thread + 1 worker, ${split}) ${fmt(cliMs)} ms (${fmt(serialMs / cliMs)}x serial)`,
      );
    }
  } finally {
    await pool.close();
  }
}
