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
 * PnL convention: scenario value minus base value, in USD (the matrix) and per underlying coin.
 */
import type { Position } from "../instruments/types.js";
import { blackUndiscountedUnchecked } from "../pricing/black76.js";
import { forwardAtExpiry, type RiskMarket, underlyingMarket } from "./market.js";
import {
  checkScenario,
  MIN_SCENARIO_VOL,
  type Scenario,
  scenarioSpotShift,
  scenarioTwistVol,
} from "./scenario.js";
import { assertLive, positionMultiplier, resolveFutureEntries, valuePosition } from "./valuation.js";
import { DAY_MS, YEAR_MS, timeToExpiry } from "../time.js";

/** Instrument classes of the compiled book. */
const OPTION = 0;
const INVERSE_FUTURE = 1;
const LINEAR_FUTURE = 2;

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
  const nu = book.underlyings.length;
  const ns = to - from;
  // Per scenario and underlying: spot factor; per scenario: roll (years), dynamics.
  const factor = new Float64Array(ns * nu);
  const roll = new Float64Array(ns);
  const sticky = new Uint8Array(ns);
  const surfaces = book.underlyings.map((u) => underlyingMarket(book.market, u).surface);
  const spot0 = book.underlyings.map((u) => underlyingMarket(book.market, u).indexPrice);
  for (let j = 0; j < ns; j++) {
    const s = checkScenario(scenarios[from + j] as Scenario);
    for (let u = 0; u < nu; u++) factor[j * nu + u] = 1 + scenarioSpotShift(s, book.underlyings[u] as string);
    roll[j] = ((s.timeRollDays ?? 0) * DAY_MS) / YEAR_MS;
    sticky[j] = (s.surfaceDynamics ?? "sticky-strike") === "sticky-strike" ? 1 : 0;
  }
  const cache = new Map<number, number>();
  const rolledFwd = new Map<number, number>();
  const expiryOf = (i: number) => book.positions[i]?.instrument.expiry ?? null;
  // Forward of position i at the rolled time (spot factor 1), as applyScenario + forwardAtExpiry
  // would interpolate it: ln(F/S) is re-anchored at the new valuation time for unlisted expiries.
  const forwardAfterRoll = (i: number, u: number, rollYears: number): number => {
    const hit = rolledFwd.get(rollYears);
    if (hit !== undefined) return hit;
    const um = underlyingMarket(book.market, book.underlyings[u] as string);
    const t1 = book.market.valuationTime + Math.round(rollYears * YEAR_MS);
    const f = forwardAtExpiry({ ...um, forwards: um.forwards.filter((x) => x.expiry > t1) }, t1, expiryOf(i));
    rolledFwd.set(rollYears, f);
    return f;
  };
  for (let i = 0; i < book.n; i++) {
    rolledFwd.clear();
    const u = book.underlyingIndex[i] as number;
    const surf = surfaces[u]!;
    const S0 = spot0[u] as number;
    const m = book.mult[i] as number;
    const F0 = book.forward[i] as number;
    const T0 = book.T[i] as number;
    const base = book.baseUsd[i] as number;
    const c = book.cls[i];
    if (c === OPTION) {
      const K = book.strike[i] as number;
      const k0 = book.logMoneyness[i] as number;
      const isCall = book.call[i] === 1;
      const coinSettled = book.inverse[i] === 1;
      cache.clear();
      let stickyStrikeVol = Number.NaN;
      for (let j = 0; j < ns; j++) {
        const f = factor[j * nu + u] as number;
        const T = T0 - (roll[j] as number);
        let v: number;
        if (T <= 0) {
          const S = S0 * f;
          v = m * (isCall ? (S > K ? S - K : 0) : K > S ? K - S : 0);
        } else {
          const F = (roll[j] === 0 ? F0 : forwardAfterRoll(i, u, roll[j] as number)) * f;
          const k = Math.log(K / F);
          let bv: number;
          if (roll[j] !== 0) {
            // Time-rolled: lookups depend on the roll too; no cache (rolled grids are small).
            bv = surf.impliedVol(sticky[j] === 1 ? k + Math.log(f) : k, T0);
          } else if (sticky[j] === 1) {
            if (Number.isNaN(stickyStrikeVol)) stickyStrikeVol = surf.impliedVol(k0, T0);
            bv = stickyStrikeVol;
          } else {
            const hit = cache.get(f);
            if (hit === undefined) {
              bv = surf.impliedVol(k, T0);
              cache.set(f, bv);
            } else bv = hit;
          }
          const s = scenarios[from + j] as Scenario;
          let vol = bv + s.volShift;
          if (s.skewTwist || s.termTwist) vol += scenarioTwistVol(s, k, T);
          if (!(vol > MIN_SCENARIO_VOL)) vol = MIN_SCENARIO_VOL;
          v = m * blackUndiscountedUnchecked(F, K, vol * Math.sqrt(T), isCall);
          if (coinSettled) v *= (S0 * f) / F;
        }
        sink(i, from + j, v - base);
      }
    } else {
      const E = book.entry[i] as number;
      for (let j = 0; j < ns; j++) {
        const f = factor[j * nu + u] as number;
        const r = roll[j] as number;
        const F = T0 - r <= 0 ? S0 * f : (r === 0 ? F0 : forwardAfterRoll(i, u, r)) * f;
        const v = c === INVERSE_FUTURE ? m * (1 / E - 1 / F) * S0 * f : m * (F - E);
        sink(i, from + j, v - base);
      }
    }
  }
}
