/**
 * Fast full revaluation of positions over many scenarios.
 *
 * compileBook precomputes per position: multiplier, strike, base forward, time to expiry and the
 * base log-moneyness; revaluation then costs, per position-scenario, one normalised Black call
 * (blackUndiscountedUnchecked) plus a few flops. The base-surface vol is looked up once per
 * (position, spot level) and cached: sticky-strike needs ln(K/F_base) (independent of the spot
 * level), sticky-moneyness ln(K/F') per distinct spot shift. Results equal valuePosition on
 * applyScenario(market, scenario) (tested to 1e-9 relative).
 *
 * Variance swaps and vol-index futures are revalued in full: valuePosition on applyScenario's
 * market (their value is an integral over the whole shifted surface, volValuation.ts).
 *
 * PnL convention: scenario value minus base value, in USD (the matrix) and per underlying coin.
 */
import type { Position } from "../instruments/types.js";
import type { VolSurface } from "../surface/types.js";
import { blackUndiscountedUnchecked } from "../pricing/black76.js";
import { forwardAtExpiry, type RiskMarket, underlyingMarket } from "./market.js";
import {
  applyScenario,
  checkScenario,
  MIN_SCENARIO_VOL,
  type Scenario,
  scenarioSpotShift,
  scenarioTwistVol,
} from "./scenario.js";
import { assertLive, positionMultiplier, resolveFutureEntries, valuePosition } from "./valuation.js";
import { varianceSwapState } from "./volValuation.js";
import { DAY_MS, YEAR_MS, timeToExpiry } from "../time.js";

/** Instrument classes of the compiled book. */
const OPTION = 0;
const INVERSE_FUTURE = 1;
const LINEAR_FUTURE = 2;
/** Variance swaps and vol-index futures: full revaluation, valuePosition on applyScenario. */
const FULL_REVALUATION = 3;

/** A book compiled against a base market (struct of arrays). */
export interface CompiledBook {
  readonly n: number;
  readonly underlyings: readonly string[];
  /** Index into `underlyings` per position. */
  readonly underlyingIndex: Int32Array;
  readonly cls: Int8Array;
  readonly call: Uint8Array;
  /** 1 for a coin-settled (inverse) option: USD value = Black value x S / F (valuation.ts). */
  readonly inverse: Uint8Array;
  readonly mult: Float64Array;
  readonly strike: Float64Array;
  /** Base forward (USD). */
  readonly forward: Float64Array;
  /** Base time to expiry, years (Infinity for perpetuals). */
  readonly T: Float64Array;
  /** Future entry price (USD), NaN for options. */
  readonly entry: Float64Array;
  /** ln(K / F_base) (options). */
  readonly logMoneyness: Float64Array;
  /** Base value, USD. */
  readonly baseUsd: Float64Array;
  readonly market: RiskMarket;
  readonly positions: readonly Position[];
}

