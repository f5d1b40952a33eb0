import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { brentRoot } from "../../../src/core/math/roots.js";

describe("brentRoot", () => {
  it("sqrt(2) to the last ulp", () => {
    const r = brentRoot({ f: (x) => x * x - 2, lo: 0, hi: 2 });
    expect(r.ok).toBe(true);
    if (r.ok) expect(Math.abs(r.value.root - Math.SQRT2)).toBeLessThanOrEqual(4.5e-16);
  });

  it("Brent's hard cases: a flat function and a discontinuous sign change", () => {
    const flat = brentRoot({ f: (x) => (x - 1) ** 9, lo: 0, hi: 3 });
    expect(flat.ok && Math.abs(flat.value.root - 1)).toBeLessThan(1e-2);
    const step = brentRoot({ f: (x) => (x < 0.3 ? -1 : 1), lo: 0, hi: 1 });
    expect(step.ok && Math.abs(step.value.root - 0.3)).toBeLessThan(1e-15);
  });

  it("roots of monotone cubics within tolerance and few evaluations (property)", () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (root) => {
        const f = (x: number) => (x - root) * (1 + (x - root) ** 2) + 1e-3 * (x - root);
        const r = brentRoot({ f, lo: -100, hi: 100, xTolerance: 1e-12 });
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(Math.abs(r.value.root - root)).toBeLessThan(1e-11);
          expect(r.value.evaluations).toBeLessThan(80);
        }
      }),
    );
  });

  it("failures are values with reasons; bad bounds throw", () => {
    const nb = brentRoot({ f: (x) => x * x + 1, lo: -1, hi: 1 });
    expect(!nb.ok && nb.reason).toBe("not-bracketed");
    const nan = brentRoot({ f: () => Number.NaN, lo: -1, hi: 1 });
    expect(!nan.ok && nan.reason).toBe("nan");
    const slow = brentRoot({ f: (x) => x - 0.123, lo: -1, hi: 1, maxIterations: 1 });
    expect(!slow.ok && slow.reason).toBe("max-iterations");
    expect(() => brentRoot({ f: (x) => x, lo: Number.NaN, hi: 1 })).toThrow(InvalidInputError);
  });
});
