/**
 * What the agent does when its broker fails (issue 19 item 6): never a crash. Each call to
 * `placeOrder` runs under a timeout; an exception is classified and either retried or abandoned:
 *
 *  - `timeout` (no answer within `timeoutMs`), `network` (the venue cannot be reached) and
 *    `server` (HTTP 5xx): transient, retried up to `retries` times, `backoffMs` x 2^(attempt-1)
 *    apart. Before each retry and before giving up, the broker is asked for the order by its
 *    client order id (the call may have reached the venue): if it has it, that state is the
 *    result. A retry re-sends the same client order id, so the venue never books it twice.
 *  - `rejection` (the venue refused the order: an error answer or an HTTP 4xx), `disabled` (a
 *    Deribit broker without `enabled: true`) and `unknown` errors: abandoned at once (sending
 *    the same order again would get the same answer).
 * A local I/O failure (ENOSPC, EIO, EROFS, ... from a write/fsync/open: the paper broker's own
 * journal, i.e. this machine's disk) is not the broker's: it is rethrown and ends the run like a
 * failing agent journal does, so the restart recovers from the journals (a disk that cannot
 * record an order must not let the run go on as if it had).
 * A rejection the broker returns as an order state (status "rejected") is not an exception: the
 * loop journals it as the order's result like any other.
 *
 * Every error is reported to `onError` (the loop journals a `broker-error` record and logs it);
 * an abandoned order leaves the book unchanged and the tick goes on with the next order.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Broker, OrderRequest, OrderState, TopOfBook } from "../adapters/broker/types.js";

export interface BrokerPolicy {
  /** Retries of a transient error (timeout, network, 5xx). */
  readonly retries: number;
  /** First wait before a retry, ms; doubled each retry. */
  readonly backoffMs: number;
  /** Longest wait for one broker call, ms. */
  readonly timeoutMs: number;
}

export const DEFAULT_BROKER_POLICY: BrokerPolicy = { retries: 2, backoffMs: 500, timeoutMs: 10_000 };

export type BrokerErrorClass =
  | "timeout"
  | "network"
  | "server"
  | "rejection"
  | "disabled"
  | "unknown"
  | "local-io";

const LOCAL_IO_CODES = new Set([
  "ENOSPC",
  "EIO",
  "EROFS",
  "EDQUOT",
  "EBADF",
  "EMFILE",
  "ENFILE",
  "EACCES",
  "EPERM",
]);
const LOCAL_IO_SYSCALLS = new Set([
  "write",
  "writev",
  "fsync",
  "fdatasync",
  "open",
  "close",
  "ftruncate",
  "rename",
]);

/** Transient classes, retried. */
export const RETRIED_CLASSES: ReadonlySet<BrokerErrorClass> = new Set(["timeout", "network", "server"]);

/** A broker call that did not answer within the policy's timeout. */
export class BrokerTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer from the broker within ${ms} ms`);
    this.name = "BrokerTimeoutError";
  }
}

/** Classifies a broker exception (module comment). */
export function classifyBrokerError(err: unknown): BrokerErrorClass {
  const e = err as {
    name?: string;
    message?: string;
    status?: number;
    statusCode?: number;
    code?: string;
    syscall?: string;
  };
  const name = e?.name ?? "";
  if ((e?.code && LOCAL_IO_CODES.has(e.code)) || (e?.syscall && LOCAL_IO_SYSCALLS.has(e.syscall)))
    return "local-io";
  const message = String(e?.message ?? err);
  const status = e?.status ?? e?.statusCode;
  if (name === "BrokerDisabledError") return "disabled";
  if (name === "BrokerTimeoutError" || name === "TimeoutError" || name === "AbortError") return "timeout";
  if (typeof status === "number") {
    if (status >= 500) return "server";
    if (status >= 400) return "rejection";
  }
  if (/\bHTTP 5\d\d\b/.test(message)) return "server";
  if (/timed? ?out|timeout|aborted/i.test(message)) return "timeout";
  if (/cannot reach|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|socket hang up|fetch failed/i.test(message))
    return "network";
  if (/\bHTTP 4\d\d\b/.test(message) || /Deribit private\/(buy|sell) failed: -?\d+ /.test(message))
    return "rejection";
  if (/reject/i.test(message)) return "rejection";
  return "unknown";
}

export interface BrokerErrorEvent {
  readonly clientOrderId: string;
  readonly errorClass: BrokerErrorClass;
  /** 1 for the first call. */
  readonly attempt: number;
  readonly message: string;
  /** What the policy does next. */
  readonly action: "retry" | "abandon" | "found";
}

export type PlaceResult =
  | { readonly ok: true; readonly state: OrderState; readonly attempts: number }
  | {
      readonly ok: false;
      readonly errorClass: BrokerErrorClass;
      readonly message: string;
      readonly attempts: number;
    };

async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerTimeoutError(what, ms)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The broker's order with this client order id, under the policy's timeout (throws on an error). */
export function lookupOrder(
  broker: Broker,
  clientOrderId: string,
  policy: BrokerPolicy,
): Promise<OrderState | null> {
  return withTimeout(`getOrder ${clientOrderId}`, policy.timeoutMs, broker.getOrder(clientOrderId));
}

/** Places `order` under `policy` (module comment); never throws. */
export async function placeWithPolicy(
  broker: Broker,
  order: OrderRequest,
  quote: TopOfBook,
  policy: BrokerPolicy,
  onError: (e: BrokerErrorEvent) => void,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<PlaceResult> {
  const id = order.clientOrderId;
  for (let attempt = 1; ; attempt++) {
    try {
      const state = await withTimeout(`placeOrder ${id}`, policy.timeoutMs, broker.placeOrder(order, quote));
      return { ok: true, state, attempts: attempt };
    } catch (err) {
      const errorClass = classifyBrokerError(err);
      if (errorClass === "local-io") throw err;
      const message = String((err as Error)?.message ?? err);
      // The call may have reached the venue: ask for the order by its id before anything else.
      if (errorClass !== "disabled") {
        const found = await withTimeout(`getOrder ${id}`, policy.timeoutMs, broker.getOrder(id)).catch(
          () => null,
        );
        if (found) {
          onError({ clientOrderId: id, errorClass, attempt, message, action: "found" });
          return { ok: true, state: found, attempts: attempt };
        }
      }
      const retry = RETRIED_CLASSES.has(errorClass) && attempt <= policy.retries;
      onError({ clientOrderId: id, errorClass, attempt, message, action: retry ? "retry" : "abandon" });
      if (!retry) return { ok: false, errorClass, message, attempts: attempt };
      const ms = policy.backoffMs * 2 ** (attempt - 1);
      if (ms > 0) await wait(ms);
    }
  }
}
