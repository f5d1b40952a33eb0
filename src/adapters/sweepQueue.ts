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
 *
 * Failing fast (issue 22 item 5): before anything is queued or forked, Redis is probed once (one
 * connection, no retries, `connectTimeoutMs`, default 3 s): when nothing listens (or the name does
 * not resolve, or the host does not answer) a `SweepQueueUnavailableError` names the host, port
 * and reason (the CLI prints it as one line and exits 3). During a run, Redis is polled for the
 * job counts; if it cannot be reached for `unavailableAfterMs` (default 10 s) the run stops with
 * the same error. BullMQ's and ioredis' 'error' events all have listeners (an unlistened one
 * prints a stack trace per reconnection attempt). Results are read by polling the queue, not by
 * `job.waitUntilFinished` (which adds a 'closing' listener per job: MaxListenersExceededWarning
 * past 10 jobs).
 *
 * A worker that dies mid-job (crash, SIGKILL, lost machine) stops renewing its job's lock; when
 * the lock expires (`lockDurationMs`, default 30 s) another worker's stalled-job check (every
 * `stalledIntervalMs`, default 10 s) puts the job back in the queue and a live worker runs it
 * again: the result is the same since a job is a pure function of its data. Jobs run
 * synchronously (CPU-bound), so a lock is not renewed during a job: `lockDurationMs` must exceed
 * the longest job, and a job may stall `maxStalledCount` (default 3) times before it fails.
 */
import { type ChildProcess, fork } from "node:child_process";
import { type ConnectionOptions, Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { type SweepJob, type SweepJobResult, type SweepSpec, expandSweep } from "../core/backtest/sweep.js";
import { siblingModulePath, type SweepRunResult } from "./sweepRunner.js";
import { isMainModule } from "./mainModule.js";
import { runJobHere } from "./sweepWorker.js";

/** BullMQ connection options from a redis:// URL. */
export function redisConnectionFromUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SweepQueueConfigError("VOLFOLIO_REDIS_URL is not a URL (expected redis://host:port)");
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new SweepQueueConfigError(`VOLFOLIO_REDIS_URL must be redis://..., got protocol ${u.protocol}`);
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

/** A bad Redis URL (exit 2 in the CLI). */
export class SweepQueueConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SweepQueueConfigError";
  }
}

/** Redis cannot be reached (exit 3 in the CLI); `code` is the network error's (ECONNREFUSED, ...). */
export class SweepQueueUnavailableError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = "SweepQueueUnavailableError";
    this.code = code;
  }
}

function resolveRedisUrl(url?: string): string {
  const r = url ?? process.env.VOLFOLIO_REDIS_URL;
  if (!r)
    throw new SweepQueueUnavailableError(
      "no Redis: set VOLFOLIO_REDIS_URL (e.g. redis://127.0.0.1:56379)",
      "ECONNREFUSED",
    );
  return r;
}

/** host:port of a connection, for messages (never the password). */
function where(c: ConnectionOptions): string {
  const o = c as { host?: string; port?: number };
  return `${o.host ?? "127.0.0.1"}:${o.port ?? 6379}`;
}

const ignore = () => undefined;

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * One connection attempt and a PING, no retries, within `timeoutMs`; throws
 * SweepQueueUnavailableError naming host:port and the reason.
 */
export async function probeRedis(connection: ConnectionOptions, timeoutMs = 3_000): Promise<void> {
  const c = connection as Record<string, unknown>;
  const client = new Redis({
    ...(c as object),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: (Error & { code?: string }) | null = null;
  client.on("error", (e: Error) => {
    lastError = e;
  });
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      timeoutMs,
      () => Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" }),
    );
  } catch (err) {
    const e = (lastError ?? err) as Error & { code?: string };
    const code = e.code ?? (err as { code?: string }).code ?? "ECONNREFUSED";
    const reason = e.code ? e.code : e.message.split("\n")[0];
    throw new SweepQueueUnavailableError(
      `Redis at ${where(connection)} is unreachable (${reason}): start Redis or set VOLFOLIO_REDIS_URL`,
      code,
    );
  } finally {
    client.disconnect();
  }
}

/** Worker lock and stall-detection settings (see the module comment). */
export interface SweepWorkerTiming {
  /** A job's lock, ms (default 30,000); a dead worker's job is retried after it expires. */
  readonly lockDurationMs?: number;
  /** How often a worker looks for stalled jobs, ms (default 10,000). */
  readonly stalledIntervalMs?: number;
  /** Stalls allowed before a job fails (default 3). */
  readonly maxStalledCount?: number;
}

