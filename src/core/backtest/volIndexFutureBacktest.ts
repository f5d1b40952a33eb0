/**
 * A DVOL future position held and rolled over a series of market steps, marked each step at the
 * core's fair value on that step's chain (risk/valuation.ts valuePosition through volValuation.ts:
 * fair = 100 sqrt(V_fwd) exp(-omega^2 tau / 8), V_fwd the forward 30-day variance after expiry from
 * the chain's marks surface; omega = `volOfVariance`, default 0: no convexity adjustment).
 *
 * Rule: hold `quantity` contracts of the future expiring at the listed (option) expiry nearest
 * `tenorDays`; when fewer than `rollDays` days are left, close it and open the next (at least
 * `rollDays` + 1 day away). Trades fill at the fair -/+ `halfSpreadPoints` (the stored data has no
 * DVOL futures quotes: a stated cost). USD account: cash + the position's valuePosition.
 * Every step's market is the whole chain's (step.market of every listed expiry), so the surface
 * reaches expiry + 30 days. Units: USD; index points; epoch ms UTC.
 */
import { InvalidInputError, requireNonNegative, requirePositive } from "../errors.js";
import type { Position, VolIndexFutureContract } from "../instruments/types.js";
import { volIndexFutureContract } from "../instruments/volInstruments.js";
import type { RiskMarket } from "../risk/market.js";
import { valuePosition } from "../risk/valuation.js";
import { volIndexFutureState } from "../risk/volValuation.js";
import { DAY_MS } from "../time.js";
import type { BacktestStep } from "./market.js";
import { swapExpiry } from "./varianceSwapStrategy.js";

export interface VolIndexFutureBacktestOptions {
  readonly steps: Iterable<BacktestStep>;
  /** Signed contracts (+ long vol). */
  readonly quantity: number;
  /** Target days to expiry at each roll (default 30). */
  readonly tenorDays?: number;
  /** Roll when fewer days than this are left (default 2). */
  readonly rollDays?: number;
  /** Cost each side, index points (default 0.25). */
  readonly halfSpreadPoints?: number;
  /** USD per index point per contract (default DVOL_FUTURE_SPEC's, unverified). */
  readonly contractSize?: number;
  /** Vol of ln variance for the convexity adjustment (default 0). */
  readonly volOfVariance?: number;
}

export interface VolIndexFutureDay {
  readonly time: number;
  readonly instrument: string | null;
  /** Fair value of the held future, index points (null when flat). */
  readonly fair: number | null;
  readonly equityUsd: number;
}

export interface VolIndexFutureRoll {
  readonly time: number;
  readonly instrument: string;
  readonly side: "open" | "close";
  readonly fair: number;
  readonly costUsd: number;
}

export interface VolIndexFutureBacktest {
  readonly days: readonly VolIndexFutureDay[];
  readonly rolls: readonly VolIndexFutureRoll[];
  readonly costsUsd: number;
  /** Equity change over the run, USD. */
  readonly pnlUsd: number;
}

interface State {
  readonly o: Required<Omit<VolIndexFutureBacktestOptions, "steps" | "contractSize">> & {
    readonly contractSize?: number;
  };
  cash: number;
  held: (Position & { readonly instrument: VolIndexFutureContract }) | null;
  costs: number;
  readonly rolls: VolIndexFutureRoll[];
  readonly days: VolIndexFutureDay[];
}

/** The step's whole-chain market with the vol of variance set (absent: none). */
function marketOf(step: BacktestStep, volOfVariance: number): RiskMarket | null {
  const sm = step.market(step.expiries());
  if (!sm) return null;
  if (volOfVariance === 0) return sm.market;
  const m = sm.market;
  const um = m.underlyings[step.underlying];
  if (!um) return m;
  return { ...m, underlyings: { ...m.underlyings, [step.underlying]: { ...um, volOfVariance } } };
}

/** Closes the held future at its value less the half-spread. */
function close(s: State, step: BacktestStep, m: RiskMarket): void {
  const h = s.held;
  if (!h) return;
  const fair = volIndexFutureState(h.instrument, m).fair;
  const cost = Math.abs(h.quantity) * h.instrument.contractSize * s.o.halfSpreadPoints;
  s.cash += valuePosition(h, m).valueUsd - cost;
  s.costs += cost;
  s.rolls.push({ time: step.time, instrument: h.instrument.name, side: "close", fair, costUsd: cost });
  s.held = null;
}

/** Opens the future nearest the tenor (entered at the fair, paying the half-spread), if any. */
function open(s: State, step: BacktestStep, m: RiskMarket): void {
  const e = swapExpiry(step, s.o.tenorDays, s.o.rollDays + 1);
  if (e === null) return;
  const instrument = volIndexFutureContract({
    underlying: step.underlying,
    expiry: e,
    ...(s.o.contractSize !== undefined ? { contractSize: s.o.contractSize } : {}),
  });
  const fair = volIndexFutureState(instrument, m).fair;
  const cost = Math.abs(s.o.quantity) * instrument.contractSize * s.o.halfSpreadPoints;
  s.cash -= cost;
  s.costs += cost;
  s.held = { instrument, quantity: s.o.quantity, entryPrice: fair };
  s.rolls.push({ time: step.time, instrument: instrument.name, side: "open", fair, costUsd: cost });
}

/** One step: roll when due, then mark. */
function stepOnce(s: State, step: BacktestStep): void {
  const m = marketOf(step, s.o.volOfVariance);
  if (!m)
    throw new InvalidInputError("steps[].market", step.time, "gives no market (no quote with a mark vol)");
  if (s.held && s.held.instrument.expiry - step.time < s.o.rollDays * DAY_MS) close(s, step, m);
  if (!s.held) open(s, step, m);
  const h = s.held;
  const fair = h ? volIndexFutureState(h.instrument, m).fair : null;
  s.days.push({
    time: step.time,
    instrument: h?.instrument.name ?? null,
    fair,
    equityUsd: s.cash + (h ? valuePosition(h, m).valueUsd : 0),
  });
}

/** Runs the hold/roll backtest (see the module comment). */
export function runVolIndexFutureBacktest(o: VolIndexFutureBacktestOptions): VolIndexFutureBacktest {
  if (!(Number.isFinite(o.quantity) && o.quantity !== 0))
    throw new InvalidInputError("quantity", o.quantity, "must be a finite non-zero number of contracts");
  const s: State = {
    o: {
      quantity: o.quantity,
      tenorDays: requirePositive("tenorDays", o.tenorDays ?? 30),
      rollDays: requireNonNegative("rollDays", o.rollDays ?? 2),
      halfSpreadPoints: requireNonNegative("halfSpreadPoints", o.halfSpreadPoints ?? 0.25),
      volOfVariance: requireNonNegative("volOfVariance", o.volOfVariance ?? 0),
      ...(o.contractSize !== undefined ? { contractSize: o.contractSize } : {}),
    },
    cash: 0,
    held: null,
    costs: 0,
    rolls: [],
    days: [],
  };
  for (const step of o.steps) stepOnce(s, step);
  const first = s.days[0];
  const last = s.days[s.days.length - 1];
  if (!first || !last) throw new InvalidInputError("steps", 0, "must contain at least one step");
  // Equity starts at 0 before the first open: the run's P&L is the last equity.
  return { days: s.days, rolls: s.rolls, costsUsd: s.costs, pnlUsd: last.equityUsd };
}
