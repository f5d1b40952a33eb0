/**
 * Variance swaps and DVOL futures valued by the risk engine (core/risk valuePosition on
 * chainRiskMarket) against the chain replication (volindex varianceSwapStrike, same fitted svi-af
 * surface) on the real daily season (../shared/data/deribit/daily, BTC and ETH), every Nth day.
 *
 * Per coin-day: a fresh 30-day variance swap struck at 1 vol point (value = N_var (K_rem,pts^2 - 1)
 * gives the engine's fair strike K_rem), compared with varianceSwapStrike's fairVariance (strip +
 * discrete + wing corrections), in vol points; the 30-day DVOL future's fair value (volOfVariance 0)
 * against 100 sqrt(30-day variance) at the future's expiry; and the milliseconds of one
 * valuePosition / positionGreeks of the swap (same process, ratio to an option's).
 * Run: npx tsx scripts/measure/volInstrumentsChain.ts [--every N] (default 10)
 */
import { loadChainFile } from "../../src/adapters/chainFile.js";
import { varianceSwapContract, volIndexFutureContract } from "../../src/core/instruments/volInstruments.js";
import { chainMarketInputs, chainRiskMarket } from "../../src/core/risk/chainMarket.js";
import { positionGreeks } from "../../src/core/risk/greeks.js";
import { volIndexFutureState } from "../../src/core/risk/volValuation.js";
import { valuePosition } from "../../src/core/risk/valuation.js";
import { varianceSwapStrike } from "../../src/core/volindex/varianceSwap.js";
import { dailyFiles } from "./deribitDaily.js";

const DAY = 86_400_000;
const everyArg = process.argv.indexOf("--every");
const every = everyArg > 0 ? Number(process.argv[everyArg + 1]) : 10;
const files = dailyFiles().filter((_, i) => i % every === 0);
const gaps: Record<string, number[]> = {};
const times: number[] = [];
const ratios: number[] = [];

for (const f of files) {
  const { chains } = await loadChainFile(f);
  for (const c of chains) {
    try {
      const { inputs } = chainMarketInputs([c]);
      const input = inputs[0];
      if (!input) continue;
      const t = c.valuationTime;
      const swap = varianceSwapContract({
        underlying: c.underlying,
        start: t,
        expiry: t + 30 * DAY,
        strikeVol: 0.01,
        contractSize: 1,
      });
      const option = input.normalized.snapshot.quotes[0]?.instrument;
      const { market } = chainRiskMarket([input], []);
      const nVar = 1 / (2 * 1);
      const v = valuePosition({ instrument: swap, quantity: 1 }, market).valueUsd;
      const engine = Math.sqrt(v / nVar + 1);
      const chainFair = varianceSwapStrike(input.normalized.snapshot, {
        tenorDays: 30,
        surface: input.fitted,
      });
      const gap = engine - chainFair.strikeVolPoints;
      const list = gaps[c.underlying] ?? [];
      list.push(gap);
      gaps[c.underlying] = list;
      const fut = volIndexFutureContract({ underlying: c.underlying, expiry: t + 30 * DAY });
      const fair = volIndexFutureState(fut, market).fair;
      const t0 = performance.now();
      positionGreeks({ instrument: swap, quantity: 1 }, market);
      const t1 = performance.now();
      if (option) positionGreeks({ instrument: option, quantity: 1 }, market);
      const t2 = performance.now();
      times.push(t1 - t0);
      if (option) ratios.push((t1 - t0) / Math.max(t2 - t1, 1e-3));
      console.log(
        f.slice(-28, -7),
        c.underlying,
        `engine ${engine.toFixed(2)} chain ${chainFair.strikeVolPoints.toFixed(2)} gap ${gap.toFixed(3)} dvolFut30d ${fair.toFixed(2)} greeks ${(t1 - t0).toFixed(1)} ms`,
      );
    } catch (e) {
      console.log(f.slice(-28, -7), c.underlying, "FAILED", (e as Error).message);
    }
  }
}
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))] as number;
};
for (const [coin, g] of Object.entries(gaps)) {
  const abs = g.map(Math.abs);
  console.log(
    `${coin}: ${g.length} days; engine - chain fair strike (vol pts) median ${q(g, 0.5).toFixed(3)} |max| ${Math.max(...abs).toFixed(3)} min ${Math.min(...g).toFixed(3)} max ${Math.max(...g).toFixed(3)}`,
  );
}
console.log(
  `swap greeks (value + 2 bumps): median ${q(times, 0.5).toFixed(1)} ms, worst ${Math.max(...times).toFixed(1)} ms; ratio to one option's greeks median ${q(ratios, 0.5).toFixed(0)}x`,
);
