/**
 * Candidate data for the optimizer from a cleaned chain and the risk engine: per instrument
 * its greeks (risk/greeks.ts positionGreeks on a 1-contract position, surface vol), bid/ask in
 * USD per contract, fitted-surface fair value, size limits, standalone short margin (Deribit
 * standard margin, margin/standard.ts) and its full-revaluation scenario PnL vector
 * (risk/grid.ts scenarioPnlMatrix). Also the book's aggregate in the same units.
 *
 * Every quote is either a candidate or rejected with a reason (counts reconcile).
 * Units: USD per contract; deltaCoin in coins; vega per vol point; theta per day.
 */
import type { Instrument, OptionContract, Position } from "../instruments/types.js";
import { standardBookMargin } from "../margin/book.js";
import { sumUsd } from "../risk/account.js";
import type { CleanQuote, MarketSnapshot } from "../market/types.js";
import { expiryBucket, positionGreeks } from "../risk/greeks.js";
import { type RiskMarket, underlyingMarket } from "../risk/market.js";
import { scenarioPnlMatrix } from "../risk/grid.js";
import { optionMarketInputs } from "../risk/valuation.js";
import type { Scenario } from "../risk/scenario.js";
import type { CandidateFilter, OptimizeBook, OptimizeCandidate, OptimizeGreeks } from "./spec.js";
import { daysBetween } from "../time.js";

export type CandidateRejection =
  | "other-underlying"
  | "expiry-window"
  | "delta-window"
  | "no-quote"
  | "wide-spread"
  | "low-open-interest";

export interface CandidateSet {
  readonly candidates: OptimizeCandidate[];
  /** The instruments behind the candidates (same order). */
  readonly instruments: OptionContract[];
  readonly rejected: { readonly name: string; readonly reason: CandidateRejection }[];
  readonly input: number;
}

function greeksOf(g: ReturnType<typeof positionGreeks>): OptimizeGreeks {
  return {
    deltaCoin: g.deltaUnderlyingCoin,
    cashGammaUsd: g.cashGammaUsd,
    vegaUsdPerVolPt: g.vegaUsd * 0.01,
    thetaUsdPerDay: g.thetaUsdPerDay,
  };
}

/**
 * Deribit's minimum trade amount of an instrument, in contracts (public/get_instruments
 * `min_trade_amount`, published specification; the chain files carry no instrument data):
 * inverse options 0.1 BTC / 1 ETH (contract = 1 coin); linear USDC options, futures and
 * perpetuals 1 contract (their contract size: 0.01 BTC / 0.1 ETH options, 10 USD BTC and 1 USD
 * ETH inverse futures, 0.001 BTC / 0.01 ETH linear perpetuals).
 */
export function deribitMinTradeContracts(ins: Instrument): number {
  if (ins.type === "option" && ins.settlement === "inverse")
    return (ins.underlying === "BTC" ? 0.1 : 1) / ins.contractSize;
  return 1;
}

/** Inputs of buildOptimizeCandidates. */
export interface CandidateInputs {
  readonly snapshot: MarketSnapshot;
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
  readonly stressScenarios?: readonly Scenario[];
  readonly filter?: CandidateFilter;
  /** The book: a candidate's heldContracts is the book's net position in its instrument. */
  readonly positions?: readonly Position[];
}

/** Why a quote is not a candidate (the filter's order: underlying, expiry window, quote, |delta|, spread, OI), or null. */
function rejectReason(
  o: CandidateInputs,
  q: CleanQuote,
  g: () => ReturnType<typeof positionGreeks>,
): CandidateRejection | null {
  const f = o.filter ?? {};
  const ins = q.instrument;
  if (ins.underlying !== o.snapshot.underlying) return "other-underlying";
  const days = daysBetween(o.market.valuationTime, ins.expiry);
  if (
    days <= 0 ||
    (f.minDays !== undefined && days < f.minDays) ||
    (f.maxDays !== undefined && days > f.maxDays)
  )
    return "expiry-window";
  if (q.bid === null && q.ask === null) return "no-quote";
  if (f.minAbsDelta !== undefined || f.maxAbsDelta !== undefined) {
    // Black's forward delta per contract: dV_usd/dS = usdPerBlack x delta x F/S (greeks.ts).
    const S = underlyingMarket(o.market, o.snapshot.underlying).indexPrice;
    const mi = optionMarketInputs(ins, o.market);
    const blackDelta = Math.abs(
      g().deltaUnderlyingCoin / ins.contractSize / ((mi.usdPerBlack * mi.forward) / S),
    );
    if (
      (f.minAbsDelta !== undefined && blackDelta < f.minAbsDelta) ||
      (f.maxAbsDelta !== undefined && blackDelta > f.maxAbsDelta)
    )
      return "delta-window";
  }
  if (f.maxRelativeSpread !== undefined && q.bid !== null && q.ask !== null) {
    const mid = (q.bid + q.ask) / 2;
    if ((q.ask - q.bid) / mid > f.maxRelativeSpread) return "wide-spread";
  }
  if (f.minOpenInterest !== undefined && (q.openInterest ?? 0) < f.minOpenInterest)
    return "low-open-interest";
  return null;
}

