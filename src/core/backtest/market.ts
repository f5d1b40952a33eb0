/**
 * What the backtest engine sees at one instant: a `BacktestStep`, a thin view over ONE option
 * chain (a ChainSnapshot: Deribit data, or the synthetic market's chain) and the core market built
 * from it. The step keeps no market model of its own (DESIGN.md: one market, one valuation):
 *   - the market is THE chain -> market step of core/risk/chainMarket.ts:
 *     chainMarketInputs([chain], { surface: "marks" }) (normalizeChain's forwards per expiry and
 *     clean quotes, the surface through the chain's marks) then chainRiskMarket;
 *   - the quotes a strategy sees (`quote`) are those clean quotes (bid/ask/mark in the instrument's
 *     quote units: coin per contract for inverse options), with the core's mark vol and forward.
 * It exposes only the present (no method reaches another instant), which is half of the
 * no-look-ahead guarantee; the other half is that the engine consumes steps one at a time.
 *
 * Speed: normalizing a whole chain (1,000-1,500 quotes) costs ~7 ms, too much for every step of
 * an hourly year. So a step builds markets for the expiries asked for only: `market(expiries)` is
 * chainMarketInputs on the chain restricted to those expiries' quotes (all of them, both kinds).
 * That gives the same numbers as the whole chain's market for every position at those expiries:
 * normalizeChain solves each quote on its own expiry's forward, chainForwards takes each expiry's
 * forward from that expiry's future or quotes only, and the marks surface returns an expiry's own
 * smile at exactly that expiry (surface/interpolate.ts). When an expiry asked for has no quote with
 * a mark vol at this step, the whole chain's market is used instead (it interpolates between the
 * neighbouring expiries, as `volfolio risk --chain` would). `backtestStepMarket(chain)` is the whole
 * chain's market; test/core/backtest/stepMarket.test.ts checks the two agree.
 *
 * Units: times epoch ms UTC; index, forwards and strikes USD; option prices in quote units (coin
 * per contract for inverse options); vols decimal.
 */
import { InvalidInputError } from "../errors.js";
import type { OptionContract, OptionKind, Position } from "../instruments/types.js";
import { groupByExpiry } from "../market/byExpiry.js";
import { chainForwards } from "../market/forwards.js";
import type { ChainSnapshot, CleanQuote, FutureQuote, OptionQuote } from "../market/types.js";
import {
  type ChainBookValuation,
  type ChainMarketInput,
  chainMarketInputs,
  chainRiskMarket,
} from "../risk/chainMarket.js";
import type { RiskMarket } from "../risk/market.js";
import { quoteMarkVol } from "../surface/markSurface.js";

/** One quoted option as a strategy and the fills see it: the core's clean quote. */
export interface StepOptionQuote {
  readonly instrument: OptionContract;
  readonly expiry: number;
  readonly strike: number;
  readonly kind: OptionKind;
  /** Best bid / ask in quote units (coin per contract for inverse options); null = side missing. */
  readonly bid: number | null;
  readonly ask: number | null;
  /** Venue mark, quote units. */
  readonly mark: number;
  /** Mark vol, decimal (surface/markSurface.ts quoteMarkVol: solved from the mark, else venue IV). */
  readonly markVol: number;
  /** Forward of the expiry, USD (market/forwards.ts). */
  readonly forward: number;
  /** The clean quote itself (sizes, open interest, side vols). */
  readonly clean: CleanQuote;
}

/** The step's core market for a set of expiries. */
export interface StepMarket {
  readonly market: RiskMarket;
  /** The chain input it was built from (normalized chain and its marks surface). */
  readonly input: ChainMarketInput;
  /** "expiries": the chain restricted to the expiries asked for; "chain": the whole chain. */
  readonly scope: "expiries" | "chain";
}

/** The market at one instant. */
export interface BacktestStep {
  /** Epoch ms UTC. */
  readonly time: number;
  readonly underlying: string;
  /** Index (spot) price, USD. */
  readonly indexPrice: number;
  /** The chain's perpetual quote (USD), or null when the chain has none. */
  readonly perpetual: FutureQuote | null;
  /** Perpetual funding paid by longs, decimal per year (default 0). */
  readonly fundingRatePerYear?: number;
  /** The venue's delivery (settlement) price of an expiry, USD, when the data has one. */
  deliveryPrice?(expiry: number): number | null;
  /** Expiries the chain quotes options on after `time`, ascending. */
  expiries(): readonly number[];
  /** Forward of a listed expiry, USD (market/forwards.ts chainForwards); the index otherwise. */
  forward(expiry: number): number;
  /** Strikes with a usable quote (clean, with a mark and a mark vol) for an expiry, ascending. */
  strikes(expiry: number): readonly number[];
  /** The usable quote, or null (not listed, rejected by normalizeChain, or no mark). */
  quote(expiry: number, strike: number, kind: OptionKind): StepOptionQuote | null;
  /** The chain: all of it, or the quotes of `expiries` only (futures always included). */
  chain(expiries?: readonly number[]): ChainSnapshot;
  /**
   * The core market of the chain restricted to `expiries` (see the module comment); an empty
   * list gives the first listed expiry's market (enough to value cash and the perpetual).
   * Null only when no listed expiry has a quote with a mark vol.
   */
  market(expiries: readonly number[]): StepMarket | null;
}

