/**
 * The market a backtest or a vault runs on (`volfolio backtest`, `volfolio vault`): one definition
 * of the market flags (--data/--synthetic, the date range, the synthetic market's length, step,
 * seed, spot, vol and --market file), the synthetic market they describe, and the steps of a
 * directory of daily chain files with a progress bar.
 *
 * What differs between the two commands, by design: the synthetic length's default (a backtest
 * a year, a vault 26 weekly rounds = 182 days), the spot models (backtest: --model and
 * --calibrate, so --vol is the model's vol; vault: GBM only) and --store (backtest only, so the
 * date range also applies to it there).
 */
import type { Command } from "commander";
import { loadBacktestData } from "../adapters/backtestData.js";
import { readInputText } from "../adapters/inputFile.js";
import { parseSyntheticMarket } from "../adapters/strategyFile.js";
import type { SyntheticMarketConfig } from "../core/backtest/syntheticMarket.js";
import { CliError, parseNumberOption } from "./io.js";
import { progressBar } from "./progress.js";

/** The market flags as commander gives them (numbers are parsed by syntheticMarketBase). */
export interface StepMarketFlags {
  readonly data?: string;
  readonly synthetic?: boolean;
  readonly underlying: string;
  readonly from?: string;
  readonly to?: string;
  readonly days?: string;
  readonly stepHours?: string;
  readonly seed?: string;
  readonly spot?: string;
  readonly vol?: string;
  readonly market?: string;
}

/**
 * --data (then `between`'s options, e.g. backtest's --store), --synthetic, --underlying, --from,
 * --to; `rangeSources` names what the date range applies to ("--data" or "--data or --store").
 */
export function addDataOptions(
  cmd: Command,
  o: { readonly rangeSources: string; readonly between?: (cmd: Command) => Command },
): Command {
  cmd.option("--data <dir>", "directory of daily Deribit chain snapshots (*.csv or *.csv.gz)");
  (o.between ?? ((c) => c))(cmd);
  return cmd
    .option("--synthetic", "use the surface-driven synthetic market (default when --data is absent)")
    .option("--underlying <coin>", "underlying in the chain files", "BTC")
    .option("--from <date>", `first snapshot date (YYYY-MM-DD) with ${o.rangeSources}`)
    .option("--to <date>", `last snapshot date (YYYY-MM-DD) with ${o.rangeSources}`);
}

/**
 * The synthetic market's flags: --days (default `days`), --step-hours, --seed, --spot, then
 * `beforeVol` (backtest's --model), --vol (`volHelp`), `afterVol` (--calibrate), --market.
 */
export function addSyntheticOptions(
  cmd: Command,
  o: {
    readonly days: number;
    readonly volHelp: string;
    readonly beforeVol?: (cmd: Command) => Command;
    readonly afterVol?: (cmd: Command) => Command;
  },
): Command {
  cmd
    .option("--days <n>", "synthetic: length in days", String(o.days))
    .option("--step-hours <h>", "synthetic: hours between steps", "1")
    .option("--seed <n>", "synthetic: random seed", "1")
    .option("--spot <usd>", "synthetic: start price", "60000");
  (o.beforeVol ?? ((c) => c))(cmd);
  cmd.option("--vol <v>", `synthetic: ${o.volHelp}`, "0.5");
  (o.afterVol ?? ((c) => c))(cmd);
  return cmd.option("--market <file>", "synthetic: full market config JSON (overrides the flags above)");
}

const numOpt = (name: string, v: string | undefined, d: number): number =>
  v === undefined ? d : parseNumberOption(name, v);

/** The synthetic market's length, step, seed and start price from the flags (`days` = the default length). */
export function syntheticMarketBase(
  f: StepMarketFlags,
  days: number,
): Pick<SyntheticMarketConfig, "steps" | "stepHours" | "seed" | "spot"> {
  const stepHours = numOpt("step-hours", f.stepHours, 1);
  return {
    steps: Math.round((numOpt("days", f.days, days) * 24) / stepHours),
    stepHours,
    seed: numOpt("seed", f.seed, 1),
    spot: numOpt("spot", f.spot, 60_000),
  };
}

/** The --vol flag (default 0.5). */
export function syntheticVol(f: StepMarketFlags): number {
  return numOpt("vol", f.vol, 0.5);
}

/** The --market file: a full synthetic market config (exit 3 when unreadable, 2 when invalid). */
export async function syntheticMarketFile(path: string): Promise<SyntheticMarketConfig> {
  return parseSyntheticMarket(JSON.parse(await readInputText(path, "market file")), path);
}

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
