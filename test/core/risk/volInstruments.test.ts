/**
 * Variance swaps and vol-index futures in books and risk (issue 24 item 3): valuePosition,
 * portfolio greeks, scenario grids, stress, VaR and expired legs against independent references:
 * on a flat surface the log contract's fair variance is sigma^2 (closed form), a variance swap's
 * value is its hindsight payoff expectation, the DVOL future with zero vol of vol is 100 sigma and
 * on a two-level term structure the forward vol of the index window.
 */
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import type { Position } from "../../../src/core/instruments/types.js";
import {
  varianceSwapContract,
  volIndexFutureContract,
} from "../../../src/core/instruments/volInstruments.js";
import { standardBookMargin } from "../../../src/core/margin/book.js";
import { splitExpired } from "../../../src/core/risk/expiredLegs.js";
import { portfolioGreeks, positionGreeks } from "../../../src/core/risk/greeks.js";
import { scenarioPnlMatrix } from "../../../src/core/risk/grid.js";
import type { RiskMarket, UnderlyingMarket } from "../../../src/core/risk/market.js";
import { applyScenario, scenarioGrid } from "../../../src/core/risk/scenario.js";
import { runStress } from "../../../src/core/risk/stress.js";
import { historicalVar } from "../../../src/core/risk/var.js";
import { resolveFutureEntries, valuePosition } from "../../../src/core/risk/valuation.js";
import type { VolSurface } from "../../../src/core/surface/types.js";
import { surfaceFairVariance } from "../../../src/core/volindex/varianceSwap.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10, 8);
const SIGMA = 0.6;
const S = 100_000;
/** Simpson's error on the log-contract integral (32 steps per ATM standard deviation): measured <= 1.3e-9 of sigma^2. */
const FAIR_TOL = 2e-9;

function flat(sigma: number): VolSurface {
  return { model: "flat", impliedVol: () => sigma, totalVariance: (_k, T) => sigma * sigma * T };
}

/** sigma(T): s1 up to T1, then the vol whose total variance adds s2^2 per year (flat smile). */
function twoLevel(T1: number, s1: number, s2: number): VolSurface {
  const w = (T: number) => (T <= T1 ? s1 * s1 * T : s1 * s1 * T1 + s2 * s2 * (T - T1));
  return { model: "two-level", impliedVol: (_k, T) => Math.sqrt(w(T) / T), totalVariance: (_k, T) => w(T) };
}

function market(surface: VolSurface, extra: Partial<UnderlyingMarket> = {}): RiskMarket {
  return {
    valuationTime: T0,
    underlyings: {
      BTC: { indexPrice: S, forwards: [{ expiry: T0 + 90 * DAY, forward: S * 1.02 }], surface, ...extra },
    },
  };
}

/** Daily fixings from `start` with the given log returns. */
function fixings(start: number, returns: readonly number[]) {
  const out = [{ time: start, price: S }];
  let p = S;
  returns.forEach((r, i) => {
    p *= Math.exp(r);
    out.push({ time: start + (i + 1) * DAY, price: p });
  });
  return out;
}

