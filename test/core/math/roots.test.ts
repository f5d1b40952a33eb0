import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { brentRoot } from "../../../src/core/math/roots.js";

/** Named tolerances (issue 25 item 5), each with what sets it. */
// sqrt(2): the bracket shrinks to adjacent doubles, so within 2 ulps of 1.41 (ulp 2.2e-16).
const SQRT2_TOL = 4.5e-16;
// (x - 1)^9 is below double resolution within ~1.6e-2 of the root (|f| < 1e-16): any point there is a root.
const FLAT_TOL = 1e-2;
// A sign step: the bracket closes on the jump to the default x tolerance.
const STEP_TOL = 1e-15;
// Monotone cubics solved with xTolerance 1e-12 on [-100, 100]: 10x margin for the last step's rounding.
const CUBIC_TOL = 1e-11;
// Brent's method on a smooth monotone function: superlinear, far below bisection's ~50 halvings + restarts.
const CUBIC_MAX_EVALUATIONS = 80;

describe("brentRoot", () => {
  it("sqrt(2) to the last ulp", () => {
    const r = brentRoot({ f: (x) => x * x - 2, lo: 0, hi: 2 });
    expect(r.ok).toBe(true);
    if (r.ok) expect(Math.abs(r.value.root - Math.SQRT2)).toBeLessThanOrEqual(SQRT2_TOL);
  });

  it("Brent's hard cases: a flat function and a discontinuous sign change", () => {
    const flat = brentRoot({ f: (x) => (x - 1) ** 9, lo: 0, hi: 3 });
    expect(flat.ok && Math.abs(flat.value.root - 1)).toBeLessThan(FLAT_TOL);
    const step = brentRoot({ f: (x) => (x < 0.3 ? -1 : 1), lo: 0, hi: 1 });
    expect(step.ok && Math.abs(step.value.root - 0.3)).toBeLessThan(STEP_TOL);
  });

  it("roots of monotone cubics within tolerance and few evaluations (property)", () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (root) => {
        const f = (x: number) => (x - root) * (1 + (x - root) ** 2) + 1e-3 * (x - root);
        const r = brentRoot({ f, lo: -100, hi: 100, xTolerance: 1e-12 });
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(Math.abs(r.value.root - root)).toBeLessThan(CUBIC_TOL);
          expect(r.value.evaluations).toBeLessThan(CUBIC_MAX_EVALUATIONS);
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