/** Where a step's quotes come from: a loaded chain, or a generator (the synthetic market). */
export interface StepChainSource {
  readonly underlying: string;
  readonly valuationTime: number;
  readonly indexPrice: number;
  readonly futures: readonly FutureQuote[];
  /** Expiries with option quotes after valuationTime, ascending. */
  expiries(): readonly number[];
  /** The option quotes of one listed expiry. */
  quotes(expiry: number): readonly OptionQuote[];
  /** The whole chain as loaded (defaults to the listed expiries' quotes). */
  whole?(): ChainSnapshot;
}

const MARKS = { surface: "marks" } as const;

/** Options of a step: funding, and the venue's delivery prices when the data has them. */
export interface StepOptions {
  readonly fundingRatePerYear?: number;
  /** The venue's delivery (settlement) price of an expiry, USD, or null when unknown. */
  readonly deliveryPrice?: (expiry: number) => number | null;
}

/** A step's lazily built views of its source (markets by expiry set, quote views, strike lists). */
interface StepCache {
  readonly src: StepChainSource;
  readonly t: number;
  readonly markets: Map<string, StepMarket | null>;
  readonly views: Map<number, Map<string, StepOptionQuote>>;
  readonly strikeLists: Map<number, number[]>;
  whole: ChainSnapshot | null;
  listedSet: Set<number> | null;
}

/** A BacktestStep over a chain source (see the module comment). */
export function stepFromSource(src: StepChainSource, opts: StepOptions = {}): BacktestStep {
  const c: StepCache = {
    src,
    t: src.valuationTime,
    markets: new Map(),
    views: new Map(),
    strikeLists: new Map(),
    whole: null,
    listedSet: null,
  };
  return {
    time: c.t,
    underlying: src.underlying,
    indexPrice: src.indexPrice,
    perpetual: src.futures.find((f) => f.expiry === null && f.underlying === src.underlying) ?? null,
    fundingRatePerYear: opts.fundingRatePerYear ?? 0,
    ...(opts.deliveryPrice ? { deliveryPrice: opts.deliveryPrice } : {}),
    expiries: () => src.expiries(),
    forward: (e) => stepForward(c, e),
    strikes: (e) => stepStrikes(c, e),
    quote: (e, k, kind) => quoteView(c, e).get(`${k}|${kind}`) ?? null,
    chain: (expiries) => stepChain(c, expiries),
    market: (asked) => stepMarket(c, asked),
  };
}

function listed(c: StepCache): Set<number> {
  c.listedSet ??= new Set(c.src.expiries());
  return c.listedSet;
}

/** The whole chain, or the quotes of the listed `expiries` (futures always included). */
function stepChain(c: StepCache, expiries?: readonly number[]): ChainSnapshot {
  const src = c.src;
  if (expiries === undefined) {
    c.whole ??= src.whole
      ? src.whole()
      : {
          underlying: src.underlying,
          valuationTime: c.t,
          indexPrice: src.indexPrice,
          quotes: src.expiries().flatMap((e) => [...src.quotes(e)]),
          futures: src.futures,
        };
    return c.whole;
  }
  const ls = listed(c);
  const only = expiries.length === 1 ? expiries[0] : undefined;
  const quotes =
    only !== undefined ? src.quotes(only) : expiries.flatMap((e) => (ls.has(e) ? [...src.quotes(e)] : []));
  return {
    underlying: src.underlying,
    valuationTime: c.t,
    indexPrice: src.indexPrice,
    quotes,
    futures: src.futures,
  };
}

/** The core market of chain `ch` (chainMarketInputs with the marks surface, then chainRiskMarket). */
function buildMarket(ch: ChainSnapshot, scope: StepMarket["scope"]): StepMarket | null {
  const input = chainMarketInputs([ch], MARKS).inputs[0];
  if (!input) return null;
  return { market: chainRiskMarket([input], []).market, input, scope };
}

/** The market for `asked` expiries (cached): restricted to them when each carries a smile, else the whole chain's. */
function stepMarket(c: StepCache, asked: readonly number[]): StepMarket | null {
  let set = [...new Set(asked)].filter((e) => e > c.t).sort((a, b) => a - b);
  if (set.length === 0) {
    const first = c.src.expiries()[0];
    if (first === undefined) return null;
    set = [first];
  }
  const key = set.join(",");
  const cached = c.markets.get(key);
  if (cached !== undefined || c.markets.has(key)) return cached ?? null;
  let m = restrictedMarket(c, set);
  if (!m) {
    const all = "chain";
    if (!c.markets.has(all)) c.markets.set(all, buildMarket(stepChain(c), "chain"));
    m = c.markets.get(all) ?? null;
  }
  c.markets.set(key, m);
  return m;
}

