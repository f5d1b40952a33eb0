import { describe, expect, it } from "vitest";
import { normCdf } from "../../../src/core/math/normal.js";
import { brentRoot } from "../../../src/core/math/roots.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import { impliedVol } from "../../../src/core/pricing/impliedVol.js";
import { coinPremiumFromUsd, inverseDeltaCoin } from "../../../src/core/pricing/inverse.js";

/** The examples in the doc comments of the pricing and math files, run as written. */
describe("doc-comment examples", () => {
  it("normal.ts", () => {
    expect(normCdf(-1)).toBe(0.15865525393145702);
  });
  it("black76.ts", () => {
    expect(blackPrice({ forward: 100, strike: 100, expiry: 1, vol: 0.2, kind: "call" })).toBe(
      7.965567455405798,
    );
  });
  it("impliedVol.ts", () => {
    const v = impliedVol({ price: 7.965567455405798, forward: 100, strike: 100, expiry: 1, kind: "call" });
    expect(Math.abs(v - 0.2)).toBeLessThanOrEqual(2 * 2 ** -52 * 0.2);
  });
  it("inverse.ts", () => {
    expect(coinPremiumFromUsd(1500, 60000)).toBe(0.025);
    expect(inverseDeltaCoin(0.4, 0.025)).toBe(0.375);
  });
  it("roots.ts", () => {
    const r = brentRoot({ f: (x) => x * x - 2, lo: 0, hi: 2 });
    expect(r.ok && Math.abs(r.value.root - Math.SQRT2)).toBeLessThanOrEqual(2.3e-16);
  });
});
