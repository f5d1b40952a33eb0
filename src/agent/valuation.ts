/**
 * The agent's book on the tick's market: a thin adapter over the core valuation (DESIGN.md: one
 * market model, one valuation). Nothing here prices anything itself.
 *
 * Market of a tick: THE chain -> market step, chainMarketInputs([snapshot], { surface: "marks" })
 * (core/risk/chainMarket.ts: the chain normalized, one forward per listed expiry, the surface
 * through the chain's marks). With analytics the analytics' fitted surface (aged between refits,
 * analytics.ts) replaces the marks surface as the input's `fitted` surface; either way
 * chainRiskMarket pins it to the chain's marks, so a position at a quoted (strike, expiry) is
 * valued at that quote's mark vol on the expiry's forward.
 *
 * Book: the AgentBook's positions as core Positions (futures with their average entry price),
 * split by chainRiskMarket into the positions the market values and those it cannot
 * (underlying-not-in-market, expired, outside-expiry-range): the latter are listed by name and
 * reason in `unpriced` and left out of every figure, never counted as zero risk (the loop goes
 * reduce-only while any exists). Greeks: core portfolioGreeks; equity: core bookEquity (cash by
 * currency + the valued positions).
 *
 * Units (AgentGreeks, every figure names its currency):
 *   deltaUnderlyingCoin       coins of the underlying: sum of Black-76 forward delta x contracts x
 *                             size for inverse options (Deribit's `delta`), m / entry for inverse
 *                             futures (core greeks.ts)
 *   deltaPremiumAdjustedCoin  coins: deltaUnderlyingCoin minus the options' coin value
 *   vegaUsdPerVol             USD per 1.00 (100 vol points) of implied vol; vegaUsdPerVolPt = x 0.01
 *   thetaUsdPerDay            USD per calendar day (F and vol fixed)
 *   inverse options by Deribit's mark convention: valueCoin = Black-76(F) / F, valueUsd = valueCoin x index.
 */
import { instrumentFromName } from "../core/instruments/names.js";
import type { Instrument, Position } from "../core/instruments/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { type BookEquity, bookEquity } from "../core/risk/account.js";
import {
  type ChainBookValuation,
  type ChainExclusionReason,
  type ChainMarketInput,
  chainMarketInputs,
  chainRiskMarket,
} from "../core/risk/chainMarket.js";
import {
  type GreekFigures,
  type PortfolioGreeks,
  portfolioGreeks,
  positionGreeks,
  zeroGreekFigures,
} from "../core/risk/greeks.js";
import { forwardAtExpiry, type RiskMarket } from "../core/risk/market.js";
import { optionMarketInputs } from "../core/risk/valuation.js";
import type { VolSurface } from "../core/surface/types.js";
import { perVolPoint } from "../core/time.js";
import type { AgentBook } from "./book.js";

/** One tick's market input: the normalized chain and the surface to pin to its marks. */
export interface TickMarketInput extends ChainMarketInput {
  /** "chain-marks", or the analytics' fit (e.g. "svi+aged"). */
  readonly surfaceSource: string;
}

/** The tick's market input, or why the chain gives no market (no quote with a mark vol). */
export type TickMarketResult =
  | { readonly ok: true; readonly input: TickMarketInput }
  | { readonly ok: false; readonly reason: string };

/** A fitted surface to value on instead of the marks surface (the analytics' fit). */
export interface FittedSurface {
  readonly surface: VolSurface;
  /** Named in the report, e.g. "svi+aged". */
  readonly source: string;
}

/** THE chain -> market step for an agent tick (module comment). */
export function tickMarketInput(snapshot: ChainSnapshot): TickMarketResult {
  const built = chainMarketInputs([snapshot], { surface: "marks" });
  const input = built.inputs[0];
  if (!input)
    return {
      ok: false,
      reason: built.leftOut.map((l) => `${l.reason}: ${l.detail}`).join("; ") || "no market",
    };
  return {
    ok: true,
    input: { normalized: input.normalized, fitted: input.fitted, surfaceSource: input.surfaceSource },
  };
}

/** The same input with the analytics' fitted surface in place of the marks surface. */
export function withFittedSurface(input: TickMarketInput, fitted: FittedSurface | null): TickMarketInput {
  return fitted
    ? { normalized: input.normalized, fitted: fitted.surface, surfaceSource: fitted.source }
    : input;
}

/** Resolves book names to instruments (default: Deribit names, core/instruments/names.ts). */
export type ResolveInstrument = (name: string) => Instrument;

