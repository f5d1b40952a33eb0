import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { type BlackInputs, blackGreeks, blackPrice } from "../../../src/core/pricing/black76.js";

/** Second-order greeks vs differences of first-order ones: the same FD_REL, with an absolute floor of 1e-3 (vanna, charm) or the price scale (volga) where they cross zero. */
const FD_FLOOR = 1e-3;

/** D·(F-K) against 0.98·10: one product in double, within 1 ulp of 9.8 (1.8e-15); 14 digits = 5e-15. */
const INTRINSIC_DIGITS = 14;
/** Zero-vol ATM vega F·sqrt(T)/sqrt(2π): a handful of roundings on ~20, so 12 digits (5e-13) with margin. */
const VEGA_LIMIT_DIGITS = 12;
/** Vega at vol 1e-12 vs its vol -> 0 limit: the O(vol^2) correction is ~1e-25, so only rounding (a few ulps) remains. */
const VEGA_LIMIT_REL = 1e-12;
/** Hull prints the Black-76 example's price to 2 decimals (1.12): toBeCloseTo(x, 2) = |err| < 0.005, i.e. it rounds to 1.12. */
const HULL_PRINTED_DIGITS = 2;
/** Put-call parity: C and P are each within ~1e-15 relative (mpmath fixture above), so the difference of the two within a few e-15 of the largest term. */
const PARITY_REL = 1e-14;
/** Central differences with h ~ 1e-4 relative: truncation O(h^2) ~ 1e-8 relative plus cancellation eps/h; 1e-6 of the price scale bounds both. */
const FD_REL = 1e-6;

interface PriceCase extends BlackInputs {
  readonly price: number;
  readonly s: number;
  readonly m: number;
}
interface GreekCase extends BlackInputs {
  readonly rate: number;
  readonly [greek: string]: unknown;
}
const fixture = JSON.parse(
  readFileSync(resolve(__dirname, "../../fixtures/pricing/pricing_reference.json"), "utf8"),
) as { black: PriceCase[]; greeks: GreekCase[] };

const rel = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);

/** Price vs 60-digit mpmath: erfc-based Black in double keeps ~1e-14 relative up to 12 std devs; 1e-13 covers the far wings. */
const PRICE_TOL = 1e-13;
/** Greeks vs mpmath: products of a density and powers of s lose a few more digits than the price in the wings. */
const GREEK_TOL = 1e-10;

describe("blackPrice against 60-digit mpmath (scripts/fixtures/pricing_reference.py)", () => {
  it(`relative error < ${PRICE_TOL} up to 12 std devs (s in [1e-4, 10], 1 hour to 5 years)`, () => {
    const inSpec = fixture.black.filter((c) => Math.abs(c.m) <= 12);
    expect(inSpec.length).toBeGreaterThan(1000);
    let worst = 0;
    for (const c of inSpec) {
      const e = rel(blackPrice(c), c.price);
      worst = Math.max(worst, e);
      expect(e, JSON.stringify(c)).toBeLessThan(PRICE_TOL);
    }
    expect(worst).toBeGreaterThan(0); // the comparison is real
  });

  it("beyond 12 std devs (prices down to 1e-250 of the forward): within the conditioning h^2 * 4 eps", () => {
    // The price is exp(-h^2/2)-small with h = ln(F/K)/s, so one ulp in x or s moves it by about
    // h^2 ulps: that, not the algorithm, bounds the accuracy there.
    const wings = fixture.black.filter((c) => Math.abs(c.m) > 12);
    expect(wings.filter((c) => c.price / c.forward < 1e-100).length).toBeGreaterThan(20);
    for (const c of wings) {
      const tol = Math.max(PRICE_TOL, 4 * 2 ** -52 * c.m * c.m);
      expect(rel(blackPrice(c), c.price), JSON.stringify(c)).toBeLessThan(tol);
    }
  });
});

describe("blackGreeks against mpmath numerical derivatives of the 60-digit price", () => {
  const names = ["price", "delta", "gamma", "vega", "theta", "vanna", "volga", "charm"] as const;
  it(`all greeks within ${GREEK_TOL} relative on ${fixture.greeks.length} cases`, () => {
    for (const c of fixture.greeks) {
      const g = blackGreeks(c);
      for (const n of names) {
        const want = c[n] as number;
        expect(rel(g[n], want), `${n} ${JSON.stringify(c)}`).toBeLessThan(GREEK_TOL);
      }
    }
  });
});

