/** Progress bars for long CLI work: cli-progress on stderr (stdout stays for results/JSON). */
import { SingleBar } from "cli-progress";

export interface Progress {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

/** Whether to show progress: a TTY on stderr, or `--progress` given. */
export const wantsProgress = (o: { progress?: unknown }): boolean =>
  Boolean(o.progress) || Boolean(process.stderr.isTTY);

/** A bar labelled `label` when enabled; no-ops otherwise. */
export function progressBar(enabled: boolean, label: string): Progress {
  if (!enabled) return { start: () => {}, update: () => {}, stop: () => {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta}s`,
    barsize: 30,
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 1000,
  });
  return {
    start: (n) => bar.start(n, 0),
    update: (d) => bar.update(d),
    stop: () => bar.stop(),
  };
}
