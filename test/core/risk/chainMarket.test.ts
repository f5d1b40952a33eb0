/**
 * chainRiskMarket: a book valued on a loaded chain. The chain is hand-made with known mark vols
 * (mark prices are Black-76 prices at those vols), the "fitted" surface a flat 60% (so the
 * residual of every node is known): figures are checked against blackGreeks on the chain's
 * forwards and mark vols, written out independently of the risk engine.
 */
import { describe, expect, it } from "vitest";
import { instrumentFromName } from "../../../src/core/instruments/names.js";
import type { OptionContract, Position } from "../../../src/core/instruments/types.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import type { ChainSnapshot, OptionQuote } from "../../../src/core/market/types.js";
import { blackGreeks, blackPrice } from "../../../src/core/pricing/black76.js";
import { chainRiskMarket, markPinnedSurface } from "../../../src/core/risk/chainMarket.js";
import { portfolioGreeks } from "../../../src/core/risk/greeks.js";
import { flatSurface } from "../../../src/core/surface/types.js";

/** Book greeks vs the per-leg Black-76 sum with Deribit's mark convention written here: the same formulas in another order; 1e-9 relative catches any convention slip (S/F factors are 1e-3 level). */
const BLACK_SUM_REL = 1e-9;

/** A mark vol read back from the pinned surface: residual added to a flat fit and linearly interpolated in k, a few roundings on ~0.6. */
const PINNED_VOL_DIGITS = 12;
/** Total variance vol^2 T of a pinned vol: one product more. */
const PINNED_VARIANCE_DIGITS = 12;
/** Cash delta of an inverse perpetual at the index: contracts x size, exact up to one rounding on 2e5 (ulp 2.9e-11). */
const PERP_DELTA_DIGITS = 6;

const DAY = 86_400_000;
const YEAR = 365 * DAY;
const T0 = Date.UTC(2026, 4, 1, 8);
const E1 = T0 + 56 * DAY;
const E2 = T0 + 147 * DAY;
const S = 100_000;
const FWD = new Map([
  [E1, 100_600],
  [E2, 101_500],
]);
const STRIKES = [80_000, 90_000, 100_000, 110_000, 120_000];
/** Mark vol of (expiry, strike, kind): a skewed smile; the 110k put is marked 1 vol point off its call. */
const iv = (e: number, K: number, kind: "call" | "put") => {
  const k = Math.log(K / (FWD.get(e) as number));
  const base = (e === E1 ? 0.5 : 0.55) - 0.15 * k + 0.4 * k * k;
  return K === 110_000 && kind === "put" && e === E1 ? base + 0.01 : base;
};
const FLAT = 0.6;

const option = (
  u: string,
  expiry: number,
  strike: number,
  kind: "call" | "put",
  settlement: "inverse" | "linear" = "inverse",
): OptionContract => ({
  type: "option",
  name: `${u}${settlement === "linear" ? "_USDC" : ""}-${expiry}-${strike}-${kind === "call" ? "C" : "P"}`,
  underlying: u,
  kind,
  strike,
  expiry,
  settlement,
  contractSize: settlement === "linear" ? 0.01 : 1,
});

function chain(): ChainSnapshot {
  const quotes: OptionQuote[] = [];
  for (const e of [E1, E2])
    for (const K of STRIKES)
      for (const kind of ["call", "put"] as const) {
        const F = FWD.get(e) as number;
        const vol = iv(e, K, kind);
        const usd = blackPrice({ forward: F, strike: K, expiry: (e - T0) / YEAR, vol, kind });
        quotes.push({
          instrument: option("BTC", e, K, kind),
          timestamp: T0,
          bid: (usd * 0.97) / F,
          ask: (usd * 1.03) / F,
          mark: usd / F,
          markIv: vol,
          underlyingPrice: F,
        });
      }
  return { underlying: "BTC", valuationTime: T0, indexPrice: S, quotes };
}

describe("markPinnedSurface", () => {
  const snap = normalizeChain(chain()).snapshot;
  const surf = markPinnedSurface(flatSurface(FLAT), snap);
  const T1 = (E1 - T0) / YEAR;
  const F1 = FWD.get(E1) as number;
  it("returns the out-of-the-money mark vol at every quoted strike of a listed expiry", () => {
    for (const e of [E1, E2])
      for (const K of STRIKES) {
        const F = FWD.get(e) as number;
        const otm = K < F ? "put" : "call";
        expect(surf.impliedVol(Math.log(K / F), (e - T0) / YEAR)).toBeCloseTo(
          iv(e, K, otm),
          PINNED_VOL_DIGITS,
        );
      }
  });
  it("interpolates the mark residual linearly in k between strikes, flat beyond, fit elsewhere", () => {
    const ka = Math.log(100_000 / F1);
    const kb = Math.log(110_000 / F1);
    const km = 0.25 * ka + 0.75 * kb;
    // Flat fit: fitted + residual = linear interpolation of the two mark vols.
    expect(surf.impliedVol(km, T1)).toBeCloseTo(
      0.25 * iv(E1, 100_000, "call") + 0.75 * iv(E1, 110_000, "call"),
      PINNED_VOL_DIGITS,
    );
    expect(surf.impliedVol(Math.log(150_000 / F1), T1)).toBeCloseTo(
      iv(E1, 120_000, "call"),
      PINNED_VOL_DIGITS,
    );
    expect(surf.impliedVol(Math.log(50_000 / F1), T1)).toBeCloseTo(iv(E1, 80_000, "put"), PINNED_VOL_DIGITS);
    // An expiry the chain does not list: the fitted surface alone.
    expect(surf.impliedVol(ka, (E1 + 10 * DAY - T0) / YEAR)).toBe(FLAT);
    expect(surf.totalVariance(ka, T1)).toBeCloseTo(iv(E1, 100_000, "call") ** 2 * T1, PINNED_VARIANCE_DIGITS);
  });
});

