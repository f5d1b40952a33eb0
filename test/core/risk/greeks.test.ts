import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { blackGreeks } from "../../../src/core/pricing/black76.js";
import { portfolioGreeks, positionGreeks } from "../../../src/core/risk/greeks.js";
import { scenarioPnlMatrix } from "../../../src/core/risk/grid.js";
import { applyScenario, scenarioGrid } from "../../../src/core/risk/scenario.js";
import { valuePosition } from "../../../src/core/risk/valuation.js";
import { E1, E2, fut, market, opt, sampleBook, smileSurface, T0 } from "./fixtures.js";

/** Book greeks vs the per-leg Black-76 sum written here: the same terms summed in another order; USD greeks of ~1e3-1e5 keep ~1e-12 relative. */
const AGG_USD_DIGITS = 8;
/** Volga is the largest USD figure (~1e6 per unit vol^2): two digits less in absolute terms. */
const AGG_VOLGA_DIGITS = 6;
/** Gamma per USD (~1e-5) and coin vega (~1e-2): small magnitudes, so more absolute digits for the same relative error. */
const AGG_SMALL_DIGITS = 12;
/** Delta in coin (~1-10): summation rounding. */
const AGG_DELTA_DIGITS = 10;
/** Central difference with a 1e-4 relative spot bump: truncation O(h^2) ~ 1e-8 of gamma-scale terms and cancellation eps V / (h S) ~ 1e-9 coin. */
const FD_DELTA_DIGITS = 6;
/** Coin-terms delta from coin values: the coin value's rounding over a 2e-4 bump, ~1e-6. */
const FD_COIN_DELTA_DIGITS = 5;
/** Second difference of USD values (~1e5) over (h S)^2 = 100 USD^2: cancellation leaves ~1e-7 per USD^2. */
const FD_GAMMA_DIGITS = 6;
/** Forward difference over a 1e-4 vol bump: the O(h) volga term is volga x 5e-5 ~ a few USD; -1 digits = +-5 USD. */
const FD_VEGA_DIGITS = -1;
/** Coin delta = Black delta - coin premium on one option: a subtraction of two doubles ~0.4. */
const COIN_DELTA_DIGITS = 12;
/** Normalized vega with weight 1 at 30 days: Black vega (~1e4 USD) times one product. */
const NORMALIZED_VEGA_DIGITS = 9;
/** Bucket totals vs the underlying total: the same legs summed by bucket, rounding on ~1e5 USD. */
const BUCKET_SUM_DIGITS = 6;
/** Call - put vs the future through the whole engine: two Black prices on ~1e5 USD each cancel to the future's value; rounding of the two legs (~3e-11 each). */
const PARITY_VALUE_DIGITS = 6;
/** The same per scenario of the P&L matrix, where legs are revalued on bumped markets (~2e5 USD). */
const PARITY_PNL_DIGITS = 5;
/** Synthetic future greeks: vega and gamma of call and put cancel exactly in exact arithmetic; left is rounding of ~1e3 USD vegas and ~1e-5 gammas. */
const PARITY_VEGA_DIGITS = 8;
const PARITY_GAMMA_DIGITS = 12;
/** Synthetic delta in coin (2 or 2.024): rounding of a few products. */
const PARITY_DELTA_DIGITS = 9;

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
    expect(agg.vegaUsd).toBeCloseTo(vega, AGG_USD_DIGITS);
    expect(agg.gammaCoinPerUsd).toBeCloseTo(gamma, AGG_SMALL_DIGITS);
    expect(agg.thetaUsdPerDay).toBeCloseTo(theta, AGG_USD_DIGITS);
    expect(agg.vannaUsd).toBeCloseTo(vanna, AGG_USD_DIGITS);
    expect(agg.volgaUsd).toBeCloseTo(volga, AGG_VOLGA_DIGITS);
    expect(agg.deltaUnderlyingCoin).toBeCloseTo(delta, AGG_DELTA_DIGITS);
    expect(agg.vegaCoin).toBeCloseTo(vega / 100_000, AGG_SMALL_DIGITS);
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
      expect(g.deltaUnderlyingCoin).toBeCloseTo(fdDelta, FD_DELTA_DIGITS);
      // Coin-terms delta: S d(V_coin)/dS.
      const fdCoin = (vu.valueCoin - vd.valueCoin) / (2 * h);
      expect(g.deltaCoin).toBeCloseTo(fdCoin, FD_COIN_DELTA_DIGITS);
      const fdGamma = (vu.valueUsd - 2 * v0.valueUsd + vd.valueUsd) / (h * S) ** 2;
      expect(g.gammaCoinPerUsd).toBeCloseTo(fdGamma, FD_GAMMA_DIGITS);
      const vv = valuePosition(p, applyScenario(flat, { spotShift: 0, volShift: 1e-4 }));
      expect(g.vegaUsd).toBeCloseTo((vv.valueUsd - v0.valueUsd) / 1e-4, FD_VEGA_DIGITS);
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
    expect(g.deltaCoin).toBeCloseTo(b.delta - b.price / 100_000, COIN_DELTA_DIGITS);
    expect(g.vegaNormalizedUsd).toBeCloseTo(b.vega, NORMALIZED_VEGA_DIGITS); // 30 days: weight 1
  });
  it("buckets partition the underlying totals", () => {
    const pg = portfolioGreeks(sampleBook(), mkt);
    for (const [u, buckets] of Object.entries(pg.byUnderlyingBucket)) {
      const s = Object.values(buckets).reduce((a, b) => a + b.vegaUsd + b.cashDeltaUsd, 0);
      expect(s).toBeCloseTo(
        pg.byUnderlying[u]!.vegaUsd + pg.byUnderlying[u]!.cashDeltaUsd,
        BUCKET_SUM_DIGITS,
      );
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
        PARITY_VALUE_DIGITS,
      );
      const scenarios = [
        ...scenarioGrid({ spotShifts: [-0.4, -0.1, 0.3], volShifts: [-0.2, 0.25] }),
        { spotShift: -0.3, volShift: 0.3, skewTwist: 0.3, termTwist: 0.1, timeRollDays: 20 },
        { spotShift: 0.1, volShift: 0, timeRollDays: 120 },
      ];
      const M = scenarioPnlMatrix({ positions: [...synth, future], market: mkt, scenarios });
      scenarios.forEach((_s, j) => {
        expect(M[0]![j]! + M[1]![j]!).toBeCloseTo(M[2]![j]!, PARITY_PNL_DIGITS);
      });
      const g = portfolioGreeks(synth, mkt).byUnderlying.BTC!;
      expect(g.vegaUsd).toBeCloseTo(0, PARITY_VEGA_DIGITS);
      expect(g.gammaCoinPerUsd).toBeCloseTo(0, PARITY_GAMMA_DIGITS);
      // d/dS of the synthetic's USD value: linear q size F/S per coin (F = c S); inverse
      // q (S - K/c) -> q coins exactly.
      expect(g.deltaUnderlyingCoin).toBeCloseTo(
        settlement === "linear" ? q * size * (101_200 / 100_000) : q,
        PARITY_DELTA_DIGITS,
      );
    });
  }
});
