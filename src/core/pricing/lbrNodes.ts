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

/**
 * The lowest branch's map nodes (scripts/fixtures/lbr_branch_nodes.py --lowest). In the lowest
 * branch the guess interpolates f(beta) = 2 pi |x|/sqrt(27) Phi(-z)^3, z = |x|/(sqrt3 s), through
 * (0, 0) with slope 1 and (b_l, f_l) with slope f'_l and curvature f''_l. Like b_l, the node
 * vol s_l and f_l, f'_l, f''_l depend on y only; computed exactly they cost b_c (erf or erfcx),
 * two exponentials and an erfcx per solve, about 12% of a solve. Fitted: s_l/(y u) in t
 * (relative 6e-11, so s_l stays inside the bracket slack), and in r = 2 sqrt(y/Y_MAX) - 1,
 * which resolves the small-y behaviour: (f_l/b_l) sqrt(b_max), f'_l sqrt(b_max) (relative
 * 9e-7, 1e-7; sqrt(b_max) = e^{-y^2/4} takes out their growth) and f''_l b_l^2/f_l (absolute
 * 7e-8; it changes sign). These only shape the initial guess, whose own error is 1e-4..1e-1.
 */

/** t = 2u/U_MAX - 1 of u = y/(1+y): the variable of the b_l, b_h and s_l fits. */
function nodeFitT(u: number): number {
  return T_SCALE * u - 1;
}

/** r = 2 sqrt(y/Y_MAX) - 1: the variable of the lowerMapNodes fits. */
export function nodeFitR(y: number): number {
  return 2 * Math.sqrt(y * (1 / NODE_FIT_Y_MAX)) - 1;
}

/**
 * s_l, from its fit s_l / (y u) in t = 2u/U_MAX - 1 (u = y/(1+y)); max relative error 6.2e-11
 * (y in [1e-3, 8]).
 */
export function lowerNodeVol(y: number): number {
  const u = y / (1 + y);
  const t = nodeFitT(u);
  const t2 = t * t;
  const t4 = t2 * t2;
  const t8 = t4 * t4;
  const p =
    1.3810876752204122 +
    0.10517301630086985 * t +
    (-0.03859613088817355 + -0.019722357880257686 * t) * t2 +
    (-0.0033704317129314093 +
      0.001081964325940192 * t +
      (0.0010674958153450438 + 0.0004142180595026803 * t) * t2) *
      t4 +
    (5.437430181594048e-5 +
      -4.42433368588376e-5 * t +
      (-4.539777027233166e-5 + -2.671379997204883e-5 * t) * t2 +
      (-4.5041325346149945e-6 + 5.874478145478011e-6 * t + 2.8146622316357764e-6 * t2) * t4) *
      t8;
  return y * u * p;
}

/**
 * The lowest branch's map nodes at r = nodeFitR(y), written to LOWER_MAP_NODES:
 *   [0] (f_l / b_l) sqrt(b_max), max relative error 9.0e-7,
 *   [1] f'_l sqrt(b_max),        max relative error 9.8e-8,
 *   [2] f''_l b_l^2 / f_l,       max absolute error 7.1e-8 (y in [1e-3, 8]).
 * One function with three outputs on purpose: too large for V8 to inline, it leaves the
 * caller's inlining budget to the interpolation helpers (three inlinable fits used it up).
 */
export function lowerMapNodes(r: number): void {
  const r2 = r * r;
  const r4 = r2 * r2;
  const r8 = r4 * r4;
  const r16 = r8 * r8;
  LOWER_MAP_NODES[0] =
    0.2957899134187082 +
    -0.3415258492071542 * r +
    (-0.3776123136294556 + 0.6327834362284972 * r) * r2 +
    (0.29415510608938356 + -0.8820186163236388 * r + (0.09161528994234001 + 0.809361009800084 * r) * r2) *
      r4 +
    (-0.47236544078460674 +
      -0.4784803720187004 * r +
      (0.6079910965932281 + 0.12467380617887155 * r) * r2 +
      (-0.4651430022426805 +
        0.04721446915572214 * r +
        (0.2229034308584537 + -0.048910953455024025 * r) * r2) *
        r4) *
      r8 +
    (-0.06090805991883131 + 0.012055885182213956 * r + 0.00699178150241342 * r2) * r16;
  LOWER_MAP_NODES[1] =
    0.2951453665049548 +
    -0.15042725069690804 * r +
    (-0.48783178367768143 + 0.3021199786593235 * r) * r2 +
    (0.4912248436796811 + -0.4850359429376253 * r + (-0.21024984225430285 + 0.45927618192504305 * r) * r2) *
      r4 +
    (-0.08290066148840784 +
      -0.24706362032893775 * r +
      (0.19279732423934348 + 0.026175598511921014 * r) * r2 +
      (-0.12644268298261171 +
        0.058556350178081515 * r +
        (0.03328214443032026 + -0.03813611384972135 * r) * r2) *
        r4) *
      r8 +
    (0.0022892101076804495 + 0.008055835939430179 * r + -0.0023119518308469256 * r2) * r16;
  LOWER_MAP_NODES[2] =
    0.012506564336887682 +
    0.9034357761803126 * r +
    (0.8473951401494668 + 0.6015560202820373 * r) * r2 +
    (0.2645505810425577 +
      -0.054764814209514796 * r +
      (0.003553675816128389 + 0.022331352319483678 * r) * r2) *
      r4 +
    (-0.007547007449090471 +
      0.004078290843583986 * r +
      (-0.058373396870934645 + 0.05162113327394538 * r) * r2 +
      (0.0713693218188354 +
        -0.09632486882386207 * r +
        (-0.023400812467979676 + 0.06290138669358002 * r) * r2) *
        r4) *
      r8 +
    (-0.0058919323169061635 + -0.014882452015279836 * r + 0.0038206633148018163 * r2) * r16;
}

/** Output of lowerMapNodes (allocation-free; read right after the call). */
export const LOWER_MAP_NODES = new Float64Array(3);