export interface SweepQueueOptions extends SweepWorkerTiming {
  readonly redisUrl?: string | undefined;
  /** Local worker processes to fork (default 2; 0 = only external workers). */
  readonly workers?: number;
  /** Queue name (default volfolio-sweep-<pid>-<time>). */
  readonly queueName?: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** The first probe's connection timeout, ms (default 3,000). */
  readonly connectTimeoutMs?: number;
  /** Redis unreachable this long during a run ends it, ms (default 10,000). */
  readonly unavailableAfterMs?: number;
  /** Job-count poll interval, ms (default 100). */
  readonly pollMs?: number;
}

/** Starts a queue worker in this process; resolves to a function that stops it. */
export async function startSweepQueueWorker(
  o: {
    readonly queueName: string;
    readonly redisUrl?: string | undefined;
    readonly concurrency?: number;
    /** Called with connection errors after start (default: ignored; BullMQ reconnects). */
    readonly onError?: (err: Error) => void;
    readonly connectTimeoutMs?: number;
  } & SweepWorkerTiming,
): Promise<() => Promise<void>> {
  const connection = redisConnectionFromUrl(resolveRedisUrl(o.redisUrl));
  await probeRedis(connection, o.connectTimeoutMs);
  // One LP solver per worker process, loaded on its first optimizer job (sweepWorker.ts runJobHere).
  const worker = new Worker<SweepJob, SweepJobResult>(o.queueName, async (job) => runJobHere(job.data), {
    connection,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockDurationMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? 10_000,
    maxStalledCount: o.maxStalledCount ?? 3,
  });
  worker.on("error", o.onError ?? ignore);
  await worker.waitUntilReady();
  // Closing waits for the job in hand; with Redis gone it would wait forever: bounded, then dropped.
  return async () => {
    await withTimeout(worker.close(), 10_000, () => new Error("timeout")).catch(async () => {
      const client = await withTimeout(
        worker.getBackend().connection.client,
        500,
        () => new Error("timeout"),
      ).catch(() => null);
      client?.disconnect();
      await withTimeout(worker.disconnect(), 500, () => new Error("timeout")).catch(ignore);
    });
  };
}

type SweepQueue = Queue<SweepJob, SweepJobResult>;

/** Forks the local worker processes of a queue (they read VOLFOLIO_REDIS_URL). */
function forkQueueWorkers(name: string, redisUrl: string, opts: SweepQueueOptions): ChildProcess[] {
  const entry = siblingModulePath(import.meta.url, "sweepQueue");
  const timing = [
    ...(opts.lockDurationMs ? ["--lock-ms", String(opts.lockDurationMs)] : []),
    ...(opts.stalledIntervalMs ? ["--stalled-ms", String(opts.stalledIntervalMs)] : []),
    ...(opts.maxStalledCount !== undefined ? ["--max-stalled", String(opts.maxStalledCount)] : []),
  ];
  const children: ChildProcess[] = [];
  for (let i = 0; i < (opts.workers ?? 2); i++) {
    const child = fork(entry.path, ["--sweep-worker", name, ...timing], {
      execArgv: entry.execArgv,
      env: { ...process.env, VOLFOLIO_REDIS_URL: redisUrl },
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    child.on("error", ignore);
    children.push(child);
  }
  return children;
}

/** Polls the completed/failed counts until every job is done (one listener in all); a failed job throws. */
async function waitForJobs(
  queue: SweepQueue,
  total: number,
  opts: SweepQueueOptions,
  lost: () => SweepQueueUnavailableError,
): Promise<void> {
  const unavailableAfter = opts.unavailableAfterMs ?? 10_000;
  let done = 0;
  let lastOk = Date.now();
  while (done < total) {
    let counts: Record<string, number> | null = null;
    try {
      counts = await withTimeout(queue.getJobCounts("completed", "failed"), unavailableAfter, lost);
      lastOk = Date.now();
    } catch (err) {
      if (err instanceof SweepQueueUnavailableError || Date.now() - lastOk > unavailableAfter) throw lost();
    }
    if ((counts?.failed ?? 0) > 0) {
      const [failed] = await queue.getJobs(["failed"], 0, 0);
      throw new Error(
        `sweep job ${failed?.data?.id ?? "?"} failed: ${failed?.failedReason ?? "unknown reason"}`,
      );
    }
    const completed = counts?.completed ?? 0;
    if (completed > done) {
      done = completed;
      opts.onProgress?.(done, total);
    }
    if (done < total) await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}

/** The completed jobs' results, in job order. */
async function collectResults(queue: SweepQueue, total: number, inTime: <T>(p: Promise<T>) => Promise<T>) {
  const results: SweepJobResult[] = [];
  for (let start = 0; start < total; start += 1000) {
    const part = await inTime(queue.getJobs(["completed"], start, start + 999, true));
    for (const j of part) results.push(j.returnvalue as SweepJobResult);
  }
  if (results.length !== total) throw new Error(`sweep: ${results.length} results for ${total} jobs`);
  return results.sort((a, b) => a.id - b.id);
}

/** Stops the forked workers (politely, then by signal). */
async function stopChildren(children: readonly ChildProcess[], ok: boolean): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once("exit", () => res());
          if (c.connected) c.send("stop", ignore);
          setTimeout(() => c.kill("SIGTERM"), ok ? 5000 : 1000).unref();
          setTimeout(() => c.kill("SIGKILL"), ok ? 8000 : 2000).unref();
        }),
    ),
  );
}

