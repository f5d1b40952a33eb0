/**
 * One Deribit row valued through the core (risk/valuation.ts valuePosition, risk/greeks.ts
 * positionGreeks) on a market built from the row alone, compared with Deribit's own columns; and
 * the figures of one daily file that scripts/measure/deribitMarks.ts reports over the season and
 * test/core/risk/deribitMarks.test.ts asserts per day.
 *
 * Market: valuation time = the file's timestamp; index = index_price; the option's expiry has
 * one listed forward `forward`; the surface returns the row's mark IV everywhere. Position: 1
 * contract (1 coin). Forwards compared:
 *   row-underlying   the row's `underlying` column (the price Deribit reports for the option)
 *   marks-forward    the forward the expiry's marks imply by put-call parity (deribitDaily.ts)
 *   ttm-column       marks-forward, valued at the file's time_to_maturity (365.25-day years)
 *                    instead of the core's ACT/365 (the valuation time moved to match it)
 *   strike-forward   the forward of the row's own strike pair (the expiry's when one-sided)
 *
 * Precision of the reference: mark_price is printed to MARK_STEP (1e-8 BTC, 1e-6 ETH) and
 * implied_volatility to 1e-4 (0.01 vol point), so a value computed from the published IV can miss
 * the mark by up to vegaCoin x 5e-5 + half a step even when the convention is exact: `bound` is
 * that figure and `ratio` = |error| / bound (<= 1: within the publication's rounding).
 * `forwardShift` and `timeShiftSec` express the error beyond `bound` as the relative change of
 * forward, or the seconds of time decay, that would explain all of it.
 */
import type { Position } from "../../src/core/instruments/types.js";
import { blackGreeks } from "../../src/core/pricing/black76.js";
import { positionGreeks } from "../../src/core/risk/greeks.js";
import type { RiskMarket } from "../../src/core/risk/market.js";
import { valuePosition } from "../../src/core/risk/valuation.js";
import { flatSurface } from "../../src/core/surface/types.js";
import { DAY_MS, timeToExpiry, YEAR_MS } from "../../src/core/time.js";
import {
  type DeribitRow,
  expiryKey,
  MARK_STEP,
  marksForwards,
  quantileOf,
  strikeParityForwards,
} from "./deribitDaily.js";

export interface MarkCheck {
  /** valuePosition(...).valueCoin, coin. */
  readonly valueCoin: number;
  /** |valueCoin - mark_price|, coin. */
  readonly absError: number;
  /** absError / mark_price (NaN when the mark is 0). */
  readonly relError: number;
  /** vegaCoin x 5e-5 + half the mark's printed step, coin. */
  readonly bound: number;
  readonly ratio: number;
  /** Relative forward move that explains the error beyond `bound` (0 when within it). */
  readonly forwardShift: number;
  /** Seconds of time decay that explain the error beyond `bound` (0 when within it). */
  readonly timeShiftSec: number;
  /** |d valueCoin / dt|, coin per second (time decay at fixed forward and vol). */
  readonly decayPerSec: number;
  /** (valueCoin - mark) / decayPerSec: seconds after the file's timestamp at which the core's value decays to the mark. */
  readonly markTimeSec: number;
  /** Black-76 forward delta at (forward, mark IV): blackGreeks(...).delta. */
  readonly blackDelta: number;
  /** positionGreeks(...).deltaUnderlyingCoin of the 1-contract position. */
  readonly coreDelta: number;
  /** ACT/365 year fraction of the core (core/time.ts). */
  readonly timeToExpiry: number;
}

/** The 1-contract market of one row (see the module comment). */
export function rowMarket(row: DeribitRow, forward: number): RiskMarket {
  return {
    valuationTime: row.timestamp,
    underlyings: {
      [row.instrument.underlying]: {
        indexPrice: row.indexPrice,
        forwards: [{ expiry: row.instrument.expiry, forward }],
        surface: flatSurface(row.markIv),
      },
    },
  };
}

