import { describe, expect, it } from "vitest";
import { runBacktest } from "../../../src/core/backtest/engine.js";
import type { BacktestStep } from "../../../src/core/backtest/market.js";
import type { StrategyRule, StrategySpec } from "../../../src/core/backtest/strategies.js";
import { syntheticStep, syntheticSteps } from "../../../src/core/backtest/syntheticMarket.js";
import { blackGreeks, blackPrice } from "../../../src/core/pricing/black76.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const zeroCosts = { feeRate: 0, hedgeFeeRate: 0, hedgeHalfSpreadBps: 0, slippageBps: 0 };

const strangle: StrategySpec = {
  type: "short-strangle",
  params: { usd: 60_000, quantity: 1, callDelta: 0.2, putDelta: 0.2, tenorDays: 7 },
  hedge: { policy: "interval", intervalHours: 4 },
};
const all: StrategySpec[] = [
  { type: "covered-call", params: { coins: 1, targetDelta: 0.25, tenorDays: 7 } },
  { type: "cash-secured-put", params: { usd: 60_000, targetDelta: 0.25, tenorDays: 7 } },
  strangle,
  { ...strangle, hedge: { policy: "zakamouline", riskAversion: 1e-3 } },
  {
    ...strangle,
    hedge: { policy: "delta-band", band: 0.05, instrument: "future", futureTenorDays: 7, rollDays: 1 },
  },
  { type: "calendar", params: { usd: 60_000, quantity: 1, nearDays: 7, farDays: 30 } },
  { type: "tail-hedge", params: { coins: 1, hedgeRatio: 1, moneyness: 0.8, tenorDays: 30, rollDays: 7 } },
];

