/**
 * Bench harness: everything is reported as a ratio against a baseline measured in the same
 * run (DESIGN.md), plus absolute rates for context. No timing assertions live in tests.
 */
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

/** The real Deribit BTC+ETH chain sample of ../shared/data (benches skip or substitute without it). */
export const SAMPLE_CHAIN = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv",
);

export interface Measurement {
  /** Calls per second. */
  readonly opsPerSecond: number;
  /** Nanoseconds per call. */
  readonly nsPerOp: number;
  readonly iterations: number;
}

/**
 * Times `fn(i)` over repeated batches until at least `minMs` elapsed; returns the best batch
 * rate (least disturbed by the other core). `fn` should return a value so work is not elided.
 */
export function measure(
  fn: (i: number) => unknown,
  opts: { batch?: number; minMs?: number } = {},
): Measurement {
  const batch = opts.batch ?? 10_000;
  const minMs = opts.minMs ?? 300;
  let sink = 0;
  for (let i = 0; i < Math.min(batch, 2000); i++) sink += Number(fn(i)) || 0; // warm-up
  let best = Number.POSITIVE_INFINITY;
  let total = 0;
  let iterations = 0;
  while (total < minMs) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) sink += Number(fn(i)) || 0;
    const dt = performance.now() - t0;
    total += dt;
    iterations += batch;
    best = Math.min(best, dt / batch);
  }
  if (sink === 0.123456789) console.log(""); // keep sink alive
  return { opsPerSecond: 1e3 / best, nsPerOp: best * 1e6, iterations };
}

/** Times one async or sync job once, in milliseconds. */
export async function timeOnce<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e6 || Math.abs(x) < 1e-3
    ? x.toExponential(2)
    : Number(x.toPrecision(digits)).toString();
}

export function header(title: string): void {
  console.log(`\n== ${title} ==`);
}
