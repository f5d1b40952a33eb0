/**
 * Scenarios as data (OpenGamma Strata style) and applyScenario(market, scenario) -> market.
 *
 * A scenario moves, for every underlying (or per underlying via spotShiftByUnderlying):
 *   spot and every forward by the relative spotShift (F' = F (1 + s), S' = S (1 + s));
 *   the surface, sticky-strike (an option keeps the vol of its strike: k_lookup = k' + ln(1+s))
 *     or sticky-moneyness (keeps the vol of its log-moneyness k' = ln(K/F'));
 *   vols by volShift (absolute, decimal: 0.05 = +5 vol points), plus
 *     skewTwist * (-k) with k = ln(K/F') clamped to [-1, 1] (positive twist: puts richer, calls
 *     cheaper; 0.1 adds 1 vol point at k = -0.1), plus
 *     termTwist * (sqrt(30/DTE) - 1) with DTE in days floored at 1 (positive twist: short end up,
 *     30-day unchanged, long end down);
 *   time forward by timeRollDays (valuationTime += days; markets with index fixings get one at the
 *     new time at the scenario's index: the roll's move is realized variance for a variance swap). Each expiry keeps its own smile
 *     ("sticky expiry": the base surface is read at the option's original time to expiry);
 *     expired legs settle at intrinsic against the scenario spot and carry no greeks.
 * Shifted vols are floored at MIN_SCENARIO_VOL (0.01) so a large down-shift stays priceable.
 */
import { InvalidInputError, requireFinite, requireNonNegative } from "../errors.js";
import type { VolSurface } from "../surface/types.js";
import type { RiskMarket, UnderlyingMarket } from "./market.js";
import { DAY_MS, YEAR_MS } from "../time.js";

export type SurfaceDynamics = "sticky-strike" | "sticky-moneyness";

/** Vol floor after shifts (decimal). */
export const MIN_SCENARIO_VOL = 0.01;

export interface Scenario {
  /** Label, e.g. "spot -20% / vol +10". */
  readonly name?: string;
  /** Relative spot (and forward) move, e.g. -0.2; > -1. */
  readonly spotShift: number;
  /** Per-underlying overrides of spotShift (e.g. { ETH: -0.3 }). */
  readonly spotShiftByUnderlying?: Readonly<Record<string, number>>;
  /** Absolute vol shift, decimal (0.1 = +10 vol points). */
  readonly volShift: number;
  /** Vol points (decimal) per unit of -ln(K/F); default 0. */
  readonly skewTwist?: number;
  /** Multiplier of sqrt(30/DTE) - 1; default 0. */
  readonly termTwist?: number;
  /** Days forward, >= 0; default 0. */
  readonly timeRollDays?: number;
  /** Default "sticky-strike". */
  readonly surfaceDynamics?: SurfaceDynamics;
}

/** Validates a scenario (throws InvalidInputError naming the field). */
export function checkScenario(s: Scenario): Scenario {
  requireFinite("scenario.spotShift", s.spotShift);
  if (s.spotShift <= -1) throw new InvalidInputError("scenario.spotShift", s.spotShift, "must be > -1");
  requireFinite("scenario.volShift", s.volShift);
  if (s.skewTwist !== undefined) requireFinite("scenario.skewTwist", s.skewTwist);
  if (s.termTwist !== undefined) requireFinite("scenario.termTwist", s.termTwist);
  if (s.timeRollDays !== undefined) requireNonNegative("scenario.timeRollDays", s.timeRollDays);
  for (const [u, v] of Object.entries(s.spotShiftByUnderlying ?? {})) {
    requireFinite(`scenario.spotShiftByUnderlying.${u}`, v);
    if (v <= -1) throw new InvalidInputError(`scenario.spotShiftByUnderlying.${u}`, v, "must be > -1");
  }
  const d = s.surfaceDynamics;
  if (d !== undefined && d !== "sticky-strike" && d !== "sticky-moneyness")
    throw new InvalidInputError(
      "scenario.surfaceDynamics",
      d,
      'must be "sticky-strike" or "sticky-moneyness"',
    );
  return s;
}

/** Relative spot move a scenario applies to `underlying`. */
export function scenarioSpotShift(s: Scenario, underlying: string): number {
  return s.spotShiftByUnderlying?.[underlying] ?? s.spotShift;
}

