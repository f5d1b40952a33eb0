import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors.js";
import { levenbergMarquardt } from "../../../src/core/math/levenbergMarquardt.js";
import { createRng } from "../../../src/core/math/rng.js";

/** y = p0 exp(p1 t) sampled at t = 0..9. */
function expProblem(ts: number[], ys: number[], analytic: boolean) {
  return {
    parameters: 2,
    residuals: ts.length,
    evaluate(x: Float64Array, r: Float64Array) {
      ts.forEach((t, i) => {
        r[i] = x[0] * Math.exp(x[1] * t) - ys[i];
      });
    },
    jacobian: analytic
      ? (x: Float64Array, J: Float64Array) => {
          ts.forEach((t, i) => {
            const e = Math.exp(x[1] * t);
            J[2 * i] = e;
            J[2 * i + 1] = x[0] * t * e;
          });
        }
      : undefined,
  };
}

describe("levenbergMarquardt", () => {
  const ts = Array.from({ length: 10 }, (_, i) => i);
  const ys = ts.map((t) => 3 * Math.exp(-0.4 * t));

  it("recovers exact parameters with the analytic Jacobian and with forward differences", () => {
    for (const analytic of [true, false]) {
      const res = levenbergMarquardt(expProblem(ts, ys, analytic), [1, -0.1]);
      expect(res.converged).toBe(true);
      expect(res.x[0]).toBeCloseTo(3, 7);
      expect(res.x[1]).toBeCloseTo(-0.4, 8);
      expect(res.cost).toBeLessThan(1e-14);
    }
  });

  it("Rosenbrock as least squares (r = [10(y - x^2), 1 - x]) from (-1.2, 1) reaches (1, 1)", () => {
    const problem = {
      parameters: 2,
      residuals: 2,
      evaluate(x: Float64Array, r: Float64Array) {
        r[0] = 10 * (x[1] - x[0] * x[0]);
        r[1] = 1 - x[0];
      },
      jacobian(x: Float64Array, J: Float64Array) {
        J[0] = -20 * x[0];
        J[1] = 10;
        J[2] = -1;
        J[3] = 0;
      },
    };
    const res = levenbergMarquardt(problem, [-1.2, 1]);
    expect(res.x[0]).toBeCloseTo(1, 8);
    expect(res.x[1]).toBeCloseTo(1, 8);
  });

  it("respects bounds: the constrained optimum sits on the bound (KKT: gradient points outward)", () => {
    // unconstrained optimum p1 = -0.4; with p1 in [-0.2, 0] the optimum has p1 = -0.2
    const res = levenbergMarquardt(expProblem(ts, ys, true), [1, -0.05], {
      lower: [0, -0.2],
      upper: [10, 0],
    });
    expect(res.x[1]).toBe(-0.2);
    // optimal p0 for fixed p1 = -0.2 is the 1-D least-squares solution sum(y e)/sum(e^2)
    const e = ts.map((t) => Math.exp(-0.2 * t));
    const p0 = e.reduce((s, v, i) => s + v * ys[i], 0) / e.reduce((s, v) => s + v * v, 0);
    expect(res.x[0]).toBeCloseTo(p0, 8);
  });

  it("fixes a variable with lower = upper and projects x0 into the box", () => {
    const res = levenbergMarquardt(expProblem(ts, ys, true), [50, -0.4], {
      lower: [0, -0.4],
      upper: [10, -0.4],
    });
    expect(res.x[1]).toBe(-0.4);
    expect(res.x[0]).toBeCloseTo(3, 8);
  });

  it("noisy linear regression matches the normal-equations solution", () => {
    const rng = createRng(7);
    const xs = Array.from({ length: 50 }, (_, i) => i / 10);
    const zs = xs.map((x) => 1.5 - 0.7 * x + 0.1 * (rng.uniform() - 0.5));
    const problem = {
      parameters: 2,
      residuals: xs.length,
      evaluate(p: Float64Array, r: Float64Array) {
        xs.forEach((x, i) => {
          r[i] = p[0] + p[1] * x - zs[i];
        });
      },
    };
    const res = levenbergMarquardt(problem, [0, 0]);
    const n = xs.length;
    const sx = xs.reduce((a, b) => a + b, 0);
    const sz = zs.reduce((a, b) => a + b, 0);
    const sxx = xs.reduce((a, b) => a + b * b, 0);
    const sxz = xs.reduce((a, b, i) => a + b * zs[i], 0);
    const slope = (n * sxz - sx * sz) / (n * sxx - sx * sx);
    const icpt = (sz - slope * sx) / n;
    expect(res.x[1]).toBeCloseTo(slope, 9);
    expect(res.x[0]).toBeCloseTo(icpt, 9);
  });

  it("returns a value (not a throw) for a non-finite start and throws on bad sizes/bounds", () => {
    const bad = {
      parameters: 1,
      residuals: 1,
      evaluate: (_x: Float64Array, r: Float64Array) => {
        r[0] = Number.NaN;
      },
    };
    const res = levenbergMarquardt(bad, [0]);
    expect(res.stop).toBe("non-finite");
    expect(res.converged).toBe(false);
    expect(() => levenbergMarquardt(bad, [0, 1])).toThrow(InvalidInputError);
    expect(() => levenbergMarquardt(bad, [0], { lower: [1], upper: [0] })).toThrow(InvalidInputError);
  });
});