/** The book's positions as core Positions (futures with their average entry price). */
export function bookPositions(
  book: AgentBook,
  resolveInstrument: ResolveInstrument = instrumentFromName,
): Position[] {
  return Object.values(book.positions).map((p) => ({
    instrument: resolveInstrument(p.instrument),
    quantity: p.quantity,
    ...(p.entryPrice !== undefined ? { entryPrice: p.entryPrice } : {}),
  }));
}

/** The book's greeks on the tick's market (units: module comment). */
export interface AgentGreeks {
  /** Underlying coin of every coin figure. */
  readonly underlying: string;
  readonly valueUsd: number;
  readonly valueCoin: number;
  readonly deltaUnderlyingCoin: number;
  readonly deltaPremiumAdjustedCoin: number;
  readonly cashDeltaUsd: number;
  /** d2 V_usd / dS2: coins per USD of spot. */
  readonly gammaCoinPerUsd: number;
  readonly vegaUsdPerVol: number;
  readonly vegaUsdPerVolPt: number;
  readonly thetaUsdPerDay: number;
  readonly thetaCoinPerDay: number;
}

/** What each AgentGreeks figure is, for readers of GET /state. */
export const AGENT_GREEK_UNITS: Readonly<Record<Exclude<keyof AgentGreeks, "underlying">, string>> = {
  valueUsd: "USD; inverse options: Black-76(F)/F coins x index (Deribit's mark convention)",
  valueCoin: "coins of the underlying",
  deltaUnderlyingCoin:
    "coins: Black-76 forward delta x contracts x size summed (Deribit's delta column); inverse futures: contracts x size / entry",
  deltaPremiumAdjustedCoin:
    "coins: deltaUnderlyingCoin minus the positions' coin value (coin-margined account delta)",
  cashDeltaUsd: "USD: deltaUnderlyingCoin x index",
  gammaCoinPerUsd: "coins per USD of spot move (d2 V_usd / dS2)",
  vegaUsdPerVol: "USD per 1.00 (100 vol points) of implied vol",
  vegaUsdPerVolPt: "USD per vol point (0.01)",
  thetaUsdPerDay: "USD per calendar day, forward and vol fixed",
  thetaCoinPerDay: "coins per calendar day",
};

function agentGreeks(underlying: string, g: GreekFigures): AgentGreeks {
  return {
    underlying,
    valueUsd: g.valueUsd,
    valueCoin: g.valueCoin,
    deltaUnderlyingCoin: g.deltaUnderlyingCoin,
    deltaPremiumAdjustedCoin: g.deltaCoin,
    cashDeltaUsd: g.cashDeltaUsd,
    gammaCoinPerUsd: g.gammaCoinPerUsd,
    vegaUsdPerVol: g.vegaUsd,
    vegaUsdPerVolPt: perVolPoint(g.vegaUsd),
    thetaUsdPerDay: g.thetaUsdPerDay,
    thetaCoinPerDay: g.thetaCoinPerDay,
  };
}

/** A position the market cannot value (chainRiskMarket's reasons). */
export interface UnpricedPosition {
  readonly instrument: string;
  readonly quantity: number;
  readonly reason: ChainExclusionReason;
  readonly detail: string;
}

/** One valued position's figures. */
export interface AgentPositionRisk {
  readonly instrument: string;
  readonly quantity: number;
  readonly valueUsd: number;
  readonly valueCoin: number;
  readonly deltaUnderlyingCoin: number;
  readonly vegaUsdPerVolPt: number;
  readonly thetaUsdPerDay: number;
  /** Options: the vol (decimal) and forward (USD) it is valued at, and the vol's source. */
  readonly vol?: number;
  readonly forwardUsd?: number;
  readonly volSource?: string;
}

/** What GET /state reports for risk (agentRiskReport). */
export interface AgentRiskReport {
  /** The market: valuation time (epoch ms UTC and ISO), underlying, index (USD), surface. */
  readonly valuationTime: number;
  readonly valuationTimeIso: string;
  readonly underlying: string;
  readonly indexPriceUsd: number;
  /** Surface pinned to the chain's marks: "chain-marks" or the analytics' fit. */
  readonly surface: string;
  /** Greeks of the valued positions (all of them when `unpriced` is empty). */
  readonly greeks: AgentGreeks;
  readonly units: typeof AGENT_GREEK_UNITS;
  /** Cash + valued positions per settlement currency, and in USD (core bookEquity). */
  readonly equity: BookEquity;
  readonly positions: AgentPositionRisk[];
  /** Positions left out of every figure, by name and reason. */
  readonly unpriced: UnpricedPosition[];
}