describe("chainRiskMarket", () => {
  const norm = normalizeChain(chain());
  const pos = (instrument: Position["instrument"], quantity: number): Position => ({ instrument, quantity });
  const perp: Position = { instrument: instrumentFromName("BTC-PERPETUAL"), quantity: 20_000 };
  const book: Position[] = [
    pos(option("BTC", E1, 110_000, "call"), -10),
    pos(option("BTC", E1, 90_000, "put"), 8),
    pos(option("BTC", E2, 100_000, "call"), 5),
    pos(option("BTC", E1, 95_000, "put", "linear"), -200),
    pos(option("BTC", E1, 110_000, "put"), 3), // in the money: takes the call's mark vol
    pos(option("BTC", E1, 105_000, "call"), 2), // strike not quoted
    pos(option("BTC", E1 + 30 * DAY, 100_000, "call"), 1), // expiry not listed, inside the range
    perp,
    pos(option("BTC", T0 - DAY, 100_000, "call"), 4), // expired
    pos(option("BTC", E2 + 30 * DAY, 100_000, "call"), 1), // after the last listed expiry
    pos(option("BTC", T0 + 7 * DAY, 100_000, "call"), 1), // before the first listed expiry
    pos(option("ETH", E1, 3_000, "put"), -40), // no ETH chain
  ];
  const v = chainRiskMarket([{ normalized: norm, fitted: flatSurface(FLAT) }], book);

  it("accepts what the chain can value and says why it leaves out the rest", () => {
    expect(v.accepted.length + v.excluded.length).toBe(book.length);
    expect(v.accepted).toEqual(book.slice(0, 8));
    expect(v.excluded.map((x) => [x.position, x.reason])).toEqual([
      [book[8], "expired"],
      [book[9], "outside-expiry-range"],
      [book[10], "outside-expiry-range"],
      [book[11], "underlying-not-in-market"],
    ]);
    expect(v.excluded[0]?.detail).toBe(
      `expiry ${new Date(T0 - DAY).toISOString()} is not after the chain's valuation time ${new Date(T0).toISOString()}`,
    );
    expect(v.market.valuationTime).toBe(T0);
    expect(v.market.underlyings.BTC?.indexPrice).toBe(S);
    expect(v.options.map((o) => o.source)).toEqual([
      "chain-mark",
      "chain-mark",
      "chain-mark",
      "fitted-surface+mark-residual",
      "chain-mark",
      "fitted-surface+mark-residual",
      "fitted-surface",
    ]);
    // 95k is not a quoted strike (the linear put), 110k put: own mark 1 vol point above the call's.
    expect(v.options[4]?.ownMarkVol).toBeCloseTo(iv(E1, 110_000, "put"), PINNED_VOL_DIGITS);
    expect(v.options[4]?.vol).toBeCloseTo(iv(E1, 110_000, "call"), PINNED_VOL_DIGITS);
    expect(v.options[6]?.vol).toBe(FLAT);
  });

  it("greeks of the quoted options are Black-76 greeks on the chain forwards at their mark vols", () => {
    const quoted = [book[0], book[1], book[2], book[4]] as Position[];
    const g = portfolioGreeks(quoted, v.market).totalUsd;
    let value = 0;
    let cashDelta = 0;
    let cashGamma = 0;
    let vega = 0;
    let theta = 0;
    for (const p of quoted) {
      const o = p.instrument as OptionContract;
      const F = FWD.get(o.expiry) as number;
      const otm = o.strike < F ? "put" : "call";
      const b = blackGreeks({
        forward: F,
        strike: o.strike,
        expiry: (o.expiry - T0) / YEAR,
        vol: iv(o.expiry, o.strike, otm),
        kind: o.kind,
      });
      // Deribit's mark convention: an inverse option's coin premium is b.price / F and its USD
      // value those coins at the index S (V_usd = m b.price S / F); dV/dS = m b.delta (Black's
      // forward delta), d2V/dS2 = m b.gamma F / S, vega and theta scaled by S / F. Linear: m b.*.
      const inv = o.settlement === "inverse";
      const m = p.quantity * o.contractSize;
      value += m * b.price * (inv ? S / F : 1);
      cashDelta += m * b.delta * (inv ? S : F);
      cashGamma += (m * b.gamma * (inv ? F * S : F * F)) / 100;
      vega += m * b.vega * (inv ? S / F : 1);
      theta += (m * b.theta * (inv ? S / F : 1)) / 365;
    }
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(rel(g.valueUsd, value)).toBeLessThan(BLACK_SUM_REL);
    expect(rel(g.cashDeltaUsd, cashDelta)).toBeLessThan(BLACK_SUM_REL);
    expect(rel(g.cashGammaUsd, cashGamma)).toBeLessThan(BLACK_SUM_REL);
    expect(rel(g.vegaUsd, vega)).toBeLessThan(BLACK_SUM_REL);
    expect(rel(g.thetaUsdPerDay, theta)).toBeLessThan(BLACK_SUM_REL);
    // The inverse perpetual at the index: 200,000 USD of delta.
    expect(portfolioGreeks([perp], v.market).totalUsd.cashDeltaUsd).toBeCloseTo(200_000, PERP_DELTA_DIGITS);
  });

  it("throws on no chain at all", () => {
    expect(() => chainRiskMarket([], book)).toThrow(/chains/);
  });
});
