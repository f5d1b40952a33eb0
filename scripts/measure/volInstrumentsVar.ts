/**
 * Monte Carlo VaR with variance swaps and DVOL futures on a real chain (../shared/data/deribit/daily,
 * the 11th file, 2026-01-09, BTC): 2,000 one-day Merton paths, the time and VaR of 10 options alone,
 * with a short started 30-day swap (synthetic fixings over the last 5 days), with a short DVOL future.
 * Run: npx tsx scripts/measure/volInstrumentsVar.ts (figures quoted in the README).
 */
import { loadChainFile } from "../../src/adapters/chainFile.js";
import type { Position } from "../../src/core/instruments/types.js";
import { varianceSwapContract, volIndexFutureContract } from "../../src/core/instruments/volInstruments.js";
import { chainMarketInputs, chainRiskMarket } from "../../src/core/risk/chainMarket.js";
import { monteCarloVar } from "../../src/core/risk/var.js";
import { dailyFiles } from "./deribitDaily.js";
const DAY = 86400000;
const f = dailyFiles()[10] as string;
const { chains } = await loadChainFile(f);
const c = chains.find((x) => x.underlying === "BTC");
if (!c) throw new Error(`no BTC chain in ${f}`);
const { inputs } = chainMarketInputs([c]);
const input = inputs[0];
if (!input) throw new Error("no market input");
const t = c.valuationTime;
const opts = input.normalized.snapshot.quotes
  .slice(0, 10)
  .map((q, i) => ({ instrument: q.instrument, quantity: i % 2 ? 1 : -1 }));
const fixings = Array.from({ length: 6 }, (_, i) => ({
  time: t - (5 - i) * DAY - 3600000,
  price: c.indexPrice * (1 + 0.01 * Math.sin(i)),
}));
const start = fixings[0]?.time ?? t;
const swap = {
  instrument: varianceSwapContract({
    underlying: "BTC",
    start,
    expiry: start + 30 * DAY,
    strikeVol: 0.45,
    contractSize: 1000,
  }),
  quantity: -1,
};
const fut = {
  instrument: volIndexFutureContract({ underlying: "BTC", expiry: t + 20 * DAY }),
  quantity: -100,
  entryPrice: 45,
};
const { market } = chainRiskMarket(inputs, [], { BTC: { indexFixings: fixings, volOfVariance: 1.2 } });
const time = (positions: Position[]) => {
  const a = performance.now();
  const r = monteCarloVar({ positions, market, confidence: 0.99, horizonDays: 1, paths: 2000, seed: 1 });
  return [performance.now() - a, r.varUsd] as const;
};
const base = time(opts);
const withSwap = time([...opts, swap]);
const withFut = time([...opts, fut]);
const swapOnly = time([swap]);
console.log(
  `MC VaR 2000 paths 1d: 10 options ${base[0].toFixed(0)} ms VaR ${base[1].toFixed(0)}; +short swap ${withSwap[0].toFixed(0)} ms VaR ${withSwap[1].toFixed(0)}; +DVOL fut ${withFut[0].toFixed(0)} ms VaR ${withFut[1].toFixed(0)}; swap alone VaR ${swapOnly[1].toFixed(0)} USD`,
);
