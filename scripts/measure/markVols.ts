/**
 * normalizeChain's mark vols (CleanQuote.markVol) against Deribit's own implied_volatility
 * (OptionQuote.markIv), per quote and per day: used by scripts/measure/chainMarkVols.ts over the
 * season and test/core/market/deribitMarkVols.test.ts on a seeded sample.
 *
 * A vol difference matters as much as the price it moves: |diff| x vegaCoin (coin) is set
 * against the publication's rounding bound vegaCoin x 5e-5 + half a printed step (the IV is
 * printed to 1e-4, the mark to MARK_STEP), as in markCheck.ts. A mark fixes its vol only where
 * vegaCoin is large against the step: "well-conditioned" = vegaCoin x 1e-4 >= 10 steps (the
 * mark then pins the vol to 1e-5 or better).
 *
 * bookAtMarks: the other end of the pipeline, a book of every quoted option valued on the chain
 * market (risk/chainMarket.ts) against the marks.
 */
import type { Position } from "../../src/core/instruments/types.js";
import type { ChainSnapshot, CleanQuote } from "../../src/core/market/types.js";
import { blackGreeks } from "../../src/core/pricing/black76.js";
import { chainBookMarket } from "../../src/core/risk/chainMarket.js";
import { forwardAtExpiry, type RiskMarket } from "../../src/core/risk/market.js";
import { valuePosition } from "../../src/core/risk/valuation.js";
import { MARK_STEP, quantileOf } from "./deribitDaily.js";

/** One quote's mark vol against Deribit's IV. */
export interface MarkVolCheck {
  readonly quote: CleanQuote;
  /** |markVol - markIv|. */
  readonly diff: number;
  /** vegaCoin at (forward, markIv): coin per 1.00 vol. */
  readonly vegaCoin: number;
  /** |diff| x vegaCoin / (vegaCoin x 5e-5 + step / 2): <= 1 within the publication's rounding. */
  readonly ratio: number;
  /** vegaCoin x 1e-4 >= 10 printed steps: the mark fixes the vol to 1e-5 or better. */
  readonly wellConditioned: boolean;
}

/** Mark-vol checks of one normalized chain (quotes with a markVol and a venue markIv). */
export function markVolChecks(quotes: readonly CleanQuote[]): MarkVolCheck[] {
  const out: MarkVolCheck[] = [];
  for (const q of quotes) {
    if (q.markVol === null || q.markIv === null || q.markIv === undefined) continue;
    const step = MARK_STEP[q.instrument.underlying] ?? 1e-8;
    const g = blackGreeks({
      forward: q.forward,
      strike: q.instrument.strike,
      expiry: q.timeToExpiry,
      vol: q.markIv,
      kind: q.instrument.kind,
    });
    const vegaCoin = g.vega / q.forward;
    const diff = Math.abs(q.markVol - q.markIv);
    out.push({
      quote: q,
      diff,
      vegaCoin,
      ratio: (diff * vegaCoin) / (vegaCoin * 5e-5 + step / 2),
      wellConditioned: vegaCoin * 1e-4 >= 10 * step,
    });
  }
  return out;
}

/** Per-day figures of markVolChecks. */
export interface MarkVolDay {
  readonly quotes: number;
  readonly medDiff: number;
  readonly p90Diff: number;
  readonly medRatio: number;
  /** Share of quotes within the rounding bound (ratio <= 1). */
  readonly within: number;
  readonly wellConditioned: number;
  readonly maxDiffWellConditioned: number;
  readonly p99DiffWellConditioned: number;
}

export function markVolDay(checks: readonly MarkVolCheck[]): MarkVolDay {
  const diffs = checks.map((c) => c.diff);
  const wc = checks.filter((c) => c.wellConditioned).map((c) => c.diff);
  return {
    quotes: checks.length,
    medDiff: quantileOf(diffs, 0.5),
    p90Diff: quantileOf(diffs, 0.9),
    medRatio: quantileOf(
      checks.map((c) => c.ratio),
      0.5,
    ),
    within: checks.filter((c) => c.ratio <= 1).length / checks.length,
    wellConditioned: wc.length,
    maxDiffWellConditioned: quantileOf(wc, 1),
    p99DiffWellConditioned: quantileOf(wc, 0.99),
  };
}

/** A book of every quoted option (1 contract each) revalued at the chain market, per currency. */
export interface BookAtMarks {
  readonly options: number;
  /** Out-of-the-money options (put below the expiry forward, call at or above) with a mark > 0: max |value / mark - 1|. */
  readonly otmMaxRel: number;
  /** In-the-money options: max |value - mark|, coin, and which. */
  readonly itmMaxAbs: number;
  readonly itmWorst: string;
}

/**
 * Values a book holding one contract of every quoted option of `chains` (with a mark) through
 * chainBookMarket, the chain -> market step of every entry point, with the surface through the
 * marks, and compares each valueCoin with the option's mark. Positions the market leaves out are
 * counted by the caller from `excluded`.
 */
export function bookAtMarks(chains: readonly ChainSnapshot[]): {
  byCurrency: Map<string, BookAtMarks>;
  excluded: number;
} {
  const positions: Position[] = chains.flatMap((c) =>
    c.quotes.filter((q) => q.mark !== null).map((q) => ({ instrument: q.instrument, quantity: 1 })),
  );
  const m = chainBookMarket(chains, positions, { surface: "marks" });
  const markOf = new Map(chains.flatMap((c) => c.quotes.map((q) => [q.instrument.name, q.mark as number])));
  const byCurrency = new Map<string, BookAtMarks>();
  for (const p of m.accepted) {
    const ins = p.instrument;
    if (ins.type !== "option") continue;
    const value = valuePosition(p, m.market).valueCoin;
    const mark = markOf.get(ins.name) as number;
    const um = m.market.underlyings[ins.underlying] as RiskMarket["underlyings"][string];
    const F = forwardAtExpiry(um, m.market.valuationTime, ins.expiry);
    const otm = ins.kind === "call" ? ins.strike >= F : ins.strike < F;
    const b = byCurrency.get(ins.underlying) ?? { options: 0, otmMaxRel: 0, itmMaxAbs: 0, itmWorst: "" };
    const next = { ...b, options: b.options + 1 };
    if (otm && mark > 0) next.otmMaxRel = Math.max(b.otmMaxRel, Math.abs(value / mark - 1));
    if (!otm && Math.abs(value - mark) > b.itmMaxAbs) {
      next.itmMaxAbs = Math.abs(value - mark);
      next.itmWorst = `${ins.name}: ${value.toPrecision(9)} vs mark ${mark}`;
    }
    byCurrency.set(ins.underlying, next);
  }
  return { byCurrency, excluded: m.excluded.length };
}
