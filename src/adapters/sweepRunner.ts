/**
 * Runs a sweep serially or in parallel on worker threads (piscina). Results are returned in job
 * order and are identical whichever executor ran them (each job is deterministic).
 *
 * `runSweepThreads` with `threads` N >= 2 computes on N threads: this one and N - 1 worker
 * threads, all taking jobs from one list. This thread starts on the first job at once while the
 * workers start up (loading the worker module costs 0.3-2 s, more than a small sweep's jobs), and
 * a worker takes jobs only once it is up, two at a time so it never waits for this thread between
 * jobs. So a sweep is never slower than serial by the start-up, and when the workers finish no job
 * (too few or too small jobs) the result says so (`execution.note`).
 *
 * The worker file is resolved next to this module: ./sweepWorker.ts when running from source
 * (tsx, vitest; the worker threads then load tsx with `--import tsx`), ./sweepWorker.js from dist.
 * Optimizer-strategy jobs need the LP solver: each thread loads it once, on its first such job.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { expandSweep, type SweepJob, type SweepJobResult, type SweepSpec } from "../core/backtest/sweep.js";
import { runJobHere } from "./sweepWorker.js";

/** Absolute path of a sibling module, with this file's extension (.ts from source, .js built). */
export function siblingModulePath(base: string, name: string): { path: string; execArgv: string[] } {
  const ext = base.endsWith(".ts") ? ".ts" : ".js";
  const path = fileURLToPath(new URL(`./${name}${ext}`, base));
  return { path, execArgv: ext === ".ts" ? ["--import", "tsx"] : [] };
}

export interface SweepRunOptions {
  /**
   * Computing threads: this thread plus `threads - 1` worker threads (default: available
   * parallelism). 0 or 1 runs serially in this thread.
   */
  readonly threads?: number;
  /** Called after each finished job with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Where the jobs ran (runSweepThreads). */
export interface SweepExecution {
  /** Computing threads (this one included). */
  readonly threads: number;
  readonly workerThreads: number;
  readonly jobsOnThisThread: number;
  readonly jobsOnWorkers: number;
  /** Why threads did not help, when they did not (null otherwise). */
  readonly note: string | null;
}

export interface SweepRunResult {
  readonly jobs: number;
  readonly results: SweepJobResult[];
  readonly execution?: SweepExecution;
}

/** A reusable pool of sweep worker threads (start-up paid once). */
export interface SweepPool {
  readonly threads: number;
  run(spec: SweepSpec, opts?: Pick<SweepRunOptions, "onProgress">): Promise<SweepRunResult>;
  close(): Promise<void>;
}

type SweepPiscina = Piscina<SweepJob | null, SweepJobResult | null>;

function newPiscina(threads: number, tasksPerThread = 1): SweepPiscina {
  const worker = siblingModulePath(import.meta.url, "sweepWorker");
  return new Piscina<SweepJob | null, SweepJobResult | null>({
    filename: worker.path,
    execArgv: worker.execArgv,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: tasksPerThread,
    idleTimeout: 60_000,
  });
}

/** Starts `threads` worker threads (waits until they are up). The jobs then run on the workers only. */
export async function openSweepPool(threads: number = availableParallelism()): Promise<SweepPool> {
  const pool = newPiscina(threads);
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

/** One list of jobs taken in order by this thread and the workers; results by job position. */
class JobList {
  private next = 0;
  private finished = 0;
  private markEmpty: () => void = () => undefined;
  readonly results: (SweepJobResult | undefined)[];
  /** Resolves when every job has been taken. */
  readonly empty = new Promise<void>((r) => {
    this.markEmpty = r;
  });
  constructor(
    readonly jobs: readonly SweepJob[],
    private readonly onProgress?: (done: number, total: number) => void,
  ) {
    this.results = new Array(jobs.length);
  }
  take(): { job: SweepJob; at: number } | null {
    const at = this.next;
    const job = this.jobs[at];
    if (!job) {
      this.markEmpty();
      return null;
    }
    this.next++;
    return { job, at };
  }
  done(at: number, r: SweepJobResult): void {
    this.results[at] = r;
    this.finished++;
    this.onProgress?.(this.finished, this.jobs.length);
  }
}

/** This thread's share: one job at a time, yielding between jobs so the workers get theirs. */
async function thisThreadLoop(list: JobList): Promise<number> {
  let ran = 0;
  for (let t = list.take(); t; t = list.take()) {
    list.done(t.at, await runJobHere(t.job));
    ran++;
    await new Promise<void>((r) => setImmediate(r));
  }
  return ran;
}

/**
 * One worker slot: waits until a worker is up (a no-op task), then takes jobs until none is left;
 * gives up waiting when the other threads took every job first.
 */
async function workerLoop(pool: SweepPiscina, list: JobList): Promise<number> {
  const warm = pool.run(null).then(() => true);
  warm.catch(() => undefined); // a pool destroyed while starting: nothing left to do
  if (!(await Promise.race([warm, list.empty.then(() => false)]))) return 0;
  let ran = 0;
  for (let t = list.take(); t; t = list.take()) {
    list.done(t.at, (await pool.run(t.job)) as SweepJobResult);
    ran++;
  }
  return ran;
}

function executionNote(jobs: number, onWorkers: number, workerThreads: number): string | null {
  if (workerThreads === 0 || onWorkers > 0) return null;
  return `the ${jobs} job(s) all finished on this thread before a worker thread was up: too few or too small jobs for threads (as fast as serial; use --threads 0 to skip starting workers)`;
}

/** Runs every job of `spec` (see the module comment); results sorted by job id. */
export async function runSweepThreads(spec: SweepSpec, opts: SweepRunOptions = {}): Promise<SweepRunResult> {
  const jobs = expandSweep(spec);
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), jobs.length));
  const workerThreads = threads - 1;
  const list = new JobList(jobs, opts.onProgress);
  const pool = workerThreads > 0 ? newPiscina(workerThreads, 2) : null;
  try {
    const slots = pool ? Array.from({ length: 2 * workerThreads }, () => workerLoop(pool, list)) : [];
    const [here, ...onWorkers] = await Promise.all([thisThreadLoop(list), ...slots]);
    const jobsOnWorkers = onWorkers.reduce((a, b) => a + b, 0);
    const results = list.results.filter((r): r is SweepJobResult => r !== undefined);
    if (results.length !== jobs.length)
      throw new Error(`sweep: ${results.length} results for ${jobs.length} jobs`);
    const note = executionNote(jobs.length, jobsOnWorkers, workerThreads);
    const execution = { threads, workerThreads, jobsOnThisThread: here ?? 0, jobsOnWorkers, note };
    return { jobs: jobs.length, results, execution };
  } finally {
    await pool?.destroy();
  }
}