/** The additive vol of skew and term twists at new log-moneyness k and new T (years). */
export function scenarioTwistVol(s: Scenario, k: number, T: number): number {
  let dv = 0;
  if (s.skewTwist) dv -= s.skewTwist * (k < -1 ? -1 : Math.min(k, 1));
  if (s.termTwist) {
    const dte = Math.max(T * 365, 1);
    dv += s.termTwist * (Math.sqrt(30 / dte) - 1);
  }
  return dv;
}

/** Shifted surface: see the module comment. `dk` = ln(1+s) for sticky-strike, 0 otherwise. */
function shiftedSurface(base: VolSurface, s: Scenario, dk: number, dtYears: number): VolSurface {
  const impliedVol = (k: number, T: number): number => {
    const v = base.impliedVol(k + dk, T + dtYears) + s.volShift + scenarioTwistVol(s, k, T);
    return Math.max(v, MIN_SCENARIO_VOL);
  };
  return {
    model: `${base.model}+scenario`,
    impliedVol,
    totalVariance: (k, T) => {
      const v = impliedVol(k, T);
      return v * v * T;
    },
  };
}

/**
 * The index path of a time-rolled scenario: the market's fixings, then one at the new time at the
 * scenario's index. A started variance swap thus realizes the scenario's move over the roll (a VaR
 * horizon's crash is realized variance, not only a vol shift); without a roll no time passes and
 * no fixing is added (the swap's value is then spot-free, volValuation.ts).
 */
function withScenarioFixing(
  fixings: NonNullable<UnderlyingMarket["indexFixings"]>,
  time: number,
  price: number,
): NonNullable<UnderlyingMarket["indexFixings"]> {
  return [...fixings.filter((x) => x.time < time), { time, price }];
}

/** Applies a scenario to every underlying of a market; pure (returns a new market). */
export function applyScenario(market: RiskMarket, scenario: Scenario): RiskMarket {
  checkScenario(scenario);
  const dtMs = (scenario.timeRollDays ?? 0) * DAY_MS;
  const dtYears = dtMs / YEAR_MS;
  const t1 = market.valuationTime + dtMs;
  const underlyings: Record<string, UnderlyingMarket> = {};
  for (const [u, m] of Object.entries(market.underlyings)) {
    const sh = scenarioSpotShift(scenario, u);
    const f = 1 + sh;
    const dk = (scenario.surfaceDynamics ?? "sticky-strike") === "sticky-strike" ? Math.log(f) : 0;
    underlyings[u] = {
      // Fixings and vol-of-variance carry over: the past is not shifted (volValuation.ts).
      ...m,
      ...(dtMs > 0 && m.indexFixings
        ? { indexFixings: withScenarioFixing(m.indexFixings, t1, m.indexPrice * f) }
        : {}),
      indexPrice: m.indexPrice * f,
      // Forwards keep their expiry; those at or before the new time are dropped (settled).
      forwards: m.forwards
        .filter((x) => x.expiry > t1)
        .map((x) => ({ expiry: x.expiry, forward: x.forward * f })),
      surface: shiftedSurface(m.surface, scenario, dk, dtYears),
    };
  }
  return { valuationTime: t1, underlyings };
}

/** Options of scenarioGrid. */
export interface ScenarioGridOptions {
  /** Relative spot shifts; default 21 points -50%..+50% step 5%. */
  readonly spotShifts?: readonly number[];
  /** Absolute vol shifts; default 11 points -0.25..+0.25 step 0.05. */
  readonly volShifts?: readonly number[];
  readonly surfaceDynamics?: SurfaceDynamics;
  readonly timeRollDays?: number;
  readonly skewTwist?: number;
  readonly termTwist?: number;
}

/** Evenly spaced values from `from` to `to` inclusive (n >= 2 points; n = 1 gives [from]). */
export function linspace(from: number, to: number, n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError("n", n, "must be an integer >= 1");
  if (n === 1) return [from];
  return Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
}

/** Spot x vol grid of scenarios (spot outer, vol inner); default 21 x 11. */
export function scenarioGrid(o: ScenarioGridOptions = {}): Scenario[] {
  const spots = o.spotShifts ?? linspace(-0.5, 0.5, 21);
  const vols = o.volShifts ?? linspace(-0.25, 0.25, 11);
  const out: Scenario[] = [];
  for (const s of spots)
    for (const v of vols)
      out.push({
        name: `spot ${(s * 100).toFixed(1)}% vol ${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)}`,
        spotShift: s,
        volShift: v,
        surfaceDynamics: o.surfaceDynamics ?? "sticky-strike",
        timeRollDays: o.timeRollDays ?? 0,
        skewTwist: o.skewTwist ?? 0,
        termTwist: o.termTwist ?? 0,
      });
  return out;
}
