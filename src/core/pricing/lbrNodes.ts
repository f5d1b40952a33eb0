/**
 * Branch nodes of the "Let's Be Rational" initial guess (internal; not re-exported).
 *
 * The guess splits at s_l = s_c - b_c/v_c and s_h = s_c + (b_max - b_c)/v_c (s_c = sqrt(2|x|),
 * x <= 0) and interpolates through the node values b_l = b(x, s_l), b_h = b(x, s_h). These are
 * univariate in y = sqrt|x|; evaluating them exactly costs one full normalised Black call per
 * solve. They only place the interpolation nodes of the initial guess (the Householder steps
 * converge to the exact root of the exact objective), so least-squares Chebyshev fits of
 * b_l/b_max and b_h/b_max in t = 2u/U_MAX - 1, u = y/(1+y), accurate to 1.3e-9 and 4.5e-11
 * relative on y in [0, 8] (|x| <= 64), replace them there; beyond, the caller evaluates b.
 * Coefficients and errors: scripts/fixtures/lbr_branch_nodes.py (40-digit mpmath values; it
 * lists them c0..c14). The degree-14 polynomials are evaluated by Estrin's scheme (pairs, then
 * t^2, t^4, t^8) rather than Horner's: the same coefficients with a dependency chain of 4
 * multiply-adds instead of 14, which measured ~5% of a whole implied-vol solve.
 */

/** Largest y = sqrt|x| covered by the fits. */
export const NODE_FIT_Y_MAX = 8;
/** Relative accuracy bound of the fits (with margin), used to keep brackets valid. */
export const NODE_FIT_TOLERANCE = 1e-8;
const T_SCALE = 2 / (NODE_FIT_Y_MAX / (1 + NODE_FIT_Y_MAX));

/** b(x, s_l) / e^{x/2} for y = sqrt(-x) in [0, NODE_FIT_Y_MAX] (not checked). */
export function lowerNodeOverMax(y: number): number {
  const u = y / (1 + y);
  const t = nodeFitT(u);
  const t2 = t * t;
  const t4 = t2 * t2;
  const t8 = t4 * t4;
  const lo =
    0.1515754968166345 -
    0.015862314558923795 * t +
    (-0.019498773619958512 - 0.0021490011622241024 * t) * t2 +
    (0.002017343895834548 +
      0.001114912302641621 * t +
      (0.0002028282343408022 - 8.25570496502537e-5 * t) * t2) *
      t4;
  const hi =
    -8.692263769728101e-5 -
    4.1975204092278136e-5 * t +
    (-9.768210553260396e-6 + 6.2557042504566186e-6 * t) * t2 +
    (6.56318952980354e-6 + 1.0696491383203564e-6 * t + -4.451893826877535e-7 * t2) * t4;
  return u * u * (lo + hi * t8);
}

/** b(x, s_h) / e^{x/2} for y = sqrt(-x) in [0, NODE_FIT_Y_MAX] (not checked). */
export function upperNodeOverMax(y: number): number {
  const t = nodeFitT(y / (1 + y));
  const t2 = t * t;
  const t4 = t2 * t2;
  const t8 = t4 * t4;
  const lo =
    0.8183240045959039 +
    0.05695039368481611 * t +
    (0.023124201682341784 - 0.012005697763815493 * t) * t2 +
    (-0.006786385719403566 +
      0.0011370603923287128 * t +
      (0.001748883218365679 + 0.0002911753987395596 * t) * t2) *
      t4;
  const hi =
    -0.000244965033414736 -
    0.0001299018579048369 * t +
    (-2.699885431028299e-6 + 1.542566524000262e-5 * t) * t2 +
    (4.294759096900489e-6 + 3.8789067352360244e-7 * t + 1.0434952269914169e-7 * t2) * t4;
  return lo + hi * t8;
}

/** t = 2u/U_MAX - 1 of u = y/(1+y): the variable of the b_l and b_h fits. */
function nodeFitT(u: number): number {
  return T_SCALE * u - 1;
}