/** The chain restricted to `set` (all listed), if every expiry there carries a quote with a mark vol. */
function restrictedMarket(c: StepCache, set: readonly number[]): StepMarket | null {
  const ls = listed(c);
  if (!set.every((e) => ls.has(e))) return null;
  const m = buildMarket(stepChain(c, set), "expiries");
  if (!m) return null;
  const marked = new Set<number>();
  for (const q of m.input.normalized.snapshot.quotes)
    if (quoteMarkVol(q) !== null) marked.add(q.instrument.expiry);
  return set.every((e) => marked.has(e)) ? m : null;
}

/** The usable quotes of expiry `e` by "strike|kind" (cached; empty when it has no market of its own). */
function quoteView(c: StepCache, e: number): Map<string, StepOptionQuote> {
  let v = c.views.get(e);
  if (v) return v;
  v = new Map();
  const m = listed(c).has(e) ? stepMarket(c, [e]) : null;
  if (m && m.scope === "expiries") {
    for (const q of m.input.normalized.snapshot.quotes) {
      const vol = quoteMarkVol(q);
      if (vol === null || q.mark === null) continue;
      const ins = q.instrument;
      v.set(`${ins.strike}|${ins.kind}`, {
        instrument: ins,
        expiry: ins.expiry,
        strike: ins.strike,
        kind: ins.kind,
        bid: q.bid,
        ask: q.ask,
        mark: q.mark,
        markVol: vol,
        forward: q.forward,
        clean: q,
      });
    }
  }
  c.views.set(e, v);
  return v;
}

/** Forward of expiry `e`: its market's, else the core's forward rule on its quotes, else the index. */
function stepForward(c: StepCache, e: number): number {
  const src = c.src;
  if (!(e > c.t)) return src.indexPrice;
  const m = listed(c).has(e) ? stepMarket(c, [e]) : null;
  const f = m?.input.normalized.snapshot.forwards.find((x) => x.expiry === e);
  if (f) return f.forward;
  // Listed without a usable mark (no market at this expiry alone): the core's forward rule.
  return chainForwards(stepChain(c, [e])).find((x) => x.expiry === e)?.forward ?? src.indexPrice;
}

/** Strikes with a usable quote at `e`, ascending (cached). */
function stepStrikes(c: StepCache, e: number): readonly number[] {
  let s = c.strikeLists.get(e);
  if (!s) {
    s = [...new Set([...quoteView(c, e).values()].map((q) => q.strike))].sort((a, b) => a - b);
    c.strikeLists.set(e, s);
  }
  return s;
}

/**
 * Whether `market` values `p`, by chainRiskMarket's rule (risk/chainMarket.ts): a market for its
 * underlying, and a perpetual, or an expiry after the valuation time within the listed expiries
 * (nothing is extrapolated).
 */
export function marketValues(market: RiskMarket, p: Position): boolean {
  const ins = p.instrument;
  const um = market.underlyings[ins.underlying];
  if (!um) return false;
  if (ins.expiry === null) return true;
  const f = um.forwards;
  const first = f[0];
  const last = f[f.length - 1];
  return (
    ins.expiry > market.valuationTime &&
    first !== undefined &&
    last !== undefined &&
    ins.expiry >= first.expiry &&
    ins.expiry <= last.expiry
  );
}

/** A chain source over a loaded ChainSnapshot (quotes grouped by expiry once). */
export function chainSource(chain: ChainSnapshot): StepChainSource {
  const byExpiry = groupByExpiry(
    chain.quotes,
    (q) => q.instrument.underlying === chain.underlying && q.instrument.expiry > chain.valuationTime,
  );
  const expiries = [...byExpiry.keys()].sort((a, b) => a - b);
  return {
    underlying: chain.underlying,
    valuationTime: chain.valuationTime,
    indexPrice: chain.indexPrice,
    futures: chain.futures ?? [],
    expiries: () => expiries,
    quotes: (e) => byExpiry.get(e) ?? [],
    whole: () => chain,
  };
}

/**
 * A raw `ChainSnapshot` as a backtest step (a thin view: nothing is computed until asked).
 * Quote cleaning and its reasons are normalizeChain's (market/normalize.ts).
 */
export function backtestStepFromChain(chain: ChainSnapshot, opts: StepOptions = {}): BacktestStep {
  if (!(chain.indexPrice > 0))
    throw new InvalidInputError("chain.indexPrice", chain.indexPrice, "must be > 0");
  return stepFromSource(chainSource(chain), opts);
}

/**
 * The market one backtest step of `chain` values a book on, and which of `positions` it values:
 * chainMarketInputs([chain], { surface: "marks" }) then chainRiskMarket on the whole chain (the
 * engine's restricted markets agree with it on every position at their expiries, see the module
 * comment). Throws an InvalidInputError when the chain gives no market (no quote with a mark vol).
 */
export function backtestStepMarket(
  chain: ChainSnapshot,
  positions: readonly Position[] = [],
): ChainBookValuation {
  const built = chainMarketInputs([chain], MARKS);
  if (built.inputs.length === 0)
    throw new InvalidInputError(
      "chain",
      chain.underlying,
      `gives no market: ${built.leftOut.map((l) => l.detail).join("; ") || "no quote"}`,
    );
  return chainRiskMarket(built.inputs, positions);
}