/** Values `row` through the core on `forward` and compares with its mark (module comment). */
export function checkRow(row: DeribitRow, forward: number): MarkCheck {
  const market = rowMarket(row, forward);
  const position: Position = { instrument: row.instrument, quantity: 1 };
  const valueCoin = valuePosition(position, market).valueCoin;
  const greeks = positionGreeks(position, market);
  const T = timeToExpiry(row.instrument.expiry, row.timestamp);
  const b = blackGreeks({
    forward,
    strike: row.instrument.strike,
    expiry: T,
    vol: row.markIv,
    kind: row.instrument.kind,
  });
  const absError = Math.abs(valueCoin - row.markPrice);
  const step = MARK_STEP[row.currency] ?? 10 ** -row.markDecimals;
  const bound = greeks.vegaCoin * 5e-5 + 0.5 * step;
  const excess = Math.max(0, absError - bound);
  // d(coin value)/dF = (delta - B/F) / F and d(coin value)/dt = theta / F (per year).
  const dCoinDF = Math.abs((b.delta - b.price / forward) / forward);
  const dCoinDtSec = Math.abs(b.theta / forward) / (365 * 86_400);
  return {
    valueCoin,
    absError,
    relError: row.markPrice > 0 ? absError / row.markPrice : Number.NaN,
    bound,
    ratio: absError / bound,
    forwardShift: excess === 0 ? 0 : excess / dCoinDF / forward,
    timeShiftSec: excess === 0 ? 0 : excess / dCoinDtSec,
    decayPerSec: dCoinDtSec,
    markTimeSec: (valueCoin - row.markPrice) / dCoinDtSec,
    blackDelta: b.delta,
    coreDelta: greeks.deltaUnderlyingCoin,
    timeToExpiry: T,
  };
}

export const FORWARD_KINDS = ["row-underlying", "marks-forward", "ttm-column", "strike-forward"] as const;
export type ForwardKind = (typeof FORWARD_KINDS)[number];

/** One row's checks on every forward, and its delta figures. */
export interface RowChecks {
  readonly row: DeribitRow;
  readonly forward: Readonly<Record<ForwardKind, number>>;
  /** The forward the row's own strike pair implies, or null when the strike has one side only. */
  readonly strikePairForward: number | null;
  readonly checks: Readonly<Record<ForwardKind, MarkCheck>>;
  /** |blackDelta - Deribit's delta| at the row's underlying and mark IV. */
  readonly deltaError: number;
  /** |positionGreeks deltaUnderlyingCoin - blackDelta|. */
  readonly coreVsBlackDelta: number;
  /** Relative forward move that explains deltaError beyond 5e-6 (delta's printed half-step). */
  readonly deltaForwardShift: number;
  /** (expiry - timestamp) / time_to_maturity, in days: the file's day count. */
  readonly ttmDayCount: number;
}

/** Figures of one currency on one day (file). */
export interface DayFigures {
  readonly rows: number;
  /** Per forward kind: median relative error, median ratio, share within the bound, max |error| (coin), max forward shift. */
  readonly byForward: Readonly<
    Record<
      ForwardKind,
      { medRel: number; medRatio: number; within: number; maxAbs: number; maxShift: number }
    >
  >;
  /** |Black delta - Deribit delta|: median and max, all rows and rows with >= 7 days to expiry. */
  readonly delta: { med: number; max: number; medWeek: number; maxWeek: number };
  /** Deribit's own |delta_call - delta_put - 1| over strike pairs (Black: 0), median. */
  readonly deltaParityMed: number;
  readonly coreVsBlackDeltaMax: number;
  /**
   * Median of markTimeSec (marks-forward) over the rows where time pins it: near the money
   * (|k| < 0.1), at most 7 days to expiry, and time decay over 60 s above the rounding bound.
   */
  readonly markTimeSecMed: number;
  /** Range of the file's day count (time_to_maturity). */
  readonly dayCount: { min: number; max: number };
}

