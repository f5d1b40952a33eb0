/**
 * Variance swaps replicated by the option strip in the backtest (core/backtest
 * varianceSwapReplication.ts), against the ideal swap N (RV - K_var): per swap and in total, the
 * error split into costs, strikes/wings and hedge. On the synthetic market (flat 50% and the default
 * skewed smile, hourly steps) and on the real daily season (../shared/data/deribit/daily, BTC and
 * ETH; skipped with a message when absent). Long variance, 10 USD per variance point.
 * Then DVOL futures held to expiry and rolled (core/backtest volIndexFutureBacktest.ts, 100 contracts,
 * the expiry nearest 30 days): fair at each open vs the settlement (the 30-day index of the surface at
 * the first step at or after expiry, volcore's rule), P&L and costs.
 * Run: npx tsx scripts/measure/varswapReplication.ts [--tenor 30] [--skip-real]
 * Prints markdown tables (quoted in the README's variance-swap section).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadBacktestData } from "../../src/adapters/backtestData.js";
import type { BacktestStep } from "../../src/core/backtest/market.js";
import { syntheticSteps } from "../../src/core/backtest/syntheticMarket.js";
import {
  type ReplicatedSwap,
  replicationSummary,
  runVarianceSwapBacktest,
} from "../../src/core/backtest/varianceSwapReplication.js";
import type { VarianceSwapSpec } from "../../src/core/backtest/varianceSwapStrategy.js";
import { runVolIndexFutureBacktest } from "../../src/core/backtest/volIndexFutureBacktest.js";

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const TENOR = arg("--tenor", 30);
const N_PTS = 10;
const ZERO = { feeRate: 0, feeCap: 0, hedgeFeeRate: 0, hedgeHalfSpreadBps: 0, slippageBps: 0 };

function spec(o: {
  costs: VarianceSwapSpec["costs"] | undefined;
  hedgeEveryHours: number;
}): VarianceSwapSpec {
  return {
    type: "variance-swap",
    name: "varswap",
    params: { usd: 1_000_000, tenorDays: TENOR, varianceNotional: N_PTS, hedgeEveryHours: o.hedgeEveryHours },
    ...(o.costs ? { costs: o.costs } : {}),
  };
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

function report(label: string, swaps: readonly ReplicatedSwap[], seconds: number): string {
  const t = replicationSummary(swaps);
  const relErr = swaps.map((s) => Math.abs(s.errorUsd) / (s.notional * s.strikeVariance));
  const k = swaps.map((s) => 100 * Math.sqrt(s.strikeVariance));
  const rv = swaps.map((s) => 100 * Math.sqrt(s.realizedVariance));
  return `| ${label} | ${t.swaps} | ${f1(median(k))} | ${f1(median(rv))} | ${f0(t.idealUsd)} | ${f0(t.pnlUsd)} | ${f0(-t.costsUsd)} | ${f0(t.staticUsd)} | ${f0(t.hedgeUsd)} | ${(100 * median(relErr)).toFixed(2)}% / ${(100 * Math.max(...relErr)).toFixed(2)}% | ${seconds.toFixed(1)} |`;
}

function run(label: string, steps: () => Iterable<BacktestStep>, s: VarianceSwapSpec): string {
  const t0 = performance.now();
  const r = runVarianceSwapBacktest({ spec: s, steps: steps() });
  for (const w of r.swaps)
    console.error(
      `  ${label} ${new Date(w.entryTime).toISOString().slice(0, 10)} -> ${new Date(w.exitTime).toISOString().slice(0, 10)} K ${f1(100 * Math.sqrt(w.strikeVariance))} (${w.strikeSource}${w.strikeIssue ? `: ${w.strikeIssue}` : ""}) strip ${f1(100 * Math.sqrt(w.stripVariance))} RV ${f1(100 * Math.sqrt(w.realizedVariance))} pnl ${f0(w.pnlUsd)} ideal ${f0(w.idealUsd)} costs ${f0(w.costsUsd)} static ${f0(w.staticUsd)} hedge ${f0(w.hedgeUsd)} legs ${w.legs.length}`,
    );
  if (r.result.rejections.length > 0)
    console.error(`  ${label}: ${r.result.rejections.length} rejected orders`);
  return report(label, r.swaps, (performance.now() - t0) / 1000);
}

const rows: string[] = [];
const futureRows: string[] = [];

/** DVOL futures held to expiry (rollDays 0), 100 contracts: per future the settlement minus the fair at open. */
function futures(label: string, steps: () => Iterable<BacktestStep>): string {
  const t0 = performance.now();
  const r = runVolIndexFutureBacktest({ quantity: 100, steps: steps(), tenorDays: TENOR, rollDays: 0 });
  const gaps: number[] = [];
  for (const c of r.rolls.filter((x) => x.side === "close")) {
    const o = r.rolls.find((x) => x.side === "open" && x.instrument === c.instrument);
    if (o) gaps.push(c.fair - o.fair);
  }
  const abs = gaps.map(Math.abs);
  const fairs = r.days.flatMap((d) => (d.fair === null ? [] : [d.fair]));
  console.error(`  ${label}: settlement - fair at open ${gaps.map(f1).join(", ")}`);
  return `| ${label} | ${gaps.length} | ${f1(Math.min(...fairs))} - ${f1(Math.max(...fairs))} | ${f1(median(gaps))} | ${f1(median(abs))} / ${f1(Math.max(...abs))} | ${f0(r.pnlUsd)} | ${f0(r.costsUsd)} | ${((performance.now() - t0) / 1000).toFixed(1)} |`;
}
const synth = (skewed: boolean, daily = false) => ({
  steps: daily ? 200 : 24 * 200,
  stepHours: daily ? 24 : 1,
  seed: 5,
  model: { type: "gbm" as const, drift: 0, vol: 0.5 },
  ...(skewed ? {} : { ivPremium: 1, ivVolOfVol: 0, skew: 0, curvature: 0 }),
});
console.error("synthetic markets (200 days, hourly or daily steps: the fixings are the steps)...");
rows.push(
  run(
    "synthetic flat 50%, zero costs, hourly hedge",
    () => syntheticSteps({ ...synth(false), spreadVol: 0 }),
    spec({ costs: ZERO, hedgeEveryHours: 0 }),
  ),
);
rows.push(
  run(
    "synthetic flat 50%, costs, hourly hedge",
    () => syntheticSteps({ ...synth(false), spreadVol: 0.01 }),
    spec({ costs: undefined, hedgeEveryHours: 0 }),
  ),
);
rows.push(
  run(
    "synthetic flat 50%, costs, daily steps",
    () => syntheticSteps({ ...synth(false, true), spreadVol: 0.01 }),
    spec({ costs: undefined, hedgeEveryHours: 0 }),
  ),
);
rows.push(
  run(
    "synthetic skewed (default), costs, daily steps",
    () => syntheticSteps(synth(true, true)),
    spec({ costs: undefined, hedgeEveryHours: 0 }),
  ),
);
futureRows.push(futures("synthetic skewed (default), daily steps", () => syntheticSteps(synth(true, true))));

