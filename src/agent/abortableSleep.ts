import { setTimeout as sleep } from "node:timers/promises";

/** Waits `ms`, or less when `signal` aborts (the timer is cleared: nothing keeps the process up). */
export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  await sleep(ms, undefined, signal ? { signal } : {}).catch((err: unknown) => {
    if ((err as Error).name !== "AbortError") throw err;
  });
}