describe("Black-76 properties (fast-check)", () => {
  const arbCase = fc.record({
    forward: fc.double({ min: 1, max: 1e5, noNaN: true }),
    m: fc.double({ min: -6, max: 6, noNaN: true }),
    expiry: fc.double({ min: 1 / 8760, max: 5, noNaN: true }),
    vol: fc.double({ min: 0.01, max: 3, noNaN: true }),
    discount: fc.double({ min: 0.8, max: 1, noNaN: true }),
  });
  const build = (a: { forward: number; m: number; expiry: number; vol: number; discount: number }) => ({
    forward: a.forward,
    strike: a.forward * Math.exp(a.m * a.vol * Math.sqrt(a.expiry)),
    expiry: a.expiry,
    vol: a.vol,
    discount: a.discount,
  });

  it("put-call parity C - P = D (F - K)", () => {
    fc.assert(
      fc.property(arbCase, (a) => {
        const o = build(a);
        const c = blackPrice({ ...o, kind: "call" });
        const p = blackPrice({ ...o, kind: "put" });
        const scale = Math.max(c, p, o.discount * Math.abs(o.forward - o.strike));
        expect(Math.abs(c - p - o.discount * (o.forward - o.strike))).toBeLessThan(
          PARITY_REL * scale + Number.MIN_VALUE,
        );
      }),
    );
  });

  it("no-arbitrage bounds: D max(F-K,0) <= C <= D F, D max(K-F,0) <= P <= D K", () => {
    fc.assert(
      fc.property(arbCase, (a) => {
        const o = build(a);
        const c = blackPrice({ ...o, kind: "call" });
        const p = blackPrice({ ...o, kind: "put" });
        expect(c).toBeGreaterThanOrEqual(o.discount * Math.max(o.forward - o.strike, 0));
        expect(c).toBeLessThanOrEqual(o.discount * o.forward);
        expect(p).toBeGreaterThanOrEqual(o.discount * Math.max(o.strike - o.forward, 0));
        expect(p).toBeLessThanOrEqual(o.discount * o.strike);
      }),
    );
  });

  it("monotone: increasing in vol, call decreasing and put increasing in strike", () => {
    fc.assert(
      fc.property(arbCase, fc.constantFrom<"call" | "put">("call", "put"), (a, kind) => {
        const o = { ...build(a), kind };
        const p0 = blackPrice(o);
        expect(blackPrice({ ...o, vol: o.vol * 1.01 })).toBeGreaterThanOrEqual(p0);
        const up = blackPrice({ ...o, strike: o.strike * 1.01 });
        if (kind === "call") expect(up).toBeLessThanOrEqual(p0);
        else expect(up).toBeGreaterThanOrEqual(p0);
      }),
    );
  });

  it("analytic greeks match central finite differences", () => {
    fc.assert(
      fc.property(
        arbCase.filter((a) => Math.abs(a.m) < 3 && a.expiry > 0.01),
        fc.constantFrom<"call" | "put">("call", "put"),
        (a, kind) => {
          const r = -Math.log(a.discount) / a.expiry;
          const o = { ...build(a), kind, rate: r };
          const g = blackGreeks(o);
          const V = (F: number, vol: number, T: number) =>
            blackPrice({ ...o, forward: F, vol, expiry: T, discount: Math.exp(-r * T) });
          const hF = o.forward * Math.min(1e-4, 1e-3 * o.vol * Math.sqrt(o.expiry));
          const hv = o.vol * 1e-4;
          const hT = o.expiry * 1e-4;
          const fdDelta =
            (V(o.forward + hF, o.vol, o.expiry) - V(o.forward - hF, o.vol, o.expiry)) / (2 * hF);
          const fdVega = (V(o.forward, o.vol + hv, o.expiry) - V(o.forward, o.vol - hv, o.expiry)) / (2 * hv);
          const fdTheta =
            -(V(o.forward, o.vol, o.expiry + hT) - V(o.forward, o.vol, o.expiry - hT)) / (2 * hT);
          const fdGamma =
            (V(o.forward + hF, o.vol, o.expiry) - 2 * g.price + V(o.forward - hF, o.vol, o.expiry)) /
            (hF * hF);
          const scaleV = g.price + o.discount * o.forward * 1e-3;
          expect(Math.abs(fdDelta - g.delta)).toBeLessThan((FD_REL * scaleV) / o.forward + 1e-7);
          expect(Math.abs(fdVega - g.vega)).toBeLessThan(FD_REL * scaleV);
          expect(Math.abs(fdTheta - g.theta)).toBeLessThan((FD_REL * scaleV) / o.expiry);
          expect(Math.abs(fdGamma - g.gamma)).toBeLessThan(
            1e-5 * g.gamma + (1e-3 * scaleV) / (o.forward * o.forward),
          );
          const D2 = (dF: number, dv: number, dT: number) => {
            const oo = { ...o, forward: o.forward + dF, vol: o.vol + dv, expiry: o.expiry + dT };
            return blackGreeks({ ...oo, discount: Math.exp(-r * oo.expiry) }).delta;
          };
          const fdVanna = (D2(0, hv, 0) - D2(0, -hv, 0)) / (2 * hv);
          const fdCharm = -(D2(0, 0, hT) - D2(0, 0, -hT)) / (2 * hT);
          const vegaOf = (dv: number) => blackGreeks({ ...o, vol: o.vol + dv }).vega;
          const fdVolga = (vegaOf(hv) - vegaOf(-hv)) / (2 * hv);
          expect(Math.abs(fdVanna - g.vanna)).toBeLessThan(FD_REL * (Math.abs(g.vanna) + FD_FLOOR));
          expect(Math.abs(fdCharm - g.charm)).toBeLessThan(
            (FD_REL * (Math.abs(g.charm) + FD_FLOOR)) / o.expiry,
          );
          expect(Math.abs(fdVolga - g.volga)).toBeLessThan(FD_REL * (Math.abs(g.volga) + scaleV));
        },
      ),
    );
  });
});

