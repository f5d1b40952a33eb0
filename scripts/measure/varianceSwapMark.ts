/**
 * A 30-day BTC variance swap struck on the 2026-01-10 chain at its fair strike, marked on every
 * following daily chain to maturity: realized variance from the chains' index prices (one fixing a
 * day) + the fair strike of the remaining tenor (varianceSwapStrike), P&L per unit variance and per
 * 1 USD vega notional (varianceSwapMark). Run: npx tsx scripts/measure/varianceSwapMark.ts [COIN]
 */
import { loadChainFile } from "../../src/adapters/chainFile.js";
import { normalizeChain } from "../../src/core/market/normalize.js";
import { DAY_MS } from "../../src/core/time.js";
import {
  type IndexFixing,
  varianceSwapMark,
  varianceSwapStrike,
} from "../../src/core/volindex/varianceSwap.js";
import { dailyFiles } from "./deribitDaily.js";

const coin = process.argv[2] ?? "BTC";
const start = dailyFiles().find((x) => x.includes("20260110T")) ?? "";
const files = dailyFiles().filter((f) => f >= start);
const fixings: IndexFixing[] = [];
let terms: { strikeVariance: number; startTime: number; maturityTime: number } | null = null;
for (const f of files) {
  const c = (await loadChainFile(f)).chains.find((x) => x.underlying === coin);
  if (!c) continue;
  const snap = normalizeChain(c).snapshot;
  if (terms && snap.valuationTime > terms.maturityTime) break;
  fixings.push({ time: snap.valuationTime, price: snap.indexPrice });
  if (!terms) {
    const k = varianceSwapStrike(snap, { tenorDays: 30 }).fairVariance;
    terms = {
      strikeVariance: k,
      startTime: snap.valuationTime,
      maturityTime: snap.valuationTime + 30 * DAY_MS,
    };
    console.log(
      `${coin} strike ${(100 * Math.sqrt(k)).toFixed(2)} vol pts at ${new Date(snap.valuationTime).toISOString()}`,
    );
  }
  const left = (terms.maturityTime - snap.valuationTime) / DAY_MS;
  const remaining = left > 0.5 ? varianceSwapStrike(snap, { tenorDays: left }).fairVariance : 0;
  const m = varianceSwapMark({
    terms,
    fixings,
    valuationTime: snap.valuationTime,
    remainingFairVariance: remaining,
  });
  console.log(
    new Date(snap.valuationTime).toISOString().slice(0, 10),
    `left ${left.toFixed(1)}d`,
    `RV ${(100 * Math.sqrt(m.realizedVariance)).toFixed(2)}`,
    `remaining ${(100 * Math.sqrt(remaining)).toFixed(2)}`,
    `E[V] ${(100 * Math.sqrt(m.expectedVariance)).toFixed(2)}`,
    `P&L/var-notional ${m.valuePerVarianceNotional.toFixed(4)}`,
    `P&L/vega-notional ${m.valuePerVegaNotional.toFixed(3)}`,
  );
}
