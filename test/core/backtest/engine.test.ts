import { describe, expect, it } from "vitest";
import { runBacktest } from "../../../src/core/backtest/engine.js";
import type { BacktestStep } from "../../../src/core/backtest/market.js";
import type { StrategyRule, StrategySpec } from "../../../src/core/backtest/strategies.js";
import { syntheticStep, syntheticSteps } from "../../../src/core/backtest/syntheticMarket.js";
import { futureName } from "../../../src/core/backtest/calendar.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const zeroCosts = { feeRate: 0, hedgeFeeRate: 0, hedgeHalfSpreadBps: 0, slippageBps: 0 };
/** USD equity and attribution terms of 1e2-1e5 (coin x index, summed over a step's legs and a run's steps): 1e-8 USD, ~1e-13 relative. (was 6; tightened, passes at 8). */
const USD_DIGITS = 8;
/** Coin values below ~1 (premiums, settlement, funding, coin attribution terms; sums over a run's fills): 14 digits, ~50 ulp of 1. (was 12; tightened, passes at 14). */
const COIN_DIGITS = 14;
/** One min() and one product on a fee of ~1e-4 coin: 17 digits (5e-18, a few hundred ulp of 1e-4). (was 15; tightened, passes at 17). */
const FEE_DIGITS = 17;
/** A roll sizes the new future from the closed one's coin delta at its own mark (one division, one product, a few coins): 12 digits. (was 9; tightened, passes at 12). */
const ROLL_COIN_DIGITS = 12;
/** spot x exp(0.1 T) recomputed here from the step's time and expiry (exp and year fraction rounding on 6e4): 9 digits, ~1e-14 relative. (was 6; tightened, passes at 9). */
const FORWARD_MARK_DIGITS = 9;
/** Central-difference steps for the pricer's derivatives: 1 USD on F = 60,000, 1e-4 in vol, 1e-5 years (5 min). */
const FD_STEP_F = 1;
const FD_STEP_VOL = 1e-4;
const FD_STEP_T = 1e-5;
/** Central differences: truncation h^2 V'''/6 plus rounding eps V / h^2 on second derivatives (~1e-8 relative at these steps): 1e-6 relative. */
const FD_REL = 1e-6;
/** Absolute floor for terms near zero: rounding of USD values ~1e4 over the steps, ~1e-7 USD. */
const FD_ABS_USD = 1e-6;
/** dt / 4 and move / 2 divide a dt^1.5 residual by 8: measured 7.98-7.99 (USD) and 7.89-7.97 (coin) over three halvings; window (7, 9). */
const THIRD_ORDER_RATIO_MIN = 7;
/** Upper end of the 8 +- 1 window. */
const THIRD_ORDER_RATIO_MAX = 9;

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

  it("attribution reconciles: greeks + residual + settlement + trading = equity change, in USD and in coin", () => {
    for (const spec of all) {
      const r = runBacktest({
        strategy: spec,
        steps: syntheticSteps({ steps: 24 * 45, seed: 5, start: START }),
      });
      let total = 0;
      for (const [i, d] of r.attribution.entries()) {
        const parts =
          d.deltaUsd +
          d.gammaUsd +
          d.vegaUsd +
          d.thetaUsd +
          d.vannaUsd +
          d.volgaUsd +
          d.residualUsd +
          d.settlementUsd +
          d.tradingUsd;
        expect(parts).toBeCloseTo(d.totalUsd, USD_DIGITS);
        // The daily records are the references: equity USD and equity in coin (USD / index).
        const [a, b] = [r.daily[i]!, r.daily[i + 1]!];
        expect(d.totalUsd).toBeCloseTo(b.equityUsd - a.equityUsd, USD_DIGITS);
        expect(d.totalCoin).toBeCloseTo(b.equityUsd / b.indexPrice - a.equityUsd / a.indexPrice, COIN_DIGITS);
        total += d.totalUsd;
      }
      const first = r.daily[0]!.equityUsd;
      expect(total).toBeCloseTo(r.finalEquityUsd - first, USD_DIGITS);
      expect(r.attribution.length).toBe(r.daily.length - 1);
    }
  });

  describe("Taylor attribution against full revaluation and finite differences of the pricer", () => {
    const K = 60_000;
    // One long two-month inverse call, no basis (F = S), flat smile; window from START + 1 day to
    // START + 1 day + dtMs in which S moves by `move` (relative) and the vol by `move` (absolute).
    const window = (dtMs: number, move: number) => {
      const cfg = { steps: 1, seed: 0, skew: 0, curvature: 0 };
      const mk = (t: number, s: number, v: number) => syntheticStep(cfg, t, s, v);
      const steps = [
        mk(START + 12 * HOUR, 60_000, 0.5),
        mk(START + DAY, 60_000, 0.5),
        mk(START + DAY + dtMs, 60_000 * (1 + move), 0.5 + move),
      ];
      const expiry = steps[0]!.expiries().find((e) => e - START > 50 * DAY)!;
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
      expect(r.rejections).toEqual([]);
      return { d: r.attribution[1]!, expiry, premiumCoin: r.trades[0]!.price };
    };
    const taylorUsd = (d: ReturnType<typeof window>["d"]) =>
      d.deltaUsd + d.gammaUsd + d.vegaUsd + d.thetaUsd + d.vannaUsd + d.volgaUsd;
    const taylorCoin = (d: ReturnType<typeof window>["d"]) =>
      d.deltaCoin + d.gammaCoin + d.vegaCoin + d.thetaCoin + d.vannaCoin + d.volgaCoin;

    it("each term equals the pricer's finite difference times the move (USD and coin)", () => {
      const move = 0.02;
      const { d, expiry, premiumCoin } = window(DAY, move);
      const T0 = (expiry - (START + DAY)) / (365 * DAY);
      const [F0, s0] = [60_000, 0.5];
      const dF = F0 * move;
      // The pricers: USD value B(F, s, T) (Black-76) and the inverse call's coin value B / F.
      const usd = (F: number, s: number, T: number) =>
        blackPrice({ forward: F, strike: K, expiry: T, vol: s, kind: "call" });
      const coin = (F: number, s: number, T: number) => usd(F, s, T) / F;
      const [hF, hs, hT] = [FD_STEP_F, FD_STEP_VOL, FD_STEP_T];
      const fd = (V: typeof usd) => ({
        F: (V(F0 + hF, s0, T0) - V(F0 - hF, s0, T0)) / (2 * hF),
        FF: (V(F0 + hF, s0, T0) - 2 * V(F0, s0, T0) + V(F0 - hF, s0, T0)) / (hF * hF),
        s: (V(F0, s0 + hs, T0) - V(F0, s0 - hs, T0)) / (2 * hs),
        ss: (V(F0, s0 + hs, T0) - 2 * V(F0, s0, T0) + V(F0, s0 - hs, T0)) / (hs * hs),
        Fs:
          (V(F0 + hF, s0 + hs, T0) -
            V(F0 + hF, s0 - hs, T0) -
            V(F0 - hF, s0 + hs, T0) +
            V(F0 - hF, s0 - hs, T0)) /
          (4 * hF * hs),
        // Calendar time runs against time to expiry: dV/dt = -dV/dT, per day.
        tPerDay: -(V(F0, s0, T0 + hT) - V(F0, s0, T0 - hT)) / (2 * hT) / 365,
      });
      const u = fd(usd);
      const c = fd(coin);
      const close = (got: number, want: number) =>
        expect(Math.abs(got - want)).toBeLessThan(FD_REL * Math.abs(want) + FD_ABS_USD);
      // The book also holds the coin debt of the premium (USD delta) and 100,000 USD cash (coin delta).
      close(d.deltaUsd, u.F * dF - premiumCoin * dF);
      close(d.gammaUsd, 0.5 * u.FF * dF * dF);
      close(d.vegaUsd, u.s * move);
      close(d.thetaUsd, u.tPerDay);
      close(d.vannaUsd, u.Fs * dF * move);
      close(d.volgaUsd, 0.5 * u.ss * move * move);
      const F1 = F0 + dF;
      const cashCoin = 100_000 * (1 / F1 - 1 / F0); // exact move of USD cash in coin, not a Taylor term
      const closeCoin = (got: number, want: number) =>
        expect(Math.abs(got - want) * F0).toBeLessThan(FD_REL * Math.abs(want * F0) + FD_ABS_USD);
      closeCoin(d.deltaCoin - cashCoin, c.F * dF);
      closeCoin(d.gammaCoin, 0.5 * c.FF * dF * dF);
      closeCoin(d.vegaCoin, c.s * move);
      closeCoin(d.thetaCoin, c.tPerDay);
      closeCoin(d.vannaCoin, c.Fs * dF * move);
      closeCoin(d.volgaCoin, 0.5 * c.ss * move * move);
      // Full revaluation (the actual PnL) is the pricer at the two states.
      const T1 = T0 - 1 / 365;
      close(d.bookActualUsd, usd(F1, s0 + move, T1) - usd(F0, s0, T0) - premiumCoin * dF);
      closeCoin(d.bookActualCoin, coin(F1, s0 + move, T1) - coin(F0, s0, T0) + cashCoin);
      expect(Math.abs(d.tradingUsd)).toBeLessThan(FD_ABS_USD); // no trade in the window
    });

    it("the Taylor sum converges to the actual PnL: residual ~ dt^1.5 when the move scales as sqrt(dt)", () => {
      // Diffusive scaling: dt / 4 and move / 2 per level. The Taylor terms are exact to second order,
      // so the residual is third order in the move and first order in dt x move (charm): dt^1.5,
      // i.e. 8x smaller per level; the PnL itself (first order) only halves.
      const levels = [0, 1, 2, 3].map((k) => {
        const { d } = window(DAY / 4 ** k, 0.02 / 2 ** k);
        return {
          usd: d.bookActualUsd - taylorUsd(d),
          coin: d.bookActualCoin - taylorCoin(d),
          reportedUsd: d.residualUsd,
          reportedCoin: d.residualCoin,
          actual: d.bookActualUsd,
        };
      });
      for (const [k, l] of levels.entries()) {
        // The reported residual is that difference.
        expect(Math.abs(l.reportedUsd - l.usd)).toBeLessThan(FD_ABS_USD);
        expect(Math.abs(l.reportedCoin - l.coin) * 60_000).toBeLessThan(FD_ABS_USD);
        const next = levels[k + 1];
        if (!next) continue;
        const ratioUsd = l.usd / next.usd;
        const ratioCoin = l.coin / next.coin;
        expect(ratioUsd).toBeGreaterThan(THIRD_ORDER_RATIO_MIN);
        expect(ratioUsd).toBeLessThan(THIRD_ORDER_RATIO_MAX);
        expect(ratioCoin).toBeGreaterThan(THIRD_ORDER_RATIO_MIN);
        expect(ratioCoin).toBeLessThan(THIRD_ORDER_RATIO_MAX);
        expect(Math.abs(l.actual / next.actual)).toBeLessThan(3); // first order: ~2
      }
    });
  });

  it("settles at expiry in coin on intrinsic value: a cash-secured put assigned after a crash", () => {
    const mk = (t: number, s: number) => syntheticStep({ steps: 1, seed: 0 }, t, s, 0.6);
    const t0 = Date.UTC(2026, 0, 2, 9); // Friday 09:00; weekly expiry Fri 9 Jan 08:00
    const steps = [mk(t0, 60_000), mk(t0 + DAY, 58_000), mk(Date.UTC(2026, 0, 9, 8), 45_000)];
    const r = runBacktest({
      strategy: { type: "cash-secured-put", params: { usd: 60_000, targetDelta: 0.25, tenorDays: 7 } },
      steps,
    });
    const sale = r.trades[0]!;
    expect(sale.quantity).toBeLessThan(0);
    expect(sale.currency).toBe("BTC");
    const K = Number(sale.instrument.split("-")[2]);
    expect(r.settlements).toBe(1);
    // Deribit settles an inverse put in coin: (K - P) / P per contract at the settlement price P
    // (the index of the first step at or after the expiry here). The premium came in coin too.
    const P = 45_000;
    const coin = -sale.quantity * sale.price - sale.fee + sale.quantity * ((K - P) / P);
    expect(r.settled[0]!.value).toBeCloseTo(sale.quantity * ((K - P) / P), COIN_DIGITS);
    expect(r.settled[0]!.source).toBe("index-intrinsic");
    expect(r.finalEquityUsd).toBeCloseTo(60_000 + coin * P, USD_DIGITS);
    expect(r.final.cash.BTC).toBeCloseTo(coin, COIN_DIGITS);
    expect(r.final.positions).toEqual([]);
    expect(r.trades.length).toBe(1); // the last step only settles, marks and closes
  });

  it("costs are charged exactly, in coin: zero-cost minus costly final coin equity = spread + slippage + fees", () => {
    const steps = [...syntheticSteps({ steps: 24 * 30, seed: 8, start: START })];
    // No hedge: the decisions then do not depend on the cash the costs take.
    const spec: StrategySpec = { ...strangle, hedge: { policy: "none" } };
    const a = runBacktest({ strategy: { ...spec, costs: zeroCosts }, steps });
    const b = runBacktest({
      strategy: { ...spec, costs: { feeRate: 0.0003, slippageBps: 10, hedgeHalfSpreadBps: 2 } },
      steps,
    });
    expect(a.costs.feesCoin).toBe(0);
    expect(b.costs.feesCoin).toBeGreaterThan(0);
    expect(b.trades.map((t) => [t.instrument, t.quantity])).toEqual(
      a.trades.map((t) => [t.instrument, t.quantity]),
    );
    // Every cost is paid in coin (inverse options), so with the same trades the final equities
    // in coin differ by exactly the coin paid.
    const paid = b.costs.spreadCoin + b.costs.slippageCoin + b.costs.feesCoin - a.costs.spreadCoin;
    expect(a.finalEquityCoin - b.finalEquityCoin).toBeCloseTo(paid, COIN_DIGITS);
    // Fees follow Deribit's rule per fill: min(0.0003 coin, 12.5% of the price) per contract.
    for (const t of b.trades)
      expect(t.fee).toBeCloseTo(Math.abs(t.quantity) * Math.min(0.0003, 0.125 * t.price), FEE_DIGITS);
  });

  it("rejects orders on a missing side or an unlisted strike with a reason, never silently", () => {
    const s0 = syntheticStep({ steps: 1, seed: 0 }, START, 60_000, 0.5);
    const e = s0.expiries()[0]!;
    // The lowest listed put strike of the first expiry: its bid is below one tick.
    const wing = s0.strikes(e).find((k) => s0.quote(e, k, "put")?.bid === null)!;
    expect(wing).toBeDefined();
    const rule: StrategyRule = {
      initial: { coins: 0, usd: 1e5 },
      decide: ({ step }) => [
        { expiry: step.expiries()[0]!, strike: wing, kind: "put", quantity: -1, tag: "open" },
        { expiry: step.expiries()[0]!, strike: wing + 1, kind: "put", quantity: 1, tag: "open" },
      ],
    };
    const mk = (t: number) => syntheticStep({ steps: 1, seed: 0 }, t, 60_000, 0.5);
    const r = runBacktest({ strategy: strangle, steps: [mk(START), mk(START + HOUR)], rule });
    expect(r.rejections).toEqual([
      expect.objectContaining({ reason: "no-bid", quantity: -1 }),
      expect.objectContaining({ reason: "not-listed", quantity: 1 }),
    ]);
    expect(r.trades.length).toBe(0);
    expect(() => runBacktest({ strategy: strangle, steps: [mk(START + HOUR), mk(START)] })).toThrow(/time/);
  });

  it("hedges with a dated inverse future: rolls it a day before expiry, marks it at its forward, no funding", () => {
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
    const steps = [...syntheticSteps({ steps: 24 * 40, seed: 2, start: START, basisPerYear: 0.1 })];
    const r = runBacktest({ strategy: spec, steps });
    const fut = r.trades.filter((t) => t.type === "future");
    expect(fut.length).toBeGreaterThan(10);
    expect(r.trades.some((t) => t.type === "perpetual")).toBe(false);
    expect(fut.every((t) => /^BTC-\d{1,2}[A-Z]{3}26$/.test(t.instrument))).toBe(true);
    const rolls = fut.filter((t) => t.tag === "roll");
    expect(rolls.length).toBeGreaterThan(0);
    // A roll closes one future and opens the next at the same time with the same coin delta
    // (an inverse future of 10 USD contracts holds contracts x 10 / price coins of delta).
    const t0 = rolls[0]!.time;
    const pair = rolls.filter((t) => t.time === t0);
    expect(pair.length).toBe(2);
    const coins = (t: (typeof pair)[number]) => (t.quantity * 10) / t.mark;
    expect(coins(pair[0]!)).toBeCloseTo(-coins(pair[1]!), ROLL_COIN_DIGITS);
    expect(pair[0]!.instrument).not.toBe(pair[1]!.instrument);
    // Marked at its expiry's forward: spot x exp(0.1 T) in this market.
    for (const t of fut) {
      const s = steps.find((x) => x.time === t.time)!;
      const e = s.expiries().find((x) => futureName("BTC", x) === t.instrument)!;
      expect(t.mark).toBeCloseTo(
        s.indexPrice * Math.exp((0.1 * (e - s.time)) / (365 * DAY)),
        FORWARD_MARK_DIGITS,
      );
    }
    expect(r.costs.fundingUsd).toBe(0);
  });

  it("a perpetual hedge pays funding on its position: rate x coins held x years, in coin", () => {
    const steps = [...syntheticSteps({ steps: 24 * 20, seed: 2, start: START })];
    const mk = (rate: number): StrategySpec => ({
      ...strangle,
      hedge: { policy: "interval", intervalHours: 4, fundingRatePerYear: rate },
    });
    const a = runBacktest({ strategy: mk(0), steps });
    const b = runBacktest({ strategy: mk(0.2), steps });
    expect(a.costs.fundingUsd).toBe(0);
    expect(b.costs.fundingCoin).not.toBe(0);
    // Reference from the trade log: the perpetual's contracts held over each step; a contract of
    // 10 USD is 10 / price coins at the previous mark (the index), paying 0.2 per year.
    let contracts = 0;
    let mark = 0;
    let expected = 0;
    let prevTime = 0;
    for (const s of steps) {
      if (contracts !== 0) expected += ((contracts * 10) / mark) * 0.2 * ((s.time - prevTime) / (365 * DAY));
      for (const t of b.trades.filter((x) => x.time === s.time && x.type === "perpetual"))
        contracts += t.quantity;
      mark = s.indexPrice;
      prevTime = s.time;
    }
    expect(b.costs.fundingCoin).toBeCloseTo(expected, COIN_DIGITS);
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
