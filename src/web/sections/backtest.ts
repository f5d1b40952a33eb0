/**
 * The demo's backtest section: the example strategy on the loaded underlying's real chain history
 * (a data directory) or on a seeded synthetic market that ends at the valuation time.
 */
import { loadBacktestData } from "../../adapters/backtestData.js";
import { runBacktest } from "../../core/backtest/engine.js";
import type { BacktestStep } from "../../core/backtest/market.js";
import { drawdownSeries } from "../../core/backtest/metrics.js";
import { syntheticSteps } from "../../core/backtest/syntheticMarket.js";
import type { ChainSnapshot } from "../../core/market/types.js";
import { DAY_MS } from "../../core/time.js";
import type { DemoReport } from "../report.js";
import { iso } from "./util.js";

type BacktestSection = NonNullable<DemoReport["backtest"]>;

/** The market the backtest runs on and how the report describes it. */
export interface BacktestMarket {
  readonly steps: Iterable<BacktestStep>;
  readonly kind: BacktestSection["kind"];
  readonly dataSource: string;
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The real chain history of the loaded underlying: the 90 days up to the valuation date. */
export async function chainHistoryMarket(chain: ChainSnapshot, dir: string): Promise<BacktestMarket> {
  const t1 = chain.valuationTime;
  const from = day(t1 - 90 * DAY_MS);
  const to = day(t1);
  const d = await loadBacktestData({ dir, underlying: chain.underlying, from, to });
  const kept = d.steps.filter((x) => x.time <= t1);
  if (kept.length < 2)
    throw new Error(
      `fewer than 2 ${chain.underlying} snapshots in ${dir} between ${from} and ${to} (${d.files} files)`,
    );
  return {
    steps: kept,
    kind: "chain-history",
    dataSource: `Deribit ${chain.underlying} daily chains in ${dir}: ${kept.length} snapshots, ${day(kept[0]?.time ?? t1)} to ${day(kept.at(-1)?.time ?? t1)}${d.skippedFiles.length ? ` (${d.skippedFiles.length} files skipped)` : ""}`,
  };
}

/**
 * No history given: a seeded synthetic market of the loaded underlying that ENDS at the valuation
 * time (no date past it), started at the loaded index, at its 30-day ATM vol (`atm`).
 */
export function syntheticBacktestMarket(
  chain: ChainSnapshot,
  o: { steps: number; seed: number; atm: number },
): BacktestMarket {
  const t1 = chain.valuationTime;
  const start = t1 - o.steps * 3_600_000;
  return {
    steps: syntheticSteps({
      steps: o.steps,
      seed: o.seed,
      spot: chain.indexPrice,
      start,
      underlying: chain.underlying,
      model: { type: "gbm", drift: 0, vol: o.atm },
    }),
    kind: "synthetic",
    dataSource: `synthetic ${chain.underlying} market (seed ${o.seed}, GBM at the loaded 30-day ATM vol ${(100 * o.atm).toFixed(1)}%, started at the loaded index ${chain.indexPrice.toFixed(0)}), hourly ${day(start)} to ${day(t1)}: not the market's history (give a data directory, --data, for the real chain history)`,
  };
}

const ATTRIBUTION = [
  "deltaUsd",
  "gammaUsd",
  "vegaUsd",
  "thetaUsd",
  "vannaUsd",
  "volgaUsd",
  "residualUsd",
  "settlementUsd",
  "tradingUsd",
] as const;

/** Runs the strategy on the market: equity, drawdown, P&L attribution by component, metrics. */
export function backtestSection(
  strategy: Parameters<typeof runBacktest>[0]["strategy"],
  m: BacktestMarket,
): BacktestSection {
  const r = runBacktest({ strategy, steps: m.steps, recordTrades: false });
  const equity = r.daily.map((d) => d.equityUsd);
  const dates = r.daily.map((d) => iso(d.time));
  return {
    strategy: r.strategy,
    kind: m.kind,
    dataSource: m.dataSource,
    from: dates[0] ?? "",
    to: dates.at(-1) ?? "",
    dates,
    equityUsd: equity,
    drawdown: drawdownSeries(equity),
    attribution: ATTRIBUTION.map((c) => ({
      component: c.replace("Usd", ""),
      usd: r.attribution.reduce((a, d) => a + d[c], 0),
    })),
    metrics: r.metricsUsd ? { ...r.metricsUsd } : null,
  };
}
