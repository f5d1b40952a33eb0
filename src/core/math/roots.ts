/**
 * Brent's root finder (R. P. Brent, "Algorithms for Minimization without Derivatives", 1973,
 * ch. 4, procedure zero): inverse quadratic interpolation / secant steps safeguarded by
 * bisection, so it always converges on a bracket with the speed of the secant method on smooth
 * functions.
 *
 * Example: brentRoot({ f: (x) => x * x - 2, lo: 0, hi: 2 }) -> { ok: true, value: { root:
 * 1.414213562373095 (sqrt 2 within one ulp), ... } }.
 */
import { type Result, fail, ok, requireFinite } from "../errors.js";

export interface BrentRootOptions {
  /** The function; must be continuous on [lo, hi]. */
  readonly f: (x: number) => number;
  /** Bracket: f(lo) and f(hi) must have opposite signs (or one be 0). */
  readonly lo: number;
  readonly hi: number;
  /** Absolute tolerance on x (default 0: as tight as doubles allow, 2 eps |x|). */
  readonly xTolerance?: number;
  /** Maximum number of function evaluations after the two end points (default 200). */
  readonly maxIterations?: number;
}

export interface BrentRoot {
  /** The root estimate. */
  readonly root: number;
  /** f(root). */
  readonly fRoot: number;
  /** Function evaluations used (including the two end points). */
  readonly evaluations: number;
}

export type BrentRootFailure = "not-bracketed" | "max-iterations" | "nan";

const EPS = 2 ** -52;

/**
 * Finds x in [lo, hi] with f(x) = 0 (to xTolerance + 2 eps |x|). Returns a Result: the failure
 * reasons are "not-bracketed" (same signs at both ends), "nan" (f returned NaN) and
 * "max-iterations". Throws InvalidInputError for non-finite bounds.
 */
export function brentRoot(o: BrentRootOptions): Result<BrentRoot, BrentRootFailure> {
  let a = requireFinite("lo", o.lo);
  let b = requireFinite("hi", o.hi);
  const tol0 = o.xTolerance ?? 0;
  const maxIt = o.maxIterations ?? 200;
  let fa = o.f(a);
  let fb = o.f(b);
  let evaluations = 2;
  if (Number.isNaN(fa) || Number.isNaN(fb)) return fail("nan", `f is NaN at the bracket [${a}, ${b}]`);
  if (fa === 0) return ok({ root: a, fRoot: 0, evaluations });
  if (fb === 0) return ok({ root: b, fRoot: 0, evaluations });
  if (fa > 0 === fb > 0) {
    return fail("not-bracketed", `f(${a}) = ${fa} and f(${b}) = ${fb} have the same sign`);
  }
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let it = 0; it < maxIt; it++) {
    if (fb > 0 === fc > 0) {
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol = 2 * EPS * Math.abs(b) + 0.5 * tol0;
    const m = 0.5 * (c - b);
    if (Math.abs(m) <= tol || fb === 0) return ok({ root: b, fRoot: fb, evaluations });
    if (Math.abs(e) < tol || Math.abs(fa) <= Math.abs(fb)) {
      d = m;
      e = m;
    } else {
      let s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        const qq = fa / fc;
        const r = fb / fc;
        p = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      s = e;
      e = d;
      if (2 * p < 3 * m * q - Math.abs(tol * q) && p < Math.abs(0.5 * s * q)) {
        d = p / q;
      } else {
        d = m;
        e = m;
      }
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    fb = o.f(b);
    evaluations++;
    if (Number.isNaN(fb)) return fail("nan", `f(${b}) is NaN`);
  }
  return fail("max-iterations", `no convergence in ${maxIt} evaluations (last x = ${b}, f = ${fb})`);
}
