import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { type LeastSquaresProblem, levenbergMarquardt } from "../../../src/core/math/levenbergMarquardt.js";
import { createRng } from "../../../src/core/math/rng.js";

/** Named tolerances (issue 25 item 5), each with what sets it. */
// Zero-residual problems: LM converges quadratically and stops on a step of 1e-10 relative; observed errors 3e-12.
const EXACT_FIT_TOL = 1e-10;
// Cost at an exact fit: r ~ 1e-12, so 0.5 |r|^2 ~ 1e-24 (observed 6e-24).
const EXACT_COST_MAX = 1e-20;
// Non-zero residual at the optimum (a bound holds p1): the stop on relative cost decrease 1e-12 leaves the
// free parameter about sqrt(1e-12) x its scale from the 1-D optimum in the worst case; observed 2.7e-9.
const BOUNDED_FIT_TOL = 5e-9;
// Linear least squares: the normal-equations solution in closed form, both in double precision (condition ~ 1e2).
const LINEAR_FIT_TOL = 1e-9;

/** The first two parameters, NaN when absent (so an assertion on them fails). */
function pair(x: ArrayLike<number>): [number, number] {
  return [x[0] ?? Number.NaN, x[1] ?? Number.NaN];
}

interface Sample {
  readonly t: number;
  readonly y: number;
}

/** y = p0 exp(p1 t) at the samples, with the analytic Jacobian or forward differences. */
function expProblem(samples: readonly Sample[], analytic: boolean): LeastSquaresProblem {
  const problem: LeastSquaresProblem = {
    parameters: 2,
    residuals: samples.length,
    evaluate(x, r) {
      const [p0, p1] = pair(x);
      samples.forEach(({ t, y }, i) => {
        r[i] = p0 * Math.exp(p1 * t) - y;
      });
    },
  };
  if (!analytic) return problem;
  return {
    ...problem,
    jacobian(x, J) {
      const [p0, p1] = pair(x);
      samples.forEach(({ t }, i) => {
        const e = Math.exp(p1 * t);
        J[2 * i] = e;
        J[2 * i + 1] = p0 * t * e;
      });
    },
  };
}

describe("levenbergMarquardt", () => {
  const samples = Array.from({ length: 10 }, (_, t) => ({ t, y: 3 * Math.exp(-0.4 * t) }));

  it("recovers exact parameters with the analytic Jacobian and with forward differences", () => {
    for (const analytic of [true, false]) {
      const res = levenbergMarquardt(expProblem(samples, analytic), [1, -0.1]);
      const [p0, p1] = pair(res.x);
      expect(res.converged).toBe(true);
      expect(Math.abs(p0 - 3)).toBeLessThan(EXACT_FIT_TOL);
      expect(Math.abs(p1 + 0.4)).toBeLessThan(EXACT_FIT_TOL);
      expect(res.cost).toBeLessThan(EXACT_COST_MAX);
    }
  });

  it("Rosenbrock as least squares (r = [10(y - x^2), 1 - x]) from (-1.2, 1) reaches (1, 1)", () => {
    const problem: LeastSquaresProblem = {
      parameters: 2,
      residuals: 2,
      evaluate(x, r) {
        const [a, b] = pair(x);
        r[0] = 10 * (b - a * a);
        r[1] = 1 - a;
      },
      jacobian(x, J) {
        J[0] = -20 * pair(x)[0];
        J[1] = 10;
        J[2] = -1;
        J[3] = 0;
      },
    };
    const [a, b] = pair(levenbergMarquardt(problem, [-1.2, 1]).x);
    expect(Math.abs(a - 1)).toBeLessThan(EXACT_FIT_TOL);
    expect(Math.abs(b - 1)).toBeLessThan(EXACT_FIT_TOL);
  });

  it("respects bounds: the constrained optimum sits on the bound (KKT: gradient points outward)", () => {
    // unconstrained optimum p1 = -0.4; with p1 in [-0.2, 0] the optimum has p1 = -0.2
    const res = levenbergMarquardt(expProblem(samples, true), [1, -0.05], {
      lower: [0, -0.2],
      upper: [10, 0],
    });
    const [p0, p1] = pair(res.x);
    expect(p1).toBe(-0.2);
    // optimal p0 for fixed p1 = -0.2 is the 1-D least-squares solution sum(y e)/sum(e^2)
    let ye = 0;
    let ee = 0;
    for (const { t, y } of samples) {
      const e = Math.exp(-0.2 * t);
      ye += y * e;
      ee += e * e;
    }
    expect(Math.abs(p0 - ye / ee)).toBeLessThan(BOUNDED_FIT_TOL);
  });

  it("fixes a variable with lower = upper and projects x0 into the box", () => {
    const res = levenbergMarquardt(expProblem(samples, true), [50, -0.4], {
      lower: [0, -0.4],
      upper: [10, -0.4],
    });
    const [p0, p1] = pair(res.x);
    expect(p1).toBe(-0.4);
    expect(Math.abs(p0 - 3)).toBeLessThan(EXACT_FIT_TOL);
  });

  it("noisy linear regression matches the normal-equations solution", () => {
    const rng = createRng(7);
    const points = Array.from({ length: 50 }, (_, i) => {
      const x = i / 10;
      return { x, z: 1.5 - 0.7 * x + 0.1 * (rng.uniform() - 0.5) };
    });
    const problem: LeastSquaresProblem = {
      parameters: 2,
      residuals: points.length,
      evaluate(p, r) {
        const [icpt, slope] = pair(p);
        points.forEach(({ x, z }, i) => {
          r[i] = icpt + slope * x - z;
        });
      },
    };
    const [icpt, slope] = pair(levenbergMarquardt(problem, [0, 0]).x);
    const n = points.length;
    let sx = 0;
    let sz = 0;
    let sxx = 0;
    let sxz = 0;
    for (const { x, z } of points) {
      sx += x;
      sz += z;
      sxx += x * x;
      sxz += x * z;
    }
    const exactSlope = (n * sxz - sx * sz) / (n * sxx - sx * sx);
    expect(Math.abs(slope - exactSlope)).toBeLessThan(LINEAR_FIT_TOL);
    expect(Math.abs(icpt - (sz - exactSlope * sx) / n)).toBeLessThan(LINEAR_FIT_TOL);
  });

  it("returns a value (not a throw) for a non-finite start and throws on bad sizes/bounds", () => {
    const bad: LeastSquaresProblem = {
      parameters: 1,
      residuals: 1,
      evaluate: (_x, r) => {
        r[0] = Number.NaN;
      },
    };
    const res = levenbergMarquardt(bad, [0]);
    expect(res.stop).toBe("non-finite");
    expect(res.converged).toBe(false);
    expect(() => levenbergMarquardt(bad, [0, 1])).toThrow(InvalidInputError);
    expect(() => levenbergMarquardt(bad, [0], { lower: [1], upper: [0] })).toThrow(InvalidInputError);
    expect(() => levenbergMarquardt(bad, [0], { lower: [] })).toThrow(/bounds\[0\]/);
  });
});
