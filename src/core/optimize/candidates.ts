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
import { standardOptionMarginCoin } from "../margin/standard.js";
import type { CleanQuote, MarketSnapshot } from "../market/types.js";
import { expiryBucket, positionGreeks } from "../risk/greeks.js";
import { forwardAtExpiry, type RiskMarket, underlyingMarket } from "../risk/market.js";
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

/** Builds candidates from `snapshot.quotes` (one underlying) against `market`. */
export function buildOptimizeCandidates(o: {
  readonly snapshot: MarketSnapshot;
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
  readonly stressScenarios?: readonly Scenario[];
  readonly filter?: CandidateFilter;
}): CandidateSet {
  const f = o.filter ?? {};
  const t0 = o.market.valuationTime;
  const um = underlyingMarket(o.market, o.snapshot.underlying);
  const S = um.indexPrice;
  const rejected: CandidateSet["rejected"] = [];
  const kept: { q: CleanQuote; g: ReturnType<typeof positionGreeks> }[] = [];
  for (const q of o.snapshot.quotes) {
    const ins = q.instrument;
    const name = ins.name;
    if (ins.underlying !== o.snapshot.underlying) {
      rejected.push({ name, reason: "other-underlying" });
      continue;
    }
    const days = daysBetween(t0, ins.expiry);
    if (
      days <= 0 ||
      (f.minDays !== undefined && days < f.minDays) ||
      (f.maxDays !== undefined && days > f.maxDays)
    ) {
      rejected.push({ name, reason: "expiry-window" });
      continue;
    }
    if (q.bid === null && q.ask === null) {
      rejected.push({ name, reason: "no-quote" });
      continue;
    }
    const g = positionGreeks({ instrument: ins, quantity: 1 }, o.market);
    // Black's forward delta per contract: dV_usd/dS = usdPerBlack x delta x F/S (greeks.ts).
    const mi = optionMarketInputs(ins, o.market);
    const blackDelta = Math.abs(
      g.deltaUnderlyingCoin / ins.contractSize / ((mi.usdPerBlack * mi.forward) / S),
    );
    if (
      (f.minAbsDelta !== undefined && blackDelta < f.minAbsDelta) ||
      (f.maxAbsDelta !== undefined && blackDelta > f.maxAbsDelta)
    ) {
      rejected.push({ name, reason: "delta-window" });
      continue;
    }
    if (f.maxRelativeSpread !== undefined && q.bid !== null && q.ask !== null) {
      const mid = (q.bid + q.ask) / 2;
      if ((q.ask - q.bid) / mid > f.maxRelativeSpread) {
        rejected.push({ name, reason: "wide-spread" });
        continue;
      }
    }
    if (f.minOpenInterest !== undefined && (q.openInterest ?? 0) < f.minOpenInterest) {
      rejected.push({ name, reason: "low-open-interest" });
      continue;
    }
    kept.push({ q, g });
  }
  const instruments = kept.map((k) => k.q.instrument);
  const positions: Position[] = instruments.map((instrument) => ({ instrument, quantity: 1 }));
  const pnl =
    kept.length > 0 ? scenarioPnlMatrix({ positions, market: o.market, scenarios: o.scenarios }) : [];
  const stress =
    o.stressScenarios && kept.length > 0
      ? scenarioPnlMatrix({ positions, market: o.market, scenarios: o.stressScenarios })
      : null;
  const candidates = kept.map(({ q, g }, i): OptimizeCandidate => {
    const ins = q.instrument;
    // The forward and fair vol the one valuation uses for this option (risk/valuation.ts).
    const { forward: F, vol: fairVol } = optionMarketInputs(ins, o.market);
    // USD of one contract's quote: an inverse quote is coins, worth the index each (as valuePosition
    // values the held option: coin premium x S), so bid/ask/fair are in the same USD.
    const conv = (ins.settlement === "inverse" ? S : 1) * ins.contractSize;
    const cap = (size: number | null | undefined): number => {
      let m = f.maxContracts ?? Number.POSITIVE_INFINITY;
      if (f.displayedSizeFraction !== undefined && size != null)
        m = Math.min(m, f.displayedSizeFraction * size);
      if (f.openInterestFraction !== undefined && q.openInterest != null)
        m = Math.min(m, f.openInterestFraction * q.openInterest);
      return Number.isFinite(m) ? m : 1e6;
    };
    const markCoin = q.mark ?? g.valueUsd / ins.contractSize / S;
    const marginCoin = standardOptionMarginCoin({
      kind: ins.kind,
      strike: ins.strike,
      underlyingPrice: F,
      markCoin: ins.settlement === "inverse" ? markCoin : markCoin / S,
      size: -ins.contractSize,
    }).initial;
    return {
      name: ins.name,
      bucket: expiryBucket(ins.expiry, t0),
      bidUsd: q.bid === null ? null : q.bid * conv,
      askUsd: q.ask === null ? null : q.ask * conv,
      fairUsd: g.valueUsd,
      fairVol,
      bidVol: q.bidVol,
      askVol: q.askVol,
      greeks: greeksOf(g),
      maxBuy: cap(q.askSize),
      maxSell: cap(q.bidSize),
      marginShortUsd: marginCoin * S,
      scenarioPnlUsd: pnl[i] as Float64Array,
      ...(stress ? { stressPnlUsd: stress[i] as Float64Array } : {}),
    };
  });
  return { candidates, instruments, rejected, input: o.snapshot.quotes.length };
}