/** Removes the queue and drops its connection, each step bounded (Redis may be gone). */
async function closeQueue(queue: SweepQueue, ok: boolean): Promise<void> {
  const timeout = () => new Error("timeout");
  // With Redis gone these would wait for a reconnection: bounded, then the connection is dropped.
  await withTimeout(queue.obliterate({ force: true }), ok ? 10_000 : 1_000, timeout).catch(ignore);
  await withTimeout(queue.close(), ok ? 5_000 : 1_000, timeout).catch(ignore);
  // ioredis reconnects forever unless told to stop: drop the connection so no timer keeps the
  // process alive (BullMQ's own disconnect waits for a reconnection that may never come).
  const client = await withTimeout(queue.getBackend().connection.client, 500, timeout).catch(() => null);
  client?.disconnect();
  await withTimeout(queue.disconnect(), 500, timeout).catch(ignore);
}

/** Enqueues the sweep, runs it on queue workers, returns results in job order. */
export async function runSweepQueue(spec: SweepSpec, opts: SweepQueueOptions = {}): Promise<SweepRunResult> {
  const redisUrl = resolveRedisUrl(opts.redisUrl);
  const connection = redisConnectionFromUrl(redisUrl);
  const jobs = expandSweep(spec);
  await probeRedis(connection, opts.connectTimeoutMs);
  const name = opts.queueName ?? `volfolio-sweep-${process.pid}-${Date.now()}`;
  const queue: SweepQueue = new Queue<SweepJob, SweepJobResult>(name, { connection });
  let queueError: (Error & { code?: string }) | null = null;
  queue.on("error", (e: Error) => {
    queueError = e;
  });
  let children: ChildProcess[] = [];
  const unavailableAfter = opts.unavailableAfterMs ?? 10_000;
  const lost = () => {
    const e = queueError as (Error & { code?: string }) | null;
    return new SweepQueueUnavailableError(
      `Redis at ${where(connection)} unreachable for ${unavailableAfter / 1000} s during the sweep${e ? ` (${e.code ?? e.message})` : ""}`,
      e?.code ?? "ECONNRESET",
    );
  };
  const inTime = <T>(p: Promise<T>) => withTimeout(p, unavailableAfter, lost);
  let ok = false;
  try {
    await inTime(queue.waitUntilReady());
    const opts1 = { attempts: 1, removeOnComplete: false, removeOnFail: false };
    await inTime(
      queue.addBulk(
        jobs.map((j) => ({ name: "sweep-job", data: j, opts: { jobId: `job-${j.id}`, ...opts1 } })),
      ),
    );
    children = forkQueueWorkers(name, redisUrl, opts);
    await waitForJobs(queue, jobs.length, opts, lost);
    const results = await collectResults(queue, jobs.length, inTime);
    ok = true;
    return { jobs: jobs.length, results };
  } finally {
    await stopChildren(children, ok);
    await closeQueue(queue, ok);
  }
}

/** Entry point of a forked worker process: `node sweepQueue.js --sweep-worker <queue>`. */
async function workerMain(queueName: string, argv: string[]): Promise<void> {
  const num = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const lockDurationMs = num("--lock-ms");
  const stalledIntervalMs = num("--stalled-ms");
  const maxStalledCount = num("--max-stalled");
  const stop = await startSweepQueueWorker({
    queueName,
    ...(lockDurationMs ? { lockDurationMs } : {}),
    ...(stalledIntervalMs ? { stalledIntervalMs } : {}),
    ...(maxStalledCount !== undefined ? { maxStalledCount } : {}),
  });
  process.send?.("ready");
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

const invokedDirectly = isMainModule(import.meta.url);
if (invokedDirectly) {
  const i = process.argv.indexOf("--sweep-worker");
  const q = i >= 0 ? process.argv[i + 1] : undefined;
  if (!q) {
    process.stderr.write("usage: sweepQueue --sweep-worker <queue-name> (with VOLFOLIO_REDIS_URL set)\n");
    process.exitCode = 2;
  } else {
    workerMain(q, process.argv).catch((e) => {
      process.stderr.write(`sweep worker: ${(e as Error).message}\n`);
      process.exit(1);
    });
  }
}