/** Compiles positions against the base market (missing future entries = base forward). */
export function compileBook(positionsIn: readonly Position[], market: RiskMarket): CompiledBook {
  assertLive(positionsIn, market);
  const positions = resolveFutureEntries(positionsIn, market);
  const n = positions.length;
  const underlyings: string[] = [];
  const underlyingIndex = new Int32Array(n);
  const cls = new Int8Array(n);
  const call = new Uint8Array(n);
  const inverse = new Uint8Array(n);
  const mult = new Float64Array(n);
  const strike = new Float64Array(n);
  const forward = new Float64Array(n);
  const T = new Float64Array(n);
  const entry = new Float64Array(n).fill(Number.NaN);
  const logMoneyness = new Float64Array(n);
  const baseUsd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = positions[i] as Position;
    const ins = p.instrument;
    const um = underlyingMarket(market, ins.underlying);
    let u = underlyings.indexOf(ins.underlying);
    if (u < 0) u = underlyings.push(ins.underlying) - 1;
    underlyingIndex[i] = u;
    mult[i] = positionMultiplier(p);
    const exp = ins.expiry;
    T[i] = exp === null ? Number.POSITIVE_INFINITY : timeToExpiry(exp, market.valuationTime);
    forward[i] = forwardAtExpiry(um, market.valuationTime, exp);
    if (ins.type === "option") {
      cls[i] = OPTION;
      call[i] = ins.kind === "call" ? 1 : 0;
      inverse[i] = ins.settlement === "inverse" ? 1 : 0;
      strike[i] = ins.strike;
      logMoneyness[i] = Math.log(ins.strike / forward[i]!);
    } else if (ins.type === "varianceSwap" || ins.type === "volIndexFuture") {
      cls[i] = FULL_REVALUATION;
    } else {
      cls[i] = ins.settlement === "inverse" ? INVERSE_FUTURE : LINEAR_FUTURE;
      entry[i] = p.entryPrice as number;
    }
    baseUsd[i] = valuePosition(p, market).valueUsd;
  }
  return {
    n,
    underlyings,
    underlyingIndex,
    cls,
    call,
    inverse,
    mult,
    strike,
    forward,
    T,
    entry,
    logMoneyness,
    baseUsd,
    market,
    positions,
  };
}

/**
 * Scenario PnL matrix, USD: row-major Float64Array rows, one row per position (or candidate
 * instrument, quantity 1 contract for a unit PnL) and one column per scenario:
 * rows[i][j] = value_i(applyScenario(market, scenarios[j])) - value_i(market). STABLE SIGNATURE
 * (the optimizer builds its CVaR LP on it).
 */
export function scenarioPnlMatrix(o: {
  readonly positions: readonly Position[];
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
}): Float64Array[] {
  const book = compileBook(o.positions, o.market);
  const out = Array.from({ length: book.n }, () => new Float64Array(o.scenarios.length));
  revalueBookInto(book, o.scenarios, 0, o.scenarios.length, (i, j, pnl) => {
    (out[i] as Float64Array)[j] = pnl;
  });
  return out;
}

/** Portfolio PnL (USD) per scenario: column sums of the matrix without storing it. */
export function scenarioPortfolioPnl(
  book: CompiledBook,
  scenarios: readonly Scenario[],
  from = 0,
  to = scenarios.length,
): Float64Array {
  const out = new Float64Array(to - from);
  revalueBookInto(book, scenarios, from, to, (_i, j, pnl) => {
    out[j - from] = (out[j - from] as number) + pnl;
  });
  return out;
}

/** Per scenario (j = 0..ns-1) and underlying: spot factor; per scenario: roll (years), dynamics. */
interface ScenarioColumns {
  readonly ns: number;
  readonly nu: number;
  readonly factor: Float64Array;
  readonly roll: Float64Array;
  readonly sticky: Uint8Array;
  readonly scenarios: readonly Scenario[];
  readonly from: number;
}

function scenarioColumns(
  book: CompiledBook,
  scenarios: readonly Scenario[],
  from: number,
  to: number,
): ScenarioColumns {
  const nu = book.underlyings.length;
  const ns = to - from;
  const factor = new Float64Array(ns * nu);
  const roll = new Float64Array(ns);
  const sticky = new Uint8Array(ns);
  for (let j = 0; j < ns; j++) {
    const s = checkScenario(scenarios[from + j] as Scenario);
    book.underlyings.forEach((und, u) => {
      factor[j * nu + u] = 1 + scenarioSpotShift(s, und);
    });
    roll[j] = ((s.timeRollDays ?? 0) * DAY_MS) / YEAR_MS;
    sticky[j] = (s.surfaceDynamics ?? "sticky-strike") === "sticky-strike" ? 1 : 0;
  }
  return { ns, nu, factor, roll, sticky, scenarios, from };
}

/**
 * Forward of position i at the rolled time (spot factor 1), as applyScenario + forwardAtExpiry
 * would interpolate it: ln(F/S) is re-anchored at the new valuation time for unlisted expiries.
 * Memoized per roll in `memo` (cleared per position by the caller).
 */