/** Size cap of one side, contracts: maxContracts, the displayed size and open interest fractions (1e6 when none). */
function sizeCap(f: CandidateFilter, q: CleanQuote, size: number | null | undefined): number {
  let m = f.maxContracts ?? Number.POSITIVE_INFINITY;
  if (f.displayedSizeFraction !== undefined && size != null) m = Math.min(m, f.displayedSizeFraction * size);
  if (f.openInterestFraction !== undefined && q.openInterest != null)
    m = Math.min(m, f.openInterestFraction * q.openInterest);
  return Number.isFinite(m) ? m : 1e6;
}

/** One kept quote as a candidate: USD prices, fair value and vol, greeks, size caps, margin, scenario PnL. */
function candidateOf(
  o: CandidateInputs,
  k: { q: CleanQuote; g: ReturnType<typeof positionGreeks> },
  pnl: { scenario: Float64Array; stress: Float64Array | null; held: number | undefined },
): OptimizeCandidate {
  const { q, g } = k;
  const f = o.filter ?? {};
  const ins = q.instrument;
  const S = underlyingMarket(o.market, o.snapshot.underlying).indexPrice;
  // The fair vol the one valuation uses for this option (risk/valuation.ts).
  const { vol: fairVol } = optionMarketInputs(ins, o.market);
  // USD of one contract's quote: an inverse quote is coins, worth the index each (as valuePosition
  // values the held option: coin premium x S), so bid/ask/fair are in the same USD.
  const conv = (ins.settlement === "inverse" ? S : 1) * ins.contractSize;
  return {
    name: ins.name,
    bucket: expiryBucket(ins.expiry, o.market.valuationTime),
    bidUsd: q.bid === null ? null : q.bid * conv,
    askUsd: q.ask === null ? null : q.ask * conv,
    fairUsd: g.valueUsd,
    fairVol,
    bidVol: q.bidVol,
    askVol: q.askVol,
    greeks: greeksOf(g),
    maxBuy: sizeCap(f, q, q.askSize),
    maxSell: sizeCap(f, q, q.bidSize),
    marginShortUsd: standardMarginUsd([{ instrument: ins, quantity: -1 }], o.market),
    ...(pnl.held !== undefined ? { heldContracts: pnl.held } : {}),
    minTradeContracts: deribitMinTradeContracts(ins),
    scenarioPnlUsd: pnl.scenario,
    ...(pnl.stress ? { stressPnlUsd: pnl.stress } : {}),
  };
}

/** Builds candidates from `snapshot.quotes` (one underlying) against `market`. */
export function buildOptimizeCandidates(o: CandidateInputs): CandidateSet {
  const held = new Map<string, number>();
  for (const p of o.positions ?? [])
    held.set(p.instrument.name, (held.get(p.instrument.name) ?? 0) + p.quantity);
  const rejected: CandidateSet["rejected"] = [];
  const kept: { q: CleanQuote; g: ReturnType<typeof positionGreeks> }[] = [];
  for (const q of o.snapshot.quotes) {
    let greeks: ReturnType<typeof positionGreeks> | null = null;
    const g = () => {
      greeks ??= positionGreeks({ instrument: q.instrument, quantity: 1 }, o.market);
      return greeks;
    };
    const reason = rejectReason(o, q, g);
    if (reason) rejected.push({ name: q.instrument.name, reason });
    else kept.push({ q, g: g() });
  }
  const instruments = kept.map((k) => k.q.instrument);
  const positions: Position[] = instruments.map((instrument) => ({ instrument, quantity: 1 }));
  const pnl =
    kept.length > 0 ? scenarioPnlMatrix({ positions, market: o.market, scenarios: o.scenarios }) : [];
  const stress =
    o.stressScenarios && kept.length > 0
      ? scenarioPnlMatrix({ positions, market: o.market, scenarios: o.stressScenarios })
      : null;
  const candidates = kept.map((k, i) =>
    candidateOf(o, k, {
      scenario: pnl[i] ?? new Float64Array(o.scenarios.length),
      stress: stress ? (stress[i] ?? null) : null,
      held: held.get(k.q.instrument.name),
    }),
  );
  return { candidates, instruments, rejected, input: o.snapshot.quotes.length };
}

