/**
 * Runs a sweep through a BullMQ queue on Redis, so the work can be spread over processes and
 * machines. `runSweepQueue` enqueues every job, optionally forks local worker processes (this
 * same file run with `--sweep-worker <queue>`), waits for all results and returns them in job
 * order: identical to `runSweepThreads`, since each job is a pure function of its data.
 * On another machine, `volfolio sweep --worker --queue-name <name>` (or `startSweepQueueWorker`)
 * joins the same queue.
 *
 * Redis URL: the `redisUrl` option or env VOLFOLIO_REDIS_URL (e.g. redis://127.0.0.1:56379);
 * the password, if any, is taken from the URL and never logged.
 */
import { type ChildProcess, fork } from "node:child_process";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ConnectionOptions, Queue, QueueEvents, Worker } from "bullmq";
import {
  type SweepJob,
  type SweepJobResult,
  type SweepSpec,
  expandSweep,
  runSweepJob,
} from "../core/backtest/sweep.js";
import { siblingModulePath, type SweepRunResult } from "./sweepRunner.js";

/** BullMQ connection options from a redis:// URL. */
export function redisConnectionFromUrl(url: string): ConnectionOptions {
  const u = new URL(url);
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new Error(`VOLFOLIO_REDIS_URL must be redis://..., got protocol ${u.protocol}`);
  return {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === "rediss:" ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

function resolveRedisUrl(url?: string): string {
  const r = url ?? process.env.VOLFOLIO_REDIS_URL;
  if (!r)
    throw Object.assign(new Error("no Redis: set VOLFOLIO_REDIS_URL (e.g. redis://127.0.0.1:56379)"), {
      code: "ECONNREFUSED",
    });
  return r;
}

export interface SweepQueueOptions {
  readonly redisUrl?: string;
  /** Local worker processes to fork (default 2; 0 = only external workers). */
  readonly workers?: number;
  /** Queue name (default volfolio-sweep-<pid>-<time>). */
  readonly queueName?: string;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Starts a queue worker in this process; resolves to a function that stops it. */
export async function startSweepQueueWorker(o: {
  readonly queueName: string;
  readonly redisUrl?: string;
  readonly concurrency?: number;
}): Promise<() => Promise<void>> {
  const connection = redisConnectionFromUrl(resolveRedisUrl(o.redisUrl));
  const worker = new Worker<SweepJob, SweepJobResult>(o.queueName, async (job) => runSweepJob(job.data), {
    connection,
    concurrency: o.concurrency ?? 1,
  });
  await worker.waitUntilReady();
  return () => worker.close();
}

/** Enqueues the sweep, runs it on queue workers, returns results in job order. */
export async function runSweepQueue(spec: SweepSpec, opts: SweepQueueOptions = {}): Promise<SweepRunResult> {
  const redisUrl = resolveRedisUrl(opts.redisUrl);
  const connection = redisConnectionFromUrl(redisUrl);
  const name = opts.queueName ?? `volfolio-sweep-${process.pid}-${Date.now()}`;
  const jobs = expandSweep(spec);
  const queue = new Queue<SweepJob, SweepJobResult>(name, { connection });
  const events = new QueueEvents(name, { connection });
  const children: ChildProcess[] = [];
  try {
    await queue.waitUntilReady();
    await events.waitUntilReady();
    const added = await queue.addBulk(
      jobs.map((j) => ({ name: "sweep-job", data: j, opts: { jobId: `job-${j.id}`, attempts: 1 } })),
    );
    const entry = siblingModulePath(import.meta.url, "sweepQueue");
    for (let i = 0; i < (opts.workers ?? 2); i++) {
      children.push(
        fork(entry.path, ["--sweep-worker", name], {
          execArgv: entry.execArgv,
          env: { ...process.env, VOLFOLIO_REDIS_URL: redisUrl },
          stdio: ["ignore", "ignore", "inherit", "ipc"],
        }),
      );
    }
    let done = 0;
    const results = await Promise.all(
      added.map(async (job) => {
        const r = (await job.waitUntilFinished(events)) as SweepJobResult;
        done++;
        opts.onProgress?.(done, jobs.length);
        return r;
      }),
    );
    return { jobs: jobs.length, results: results.sort((a, b) => a.id - b.id) };
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.exitCode !== null || c.signalCode !== null) return res();
            c.once("exit", () => res());
            c.send("stop");
            setTimeout(() => c.kill("SIGTERM"), 5000).unref();
          }),
      ),
    );
    await queue.obliterate({ force: true }).catch(() => undefined);
    await events.close();
    await queue.close();
  }
}

/** Entry point of a forked worker process: `node sweepQueue.js --sweep-worker <queue>`. */
async function workerMain(queueName: string): Promise<void> {
  const stop = await startSweepQueueWorker({ queueName });
  const shutdown = () => {
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("message", (m) => {
    if (m === "stop") shutdown();
  });
  process.on("SIGTERM", shutdown);
  process.on("disconnect", shutdown);
}

const invokedDirectly = (() => {
  try {
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  const i = process.argv.indexOf("--sweep-worker");
  const q = i >= 0 ? process.argv[i + 1] : undefined;
  if (!q) {
    process.stderr.write("usage: sweepQueue --sweep-worker <queue-name> (with VOLFOLIO_REDIS_URL set)\n");
    process.exitCode = 2;
  } else {
    workerMain(q).catch((e) => {
      process.stderr.write(`sweep worker: ${(e as Error).message}\n`);
      process.exit(1);
    });
  }
}
