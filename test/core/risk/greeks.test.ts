import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { blackGreeks } from "../../../src/core/pricing/black76.js";
import { portfolioGreeks, positionGreeks } from "../../../src/core/risk/greeks.js";
import { scenarioPnlMatrix } from "../../../src/core/risk/grid.js";
import { applyScenario, scenarioGrid } from "../../../src/core/risk/scenario.js";
import { valuePosition } from "../../../src/core/risk/valuation.js";
import { E1, E2, fut, market, opt, sampleBook, smileSurface, T0 } from "./fixtures.js";

const YEAR = 365 * 86_400_000;

describe("greeks aggregation = sum of single-option Black-76 greeks", () => {
  const mkt = market(smileSurface());
  const options = sampleBook().filter((p) => p.instrument.type === "option");
  it("BTC vega, gamma, theta, vanna, volga in USD match blackGreeks leg by leg", () => {
    const agg = portfolioGreeks(options, mkt).byUnderlying.BTC!;
    let vega = 0;
    let gamma = 0;
    let theta = 0;
    let vanna = 0;
    let volga = 0;
    let delta = 0;
    for (const p of options) {
      const o = p.instrument;
      if (o.type !== "option" || o.underlying !== "BTC") continue;
      const F = o.expiry === E1 ? 100_400 : 101_200;
      const T = (o.expiry - T0) / YEAR;
      const vol = smileSurface().impliedVol(Math.log(o.strike / F), T);
      const g = blackGreeks({ forward: F, strike: o.strike, expiry: T, vol, kind: o.kind });
      const c = F / 100_000;
      // Deribit's mark convention for coin-settled options: the coin premium is the Black-76 USD
      // value on the expiry's forward divided by that forward, and its USD value is those coins
      // at the index S. So V_usd = m B(F) S / F = m B(cS) / c, whose S-derivatives are m g.delta,
      // m g.gamma c, ... and whose vol and time derivatives carry the factor 1 / c.
      const m = (p.quantity * o.contractSize) / (o.settlement === "inverse" ? c : 1);
      vega += m * g.vega;
      gamma += m * g.gamma * c * c;
      theta += (m * g.theta) / 365;
      vanna += m * g.vanna * c;
      volga += m * g.volga;
      delta += m * g.delta * c;
    }
    expect(agg.vegaUsd).toBeCloseTo(vega, 8);
    expect(agg.gammaCoinPerUsd).toBeCloseTo(gamma, 12);
    expect(agg.thetaUsdPerDay).toBeCloseTo(theta, 8);
    expect(agg.vannaUsd).toBeCloseTo(vanna, 8);
    expect(agg.volgaUsd).toBeCloseTo(volga, 6);
    expect(agg.deltaUnderlyingCoin).toBeCloseTo(delta, 10);
    expect(agg.vegaCoin).toBeCloseTo(vega / 100_000, 12);
  });
  it("delta and gamma agree with finite differences of full revaluation (flat vol, sticky strike)", () => {
    const flat = market();
    for (const p of sampleBook()) {
      const g = positionGreeks(p, flat);
      const h = 1e-4;
      const up = applyScenario(flat, { spotShift: h, volShift: 0 });
      const dn = applyScenario(flat, { spotShift: -h, volShift: 0 });
      const S = flat.underlyings[p.instrument.underlying]!.indexPrice;
      const vu = valuePosition(p, up);
      const vd = valuePosition(p, dn);
      const v0 = valuePosition(p, flat);
      const fdDelta = (vu.valueUsd - vd.valueUsd) / (2 * h * S);
      expect(g.deltaUnderlyingCoin).toBeCloseTo(fdDelta, 6);
      // Coin-terms delta: S d(V_coin)/dS.
      const fdCoin = (vu.valueCoin - vd.valueCoin) / (2 * h);
      expect(g.deltaCoin).toBeCloseTo(fdCoin, 5);
      const fdGamma = (vu.valueUsd - 2 * v0.valueUsd + vd.valueUsd) / (h * S) ** 2;
      expect(g.gammaCoinPerUsd).toBeCloseTo(fdGamma, 6);
      const vv = valuePosition(p, applyScenario(flat, { spotShift: 0, volShift: 1e-4 }));
      expect(g.vegaUsd).toBeCloseTo((vv.valueUsd - v0.valueUsd) / 1e-4, -1);
    }
  });
  it("inverse option coin delta = Black delta - coin premium (DESIGN.md)", () => {
    const flat = {
      ...market(),
      underlyings: { BTC: { indexPrice: 100_000, forwards: [], surface: market().underlyings.BTC!.surface } },
    };
    const p: Position = { instrument: opt({ strike: 105_000, kind: "call", expiry: E1 }), quantity: 1 };
    const g = positionGreeks(p, flat);
    const b = blackGreeks({ forward: 100_000, strike: 105_000, expiry: 30 / 365, vol: 0.6, kind: "call" });
    expect(g.deltaCoin).toBeCloseTo(b.delta - b.price / 100_000, 12);
    expect(g.vegaNormalizedUsd).toBeCloseTo(b.vega, 9); // 30 days: weight 1
  });
  it("buckets partition the underlying totals", () => {
    const pg = portfolioGreeks(sampleBook(), mkt);
    for (const [u, buckets] of Object.entries(pg.byUnderlyingBucket)) {
      const s = Object.values(buckets).reduce((a, b) => a + b.vegaUsd + b.cashDeltaUsd, 0);
      expect(s).toBeCloseTo(pg.byUnderlying[u]!.vegaUsd + pg.byUnderlying[u]!.cashDeltaUsd, 6);
    }
    expect(Object.keys(pg.byUnderlyingBucket.BTC!).sort()).toEqual(["30-90d", "90-180d", "perpetual"]);
  });
});