const dir = resolve(import.meta.dirname, "../../../shared/data/deribit/daily");
if (process.argv.includes("--skip-real")) console.error("real season skipped (--skip-real)");
else if (!existsSync(dir)) console.error(`real season skipped: ${dir} not found`);
else
  for (const u of ["BTC", "ETH"]) {
    console.error(`loading the ${u} daily season...`);
    const d = await loadBacktestData({ dir, underlying: u });
    rows.push(
      run(
        `Deribit ${u} daily season (${d.steps.length} days), costs, daily hedge`,
        () => d.steps,
        spec({ costs: undefined, hedgeEveryHours: 0 }),
      ),
    );
    futureRows.push(futures(`Deribit ${u} daily season`, () => d.steps));
  }

console.log(
  `Long ${TENOR}-day variance swaps, ${N_PTS} USD per variance point (vega notional ~ 2 K N USD per vol point), rolled at each expiry; USD totals over the swaps.\n`,
);
console.log(
  "| market | swaps | K_var median (vol pts) | RV median | ideal N(RV-K) | replicated P&L | costs | strikes/wings | hedge | abs(error) / N K_var median / worst | seconds |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);

console.log(
  `\nDVOL futures (1 USD per index point, unverified size), 100 contracts long, the expiry nearest ${TENOR} days, held to expiry and rolled; fills at fair -/+ 0.25 points; no convexity adjustment (vol of variance 0: the fair is the forward vol).\n`,
);
console.log(
  "| market | futures settled | fair range (pts) | settlement - fair at open, median | abs median / worst | P&L USD | costs USD | seconds |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of futureRows) console.log(r);