describe("zero vol and expiry conventions", () => {
  it("s = 0 gives the intrinsic value and step delta", () => {
    const o = { forward: 100, strike: 90, expiry: 0, vol: 0.5, discount: 0.98, rate: 0.02 };
    const c = blackGreeks({ ...o, kind: "call" });
    expect(c.price).toBeCloseTo(0.98 * 10, INTRINSIC_DIGITS);
    expect(c.delta).toBe(0.98);
    expect(c.gamma).toBe(0);
    expect(c.theta).toBeCloseTo(0.02 * 9.8, INTRINSIC_DIGITS);
    const p = blackGreeks({ ...o, kind: "put" });
    expect(p.price).toBe(0);
    expect(p.delta).toBe(0);
  });

  it("at the strike with zero vol: delta +-D/2, vega its finite limit", () => {
    const c = blackGreeks({ forward: 100, strike: 100, expiry: 0.25, vol: 0, kind: "call" });
    expect(c.delta).toBe(0.5);
    expect(c.vega).toBeCloseTo((100 * 0.5) / Math.sqrt(2 * Math.PI), VEGA_LIMIT_DIGITS);
    const tiny = blackGreeks({ forward: 100, strike: 100, expiry: 0.25, vol: 1e-12, kind: "call" });
    expect(Math.abs(tiny.vega - c.vega) / c.vega).toBeLessThan(VEGA_LIMIT_REL);
    expect(blackGreeks({ forward: 100, strike: 100, expiry: 0.25, vol: 0, kind: "put" }).delta).toBe(-0.5);
  });

  it("published value: Hull, Options, Futures and Other Derivatives, Black's model example", () => {
    // F0 = K = 20, r = 9%, T = 4 months, vol = 25%: the put (and the call) is worth 1.12.
    const o = { forward: 20, strike: 20, expiry: 4 / 12, vol: 0.25, discount: Math.exp(-0.09 / 3) };
    expect(blackPrice({ ...o, kind: "put" })).toBeCloseTo(1.12, HULL_PRINTED_DIGITS);
    expect(blackPrice({ ...o, kind: "call" })).toBeCloseTo(1.12, HULL_PRINTED_DIGITS);
  });
});

describe("bad input throws InvalidInputError naming the field and value", () => {
  const good = { forward: 100, strike: 100, expiry: 1, vol: 0.2, kind: "call" as const };
  const bad: [string, unknown][] = [
    ["forward", -1],
    ["forward", Number.NaN],
    ["strike", 0],
    ["strike", Number.NaN],
    ["expiry", -0.1],
    ["expiry", Number.NaN],
    ["vol", -0.2],
    ["vol", Number.POSITIVE_INFINITY],
    ["kind", "straddle"],
    ["discount", 0],
  ];
  for (const [field, value] of bad) {
    it(`${field} = ${String(value)}`, () => {
      const o = { ...good, [field]: value } as unknown as BlackInputs;
      for (const fn of [blackPrice, blackGreeks]) {
        try {
          fn(o);
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInputError);
          expect((e as InvalidInputError).field).toBe(field);
          expect((e as Error).message).toContain(String(typeof value === "string" ? `"${value}"` : value));
        }
      }
    });
  }
});
