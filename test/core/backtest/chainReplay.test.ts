import { describe, expect, it } from "vitest";
import { runBacktest } from "../../../src/core/backtest/engine.js";
import { backtestStepFromChain } from "../../../src/core/backtest/market.js";
import type { StrategySpec } from "../../../src/core/backtest/strategies.js";
import { syntheticMarketPaths, syntheticStepChain } from "../../../src/core/backtest/syntheticMarket.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import type { OptionQuote } from "../../../src/core/market/types.js";
import type { ChainSnapshot } from "../../../src/core/market/types.js";

/** Daily USD attribution totals (~1e2-1e4 each) summed over the run vs the equity change: 8 digits of USD (was 6; tightened, passes at 8). */
const EQUITY_SUM_DIGITS = 8;

/**
 * Daily chain snapshots (inverse, coin-quoted like Deribit) of the synthetic market at 08:30 UTC,
 * 8 expiries each, with some quotes removed, replayed through backtestStepFromChain.
 */
function dailyChains(days: number, dropEvery: number): ChainSnapshot[] {
  const out: ChainSnapshot[] = [];
  let n = 0;
  const cfg = { steps: days * 24, seed: 12, start: Date.UTC(2026, 0, 1) };
  const p = syntheticMarketPaths(cfg);
  for (let i = 0; i < p.times.length; i++) {
    const time = p.times[i] as number;
    if (new Date(time).getUTCHours() !== 8) continue;
    const t = time + 30 * 60_000;
    const chain = syntheticStepChain(cfg, t, p.spot[i] as number, p.atmVol[i] as number);
    const keep = new Set(
      chain.quotes
        .map((q) => q.instrument.expiry)
        .filter((e, j, a) => a.indexOf(e) === j)
        .slice(0, 8),
    );
    const quotes: OptionQuote[] = chain.quotes.filter(
      (q) => keep.has(q.instrument.expiry) && ++n % dropEvery !== 0,
    );
    out.push({ ...chain, quotes });
  }
  return out;
}

describe("replay of daily chain snapshots", () => {
  const chains = dailyChains(60, 7);
  const specs: StrategySpec[] = [
    { type: "covered-call", params: { coins: 1, targetDelta: 0.25, tenorDays: 7 } },
    { type: "cash-secured-put", params: { usd: 60_000, targetDelta: 0.25, tenorDays: 7 } },
    {
      type: "short-strangle",
      params: { usd: 60_000, quantity: 1, callDelta: 0.2, putDelta: 0.2, tenorDays: 7 },
      hedge: { policy: "interval", intervalHours: 24 },
    },
    { type: "calendar", params: { usd: 60_000, quantity: 1, nearDays: 7, farDays: 30 } },
    { type: "tail-hedge", params: { coins: 1, hedgeRatio: 1, moneyness: 0.8, tenorDays: 30, rollDays: 7 } },
  ];
  it("every quote is accounted for, and every strategy trades, settles and reconciles on daily steps", () => {
    const steps = chains.map((c) => {
      // The step's quotes are normalizeChain's: accepted + rejected = input.
      const n = normalizeChain(c);
      expect(n.counts.accepted + n.counts.rejected).toBe(c.quotes.length);
      return backtestStepFromChain(c);
    });
    expect(steps.length).toBe(60);
    for (const spec of specs) {
      const r = runBacktest({ strategy: spec, steps });
      expect(r.tradeCount).toBeGreaterThan(0);
      expect(r.daily.length).toBe(60);
      const sum = r.attribution.reduce((a, d) => a + d.totalUsd, 0);
      expect(sum).toBeCloseTo(r.finalEquityUsd - r.daily[0]!.equityUsd, EQUITY_SUM_DIGITS);
      if (spec.type !== "tail-hedge" && spec.type !== "calendar") expect(r.settlements).toBeGreaterThan(3);
      // Sold options are listed strikes of that day's chain.
      for (const t of r.trades.filter((x) => x.type === "option")) {
        const day = chains.find((c) => c.valuationTime === t.time)!;
        const k = Number(t.instrument.split("-")[2]);
        expect(day.quotes.some((q) => q.instrument.strike === k)).toBe(true);
      }
    }
  });
  it("a held option missing from a snapshot is valued on the marks surface between its neighbours and counted as a stale mark", () => {
    const steps = dailyChains(30, 3).map((c) => backtestStepFromChain(c));
    const r = runBacktest({ strategy: specs[2]!, steps });
    expect(r.staleMarks).toBeGreaterThan(0);
    expect(r.carriedMarks).toBe(0);
    expect(Number.isFinite(r.finalEquityUsd)).toBe(true);
  });
});