describe("put-call parity: a synthetic future through the whole engine", () => {
  const mkt = market(smileSurface());
  const K = 95_000;
  for (const settlement of ["inverse", "linear"] as const) {
    it(`${settlement}: long call + short put = linear future entered at K on every scenario`, () => {
      const size = settlement === "inverse" ? 1 : 0.01;
      const q = settlement === "inverse" ? 2 : 200;
      const synth: Position[] = [
        { instrument: opt({ strike: K, kind: "call", expiry: E2, settlement }), quantity: q },
        { instrument: opt({ strike: K, kind: "put", expiry: E2, settlement }), quantity: -q },
      ];
      // Linear: C - P = F - K in USD, a linear future entered at K. Inverse: the coin premiums
      // give C - P = 1 - K/F coins per coin, which is an inverse future of K USD notional entered
      // at K (K (1/K - 1/F) coins): the parity of coin-settled options.
      const future: Position =
        settlement === "linear"
          ? {
              instrument: fut({ expiry: E2, settlement: "linear", contractSize: size }),
              quantity: q,
              entryPrice: K,
            }
          : {
              instrument: fut({ expiry: E2, settlement: "inverse", contractSize: K }),
              quantity: q,
              entryPrice: K,
            };
      expect(valuePosition(synth[0]!, mkt).valueUsd + valuePosition(synth[1]!, mkt).valueUsd).toBeCloseTo(
        valuePosition(future, mkt).valueUsd,
        6,
      );
      const scenarios = [
        ...scenarioGrid({ spotShifts: [-0.4, -0.1, 0.3], volShifts: [-0.2, 0.25] }),
        { spotShift: -0.3, volShift: 0.3, skewTwist: 0.3, termTwist: 0.1, timeRollDays: 20 },
        { spotShift: 0.1, volShift: 0, timeRollDays: 120 },
      ];
      const M = scenarioPnlMatrix({ positions: [...synth, future], market: mkt, scenarios });
      scenarios.forEach((_s, j) => {
        expect(M[0]![j]! + M[1]![j]!).toBeCloseTo(M[2]![j]!, 5);
      });
      const g = portfolioGreeks(synth, mkt).byUnderlying.BTC!;
      expect(g.vegaUsd).toBeCloseTo(0, 8);
      expect(g.gammaCoinPerUsd).toBeCloseTo(0, 12);
      // d/dS of the synthetic's USD value: linear q size F/S per coin (F = c S); inverse
      // q (S - K/c) -> q coins exactly.
      expect(g.deltaUnderlyingCoin).toBeCloseTo(
        settlement === "linear" ? q * size * (101_200 / 100_000) : q,
        9,
      );
    });
  }
});