/**
 * Deribit standard initial margin of positions in USD: the core engine (margin/book.ts
 * standardBookMargin) on the positions netted by instrument (Deribit holds one position per
 * instrument), each settlement currency at its USD price (risk/account.ts sumUsd, as
 * `volfolio margin` reports it).
 */
export function standardMarginUsd(positions: readonly Position[], market: RiskMarket): number {
  const m = standardBookMargin(netByInstrument(positions), market);
  const by: Record<string, number> = {};
  for (const [c, v] of Object.entries(m.byCurrency)) by[c] = v.initial;
  return sumUsd(by, market).totalUsd;
}

/** Positions netted by instrument name (first leg's fields, summed quantity; flat ones dropped). */
export function netByInstrument(positions: readonly Position[]): Position[] {
  const by = new Map<string, Position>();
  for (const p of positions) {
    const prev = by.get(p.instrument.name);
    by.set(p.instrument.name, prev ? { ...prev, quantity: prev.quantity + p.quantity } : p);
  }
  return [...by.values()].filter((p) => p.quantity !== 0);
}

/** The book's aggregate greeks, bucket greeks, scenario/stress PnL and standard margin (USD). */
export function buildOptimizeBook(o: {
  readonly positions: readonly Position[];
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
  readonly stressScenarios?: readonly Scenario[];
}): OptimizeBook {
  const zero: OptimizeGreeks = { deltaCoin: 0, cashGammaUsd: 0, vegaUsdPerVolPt: 0, thetaUsdPerDay: 0 };
  let greeks = zero;
  const bucketGreeks: Record<string, OptimizeGreeks> = {};
  const add = (a: OptimizeGreeks, b: OptimizeGreeks): OptimizeGreeks => ({
    deltaCoin: a.deltaCoin + b.deltaCoin,
    cashGammaUsd: a.cashGammaUsd + b.cashGammaUsd,
    vegaUsdPerVolPt: a.vegaUsdPerVolPt + b.vegaUsdPerVolPt,
    thetaUsdPerDay: a.thetaUsdPerDay + b.thetaUsdPerDay,
  });
  for (const p of o.positions) {
    const g = greeksOf(positionGreeks(p, o.market));
    greeks = add(greeks, g);
    const b = expiryBucket(p.instrument.expiry, o.market.valuationTime);
    bucketGreeks[b] = add(bucketGreeks[b] ?? zero, g);
  }
  const marginUsd = o.positions.length > 0 ? standardMarginUsd(o.positions, o.market) : 0;
  const sumRows = (scen: readonly Scenario[]): Float64Array => {
    const out = new Float64Array(scen.length);
    if (o.positions.length === 0) return out;
    for (const row of scenarioPnlMatrix({ positions: o.positions, market: o.market, scenarios: scen }))
      for (let s = 0; s < scen.length; s++) out[s] = (out[s] as number) + (row[s] as number);
    return out;
  };
  return {
    greeks,
    bucketGreeks,
    scenarioPnlUsd: sumRows(o.scenarios),
    ...(o.stressScenarios ? { stressPnlUsd: sumRows(o.stressScenarios) } : {}),
    marginUsd,
  };
}

/**
 * A held option as a "keep" decision: one-sided, capped at the held size and priced at the cost
 * of closing it (short: sell-only at ask + closeCostUsd; long: buy-only at bid - closeCostUsd).
 * Not trading it closes the position; keeping it earns the closing cost it avoids. So greeks,
 * scenario PnL, margin and the cost of closing are all exact in the LP. `c` is the candidate of
 * the held instrument; null when it has no closing quote (keep the position as fixed instead).
 */
