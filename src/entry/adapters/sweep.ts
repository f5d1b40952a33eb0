/**
 * `volfolio/adapters/sweep`: parameter sweeps over worker threads (piscina) or a Redis queue (BullMQ).
 */
export { openSweepPool, runSweepThreads } from "../../adapters/sweepRunner.js";
export type {
  SweepExecution,
  SweepPool,
  SweepRunOptions,
  SweepRunResult,
} from "../../adapters/sweepRunner.js";
export {
  runSweepQueue,
  startSweepQueueWorker,
  SweepQueueConfigError,
  SweepQueueUnavailableError,
} from "../../adapters/sweepQueue.js";
export type { SweepQueueOptions, SweepWorkerTiming } from "../../adapters/sweepQueue.js";
