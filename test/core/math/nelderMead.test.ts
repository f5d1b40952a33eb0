import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { nelderMead } from "../../../src/core/math/nelderMead.js";

/** Named tolerances (issue 25 item 5), each with what sets it. */
// The run stops when the simplex spans < 1e-10 in f (relative) and in x; on these smooth bowls the best vertex
// is then within ~1e-8 of the minimizer (observed 6e-11 on Rosenbrock, 4e-9 on the tilted quadratic).
const NM_POINT_TOL = 1e-7;
// f at the best vertex: a quadratic bowl turns the point error into ~(1e-8)^2.
const NM_VALUE_TOL = 1e-12;

/** Rosenbrock's function: minimum 0 at (1, ..., 1). */
function rosenbrock(x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i] ?? Number.NaN;
    const b = x[i + 1] ?? Number.NaN;
    s += 100 * (b - a * a) ** 2 + (1 - a) ** 2;
  }
  return s;
}

describe("nelderMead", () => {
  it("Rosenbrock in 2 and 4 dimensions: reaches (1, ..., 1) with f = 0", () => {
    for (const x0 of [
      [-1.2, 1],
      [-1, 1, -1, 1],
    ]) {
      const res = nelderMead(rosenbrock, x0, { maxIterations: 5000 });
      expect(res.converged).toBe(true);
      for (const xi of res.x) expect(Math.abs(xi - 1)).toBeLessThan(NM_POINT_TOL);
      expect(res.value).toBeLessThan(NM_VALUE_TOL);
    }
  });

  it("a tilted quadratic: the minimizer solves the 2x2 gradient system (30/11, -16/11)", () => {
    // f = (x - 2)^2 + 3 (y + 1)^2 + x y: grad = 0 <=> 2x + y = 4, x + 6y = -6
    const f = (p: readonly number[]) => {
      const x = p[0] ?? Number.NaN;
      const y = p[1] ?? Number.NaN;
      return (x - 2) ** 2 + 3 * (y + 1) ** 2 + x * y;
    };
    const res = nelderMead(f, [0, 0]);
    const [x = Number.NaN, y = Number.NaN] = res.x;
    expect(Math.abs(x - 30 / 11)).toBeLessThan(NM_POINT_TOL);
    expect(Math.abs(y + 16 / 11)).toBeLessThan(NM_POINT_TOL);
    expect(Math.abs(res.value - f([30 / 11, -16 / 11]))).toBeLessThan(NM_VALUE_TOL);
  });

  it("non-finite values act as a barrier: the minimum on the boundary x >= 0 of x^2 + 1 is found, not crossed", () => {
    const f = (p: readonly number[]) => {
      const x = p[0] ?? Number.NaN;
      return x < 0 ? Number.NaN : x * x + 1;
    };
    const res = nelderMead(f, [2], { step: 1 });
    expect(res.x[0]).toBeGreaterThanOrEqual(0);
    expect(res.x[0]).toBeLessThan(NM_POINT_TOL);
    expect(Math.abs(res.value - 1)).toBeLessThan(NM_VALUE_TOL);
  });

  it("stops at maxIterations without claiming convergence; an empty start is a typed error", () => {
    const res = nelderMead(rosenbrock, [-1.2, 1], { maxIterations: 5 });
    expect(res.iterations).toBe(5);
    expect(res.converged).toBe(false);
    expect(() => nelderMead(rosenbrock, [])).toThrow(InvalidInputError);
  });
});
