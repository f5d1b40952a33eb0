import { describe, expect, it } from "vitest";
import { choleskySolve } from "../../../src/core/math/cholesky.js";

/** Named tolerance (issue 25 item 5): a 2x2 or 3x3 well-conditioned solve, a few roundings of O(1) values. */
const SOLVE_TOL = 1e-14;

describe("choleskySolve (restricted to an index subset)", () => {
  // A = [[4, 2, 0.6], [2, 5, 1], [0.6, 1, 3]] (row-major, n = 3), SPD
  const n = 3;
  const A = new Float64Array([4, 2, 0.6, 2, 5, 1, 0.6, 1, 3]);
  const L = new Float64Array(n * n);
  const out = new Float64Array(n);

  it("full system: A x = A [1, -2, 0.5] gives back x", () => {
    const x = [1, -2, 0.5];
    const b = new Float64Array([0, 1, 2].map((i) => x.reduce((s, xj, j) => s + (A[i * n + j] ?? 0) * xj, 0)));
    expect(choleskySolve(A, n, new Int32Array([0, 1, 2]), 3, b, L, out)).toBe(true);
    x.forEach((xi, i) => {
      expect(Math.abs((out[i] ?? Number.NaN) - xi)).toBeLessThan(SOLVE_TOL);
    });
  });

  it("indices {0, 2} solve the 2x2 sub-system [[4, 0.6], [0.6, 3]] (Cramer's rule)", () => {
    const b = new Float64Array([1, 2]);
    expect(choleskySolve(A, n, new Int32Array([0, 2, 0]), 2, b, L, out)).toBe(true);
    const det = 4 * 3 - 0.6 * 0.6;
    expect(Math.abs((out[0] ?? Number.NaN) - (1 * 3 - 0.6 * 2) / det)).toBeLessThan(SOLVE_TOL);
    expect(Math.abs((out[1] ?? Number.NaN) - (4 * 2 - 0.6 * 1) / det)).toBeLessThan(SOLVE_TOL);
  });

  it("reports a matrix that is not positive definite", () => {
    const indefinite = new Float64Array([1, 2, 2, 1]);
    expect(choleskySolve(indefinite, 2, new Int32Array([0, 1]), 2, new Float64Array(2), L, out)).toBe(false);
  });
});
