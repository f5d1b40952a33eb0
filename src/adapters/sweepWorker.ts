/**
 * Piscina worker-thread task: runs one sweep job (a pure function of the job, see
 * src/core/backtest/sweep.ts) and returns its summary. Loaded by src/adapters/sweepRunner.ts
 * both from tsx (./sweepWorker.ts) and from the build (./sweepWorker.js).
 */
import { type SweepJob, type SweepJobResult, runSweepJob } from "../core/backtest/sweep.js";

export default function sweepTask(job: SweepJob): SweepJobResult {
  return runSweepJob(job);
}
