/**
 * Tabulated initial guess of the normalised implied vol s(x, beta) (internal; not re-exported).
 *
 * Jaeckel's rational guesses (impliedVol.ts) are 3-8% off in the lowest branch and 4e-4 to
 * 4e-3 off in the middle branches, which is why "Let's Be Rational" takes two Householder(3)
 * steps. On y = sqrt|x| in [0.01, 8] (|ln(F/K)| from 1e-4 to 64) and every price below the
 * highest branch, bicubic interpolation in these tables is within about 1.5e-5 relative
 * (measured on random points against the exact root), so a single fourth-order step brings the
 * guess to full precision; the solver checks that by the size of that step and otherwise takes
 * the second step as usual. Outside the table it uses Jaeckel's guesses unchanged.
 *
 * Coordinates, each chosen because the tabulated value is smooth in it (errors measured):
 *   u = ln y, uniform nodes;
 *   lowest branch, beta < b_l: r = ln b_l / ln beta in (0, 1], value rho = s sqrt(-2 ln beta)/|x|
 *     (the leading asymptotics s ~ |x|/sqrt(-2 ln beta) factored out; rho -> 1 as beta -> 0);
 *   middle branches, b_l <= beta <= b_h: q = (c - c_l)/(c_h - c_l) with the logit
 *     c = ln(beta/(b_max - beta)), value ln s (ln beta alone squeezes the top of the range where
 *     s grows fast, ln(b_max - beta) the bottom; the logit stretches both).
 * Node values are exact roots from 40-digit mpmath: scripts/fixtures/lbr_guess_table.py writes
 * ivGuessTable.ts.
 */
import {
  GUESS_C_H,
  GUESS_C_L,
  GUESS_LN_BL,
  GUESS_LOW,
  GUESS_MID,
  GUESS_NQ,
  GUESS_NR,
  GUESS_NU,
  GUESS_U0,
  GUESS_U1,
} from "./ivGuessTable.js";

/** Little-endian float64 values from base64. */
function decodeFloat64(base64: string): Float64Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

const LN_BL = decodeFloat64(GUESS_LN_BL);
const C_L = decodeFloat64(GUESS_C_L);
const C_H = decodeFloat64(GUESS_C_H);
const LOW = decodeFloat64(GUESS_LOW);
const MID = decodeFloat64(GUESS_MID);
const INV_DU = GUESS_NU / (GUESS_U1 - GUESS_U0);
const ROW_R = GUESS_NR + 1;
const SIXTH = 1 / 6;
const ROW_Q = GUESS_NQ + 1;
/** |x| range of the table: y from e^U0 = 0.01 to e^U1 = 8. */
const AX_MIN = Math.exp(2 * GUESS_U0) * (1 + 1e-12);
const AX_MAX = Math.exp(2 * GUESS_U1) * (1 - 1e-12);

/**
 * Inputs and output of tableGuess, allocation-free: V8 boxes each double argument and double
 * result of a call it does not inline (as REFINE_INPUT in impliedVol.ts). GUESS_IO[0..2] =
 * beta, x, b_max in; out: GUESS_IO[3] the guessed s, GUESS_IO[4] ln beta (Math.log, exact: the
 * solver's lowest-branch objective reuses it).
 */
export const GUESS_IO = new Float64Array(5);

/** First node of a 4-point stencil around f >= -1 (the edge cells use one-sided stencils). */
function stencilStart(f: number, cells: number): number {
  const k = (f | 0) - 1;
  return k < 0 ? 0 : Math.min(k, cells - 3);
}

/** w0 t[k] + w1 t[k+1] + w2 t[k+2] + w3 t[k+3] (small enough for the JIT to inline). */
function dot4(t: Float64Array, k: number, w0: number, w1: number, w2: number, w3: number): number {
  return (
    w0 * (t[k] as number) + w1 * (t[k + 1] as number) + w2 * (t[k + 2] as number) + w3 * (t[k + 3] as number)
  );
}

/**
 * Guess of the normalised implied vol s for an out-of-the-money normalised call price
 * 0 < beta < b_max = e^{x/2}, x <= 0 (not checked; inputs in GUESS_IO[0..2]). Returns the branch
 * for the solver's objective (0 lowest: ln b; 1 middle: b - beta) with s in GUESS_IO[3], or -1
 * where the table does not apply (|x| outside [1e-4, 64], or beta in Jaeckel's highest branch).
 * Bicubic Lagrange interpolation: weights u0..u3 in u, v0..v3 in r or q (in locals: a loop over
 * a weight array measured ~15% slower).
 */
export function tableGuess(): number {
  const beta = GUESS_IO[0] as number;
  const x = GUESS_IO[1] as number;
  const ax = -x;
  if (!(ax >= AX_MIN && ax <= AX_MAX)) return -1;
  const fu = (0.5 * Math.log(ax) - GUESS_U0) * INV_DU;
  const i0 = stencilStart(fu, GUESS_NU);
  const t = fu - i0;
  const ta = t - 1;
  const tb = t - 2;
  const tc = t - 3;
  const u0 = -ta * tb * tc * SIXTH;
  const u1 = t * tb * tc * 0.5;
  const u2 = -t * ta * tc * 0.5;
  const u3 = t * ta * tb * SIXTH;
  const lnBl = 0.5 * x + dot4(LN_BL, i0, u0, u1, u2, u3);
  const lnBeta = Math.log(beta);
  GUESS_IO[4] = lnBeta;
  const lowest = lnBeta < lnBl;
  let f: number;
  if (lowest) f = (lnBl / lnBeta) * GUESS_NR;
  else {
    const cL = dot4(C_L, i0, u0, u1, u2, u3);
    const cH = dot4(C_H, i0, u0, u1, u2, u3);
    f = ((lnBeta - Math.log((GUESS_IO[2] as number) - beta) - cL) / (cH - cL)) * GUESS_NQ;
    if (!(f <= GUESS_NQ)) return -1; // highest branch: Jaeckel's f_upper guess
  }
  const table = lowest ? LOW : MID;
  const row = lowest ? ROW_R : ROW_Q;
  const j0 = stencilStart(f, row - 1);
  const r = f - j0;
  const ra = r - 1;
  const rb = r - 2;
  const rc = r - 3;
  const v0 = -ra * rb * rc * SIXTH;
  const v1 = r * rb * rc * 0.5;
  const v2 = -r * ra * rc * 0.5;
  const v3 = r * ra * rb * SIXTH;
  const k = i0 * row + j0;
  const s0 = dot4(table, k, v0, v1, v2, v3);
  const s1 = dot4(table, k + row, v0, v1, v2, v3);
  const s2 = dot4(table, k + 2 * row, v0, v1, v2, v3);
  const s3 = dot4(table, k + 3 * row, v0, v1, v2, v3);
  const value = u0 * s0 + u1 * s1 + u2 * s2 + u3 * s3;
  if (lowest) {
    GUESS_IO[3] = (value * ax) / Math.sqrt(-2 * lnBeta);
    return 0;
  }
  GUESS_IO[3] = Math.exp(value);
  return 1;
}