describe("variance swap valuation", () => {
  it("the surface log contract is sigma^2 on flat surfaces (closed form), any forward and tenor", () => {
    for (const [sigma, T, F] of [
      [0.6, 30 / 365, 100_000],
      [0.25, 2, 3_000],
      [1.2, 1 / 365, 1],
    ] as const)
      expect(Math.abs(surfaceFairVariance(flat(sigma), F, T) - sigma * sigma)).toBeLessThan(
        FAIR_TOL * sigma * sigma,
      );
  });

  it("an unstarted swap at strike sigma is worth 0 on a flat surface; at K it pays N_var (sigma^2 - K^2) in points", () => {
    const m = market(flat(SIGMA));
    const atFair = varianceSwapContract({
      underlying: "BTC",
      start: T0,
      expiry: T0 + 30 * DAY,
      strikeVol: SIGMA,
      contractSize: 1000,
    });
    // 3 contracts x N_var 1000 / (2 x 60) x 3600 pts^2 x the integration's relative error.
    const tol = FAIR_TOL * 3 * (1000 / 120) * 3600;
    expect(Math.abs(valuePosition({ instrument: atFair, quantity: 3 }, m).valueUsd)).toBeLessThan(tol);
    const k50 = { ...atFair, strikeVol: 0.5 };
    // N_var = 1000 / (2 x 50) = 10 USD per pt^2; 3 contracts x 10 x (3600 - 2500) = 33,000 USD.
    const v = valuePosition({ instrument: k50, quantity: 3 }, m);
    expect(v.valueUsd).toBeCloseTo(33_000, 3);
    expect(v.valueCoin).toBeCloseTo(33_000 / S, 9);
    expect(v.settled).toBe(false);
  });

  it("a started swap = expected hindsight payoff: (sum of past r^2 + sigma^2 x years left) / tenor", () => {
    const start = T0 - 10 * DAY;
    const expiry = T0 + 20 * DAY;
    const rets = [0.03, -0.02, 0.05, -0.04, 0.01, 0.0, -0.06, 0.02, 0.03, -0.01];
    const m = market(flat(SIGMA), { indexFixings: fixings(start, rets) });
    const c = varianceSwapContract({ underlying: "BTC", start, expiry, strikeVol: 0.55, contractSize: 500 });
    const sumR2 = rets.reduce((a, r) => a + r * r, 0);
    const expectedVar = (sumR2 + SIGMA * SIGMA * (20 / 365)) / (30 / 365);
    const nVar = 500 / (2 * 55);
    const v = valuePosition({ instrument: c, quantity: -2 }, m).valueUsd;
    expect(v).toBeCloseTo(-2 * nVar * (1e4 * expectedVar - 55 * 55), 5);
  });

  it("a forward-starting swap is valued at the forward variance of its window (term structure)", () => {
    const T1 = 20 / 365;
    const m = market(twoLevel(T1, 0.4, 0.7));
    const c = varianceSwapContract({
      underlying: "BTC",
      start: T0 + 20 * DAY,
      expiry: T0 + 50 * DAY,
      strikeVol: 0.7,
      contractSize: 100,
    });
    // The window [20d, 50d] lies wholly in the 0.7 regime: fair strike 0.7, value 0.
    // N_var 100 / (2 x 70) x 4900 pts^2 x the integration's relative error (twice: w(end) - w(start)).
    expect(Math.abs(valuePosition({ instrument: c, quantity: 1 }, m).valueUsd)).toBeLessThan(
      2 * FAIR_TOL * (100 / 140) * 4900 * (50 / 30),
    );
  });

  it("a started swap on a market without fixings is refused naming indexFixings", () => {
    const c = varianceSwapContract({
      underlying: "BTC",
      start: T0 - DAY,
      expiry: T0 + 29 * DAY,
      strikeVol: 0.5,
    });
    expect(() => valuePosition({ instrument: c, quantity: 1 }, market(flat(SIGMA)))).toThrow(/indexFixings/);
  });

  it("vega = 2 sigma N_var x remaining fraction per vol point; delta and gamma 0; variance vega N_var x remaining", () => {
    const start = T0 - 10 * DAY;
    const m = market(flat(SIGMA), { indexFixings: fixings(start, Array(10).fill(0.02)) });
    const c = varianceSwapContract({
      underlying: "BTC",
      start,
      expiry: T0 + 20 * DAY,
      strikeVol: 0.5,
      contractSize: 1000,
    });
    const g = positionGreeks({ instrument: c, quantity: 2 }, m);
    const nVar = 1000 / (2 * 50);
    const remaining = 20 / 30;
    expect(g.vegaUsd * 0.01).toBeCloseTo(2 * 60 * nVar * remaining * 2, 4);
    expect(g.varianceVegaUsd).toBeCloseTo(2 * nVar * remaining, 12);
    expect(g.deltaUnderlyingCoin).toBe(0);
    expect(g.gammaCoinPerUsd).toBe(0);
    // d^2 V / d sigma^2 = 2 N_var x remaining x 1e4 per 1.00 vol (V is quadratic in a flat sigma).
    expect(g.volgaUsd).toBeCloseTo(2 * 2 * nVar * remaining * 1e4, -1);
  });
});

