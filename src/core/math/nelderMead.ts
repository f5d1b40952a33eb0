/**
 * Nelder-Mead simplex minimization (Lagarias et al. 1998 coefficients: reflection 1, expansion 2,
 * contraction 0.5, shrink 0.5) for small smooth or non-smooth problems without gradients, e.g.
 * likelihoods over transformed (unconstrained) parameters.
 */
import { InvalidInputError } from "../errors.js";

export interface NelderMeadOptions {
  /** Initial simplex step per coordinate (default 0.1, or 5% of |x0_i| when larger). */
  readonly step?: number;
  readonly maxIterations?: number;
  /** Stop when the simplex's function values span less than this (default 1e-10). */
  readonly functionTolerance?: number;
  /** Stop when the simplex's largest coordinate spread is below this (default 1e-10). */
  readonly pointTolerance?: number;
}

export interface NelderMeadResult {
  readonly x: number[];
  readonly value: number;
  readonly iterations: number;
  readonly converged: boolean;
}

/** Minimizes `f` from `x0`. Non-finite values of f are treated as +infinity (a barrier). */
export function nelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  options: NelderMeadOptions = {},
): NelderMeadResult {
  const n = x0.length;
  if (n === 0) throw new InvalidInputError("x0.length", 0, "must be at least 1");
  const maxIterations = options.maxIterations ?? 200 * n;
  const fTol = options.functionTolerance ?? 1e-10;
  const xTol = options.pointTolerance ?? 1e-10;
  const g = (x: readonly number[]): number => {
    const v = f(x);
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  };
  const simplex: number[][] = [x0.slice()];
  for (let i = 0; i < n; i++) {
    const p = x0.slice();
    const base = options.step ?? 0.1;
    p[i] = (p[i] as number) + Math.max(base, 0.05 * Math.abs(p[i] as number));
    simplex.push(p);
  }
  let values = simplex.map(g);
  let iterations = 0;
  let converged = false;
  const combine = (a: readonly number[], b: readonly number[], t: number) =>
    a.map((ai, i) => ai + t * ((b[i] as number) - ai));
  while (iterations < maxIterations) {
    iterations++;
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    const sorted = order.map(([, i]) => simplex[i] as number[]);
    values = order.map(([v]) => v);
    simplex.splice(0, simplex.length, ...sorted);
    const best = values[0] as number;
    const worst = values[n] as number;
    let spread = 0;
    for (let i = 1; i <= n; i++) {
      for (let j = 0; j < n; j++)
        spread = Math.max(spread, Math.abs((simplex[i] as number[])[j]! - (simplex[0] as number[])[j]!));
    }
    if (
      Math.abs(worst - best) <= fTol * (1 + Math.abs(best)) &&
      spread <= xTol * (1 + Math.max(...simplex[0]!.map(Math.abs)))
    ) {
      converged = true;
      break;
    }
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += (simplex[i] as number[])[j]! / n;
    const worstPoint = simplex[n] as number[];
    const reflected = combine(centroid, worstPoint, -1);
    const fr = g(reflected);
    if (fr < best) {
      const expanded = combine(centroid, worstPoint, -2);
      const fe = g(expanded);
      if (fe < fr) {
        simplex[n] = expanded;
        values[n] = fe;
      } else {
        simplex[n] = reflected;
        values[n] = fr;
      }
    } else if (fr < (values[n - 1] as number)) {
      simplex[n] = reflected;
      values[n] = fr;
    } else {
      const outside = fr < worst;
      const contracted = outside ? combine(centroid, worstPoint, -0.5) : combine(centroid, worstPoint, 0.5);
      const fc = g(contracted);
      if (fc < (outside ? fr : worst)) {
        simplex[n] = contracted;
        values[n] = fc;
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = combine(simplex[0] as number[], simplex[i] as number[], 0.5);
          values[i] = g(simplex[i] as number[]);
        }
      }
    }
  }
  let bestIndex = 0;
  for (let i = 1; i <= n; i++) if ((values[i] as number) < (values[bestIndex] as number)) bestIndex = i;
  return {
    x: (simplex[bestIndex] as number[]).slice(),
    value: values[bestIndex] as number,
    iterations,
    converged,
  };
}