describe("backtest engine", () => {
  it("is deterministic: the same spec and seed give identical results", () => {
    const a = runBacktest({
      strategy: strangle,
      steps: syntheticSteps({ steps: 24 * 40, seed: 3, start: START }),
    });
    const b = runBacktest({
      strategy: strangle,
      steps: syntheticSteps({ steps: 24 * 40, seed: 3, start: START }),
    });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = runBacktest({
      strategy: strangle,
      steps: syntheticSteps({ steps: 24 * 40, seed: 4, start: START }),
    });
    expect(c.finalEquityUsd).not.toBe(a.finalEquityUsd);
  });

  it("has no look-ahead: altering every step after day t leaves everything up to t unchanged", () => {
    const base = [...syntheticSteps({ steps: 24 * 60, seed: 9, start: START })];
    const tCut = START + 30 * DAY + 5 * HOUR;
    // After tCut: a different market (another seed, a crash of 40%, higher vol).
    const other = [...syntheticSteps({ steps: 24 * 60, seed: 99, start: START, spot: 36_000 })];
    const altered: BacktestStep[] = base.map((s, i) => (s.time <= tCut ? s : (other[i] as BacktestStep)));
    for (const spec of all) {
      const a = runBacktest({ strategy: spec, steps: base });
      const b = runBacktest({ strategy: spec, steps: altered });
      const upTo = <T extends { time?: number; end?: number }>(xs: readonly T[]) =>
        JSON.stringify(xs.filter((x) => (x.time ?? x.end ?? 0) <= tCut));
      expect(upTo(b.trades)).toBe(upTo(a.trades));
      expect(upTo(b.daily)).toBe(upTo(a.daily));
      expect(upTo(b.attribution)).toBe(upTo(a.attribution));
      expect(a.trades.filter((x) => x.time <= tCut).length).toBeGreaterThan(0);
      // ...and the alteration did change what came after (the test can fail).
      expect(JSON.stringify(b.daily)).not.toBe(JSON.stringify(a.daily));
    }
  });

  it("attribution reconciles: greeks + residual + trading = equity change, every day and in total", () => {
    for (const spec of all) {
      const r = runBacktest({
        strategy: spec,
        steps: syntheticSteps({ steps: 24 * 45, seed: 5, start: START }),
      });
      let total = 0;
      for (const d of r.attribution) {
        const parts =
          d.deltaUsd +
          d.gammaUsd +
          d.vegaUsd +
          d.thetaUsd +
          d.vannaUsd +
          d.volgaUsd +
          d.residualUsd +
          d.tradingUsd;
        expect(parts).toBeCloseTo(d.totalUsd, 6);
        expect(d.totalCoin).toBeCloseTo(d.totalUsd / r.daily.find((x) => x.time === d.end)!.indexPrice, 9);
        total += d.totalUsd;
      }
      const first = r.daily[0]!.equityUsd;
      expect(total).toBeCloseTo(r.finalEquityUsd - first, 6);
      expect(r.attribution.length).toBe(r.daily.length - 1);
    }
  });

  it("Taylor attribution matches an independent revaluation; the residual is third order", () => {
    const K = 60_000;
    const expiry = START + 60 * DAY + 8 * HOUR;
    const run = (move: number) => {
      const mk = (t: number, s: number, v: number) =>
        syntheticStep({ steps: 1, seed: 0, skew: 0, curvature: 0 }, t, s, v);
      const steps = [
        mk(START + 12 * HOUR, 60_000, 0.5),
        mk(START + DAY, 60_000, 0.5),
        mk(START + 2 * DAY, 60_000 * (1 + move), 0.5 + move),
      ];
      const rule: StrategyRule = {
        initial: { coins: 0, usd: 100_000 },
        decide: ({ options }) =>
          options.length ? [] : [{ expiry, strike: K, kind: "call", quantity: 1, tag: "open" }],
      };
      const r = runBacktest({
        strategy: { ...strangle, hedge: { policy: "none" }, costs: zeroCosts },
        steps,
        rule,
      });
      const d = r.attribution[1]!;
      const T0 = (expiry - (START + DAY)) / (365 * DAY);
      const T1 = (expiry - (START + 2 * DAY)) / (365 * DAY);
      const v0 = blackPrice({ forward: 60_000, strike: K, expiry: T0, vol: 0.5, kind: "call" });
      const v1 = blackPrice({
        forward: 60_000 * (1 + move),
        strike: K,
        expiry: T1,
        vol: 0.5 + move,
        kind: "call",
      });
      const g = blackGreeks({ forward: 60_000, strike: K, expiry: T0, vol: 0.5, kind: "call" });
      const dF = 60_000 * move;
      expect(d.deltaUsd).toBeCloseTo(g.delta * dF, 6);
      expect(d.vegaUsd).toBeCloseTo(g.vega * move, 6);
      expect(d.thetaUsd).toBeCloseTo(g.theta / 365, 6);
      expect(d.gammaUsd).toBeCloseTo(0.5 * g.gamma * dF * dF, 6);
      expect(d.vannaUsd).toBeCloseTo(g.vanna * dF * move, 6);
      expect(d.volgaUsd).toBeCloseTo(0.5 * g.volga * move * move, 6);
      expect(d.bookActualUsd).toBeCloseTo(v1 - v0, 6);
      return { residual: d.residualUsd, actual: d.bookActualUsd };
    };
    // The residual (third-order and theta-cross terms) is small next to the PnL it explains.
    for (const m of [0.01, 0.02, -0.02]) {
      const { residual, actual } = run(m);
      expect(Math.abs(residual)).toBeLessThan(0.03 * Math.abs(actual));
      expect(residual).not.toBe(0);
    }
  });

  it("settles at expiry on intrinsic value: a cash-secured put assigned after a crash", () => {
    const mk = (t: number, s: number) => syntheticStep({ steps: 1, seed: 0 }, t, s, 0.6);
    const t0 = Date.UTC(2026, 0, 2, 9); // Friday 09:00; weekly expiry Fri 9 Jan 08:00
    const steps = [mk(t0, 60_000), mk(t0 + DAY, 58_000), mk(Date.UTC(2026, 0, 9, 8), 45_000)];
    const r = runBacktest({
      strategy: { type: "cash-secured-put", params: { usd: 60_000, targetDelta: 0.25, tenorDays: 7 } },
      steps,
    });
    const sale = r.trades[0]!;
    expect(sale.quantity).toBeLessThan(0);
    const K = Number(sale.instrument.split("-")[2]);
    expect(r.settlements).toBe(1);
    const expected = 60_000 - sale.quantity * sale.priceUsd - sale.feeUsd + sale.quantity * (K - 45_000);
    expect(r.finalEquityUsd).toBeCloseTo(expected, 6);
    expect(r.trades.length).toBe(1); // the last step only marks and closes
  });

  it("costs are charged exactly: zero-cost minus costly final equity = spread + slippage + fees", () => {
    const steps = [...syntheticSteps({ steps: 24 * 30, seed: 8, start: START })];
    const a = runBacktest({ strategy: { ...strangle, costs: zeroCosts }, steps });
    const b = runBacktest({
      strategy: { ...strangle, costs: { feeRate: 0.0003, slippageBps: 10, hedgeHalfSpreadBps: 2 } },
      steps,
    });
    expect(a.costs.feesUsd).toBe(0);
    expect(b.costs.feesUsd).toBeGreaterThan(0);
    const paid = b.costs.spreadUsd + b.costs.slippageUsd + b.costs.feesUsd - a.costs.spreadUsd;
    expect(a.finalEquityUsd - b.finalEquityUsd).toBeCloseTo(paid, 6);
  });

  it("rejects orders on a missing side with a reason, never silently", () => {
    const mk = (t: number) => syntheticStep({ steps: 1, seed: 0 }, t, 60_000, 0.5);
    const rule: StrategyRule = {
      initial: { coins: 0, usd: 1e5 },
      // A far OTM put: its bid is below one tick, so a sale cannot fill.
      decide: ({ step }) => [
        { expiry: step.expiries()[0]!, strike: 20_000, kind: "put", quantity: -1, tag: "open" },
      ],
    };
    const r = runBacktest({ strategy: strangle, steps: [mk(START), mk(START + HOUR)], rule });
    expect(r.rejections).toEqual([expect.objectContaining({ reason: "no-bid", quantity: -1 })]);
    expect(r.trades.length).toBe(0);
    expect(() => runBacktest({ strategy: strangle, steps: [mk(START + HOUR), mk(START)] })).toThrow(/time/);
  });

  it("hedges with a dated future: rolls it a day before expiry, marks it at its forward, no funding", () => {
    const spec: StrategySpec = {
      ...strangle,
      hedge: {
        policy: "delta-band",
        band: 0.05,
        instrument: "future",
        futureTenorDays: 7,
        rollDays: 1,
        fundingRatePerYear: 0.3,
      },
    };
    const r = runBacktest({
      strategy: spec,
      steps: syntheticSteps({ steps: 24 * 40, seed: 2, start: START, basisPerYear: 0.1 }),
    });
    const fut = r.trades.filter((t) => t.type === "future");
    expect(fut.length).toBeGreaterThan(10);
    expect(r.trades.some((t) => t.type === "perpetual")).toBe(false);
    expect(fut.every((t) => /^BTC-\d{1,2}[A-Z]{3}26$/.test(t.instrument))).toBe(true);
    const rolls = fut.filter((t) => t.tag === "roll");
    expect(rolls.length).toBeGreaterThan(0);
    // A roll closes one future and opens the next at the same time with the opposite sign.
    const t0 = rolls[0]!.time;
    const pair = rolls.filter((t) => t.time === t0);
    expect(pair.length).toBe(2);
    expect(pair[0]!.quantity).toBeCloseTo(-pair[1]!.quantity, 12);
    expect(pair[0]!.instrument).not.toBe(pair[1]!.instrument);
    // With a positive basis the future trades above spot.
    expect(fut[0]!.markUsd).toBeGreaterThan(r.daily[0]!.indexPrice * 0.9);
    expect(r.costs.fundingUsd).toBe(0);
  });

  it("a perpetual hedge pays funding on its position (long pays when the rate is positive)", () => {
    const steps = [...syntheticSteps({ steps: 24 * 20, seed: 2, start: START })];
    const mk = (rate: number): StrategySpec => ({
      ...strangle,
      hedge: { policy: "interval", intervalHours: 4, fundingRatePerYear: rate },
    });
    const a = runBacktest({ strategy: mk(0), steps });
    const b = runBacktest({ strategy: mk(0.2), steps });
    expect(a.costs.fundingUsd).toBe(0);
    expect(b.costs.fundingUsd).not.toBe(0);
    // Funding is the only difference (the hedge decisions do not depend on cash).
    expect(a.finalEquityUsd - b.finalEquityUsd).toBeCloseTo(b.costs.fundingUsd, 6);
  });

  it("a one-year hourly run of every strategy gives finite metrics in USD and coin", () => {
    for (const spec of all) {
      const r = runBacktest({
        strategy: spec,
        steps: syntheticSteps({ steps: 8760, seed: 1 }),
        recordTrades: false,
      });
      expect(r.steps).toBe(8761);
      expect(r.daily.length).toBe(366);
      for (const m of [r.metricsUsd!, r.metricsCoin!]) {
        for (const v of [m.totalReturn, m.annualVol, m.sharpe, m.maxDrawdown, m.cvar95])
          expect(Number.isFinite(v)).toBe(true);
      }
      expect(r.turnover).toBeGreaterThan(0);
    }
  });
});