describe("vol-index future valuation", () => {
  it("flat surface, zero vol of variance: fair = 100 sigma; a lognormal vol of variance subtracts exp(-w^2 tau / 8)", () => {
    const f = volIndexFutureContract({ underlying: "BTC", expiry: T0 + 30 * DAY, contractSize: 1 });
    const entry = 50;
    expect(
      valuePosition({ instrument: f, quantity: 10, entryPrice: entry }, market(flat(SIGMA))).valueUsd,
    ).toBeCloseTo(10 * (60 - entry), 6);
    const omega = 1.3;
    const withOmega = market(flat(SIGMA), { volOfVariance: omega });
    const fair = 60 * Math.exp((-omega * omega * (30 / 365)) / 8);
    expect(valuePosition({ instrument: f, quantity: 1, entryPrice: entry }, withOmega).valueUsd).toBeCloseTo(
      fair - entry,
      6,
    );
  });

  it("on a term structure the fair value is 100 x the forward vol of the 30-day window after expiry", () => {
    const T1 = 30 / 365;
    const m = market(twoLevel(T1, 0.4, 0.8));
    const f = volIndexFutureContract({ underlying: "BTC", expiry: T0 + 30 * DAY, contractSize: 2 });
    const v = valuePosition({ instrument: f, quantity: 1, entryPrice: 70 }, m).valueUsd;
    expect(v).toBeCloseTo(2 * (80 - 70), 6);
  });

  it("an entry at fair is resolved, greeks: vega by the bump equals 100 x 2 d sigma / d sigma_window... (flat: 100 per 1.00 vol)", () => {
    const m = market(flat(SIGMA));
    const f = volIndexFutureContract({ underlying: "BTC", expiry: T0 + 30 * DAY, contractSize: 1 });
    const [p] = resolveFutureEntries([{ instrument: f, quantity: 5 }], m);
    expect(Math.abs((p?.entryPrice ?? 0) - 60)).toBeLessThan(FAIR_TOL * 60);
    const g = positionGreeks(p as Position, m);
    // fair = 100 sigma: 100 USD per contract per 1.00 vol, 1 USD per vol point.
    expect(g.vegaUsd).toBeCloseTo(5 * 100, 4);
    // d(100 sqrt V)/d(1e4 V) = 1 / (2 sigma_pts) per contract.
    expect(g.varianceVegaUsd).toBeCloseTo(5 / (2 * 60), 10);
    expect(g.deltaUnderlyingCoin).toBe(0);
  });
});

