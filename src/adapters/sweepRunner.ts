/**
 * Runs a sweep serially or in parallel on worker threads (piscina). Results are returned in job
 * order and are identical whichever executor ran them (each job is deterministic).
 *
 * The worker file is resolved next to this module: ./sweepWorker.ts when running from source
 * (tsx, vitest; the worker threads then load tsx with `--import tsx`), ./sweepWorker.js from dist.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import {
  type SweepJob,
  type SweepJobResult,
  type SweepSpec,
  expandSweep,
  runSweepJob,
} from "../core/backtest/sweep.js";

/** Absolute path of a sibling module, with this file's extension (.ts from source, .js built). */
export function siblingModulePath(base: string, name: string): { path: string; execArgv: string[] } {
  const ext = base.endsWith(".ts") ? ".ts" : ".js";
  const path = fileURLToPath(new URL(`./${name}${ext}`, base));
  return { path, execArgv: ext === ".ts" ? ["--import", "tsx"] : [] };
}

export interface SweepRunOptions {
  /** Worker threads (default: available parallelism). 0 runs serially in this thread. */
  readonly threads?: number;
  /** Called after each finished job with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SweepRunResult {
  readonly jobs: number;
  readonly results: SweepJobResult[];
}

/** Runs every job of `spec`; results sorted by job id. */
export async function runSweepThreads(spec: SweepSpec, opts: SweepRunOptions = {}): Promise<SweepRunResult> {
  const jobs = expandSweep(spec);
  const threads = opts.threads ?? availableParallelism();
  let done = 0;
  const tick = () => {
    done++;
    opts.onProgress?.(done, jobs.length);
  };
  if (threads <= 0) {
    const results = jobs.map((j) => {
      const r = runSweepJob(j);
      tick();
      return r;
    });
    return { jobs: jobs.length, results };
  }
  const worker = siblingModulePath(import.meta.url, "sweepWorker");
  const pool = new Piscina<SweepJob, SweepJobResult>({
    filename: worker.path,
    execArgv: worker.execArgv,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 1000,
  });
  try {
    const results = await Promise.all(
      jobs.map(async (j) => {
        const r = await pool.run(j);
        tick();
        return r;
      }),
    );
    return { jobs: jobs.length, results: results.sort((a, b) => a.id - b.id) };
  } finally {
    await pool.destroy();
  }
}