function forwardAfterRoll(
  book: CompiledBook,
  i: number,
  rollYears: number,
  memo: Map<number, number>,
): number {
  const hit = memo.get(rollYears);
  if (hit !== undefined) return hit;
  const um = underlyingMarket(book.market, book.underlyings[book.underlyingIndex[i] ?? 0] ?? "");
  const t1 = book.market.valuationTime + Math.round(rollYears * YEAR_MS);
  const expiry = book.positions[i]?.instrument.expiry ?? null;
  const f = forwardAtExpiry({ ...um, forwards: um.forwards.filter((x) => x.expiry > t1) }, t1, expiry);
  memo.set(rollYears, f);
  return f;
}

/** The option's vol at scenario j before the scenario's vol shift (see the caches' comments). */
function scenarioBaseVol(
  surf: VolSurface,
  cols: ScenarioColumns,
  j: number,
  k: number,
  k0: number,
  T0: number,
  f: number,
  caches: { stickyStrikeVol: number; byFactor: Map<number, number> },
): number {
  if (cols.roll[j] !== 0)
    // Time-rolled: lookups depend on the roll too; no cache (rolled grids are small).
    return surf.impliedVol(cols.sticky[j] === 1 ? k + Math.log(f) : k, T0);
  if (cols.sticky[j] === 1) {
    if (Number.isNaN(caches.stickyStrikeVol)) caches.stickyStrikeVol = surf.impliedVol(k0, T0);
    return caches.stickyStrikeVol;
  }
  const hit = caches.byFactor.get(f);
  if (hit !== undefined) return hit;
  const bv = surf.impliedVol(k, T0);
  caches.byFactor.set(f, bv);
  return bv;
}

/** Position i's constants: underlying slot, index, multiplier, forward, years, base value USD. */
function positionConstants(book: CompiledBook, i: number) {
  const u = book.underlyingIndex[i] ?? 0;
  return {
    u,
    S0: underlyingMarket(book.market, book.underlyings[u] ?? "").indexPrice,
    m: book.mult[i] ?? 0,
    F0: book.forward[i] ?? 0,
    T0: book.T[i] ?? 0,
    base: book.baseUsd[i] ?? 0,
  };
}

function revalueOptionInto(
  book: CompiledBook,
  i: number,
  cols: ScenarioColumns,
  surf: VolSurface,
  memo: Map<number, number>,
  sink: (position: number, scenario: number, pnlUsd: number) => void,
): void {
  const { u, S0, m, F0, T0, base } = positionConstants(book, i);
  const K = book.strike[i] ?? 0;
  const k0 = book.logMoneyness[i] ?? 0;
  const isCall = book.call[i] === 1;
  const coinSettled = book.inverse[i] === 1;
  const caches = { stickyStrikeVol: Number.NaN, byFactor: new Map<number, number>() };
  for (let j = 0; j < cols.ns; j++) {
    const f = cols.factor[j * cols.nu + u] ?? 1;
    const r = cols.roll[j] ?? 0;
    const T = T0 - r;
    let v: number;
    if (T <= 0) {
      const S = S0 * f;
      v = m * (isCall ? (S > K ? S - K : 0) : K > S ? K - S : 0);
    } else {
      const F = (r === 0 ? F0 : forwardAfterRoll(book, i, r, memo)) * f;
      const k = Math.log(K / F);
      const s = cols.scenarios[cols.from + j] as Scenario;
      let vol = scenarioBaseVol(surf, cols, j, k, k0, T0, f, caches) + s.volShift;
      if (s.skewTwist || s.termTwist) vol += scenarioTwistVol(s, k, T);
      if (!(vol > MIN_SCENARIO_VOL)) vol = MIN_SCENARIO_VOL;
      v = m * blackUndiscountedUnchecked(F, K, vol * Math.sqrt(T), isCall);
      if (coinSettled) v *= (S0 * f) / F;
    }
    sink(i, cols.from + j, v - base);
  }
}

