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

/** A simplex vertex and its function value. */
interface Vertex {
  readonly x: number[];
  readonly f: number;
}

/** f with non-finite values mapped to +infinity. */
function barrier(f: (x: readonly number[]) => number): (x: readonly number[]) => number {
  return (x) => {
    const v = f(x);
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  };
}

/** a + t (b - a). */
function combine(a: readonly number[], b: readonly number[], t: number): number[] {
  return a.map((ai, i) => ai + t * ((b[i] ?? Number.NaN) - ai));
}

/** x0 and x0 + step_i e_i for each coordinate (step_i = max(step, 5% |x0_i|)). */
function initialSimplex(g: (x: readonly number[]) => number, x0: readonly number[], step: number): Vertex[] {
  const simplex: Vertex[] = [{ x: x0.slice(), f: g(x0.slice()) }];
  x0.forEach((xi, i) => {
    const p = x0.slice();
    p[i] = xi + Math.max(step, 0.05 * Math.abs(xi));
    simplex.push({ x: p, f: g(p) });
  });
  return simplex;
}

/** The best, second-worst and worst vertices of a sorted simplex of n + 1 >= 2 vertices. */
function ends(simplex: readonly Vertex[]): { best: Vertex; second: Vertex; worst: Vertex } {
  const n = simplex.length - 1;
  const best = simplex[0];
  const second = simplex[n - 1];
  const worst = simplex[n];
  if (!best || !second || !worst) throw new RangeError(`simplex of ${simplex.length} vertices`);
  return { best, second, worst };
}

/** Whether the sorted simplex spans less than the function and point tolerances. */
function hasConverged(simplex: readonly Vertex[], fTol: number, xTol: number): boolean {
  const { best, worst } = ends(simplex);
  let spread = 0;
  for (const v of simplex.slice(1)) {
    v.x.forEach((xj, j) => {
      spread = Math.max(spread, Math.abs(xj - (best.x[j] ?? Number.NaN)));
    });
  }
  return (
    Math.abs(worst.f - best.f) <= fTol * (1 + Math.abs(best.f)) &&
    spread <= xTol * (1 + Math.max(...best.x.map(Math.abs)))
  );
}

/** Centroid of all vertices but the worst (the first n of the sorted simplex). */
function centroidOf(simplex: readonly Vertex[], n: number): number[] {
  const centroid = new Array<number>(n).fill(0);
  for (const v of simplex.slice(0, n)) {
    v.x.forEach((xj, j) => {
      centroid[j] = (centroid[j] ?? 0) + xj / n;
    });
  }
  return centroid;
}

/**
 * One Nelder-Mead move on the sorted simplex (in place): reflection, expansion, outside or inside
 * contraction of the worst vertex, else a shrink towards the best.
 */
function nelderMeadMove(simplex: Vertex[], g: (x: readonly number[]) => number): void {
  const n = simplex.length - 1;
  const { best, second, worst } = ends(simplex);
  const centroid = centroidOf(simplex, n);
  const reflected = combine(centroid, worst.x, -1);
  const fr = g(reflected);
  if (fr < best.f) {
    const expanded = combine(centroid, worst.x, -2);
    const fe = g(expanded);
    simplex[n] = fe < fr ? { x: expanded, f: fe } : { x: reflected, f: fr };
  } else if (fr < second.f) {
    simplex[n] = { x: reflected, f: fr };
  } else {
    const outside = fr < worst.f;
    const contracted = combine(centroid, worst.x, outside ? -0.5 : 0.5);
    const fc = g(contracted);
    if (fc < (outside ? fr : worst.f)) simplex[n] = { x: contracted, f: fc };
    else shrink(simplex, g);
  }
}

/** Moves every vertex halfway to the best one (simplex[0]). */
function shrink(simplex: Vertex[], g: (x: readonly number[]) => number): void {
  const { best } = ends(simplex);
  for (let i = 1; i < simplex.length; i++) {
    const x = combine(best.x, simplex[i]?.x ?? best.x, 0.5);
    simplex[i] = { x, f: g(x) };
  }
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
  const g = barrier(f);
  let simplex = initialSimplex(g, x0, options.step ?? 0.1);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    simplex = [...simplex].sort((a, b) => a.f - b.f); // stable: ties keep their order
    if (hasConverged(simplex, fTol, xTol)) {
      converged = true;
      break;
    }
    nelderMeadMove(simplex, g);
  }
  let best = ends(simplex).best;
  for (const v of simplex) if (v.f < best.f) best = v;
  return { x: best.x.slice(), value: best.f, iterations, converged };
}