export function keepDecisionCandidate(
  c: OptimizeCandidate,
  heldQuantity: number,
  closeCostUsd = 0,
): OptimizeCandidate | null {
  const close = heldQuantity < 0 ? c.askUsd : c.bidUsd;
  if (close === null) return null;
  const size = Math.abs(heldQuantity);
  const name = `${c.name} (held)`;
  return heldQuantity < 0
    ? { ...c, name, bidUsd: close + closeCostUsd, askUsd: null, maxSell: size, maxBuy: 0 }
    : { ...c, name, askUsd: close - closeCostUsd, bidUsd: null, maxBuy: size, maxSell: 0 };
}

/**
 * The engine's standard initial margin (USD) of net positions held + x, x at 65 breakpoints on
 * [-maxContracts, maxContracts] (and 0 net): futures margin N (base + perCoin N) is convex in the
 * size, so the interpolation lies on or above it, by at most perCoin x (step in coins)^2 / 4 x price
 * (a fraction of a cent for BTC at 1/32 of 1e4 contracts of 10 USD).
 */
export function futureMarginCurve(
  instrument: Instrument,
  market: RiskMarket,
  heldContracts: number,
  maxContracts: number,
): { contracts: number[]; marginUsd: number[] } {
  const pts = new Set<number>([0]);
  const K = 32;
  for (let k = -K; k <= K; k++) pts.add(heldContracts + (maxContracts * k) / K);
  return futureMarginAt(instrument, market, pts);
}

/**
 * The engine's standard margin (USD) of a position of x contracts of a delta-one instrument at each
 * distinct x of `points`, sorted ascending; 0 at a flat position. The curve a hedge candidate's
 * margin is read from, whatever its breakpoints.
 */
export function futureMarginAt(
  instrument: Instrument,
  market: RiskMarket,
  points: Iterable<number>,
): { contracts: number[]; marginUsd: number[] } {
  const contracts = [...new Set(points)].sort((a, b) => a - b);
  const marginUsd = contracts.map((x) =>
    x === 0 ? 0 : standardMarginUsd([{ instrument, quantity: x }], market),
  );
  return { contracts, marginUsd };
}

/**
 * A delta-one hedge instrument (perpetual or future) as a candidate: fair value 0 (entered at the
 * mark), `costUsd` per contract each side, only delta and scenario PnL (and stress PnL when
 * stress scenarios are given), its standard margin as the engine's curve (futureMarginCurve), at
 * most `maxContracts` each way.
 */
export function hedgeCandidate(o: {
  readonly instrument: Instrument;
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
  readonly stressScenarios?: readonly Scenario[];
  readonly costUsd: number;
  readonly maxContracts: number;
  /** Contracts of this instrument already held (the margin curve covers held +- maxContracts). */
  readonly heldContracts?: number;
}): OptimizeCandidate {
  const position: Position = { instrument: o.instrument, quantity: 1 };
  const pnl = (scenarios: readonly Scenario[]) =>
    scenarioPnlMatrix({ positions: [position], market: o.market, scenarios })[0] as Float64Array;
  return {
    name: o.instrument.name,
    bucket: expiryBucket(o.instrument.expiry, o.market.valuationTime),
    bidUsd: -o.costUsd,
    askUsd: o.costUsd,
    fairUsd: 0,
    greeks: {
      deltaCoin: positionGreeks(position, o.market).deltaUnderlyingCoin,
      cashGammaUsd: 0,
      vegaUsdPerVolPt: 0,
      thetaUsdPerDay: 0,
    },
    maxBuy: o.maxContracts,
    maxSell: o.maxContracts,
    marginShortUsd: 0,
    minTradeContracts: deribitMinTradeContracts(o.instrument),
    ...(o.heldContracts ? { heldContracts: o.heldContracts } : {}),
    marginCurve: futureMarginCurve(o.instrument, o.market, o.heldContracts ?? 0, o.maxContracts),
    scenarioPnlUsd: pnl(o.scenarios),
    ...(o.stressScenarios && o.stressScenarios.length > 0 ? { stressPnlUsd: pnl(o.stressScenarios) } : {}),
  };
}