describe("a mixed book through the risk engine", () => {
  const start = T0 - 5 * DAY;
  const m = market(flat(SIGMA), {
    indexFixings: fixings(start, [0.01, -0.03, 0.02, 0.04, -0.02]),
    volOfVariance: 1,
  });
  const book: Position[] = [
    {
      instrument: {
        type: "option",
        name: "BTC-9FEB26-100000-C",
        underlying: "BTC",
        kind: "call",
        strike: 100_000,
        expiry: T0 + 30 * DAY,
        settlement: "inverse",
        contractSize: 1,
      },
      quantity: -3,
    },
    {
      instrument: {
        type: "option",
        name: "BTC_USDC-9FEB26-90000-P",
        underlying: "BTC",
        kind: "put",
        strike: 90_000,
        expiry: T0 + 30 * DAY,
        settlement: "linear",
        contractSize: 0.01,
      },
      quantity: 40,
    },
    {
      instrument: varianceSwapContract({
        underlying: "BTC",
        start,
        expiry: T0 + 25 * DAY,
        strikeVol: 0.58,
        contractSize: 2000,
      }),
      quantity: 1,
    },
    {
      instrument: volIndexFutureContract({ underlying: "BTC", expiry: T0 + 40 * DAY, contractSize: 1 }),
      quantity: -300,
      entryPrice: 61,
    },
  ];

  it("portfolio greeks and value are the sums of the legs", () => {
    const pg = portfolioGreeks(book, m);
    let value = 0;
    let vega = 0;
    let varVega = 0;
    for (const p of book) {
      const g = positionGreeks(p, m);
      value += g.valueUsd;
      vega += g.vegaUsd;
      varVega += g.varianceVegaUsd;
    }
    expect(pg.totalUsd.valueUsd).toBeCloseTo(value, 8);
    expect(pg.totalUsd.vegaUsd).toBeCloseTo(vega, 8);
    expect(pg.totalUsd.varianceVegaUsd).toBeCloseTo(varVega, 10);
    expect(pg.byUnderlying.BTC?.varianceVegaUsd).toBeCloseTo(varVega, 10);
  });

  it("the scenario grid is full revaluation: each row equals valuePosition on the shifted market minus the base", () => {
    const scenarios = scenarioGrid({ spotShifts: [-0.2, 0, 0.2], volShifts: [-0.1, 0, 0.1] });
    const rows = scenarioPnlMatrix({ positions: book, market: m, scenarios });
    const resolved = resolveFutureEntries(book, m);
    scenarios.forEach((s, j) => {
      const shifted = applyScenario(m, s);
      resolved.forEach((p, i) => {
        const ref = valuePosition(p, shifted).valueUsd - valuePosition(p, m).valueUsd;
        expect(rows[i]?.[j]).toBeCloseTo(ref, 6);
      });
    });
    // The swap's vol-up PnL matches its bump greeks to second order (quadratic in flat sigma: exact).
    const g = positionGreeks(book[2] as Position, m);
    const up = scenarios.findIndex((s) => s.spotShift === 0 && s.volShift === 0.1);
    expect(rows[2]?.[up]).toBeCloseTo(g.vegaUsd * 0.1 + 0.5 * g.volgaUsd * 0.01, 0);
    // ... and it has no spot exposure on a flat surface.
    const spotDown = scenarios.findIndex((s) => s.spotShift === -0.2 && s.volShift === 0);
    expect(Math.abs(rows[2]?.[spotDown] ?? Number.NaN)).toBeLessThan(1e-6);
  });

  it("stress and historical VaR run on the book; margin refuses the vol legs naming them", () => {
    const stress = runStress({
      positions: book,
      market: m,
      entries: [
        {
          id: "vol-up",
          description: "vol +20",
          kind: "hypothetical",
          scenario: { spotShift: 0, volShift: 0.2 },
          source: "test",
        },
      ],
      liquidity: null,
    });
    const shifted = applyScenario(m, { spotShift: 0, volShift: 0.2 });
    const ref = resolveFutureEntries(book, m).reduce(
      (a, p) => a + valuePosition(p, shifted).valueUsd - valuePosition(p, m).valueUsd,
      0,
    );
    expect(stress[0]?.pnlUsd).toBeCloseTo(ref, 6);
    const closes = Array.from({ length: 40 }, (_, i) => S * Math.exp(0.02 * Math.sin(i)));
    const v = historicalVar({ positions: book, market: m, confidence: 0.95, horizonDays: 1, closes });
    expect(Number.isFinite(v.varUsd)).toBe(true);
    expect(() => standardBookMargin(book, m)).toThrow(InvalidInputError);
    expect(() => standardBookMargin(book, m)).toThrow(/positions\[2\].*instrument\.type/);
  });
});

describe("expired vol legs", () => {
  it("settle on the realized variance / the index at expiry, else stay unsettled with the reason", () => {
    const swap = varianceSwapContract({
      underlying: "BTC",
      start: T0 - 40 * DAY,
      expiry: T0 - 10 * DAY,
      strikeVol: 0.5,
      contractSize: 1000,
    });
    const fut = volIndexFutureContract({ underlying: "BTC", expiry: T0 - DAY, contractSize: 1 });
    const legs: Position[] = [
      { instrument: swap, quantity: 2 },
      { instrument: fut, quantity: -10, entryPrice: 55 },
    ];
    const split = splitExpired(legs, T0, {
      indexPrice: () => S,
      realizedVariance: () => 0.36,
      volIndexSettlement: () => 48,
    });
    // 2 x 10 USD/pt^2 x (3600 - 2500) = 22,000; -10 x (48 - 55) = 70.
    expect(split.settled.map((x) => x.valueUsd)).toEqual([22_000, 70]);
    expect(split.settled.every((x) => x.currency === "USDC")).toBe(true);
    const none = splitExpired(legs, T0, { indexPrice: () => S });
    expect(none.unsettled.map((x) => x.detail)).toEqual([
      expect.stringMatching(/no realized variance/),
      expect.stringMatching(/no BTC vol index value/),
    ]);
  });
});
