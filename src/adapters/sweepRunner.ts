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

/** A reusable pool of sweep worker threads (start-up paid once). */
export interface SweepPool {
  readonly threads: number;
  run(spec: SweepSpec, opts?: Pick<SweepRunOptions, "onProgress">): Promise<SweepRunResult>;
  close(): Promise<void>;
}

/** Starts `threads` worker threads (waits until they are up). */
export async function openSweepPool(threads: number = availableParallelism()): Promise<SweepPool> {
  const worker = siblingModulePath(import.meta.url, "sweepWorker");
  const pool = new Piscina<SweepJob | null, SweepJobResult | null>({
    filename: worker.path,
    execArgv: worker.execArgv,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  // Warm every thread (module load) with no-op tasks so start-up is paid here.
  await Promise.all(Array.from({ length: threads }, () => pool.run(null)));
  return {
    threads,
    run: async (spec, opts = {}) => {
      const jobs = expandSweep(spec);
      let done = 0;
      const results = await Promise.all(
        jobs.map(async (j) => {
          const r = (await pool.run(j)) as SweepJobResult;
          done++;
          opts.onProgress?.(done, jobs.length);
          return r;
        }),
      );
      return { jobs: jobs.length, results: results.sort((a, b) => a.id - b.id) };
    },
    close: () => pool.destroy(),
  };
}

/** Runs every job of `spec`; results sorted by job id. */
export async function runSweepThreads(spec: SweepSpec, opts: SweepRunOptions = {}): Promise<SweepRunResult> {
  const threads = opts.threads ?? availableParallelism();
  if (threads <= 0) {
    const jobs = expandSweep(spec);
    const results = jobs.map((j, i) => {
      const r = runSweepJob(j);
      opts.onProgress?.(i + 1, jobs.length);
      return r;
    });
    return { jobs: jobs.length, results };
  }
  const pool = await openSweepPool(threads);
  try {
    return await pool.run(spec, opts.onProgress ? { onProgress: opts.onProgress } : {});
  } finally {
    await pool.close();
  }
}
