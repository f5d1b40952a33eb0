/**
 * Piscina worker-thread task: runs one sweep job (a pure function of the job, see
 * src/core/backtest/sweep.ts) and returns its summary. Loaded by src/adapters/sweepRunner.ts
 * both from tsx (./sweepWorker.ts) and from the build (./sweepWorker.js).
 */
import { type SweepJob, type SweepJobResult, runSweepJob } from "../core/backtest/sweep.js";

/** `null` is a no-op used to warm the thread up. */
export default function sweepTask(job: SweepJob | null): SweepJobResult | null {
  return job === null ? null : runSweepJob(job);
}