function revalueFutureInto(
  book: CompiledBook,
  i: number,
  cols: ScenarioColumns,
  memo: Map<number, number>,
  sink: (position: number, scenario: number, pnlUsd: number) => void,
): void {
  const { u, S0, m, F0, T0, base } = positionConstants(book, i);
  const E = book.entry[i] ?? 0;
  const inverse = book.cls[i] === INVERSE_FUTURE;
  for (let j = 0; j < cols.ns; j++) {
    const f = cols.factor[j * cols.nu + u] ?? 1;
    const r = cols.roll[j] ?? 0;
    const F = T0 - r <= 0 ? S0 * f : (r === 0 ? F0 : forwardAfterRoll(book, i, r, memo)) * f;
    const v = inverse ? m * (1 / E - 1 / F) * S0 * f : m * (F - E);
    sink(i, cols.from + j, v - base);
  }
}

/**
 * A vol instrument: valuePosition on each scenario's market (their values need the whole surface).
 * Its USD value reads the surface in log-moneyness only (the log contract is scale-free in the
 * forward), so under sticky-moneyness it does not depend on the spot shift: one valuation per
 * distinct (vol shift, twists, roll) serves every spot level (a DVOL future in a Monte Carlo VaR:
 * all paths share one), except a variance swap in a time-rolled scenario, which realizes the move.
 */
function revalueFullInto(
  book: CompiledBook,
  i: number,
  cols: ScenarioColumns,
  sink: (position: number, scenario: number, pnlUsd: number) => void,
): void {
  const p = book.positions[i] as Position;
  const base = book.baseUsd[i] ?? 0;
  const u = book.underlyingIndex[i] ?? 0;
  const memo = new Map<string, number>();
  const remaining = new Map<string, number>();
  const ins = p.instrument;
  for (let j = 0; j < cols.ns; j++) {
    const s = cols.scenarios[cols.from + j] as Scenario;
    const f = cols.factor[j * cols.nu + u] ?? 1;
    const surfaceKey = `${cols.sticky[j] === 1 ? f : 1}|${s.volShift}|${s.skewTwist ?? 0}|${s.termTwist ?? 0}|${cols.roll[j] ?? 0}`;
    // A roll books the move as a fixing: a swap's value then depends on the spot, its surface integral not.
    const rolledSwap = cols.roll[j] !== 0 && ins.type === "varianceSwap";
    const key = rolledSwap ? `${f}|${surfaceKey}` : surfaceKey;
    let v = memo.get(key);
    if (v === undefined) {
      const shifted = applyScenario(book.market, s);
      if (rolledSwap) {
        const known = remaining.get(surfaceKey);
        const state = varianceSwapState(ins, shifted, known);
        if (known === undefined) remaining.set(surfaceKey, state.remainingVariance);
        v = p.quantity * state.valuePerContract;
      } else v = valuePosition(p, shifted).valueUsd;
      memo.set(key, v);
    }
    sink(i, cols.from + j, v - base);
  }
}

/**
 * Core loop: calls sink(position, scenario, pnlUsd) for scenarios [from, to). Positions are the
 * outer loop so per-position constants stay in registers and vol lookups are cached.
 */
export function revalueBookInto(
  book: CompiledBook,
  scenarios: readonly Scenario[],
  from: number,
  to: number,
  sink: (position: number, scenario: number, pnlUsd: number) => void,
): void {
  const cols = scenarioColumns(book, scenarios, from, to);
  const surfaces = book.underlyings.map((u) => underlyingMarket(book.market, u).surface);
  const memo = new Map<number, number>();
  for (let i = 0; i < book.n; i++) {
    memo.clear();
    const surf = surfaces[book.underlyingIndex[i] ?? 0];
    if (book.cls[i] === OPTION && surf) revalueOptionInto(book, i, cols, surf, memo, sink);
    else if (book.cls[i] === FULL_REVALUATION) revalueFullInto(book, i, cols, sink);
    else revalueFutureInto(book, i, cols, memo, sink);
  }
}
