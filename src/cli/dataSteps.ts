/** Backtest steps from a directory of daily chain files, with a progress bar (backtest, vault). */
import { loadBacktestData } from "../adapters/backtestData.js";
import { CliError } from "./io.js";
import { progressBar } from "./progress.js";

/** Loads `dir`'s snapshots of `underlying` (optionally cut to [from, to]); exit 1 when none. */
export async function loadDataSteps(o: {
  readonly dir: string;
  readonly underlying: string;
  readonly from?: string;
  readonly to?: string;
  readonly progress: boolean;
}): Promise<Awaited<ReturnType<typeof loadBacktestData>>> {
  const loading = progressBar(o.progress, "loading snapshots");
  let started = false;
  let d: Awaited<ReturnType<typeof loadBacktestData>>;
  try {
    d = await loadBacktestData({
      dir: o.dir,
      underlying: o.underlying,
      ...(o.from ? { from: o.from } : {}),
      ...(o.to ? { to: o.to } : {}),
      onFile: (done, n) => {
        if (!started) loading.start(n);
        started = true;
        loading.update(done);
      },
    });
  } finally {
    if (started) loading.stop();
  }
  if (d.steps.length === 0) throw new CliError(`no ${o.underlying} snapshots in ${o.dir}`, 1);
  return d;
}
