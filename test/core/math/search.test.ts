import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lowerBound, lowerBoundBy, upperBound, upperBoundBy } from "../../../src/core/math/search.js";

/** Reference: the insertion points by a linear count (independent of the bisection). */
const countBelow = (xs: readonly number[], x: number) => xs.filter((v) => v < x).length;
const countAtOrBelow = (xs: readonly number[], x: number) => xs.filter((v) => v <= x).length;

const sortedInts = fc
  .array(fc.integer({ min: -20, max: 20 }), { maxLength: 40 })
  .map((a) => a.sort((p, q) => p - q));

describe("binary search (core/math/search)", () => {
  it("doc examples", () => {
    expect(lowerBound([1, 2, 2, 3], 2)).toBe(1);
    expect(upperBound([1, 2, 2, 3], 2)).toBe(3);
    expect(lowerBound([], 5)).toBe(0);
    expect(upperBound([1, 2], 9)).toBe(2);
    expect(lowerBound([1, 2], Number.NaN)).toBe(0);
  });

  it("lowerBound / upperBound equal the linear counts on random sorted arrays with repeats", () => {
    fc.assert(
      fc.property(sortedInts, fc.integer({ min: -25, max: 25 }), (xs, x) => {
        expect(lowerBound(xs, x)).toBe(countBelow(xs, x));
        expect(upperBound(Float64Array.from(xs), x)).toBe(countAtOrBelow(xs, x));
      }),
    );
  });

  it("the By variants search objects by a key", () => {
    fc.assert(
      fc.property(sortedInts, fc.double({ min: -25, max: 25, noNaN: true }), (xs, x) => {
        const items = xs.map((k) => ({ k }));
        expect(lowerBoundBy(items, x, (i) => i.k)).toBe(countBelow(xs, x));
        expect(upperBoundBy(items, x, (i) => i.k)).toBe(countAtOrBelow(xs, x));
      }),
    );
  });
});