/** The book's aggregate greeks, bucket greeks, scenario/stress PnL and margin (linear proxy). */
export function buildOptimizeBook(o: {
  readonly positions: readonly Position[];
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
  readonly stressScenarios?: readonly Scenario[];
}): OptimizeBook {
  const zero: OptimizeGreeks = { deltaCoin: 0, cashGammaUsd: 0, vegaUsdPerVolPt: 0, thetaUsdPerDay: 0 };
  let greeks = zero;
  const bucketGreeks: Record<string, OptimizeGreeks> = {};
  let marginUsd = 0;
  const add = (a: OptimizeGreeks, b: OptimizeGreeks): OptimizeGreeks => ({
    deltaCoin: a.deltaCoin + b.deltaCoin,
    cashGammaUsd: a.cashGammaUsd + b.cashGammaUsd,
    vegaUsdPerVolPt: a.vegaUsdPerVolPt + b.vegaUsdPerVolPt,
    thetaUsdPerDay: a.thetaUsdPerDay + b.thetaUsdPerDay,
  });
  for (const p of o.positions) {
    const g = greeksOf(positionGreeks(p, o.market));
    greeks = add(greeks, g);
    const ins = p.instrument;
    const b = expiryBucket(ins.expiry, o.market.valuationTime);
    bucketGreeks[b] = add(bucketGreeks[b] ?? zero, g);
    if (ins.type === "option" && p.quantity < 0) {
      const um = underlyingMarket(o.market, ins.underlying);
      const F = forwardAtExpiry(um, o.market.valuationTime, ins.expiry);
      const v = positionGreeks({ instrument: ins, quantity: 1 }, o.market).valueUsd / ins.contractSize;
      marginUsd +=
        standardOptionMarginCoin({
          kind: ins.kind,
          strike: ins.strike,
          underlyingPrice: F,
          markCoin: v / um.indexPrice,
          size: p.quantity * ins.contractSize,
        }).initial * um.indexPrice;
    }
  }
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
 * A delta-one hedge instrument (perpetual or future) as a candidate: fair value 0 (entered at the
 * mark), `costUsd` per contract each side, only delta and scenario PnL (and stress PnL when
 * stress scenarios are given), no margin charge, at most `maxContracts` each way.
 */
export function hedgeCandidate(o: {
  readonly instrument: Instrument;
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
  readonly stressScenarios?: readonly Scenario[];
  readonly costUsd: number;
  readonly maxContracts: number;
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
    scenarioPnlUsd: pnl(o.scenarios),
    ...(o.stressScenarios && o.stressScenarios.length > 0 ? { stressPnlUsd: pnl(o.stressScenarios) } : {}),
  };
}
