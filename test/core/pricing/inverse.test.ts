import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { blackGreeks, blackPrice } from "../../../src/core/pricing/black76.js";
import {
  coinPremiumFromUsd,
  impliedVolFromCoinPrice,
  inverseDeltaCoin,
  inverseOptionGreeks,
  usdFromCoinPremium,
} from "../../../src/core/pricing/inverse.js";

/** Coin price -> vol round trip on a well-conditioned 30-day option: the solver stops at a few ulps of the vol; 1e-13 relative. */
const IV_ROUND_TRIP_REL = 1e-13;

/** 0.4 - 0.025 in double: one rounded subtraction of two inexact decimals, within 2 ulp of 0.375 (1.1e-16). */
const SUBTRACTION_DIGITS = 15;
/** Coin figures from USD ones (V_c = V / F, Delta_c = Delta - V_c): a division and a subtraction, so a few ulps relative. */
const COIN_IDENTITY_REL = 4 * 2 ** -52;
/** Relative error of a coin greek vs a central difference (step 1e-5 relative): truncation O(h^2) ~ 1e-10 and cancellation eps/h ~ 2e-11, with room for fast-check's extreme draws. */
const FD_REL = 1e-6;
const rel = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);

describe("coin conversions (DESIGN.md)", () => {
  it("premium in coin = USD value / underlying price, and back", () => {
    expect(coinPremiumFromUsd(1500, 60000)).toBe(0.025);
    expect(usdFromCoinPremium(0.025, 60000)).toBe(1500);
  });
  it("coin delta = Black delta - coin premium", () => {
    expect(inverseDeltaCoin(0.4, 0.025)).toBeCloseTo(0.375, SUBTRACTION_DIGITS);
  });
  it("bad input names the field", () => {
    expect(() => coinPremiumFromUsd(1, 0)).toThrow(InvalidInputError);
    expect(() => coinPremiumFromUsd(1, 0)).toThrow(/^underlyingPrice/);
    expect(() => usdFromCoinPremium(Number.NaN, 1)).toThrow(/^premiumCoin/);
    expect(() => inverseOptionGreeks({ forward: 1, strike: 1, expiry: 1, vol: -1, kind: "call" })).toThrow(
      /^vol/,
    );
  });
});

describe("inverseOptionGreeks", () => {
  const base = { forward: 61234.5, strike: 65000, expiry: 30 / 365, vol: 0.62, kind: "call" as const };

  it("USD figures are the Black-76 greeks; coin figures follow from V_c = V / F", () => {
    const g = inverseOptionGreeks(base);
    const b = blackGreeks(base);
    expect(g.priceUsd).toBe(b.price);
    expect(g.deltaUsd).toBe(b.delta);
    expect(rel(g.priceCoin, b.price / base.forward)).toBeLessThanOrEqual(COIN_IDENTITY_REL);
    expect(rel(g.deltaCoin, b.delta - b.price / base.forward)).toBeLessThanOrEqual(COIN_IDENTITY_REL);
    expect(rel(g.vegaCoin * base.forward, b.vega)).toBeLessThanOrEqual(COIN_IDENTITY_REL);
  });

  it("coin greeks match finite differences of the coin value V(F, vol, T) / F", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 100, max: 1e5, noNaN: true }),
        fc.double({ min: -2.5, max: 2.5, noNaN: true }),
        fc.double({ min: 0.02, max: 2, noNaN: true }),
        fc.double({ min: 0.2, max: 1.5, noNaN: true }),
        fc.constantFrom<"call" | "put">("call", "put"),
        (forward, m, expiry, vol, kind) => {
          const strike = forward * Math.exp(m * vol * Math.sqrt(expiry));
          const o = { forward, strike, expiry, vol, kind };
          const g = inverseOptionGreeks(o);
          const Vc = (F: number, v = vol, T = expiry) =>
            blackPrice({ ...o, forward: F, vol: v, expiry: T }) / F;
          const dC = (F: number, v = vol, T = expiry) =>
            inverseOptionGreeks({ ...o, forward: F, vol: v, expiry: T }).deltaCoin;
          const hF = forward * 1e-5;
          const hv = vol * 1e-5;
          const hT = expiry * 1e-5;
          const tol = (x: number, scale: number) => FD_REL * (Math.abs(x) + scale);
          // deltaCoin = F dV_c/dF
          const fdDelta = (forward * (Vc(forward + hF) - Vc(forward - hF))) / (2 * hF);
          expect(Math.abs(fdDelta - g.deltaCoin)).toBeLessThan(tol(g.deltaCoin, 1e-3));
          const fdGamma = (dC(forward + hF) - dC(forward - hF)) / (2 * hF);
          expect(Math.abs(fdGamma - g.gammaCoin)).toBeLessThan(tol(g.gammaCoin, 1e-3 / forward));
          const fdVega = (Vc(forward, vol + hv) - Vc(forward, vol - hv)) / (2 * hv);
          expect(Math.abs(fdVega - g.vegaCoin)).toBeLessThan(tol(g.vegaCoin, 1e-3));
          const fdTheta = -(Vc(forward, vol, expiry + hT) - Vc(forward, vol, expiry - hT)) / (2 * hT);
          expect(Math.abs(fdTheta - g.thetaCoin)).toBeLessThan(tol(g.thetaCoin, 1e-3 / expiry));
          const fdVanna = (dC(forward, vol + hv) - dC(forward, vol - hv)) / (2 * hv);
          expect(Math.abs(fdVanna - g.vannaCoin)).toBeLessThan(tol(g.vannaCoin, 1e-3));
          const fdCharm = -(dC(forward, vol, expiry + hT) - dC(forward, vol, expiry - hT)) / (2 * hT);
          expect(Math.abs(fdCharm - g.charmCoin)).toBeLessThan(tol(g.charmCoin, 1e-3 / expiry));
          const vegaC = (v: number) => inverseOptionGreeks({ ...o, vol: v }).vegaCoin;
          const fdVolga = (vegaC(vol + hv) - vegaC(vol - hv)) / (2 * hv);
          expect(Math.abs(fdVolga - g.volgaCoin)).toBeLessThan(tol(g.volgaCoin, 1e-3));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a long call's coin delta is below its Black delta; a long put's coin delta is below -premium", () => {
    const c = inverseOptionGreeks(base);
    expect(c.deltaCoin).toBeLessThan(c.deltaUsd);
    const p = inverseOptionGreeks({ ...base, kind: "put" });
    expect(p.deltaCoin).toBeLessThan(-p.priceCoin);
  });

  it("impliedVolFromCoinPrice inverts the coin price", () => {
    const g = inverseOptionGreeks(base);
    const v = impliedVolFromCoinPrice({ ...base, priceCoin: g.priceCoin });
    expect(Math.abs(v - base.vol) / base.vol).toBeLessThan(IV_ROUND_TRIP_REL);
    expect(impliedVolFromCoinPrice({ ...base, priceCoin: 1.2 })).toBeNaN();
    expect(() => impliedVolFromCoinPrice({ ...base, priceCoin: Number.NaN })).toThrow(/^priceCoin/);
  });
});
