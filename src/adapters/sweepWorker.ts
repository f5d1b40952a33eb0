/**
 * Piscina worker-thread task: runs sweep jobs (each a pure function of the job, see
 * src/core/backtest/sweep.ts) and returns their summaries. Loaded by src/adapters/sweepRunner.ts
 * both from tsx (./sweepWorker.ts) and from the build (./sweepWorker.js).
 *
 * The LP solver (optimizer strategy jobs) is loaded once per worker thread, on its first such
 * job, and kept for the thread's life: the memo is this edge module's, not core's.
 */
import { jobNeedsLpSolver, runSweepJob, type SweepJob, type SweepJobResult } from "../core/backtest/sweep.js";
import { type LpSolver, loadLpSolver } from "../core/optimize/lpSolver.js";

let solver: Promise<LpSolver> | null = null;

/** This thread's solver, loaded on first use (reloaded after a solve threw: a WebAssembly abort). */
function threadSolver(): Promise<LpSolver> {
  solver ??= loadLpSolver();
  return solver;
}

/** Runs one job with this thread's solver when it needs one. */
export async function runJobHere(job: SweepJob): Promise<SweepJobResult> {
  if (!jobNeedsLpSolver(job)) return runSweepJob(job);
  const s = await threadSolver();
  try {
    return runSweepJob(job, s);
  } catch (e) {
    solver = null;
    throw e;
  }
}

/** `null` is a no-op used to warm the thread up; an array is a batch of jobs run in order. */
export default async function sweepTask(
  task: SweepJob | readonly SweepJob[] | null,
): Promise<SweepJobResult | SweepJobResult[] | null> {
  if (task === null) return null;
  if (!Array.isArray(task)) return runJobHere(task as SweepJob);
  const out: SweepJobResult[] = [];
  for (const j of task) out.push(await runJobHere(j));
  return out;
}
