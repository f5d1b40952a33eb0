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

/**
 * Coin value by composite Simpson (4,000 panels on a smooth integrand: the kink is an end point)
 * vs the module, relative to max(premium, 0.1 coin): truncation ~h^4; measured worst 3.5e-11 over
 * 3,000 random draws of the property's ranges (1.1e-10 relative to the premium itself); 1e-9.
 */
const QUADRATURE_REL = 1e-9;
/** F dV_c/dF by a central difference of the quadrature (step 1e-4 F), relative to max(1, |delta|): truncation ~h^2; measured worst 1.8e-7 over the same draws; 2e-6. */
const QUADRATURE_DELTA_REL = 2e-6;
/** Relative error of a coin greek vs a central difference (step 1e-5 relative): truncation O(h^2) ~ 1e-10 and cancellation eps/h ~ 2e-11, with room for fast-check's extreme draws. */
const FD_REL = 1e-6;

/**
 * Independent reference for the coin premium of an inverse option (pays (S_T - K)+ / S_T coins for
 * a call, (K - S_T)+ / S_T for a put). Valued with the coin as numeraire, the price in coins is the
 * expectation of the coin payoff under the measure where ln S_T ~ N(ln F + s^2/2, s^2), s = vol
 * sqrt(T) (the forward measure's drift shifted by the numeraire change). No Black formula: Simpson's
 * rule (4,000 panels) on the standard normal density, from the strike's z to 14 sd beyond the integrand's bulk.
 */
function coinValueByQuadrature(o: {
  forward: number;
  strike: number;
  expiry: number;
  vol: number;
  kind: "call" | "put";
}): number {
  const s = o.vol * Math.sqrt(o.expiry);
  const zK = (Math.log(o.strike / o.forward) - 0.5 * s * s) / s;
  const payoff = (z: number) => {
    const S = o.forward * Math.exp(s * z + 0.5 * s * s);
    return o.kind === "call" ? 1 - o.strike / S : o.strike / S - 1;
  };
  // The put's integrand K/S phi(z) is a normal density centred at -s: go 14 sd past that centre.
  const [a, b] = o.kind === "call" ? [zK, Math.max(zK, 0) + 14] : [Math.min(zK, -s) - 14, zK];
  const n = 4_000;
  const h = (b - a) / n;
  const f = (z: number) => (payoff(z) * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);
  let sum = f(a) + f(b);
  for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (sum * h) / 3;
}

describe("coin conversions (DESIGN.md)", () => {
  it("premium in coin = USD value / underlying price, and back", () => {
    expect(coinPremiumFromUsd(1500, 60000)).toBe(0.025);
    expect(usdFromCoinPremium(0.025, 60000)).toBe(1500);
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

/** Random options: forward 100..1e5, strike within 2.5 sd of it, 1 week to 2 years, vol 20-150%. */
const optionInputs = fc
  .tuple(
    fc.double({ min: 100, max: 1e5, noNaN: true }),
    fc.double({ min: -2.5, max: 2.5, noNaN: true }),
    fc.double({ min: 0.02, max: 2, noNaN: true }),
    fc.double({ min: 0.2, max: 1.5, noNaN: true }),
    fc.constantFrom<"call" | "put">("call", "put"),
  )
  .map(([forward, m, expiry, vol, kind]) => ({
    forward,
    strike: forward * Math.exp(m * vol * Math.sqrt(expiry)),
    expiry,
    vol,
    kind,
  }));

describe("inverseOptionGreeks", () => {
  const base = { forward: 61234.5, strike: 65000, expiry: 30 / 365, vol: 0.62, kind: "call" as const };

  it("USD figures are the Black-76 greeks (the same pricer, not a second one)", () => {
    const g = inverseOptionGreeks(base);
    const b = blackGreeks(base);
    expect(g.priceUsd).toBe(b.price);
    expect(g.deltaUsd).toBe(b.delta);
  });

  it("coin premium = E[(S - K)+ / S] under the coin-numeraire measure, by quadrature; coin delta = F dV_c/dF of it", () => {
    fc.assert(
      fc.property(optionInputs, (o) => {
        const { forward, strike, expiry, vol, kind } = o;
        const g = inverseOptionGreeks(o);
        const want = coinValueByQuadrature(o);
        expect(
          Math.abs(g.priceCoin - want),
          `${kind} F=${forward} K=${strike} T=${expiry} vol=${vol}`,
        ).toBeLessThanOrEqual(QUADRATURE_REL * Math.max(want, 0.1));
        const h = forward * 1e-4;
        const fd =
          (forward *
            (coinValueByQuadrature({ ...o, forward: forward + h }) -
              coinValueByQuadrature({ ...o, forward: forward - h }))) /
          (2 * h);
        const deltaTol = QUADRATURE_DELTA_REL * Math.max(1, Math.abs(fd));
        expect(Math.abs(g.deltaCoin - fd)).toBeLessThan(deltaTol);
        expect(Math.abs(inverseDeltaCoin(g.deltaUsd, want) - fd)).toBeLessThan(deltaTol);
      }),
      { numRuns: 200 },
    );
  });

  it("coin greeks match finite differences of the coin value V(F, vol, T) / F", () => {
    fc.assert(
      fc.property(optionInputs, (o) => {
        const { forward, expiry, vol } = o;
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
      }),
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