/** The book valued on one tick's market. */
export interface AgentValuation {
  readonly input: TickMarketInput;
  readonly market: RiskMarket;
  /** chainRiskMarket's split of the book. */
  readonly chain: ChainBookValuation;
  readonly greeks: PortfolioGreeks;
  readonly equity: BookEquity;
  readonly report: AgentRiskReport;
}

/** Values `book` on a tick's market input (module comment). */
export function valueAgentBook(
  input: TickMarketInput,
  book: AgentBook,
  resolveInstrument: ResolveInstrument = instrumentFromName,
): AgentValuation {
  const chain = chainRiskMarket([input], bookPositions(book, resolveInstrument));
  const { market, accepted } = chain;
  const greeks = portfolioGreeks(accepted, market);
  const equity = bookEquity(accepted, book.cash, market);
  const s = input.normalized.snapshot;
  const byName = new Map(chain.options.map((o) => [o.name, o]));
  const report: AgentRiskReport = {
    valuationTime: s.valuationTime,
    valuationTimeIso: new Date(s.valuationTime).toISOString(),
    underlying: s.underlying,
    indexPriceUsd: s.indexPrice,
    surface: `${input.surfaceSource} pinned to the chain's marks`,
    greeks: agentGreeks(s.underlying, greeks.byUnderlying[s.underlying] ?? zeroGreekFigures()),
    units: AGENT_GREEK_UNITS,
    equity,
    positions: accepted.map((p, i) => {
      const g = greeks.positions[i] as GreekFigures;
      const o = byName.get(p.instrument.name);
      return {
        instrument: p.instrument.name,
        quantity: p.quantity,
        valueUsd: g.valueUsd,
        valueCoin: g.valueCoin,
        deltaUnderlyingCoin: g.deltaUnderlyingCoin,
        vegaUsdPerVolPt: perVolPoint(g.vegaUsd),
        thetaUsdPerDay: g.thetaUsdPerDay,
        ...(o ? { vol: o.vol, forwardUsd: o.forward, volSource: o.source } : {}),
      };
    }),
    unpriced: chain.excluded.map((x) => ({
      instrument: x.position.instrument.name,
      quantity: x.position.quantity,
      reason: x.reason,
      detail: x.detail,
    })),
  };
  return { input, market, chain, greeks, equity, report };
}

/**
 * What GET /state reports for risk, as a pure function of a chain snapshot and the agent's book
 * (the server and the loop call it; a cross-path test can compare it with `volfolio risk` on the
 * same chain and book). `fitted`: the analytics' surface when analytics are on (default: the
 * surface through the chain's marks). Throws a RangeError when the chain gives no market.
 */
export function agentRiskReport(
  snapshot: ChainSnapshot,
  book: AgentBook,
  options: { readonly resolveInstrument?: ResolveInstrument; readonly fitted?: FittedSurface | null } = {},
): AgentRiskReport {
  const r = tickMarketInput(snapshot);
  if (!r.ok) throw new RangeError(`no market from the ${snapshot.underlying} chain: ${r.reason}`);
  return valueAgentBook(withFittedSurface(r.input, options.fitted ?? null), book, options.resolveInstrument)
    .report;
}

/** Greeks of one contract (quantity 1) on the tick's market. */
export interface ContractGreeks {
  readonly deltaUnderlyingCoin: number;
  /** USD per 1.00 vol. */
  readonly vegaUsdPerVol: number;
  /** The market's forward of the instrument's expiry, USD (the index for a perpetual). */
  readonly forwardUsd: number;
}

/**
 * Per-contract greeks of an instrument the market values: a clean quote of the tick's chain
 * (its expiry is a listed one), the hedge perpetual, or an accepted book position. Null when the
 * market has no such underlying or the figures are not finite.
 */
export function contractGreeks(instrument: Instrument, market: RiskMarket): ContractGreeks | null {
  const um = market.underlyings[instrument.underlying];
  if (!um) return null;
  if (instrument.expiry !== null && instrument.expiry <= market.valuationTime) return null;
  const g = positionGreeks({ instrument, quantity: 1 }, market);
  if (!Number.isFinite(g.deltaUnderlyingCoin) || !Number.isFinite(g.vegaUsd)) return null;
  const forwardUsd =
    instrument.type === "option"
      ? optionMarketInputs(instrument, market).forward
      : forwardAtExpiry(um, market.valuationTime, instrument.expiry);
  return { deltaUnderlyingCoin: g.deltaUnderlyingCoin, vegaUsdPerVol: g.vegaUsd, forwardUsd };
}