/** Checks every live row of one file on every forward (rows expired at the timestamp are left out). */
export function checkDay(rows: readonly DeribitRow[]): RowChecks[] {
  const marksF = marksForwards(rows);
  const strikeF = strikeParityForwards(rows);
  const out: RowChecks[] = [];
  for (const row of rows) {
    if (row.instrument.expiry <= row.timestamp) continue;
    const m = marksF.get(expiryKey(row)) as number;
    const pair = strikeF.get(`${expiryKey(row)}|${row.instrument.strike}`) ?? null;
    const forward: Record<ForwardKind, number> = {
      "row-underlying": row.underlying,
      "marks-forward": m,
      "ttm-column": m,
      "strike-forward": pair ?? m,
    };
    const ttmRow = { ...row, timestamp: row.instrument.expiry - row.timeToMaturity * YEAR_MS };
    const checks: Record<ForwardKind, MarkCheck> = {
      "row-underlying": checkRow(row, forward["row-underlying"]),
      "marks-forward": checkRow(row, m),
      "ttm-column": checkRow(ttmRow, m),
      "strike-forward": checkRow(row, forward["strike-forward"]),
    };
    const c = checks["row-underlying"];
    const deltaError = Math.abs(c.blackDelta - row.delta);
    // d delta / d ln F = phi(d1) / s, s = vol sqrt(T).
    const s = row.markIv * Math.sqrt(c.timeToExpiry);
    const d1 = Math.log(row.underlying / row.instrument.strike) / s + s / 2;
    const dDeltaDlnF = Math.exp(-0.5 * d1 * d1) / Math.sqrt(2 * Math.PI) / s;
    out.push({
      row,
      forward,
      strikePairForward: pair,
      checks,
      deltaError,
      coreVsBlackDelta: Math.abs(c.coreDelta - c.blackDelta),
      deltaForwardShift: Math.max(0, deltaError - 5e-6) / dDeltaDlnF,
      ttmDayCount: (row.instrument.expiry - row.timestamp) / row.timeToMaturity / DAY_MS,
    });
  }
  return out;
}

/** Per-currency figures of one day's checks (see DayFigures). */
export function dayFigures(checks: readonly RowChecks[]): Map<string, DayFigures> {
  const byCurrency = new Map<string, RowChecks[]>();
  for (const c of checks)
    (byCurrency.get(c.row.currency) ?? byCurrency.set(c.row.currency, []).get(c.row.currency)!).push(c);
  const out = new Map<string, DayFigures>();
  for (const [cur, cs] of byCurrency) {
    const byForward = {} as Record<ForwardKind, DayFigures["byForward"][ForwardKind]>;
    for (const k of FORWARD_KINDS) {
      const xs = cs.map((c) => c.checks[k]);
      const ratios = xs.map((x) => x.ratio);
      byForward[k] = {
        medRel: quantileOf(
          xs.map((x) => x.relError).filter((x) => Number.isFinite(x)),
          0.5,
        ),
        medRatio: quantileOf(ratios, 0.5),
        within: ratios.filter((r) => r <= 1).length / ratios.length,
        maxAbs: quantileOf(
          xs.map((x) => x.absError),
          1,
        ),
        maxShift: quantileOf(
          xs.map((x) => x.forwardShift),
          1,
        ),
      };
    }
    const week = cs
      .filter((c) => c.checks["row-underlying"].timeToExpiry >= 7 / 365)
      .map((c) => c.deltaError);
    const pairs = new Map<string, { c?: number; p?: number }>();
    for (const { row } of cs) {
      const key = `${expiryKey(row)}|${row.instrument.strike}`;
      const e = pairs.get(key) ?? {};
      if (row.instrument.kind === "call") e.c = row.delta;
      else e.p = row.delta;
      pairs.set(key, e);
    }
    const parity = [...pairs.values()]
      .filter((p) => p.c !== undefined && p.p !== undefined)
      .map((p) => Math.abs((p.c as number) - (p.p as number) - 1));
    const days = cs.map((c) => c.ttmDayCount);
    const timed = cs
      .filter((c) => {
        const m = c.checks["marks-forward"];
        return (
          Math.abs(Math.log(c.row.instrument.strike / c.forward["marks-forward"])) < 0.1 &&
          m.timeToExpiry <= 7 / 365 &&
          60 * m.decayPerSec > m.bound
        );
      })
      .map((c) => c.checks["marks-forward"].markTimeSec);
    out.set(cur, {
      rows: cs.length,
      byForward,
      delta: {
        med: quantileOf(
          cs.map((c) => c.deltaError),
          0.5,
        ),
        max: quantileOf(
          cs.map((c) => c.deltaError),
          1,
        ),
        medWeek: quantileOf(week, 0.5),
        maxWeek: quantileOf(week, 1),
      },
      deltaParityMed: quantileOf(parity, 0.5),
      coreVsBlackDeltaMax: quantileOf(
        cs.map((c) => c.coreVsBlackDelta),
        1,
      ),
      markTimeSecMed: quantileOf(timed, 0.5),
      dayCount: { min: quantileOf(days, 0), max: quantileOf(days, 1) },
    });
  }
  return out;
}
