/**
 * Portfolio margin by risk matrix as Deribit computes it (segregated portfolio margin, S:PM):
 * per settlement currency (inverse BTC legs in BTC, ETH in ETH, linear legs in USDC), with the
 * parameters of `private/pme/simulate` as data (params/: one file per currency, each citing its
 * source). Units: every amount in the settlement currency (coin, or USDC), moves relative, vols
 * decimal, DTE in days = T x 365 (core/time.ts).
 *
 * For each currency pair u (underlying) with parameters P_u (params/btc.ts, eth.ts):
 *   Standard table: 2 B + 1 price buckets (B = bucketsCount = 4: 9 points, -16%..+16% for BTC,
 *     -18%..+18% for ETH; bucket b moves index, forwards and futures by P_u.priceRange x b / B)
 *     x 3 vol scenarios (up, same, down) = 27 cells, in Deribit's vector order (bucket-major from
 *     the lowest price; up, same, down inside a bucket). Options keep their own IV (sticky-strike)
 *     and that IV is shocked with the DTE power law f = (30 / max(DTE, 1))^p, p = short-term
 *     power (0.30) below 30 days and long-term power (0.13) from 30 days:
 *       up:   IV + max(IV, minVolatilityForShockUp) x volatilityRangeUp x f
 *       down: IV x (1 - volatilityRangeDown x f)           (floored at volFloor)
 *   Extended table: the moves -66%, -33%, +50%, +100%, +200%, +300%, +400%, +500% with vol up;
 *     options are revalued at the move, futures at the move clamped to +-priceRange (Deribit's
 *     documented initial_risk_vectors show a future's extended entries equal to its +-16% ones);
 *     the pair's PnL counts with weight extendedTableFactor x min(1, priceRange / |move|) (reading
 *     of "only a fraction of simulated P&L"; Paradex, modelled on Deribit, publishes exactly these
 *     weights: 24% at -66%, 3.2% at +500% for a 16% range).
 * Per currency, every cell's pair PnLs x_u are aggregated as
 *     sum_u min(x_u, 0) + min(pnlOffset x sum_u max(x_u, 0), maxOffsetablePnl)
 * (pnl_offset: Deribit's documented aggregated_risk_vectors equal the pre-aggregated ones with
 * every gain multiplied by pnl_offset; 0 for btc and usd, 0.6 for eth), and an extended cell is
 * then dampened toward zero by extended_dampener (USD, converted at the index): |x| -> max(0,
 * |x| - D) (reading: a deductible, so the extended table charges only large tail losses, which is
 * what the article says it is for; Deribit's documented aggregated extended vectors are 0 for
 * small books). Then
 *   worstCase   = max(0, largest aggregated loss over the 27 + 8 cells)
 *   rollShock   = sum over futures |net size in coin| x max(annualisedMoveRisk x T, minAnnualisedMove)
 *                 (x mark for USDC; legs of one instrument net first): reproduces Deribit's
 *                 documented roll_shock (0.01 x size for a perpetual and for an 11-day future:
 *                 linear in T, not sqrt T, which would differ)
 *   deltaShock  = sum over pairs maxDeltaShock x max(0, |delta USD| - deltaTotalLiqShockThreshold),
 *                 in the currency (delta = Black forward delta of options + futures, coins x index)
 *   initial     = worstCase + rollShock + deltaShock   (Deribit's risk_matrix_margin; margins on
 *                 open orders and MMP are not modelled; correlation_contingency is 0 here)
 *   maintenance = mmFactor x initial (0.8)
 * Each of these (and the vectors before and after aggregation, and the worst cell with Deribit's
 * index/bucket/side) is in the result, as the simulator lists them. Ties between equal worst
 * cells resolve to the unchanged-vol cell (Deribit's published worst_case_bucket: index 1 of three
 * equal cells).
 * Sources and readings: params/btc.ts (module comment); Deribit "Portfolio Margin" article
 * (support.deribit.com article 25944756247837). Deribit changes the values without notice: pass
 * current ones.
 */
import { InvalidInputError } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { positionGreeks } from "../risk/greeks.js";
import { forwardAtExpiry, type RiskMarket, underlyingMarket } from "../risk/market.js";
import { assertLive, resolveFutureEntries, valuePosition } from "../risk/valuation.js";
import { timeToExpiry } from "../time.js";
import { assertExchangeMarginable, settlementCurrency } from "./book.js";
import { DERIBIT_PORTFOLIO_MARGIN } from "./params/index.js";
import type { PmCurrencyParams, PmPairParams, PortfolioMarginParams } from "./params/types.js";
import { type PmVolScenario, pmPairOf } from "./pmCellMarket.js";
import {
  aggregateCellPnl,
  type PmExtendedCell,
  type PmGrid,
  type PmStandardCell,
  pmBucketsCount,
  pmDampen,
  pmDeltaShockUsd,
  pmExtendedWeight,
  pmGrid,
  pmRollRate,
  pmWorstCell,
  sortUnderlyings,
} from "./pmGrid.js";

export { aggregateCellPnl } from "./pmGrid.js";

export { DERIBIT_PORTFOLIO_MARGIN } from "./params/index.js";
export type { PortfolioMarginParams } from "./params/types.js";
export { type PmVolScenario, pmCellMarket, pmShockedVol, pmVegaPowerFactor } from "./pmCellMarket.js";

/** One risk-matrix cell. */
export interface RiskMatrixCell {
  /** Relative move of the first underlying involved (BTC when present); see spotMoveByUnderlying. */
  readonly spotMove: number;
  /** Relative move of each underlying in this cell (pairs have their own price ranges). */
  readonly spotMoveByUnderlying: Readonly<Record<string, number>>;
  readonly vol: PmVolScenario;
  readonly extended: boolean;
  /** Position in Deribit's vector: standard 0..(2B+1)x3-1, extended 0..moves-1. */
  readonly index: number;
  /** Raw PnL by settlement currency (sum over pairs; extended: unweighted, futures at the edge). */
  readonly pnl: Readonly<Record<string, number>>;
  /** What counts toward the margin, by currency: after weight, pnl offset and dampener. */
  readonly aggregated: Readonly<Record<string, number>>;
}

/** The worst cell of a currency, labelled as Deribit's worst_case_bucket. */
export interface PmWorstCase {
  readonly source: "standard" | "extended";
  readonly index: number;
  /** 1-based bucket from the lowest price (standard) or extended move number. */
  readonly bucket: number;
  readonly side: "left" | "center" | "right";
  readonly vol: PmVolScenario;
  readonly spotMoveByUnderlying: Readonly<Record<string, number>>;
  /** Loss in the currency (= worstCase). */
  readonly loss: number;
}

/** Risk vectors of one pair inside a currency, before aggregation (raw, as Deribit's pre-aggregated). */
export interface PmPairVectors {
  readonly standard: readonly number[];
  readonly extended: readonly number[];
  /** Extended weights extendedTableFactor x min(1, priceRange / |move|). */
  readonly extendedWeights: readonly number[];
  /** Delta in USD (coins x index) of the pair's legs in this currency. */
  readonly deltaUsd: number;
  /** Delta shock of the pair, in the currency. */
  readonly deltaShock: number;
}

/** Portfolio margin of one settlement currency. Amounts in that currency. */
export interface CurrencyPortfolioMargin {
  /** Initial margin = risk matrix margin = risk + deltaShock + contingency. */
  initial: number;
  /** mmFactor x initial. */
  maintenance: number;
  /** Worst aggregated loss over the standard and extended tables (Deribit's worst_case). */
  risk: number;
  /** Label of the worst cell, e.g. "spot -16.0% vol up" or "extended spot -66.0% vol up". */
  worstScenario: string;
  deltaShock: number;
  /** Contingency add-ons: the roll shock (correlation_contingency is not modelled: 0). */
  contingency: number;
  /** Roll shock (annualised move risk) of the futures. */
  rollShock: number;
  worstCase: PmWorstCase | null;
  /** Aggregated vectors (what the worst case is taken over). */
  vectors: { readonly standard: readonly number[]; readonly extended: readonly number[] };
  /** Pre-aggregated vectors by underlying. */
  pairs: Record<string, PmPairVectors>;
  /** The extended dampener in this currency (USD / index). */
  extendedDampener: number;
}

export interface PortfolioMarginResult {
  readonly byCurrency: Record<string, CurrencyPortfolioMargin>;
  /** Standard cells then extended cells. */
  readonly matrix: readonly RiskMatrixCell[];
}

/** A position as the risk matrix sees it: its settlement currency and pair. */
interface PmLeg {
  readonly position: Position;
  readonly currency: string;
  readonly underlying: string;
}

/** The book, validated against the parameters. */
interface PmBook {
  readonly legs: readonly PmLeg[];
  readonly underlyings: readonly string[];
  readonly pairs: Readonly<Record<string, PmPairParams>>;
  readonly currencies: readonly string[];
}

/** Each leg's PnL (in its settlement currency) at every cell: [cell][leg]. */
interface PmCellPnls {
  readonly standard: readonly (readonly number[])[];
  readonly extended: readonly (readonly number[])[];
}

function currencyOf(params: PortfolioMarginParams, cur: string): PmCurrencyParams {
  const c = params.currencies[cur];
  if (!c)
    throw new InvalidInputError(
      "params.currencies",
      cur,
      "has no portfolio-margin parameters for this settlement currency (pass them in params.currencies)",
    );
  return c;
}

function fmtMove(x: number | undefined): string {
  return `${((x ?? 0) * 100).toFixed(1)}%`;
}

function label(
  extended: boolean,
  moves: Readonly<Record<string, number>>,
  us: readonly string[],
  vol: string,
) {
  const spot =
    us.length === 1 ? fmtMove(moves[us[0] ?? ""]) : us.map((u) => `${u} ${fmtMove(moves[u])}`).join(" ");
  return `${extended ? "extended " : ""}spot ${spot} vol ${vol}`;
}

function pmBook(positionsIn: readonly Position[], market: RiskMarket, params: PortfolioMarginParams): PmBook {
  assertLive(positionsIn, market);
  assertExchangeMarginable(positionsIn);
  pmBucketsCount(params);
  if (params.volScenariosCount !== 3)
    throw new InvalidInputError(
      "params.volScenariosCount",
      params.volScenariosCount,
      "must be 3 (up, same, down)",
    );
  const legs = resolveFutureEntries(positionsIn, market).map((position) => ({
    position,
    currency: settlementCurrency(position),
    underlying: position.instrument.underlying,
  }));
  const underlyings = sortUnderlyings(legs.map((l) => l.underlying));
  const pairs: Record<string, PmPairParams> = {};
  for (const u of underlyings) pairs[u] = pmPairOf(params, u);
  const currencies = [...new Set(legs.map((l) => l.currency))];
  for (const c of currencies) currencyOf(params, c);
  return { legs, underlyings, pairs, currencies };
}

/** Legs' PnL at each cell; futures in extended cells at the clamped move (`edge`). */
function cellPnls(book: PmBook, market: RiskMarket, grid: PmGrid): PmCellPnls {
  const inCcy = (leg: PmLeg, mkt: RiskMarket) => {
    const v = valuePosition(leg.position, mkt);
    return leg.currency === "USDC" ? v.valueUsd : v.valueCoin;
  };
  const base = book.legs.map((leg) => inCcy(leg, market));
  const pnlAt = (mkt: RiskMarket, edge: RiskMarket) =>
    book.legs.map(
      (leg, i) => inCcy(leg, leg.position.instrument.type === "future" ? edge : mkt) - (base[i] ?? 0),
    );
  return {
    standard: grid.standard.map((c) => pnlAt(c.market, c.market)),
    extended: grid.extended.map((c) => pnlAt(c.market, c.edge)),
  };
}

/** Delta in USD (Black forward delta of options + futures, coins x index) by currency and pair. */
function deltaUsdByCurrency(book: PmBook, market: RiskMarket): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const leg of book.legs) {
    const byPair = out[leg.currency] ?? {};
    out[leg.currency] = byPair;
    const index = underlyingMarket(market, leg.underlying).indexPrice;
    byPair[leg.underlying] =
      (byPair[leg.underlying] ?? 0) + positionGreeks(leg.position, market).deltaUnderlyingCoin * index;
  }
  return out;
}

/**
 * Roll shock by currency on each future's NET position (Deribit holds one position per
 * instrument, so legs of the same instrument net before |size| is taken).
 */
function rollShockByCurrency(
  book: PmBook,
  market: RiskMarket,
  params: PortfolioMarginParams,
): Record<string, number> {
  const net = new Map<string, { cur: string; sizeCcy: number; rate: number }>();
  for (const { position: p, currency: cur } of book.legs) {
    const ins = p.instrument;
    if (ins.type !== "future") continue;
    const F = forwardAtExpiry(underlyingMarket(market, ins.underlying), market.valuationTime, ins.expiry);
    const T = ins.expiry === null ? 0 : timeToExpiry(ins.expiry, market.valuationTime);
    const m = p.quantity * ins.contractSize;
    const sizeCcy = ins.settlement === "inverse" ? m / F : cur === "USDC" ? m * F : m;
    const key = `${cur}|${ins.underlying}|${ins.settlement}|${ins.expiry}|${ins.name}`;
    const f = net.get(key) ?? { cur, sizeCcy: 0, rate: pmRollRate(currencyOf(params, cur), T) };
    f.sizeCcy += sizeCcy;
    net.set(key, f);
  }
  const roll: Record<string, number> = {};
  for (const f of net.values()) roll[f.cur] = (roll[f.cur] ?? 0) + Math.abs(f.sizeCcy) * f.rate;
  return roll;
}

/** Pre-aggregated vectors of each pair in currency `cur`, and the currency's delta shock. */
function pairVectors(
  cur: string,
  us: readonly string[],
  book: PmBook,
  grid: PmGrid,
  pnls: PmCellPnls,
  deltaUsd: Readonly<Record<string, number>>,
  usdPerUnit: number,
): { readonly pairs: Record<string, PmPairVectors>; readonly deltaShock: number } {
  const sumPair = (pnl: readonly number[], u: string) => {
    let s = 0;
    book.legs.forEach((leg, i) => {
      if (leg.currency === cur && leg.underlying === u) s += pnl[i] ?? 0;
    });
    return s;
  };
  const pairs: Record<string, PmPairVectors> = {};
  let deltaShock = 0;
  for (const u of us) {
    const pp = book.pairs[u];
    if (!pp) continue;
    const d = deltaUsd[u] ?? 0;
    const shock = pmDeltaShockUsd(pp, d) / usdPerUnit;
    deltaShock += shock;
    pairs[u] = {
      standard: pnls.standard.map((pnl) => sumPair(pnl, u)),
      extended: pnls.extended.map((pnl) => sumPair(pnl, u)),
      extendedWeights: grid.extended.map((c) => pmExtendedWeight(pp, c.move)),
      deltaUsd: d,
      deltaShock: shock,
    };
  }
  return { pairs, deltaShock };
}

/** Aggregated standard and extended vectors of a currency (offset rule, weights, dampener). */
function aggregatedVectors(
  pairs: Readonly<Record<string, PmPairVectors>>,
  us: readonly string[],
  grid: PmGrid,
  cp: PmCurrencyParams,
  usdPerUnit: number,
): { readonly standard: number[]; readonly extended: number[]; readonly damp: number } {
  const cap = cp.maxOffsetablePnlUsd / usdPerUnit;
  const damp = cp.extendedDampenerUsd / usdPerUnit;
  const aggregate = (xs: readonly number[]) => aggregateCellPnl(xs, cp.pnlOffset, cap);
  const standard = grid.standard.map((_, j) => aggregate(us.map((u) => pairs[u]?.standard[j] ?? 0)));
  const extended = grid.extended.map((_, k) => {
    const x = aggregate(us.map((u) => (pairs[u]?.extended[k] ?? 0) * (pairs[u]?.extendedWeights[k] ?? 0)));
    return pmDampen(x, damp);
  });
  return { standard, extended, damp };
}

/** Every cell of a currency as a worst-case candidate, in Deribit's labelling. */
function worstCaseCandidates(
  grid: PmGrid,
  standard: readonly number[],
  extended: readonly number[],
  B: number,
): PmWorstCase[] {
  return [
    ...grid.standard.map(
      (c: PmStandardCell, j): PmWorstCase => ({
        source: "standard",
        index: j,
        bucket: c.bucket + B + 1,
        side: c.bucket < 0 ? "left" : c.bucket > 0 ? "right" : "center",
        vol: c.vol,
        spotMoveByUnderlying: c.moves,
        loss: -(standard[j] ?? 0),
      }),
    ),
    ...grid.extended.map(
      (c: PmExtendedCell, k): PmWorstCase => ({
        source: "extended",
        index: k,
        bucket: k + 1,
        side: c.move < 0 ? "left" : "right",
        vol: "up",
        spotMoveByUnderlying: c.moves,
        loss: -(extended[k] ?? 0),
      }),
    ),
  ];
}

/** The portfolio margin of one settlement currency. */
function currencyMargin(
  cur: string,
  book: PmBook,
  grid: PmGrid,
  pnls: PmCellPnls,
  deltaUsd: Readonly<Record<string, Record<string, number>>>,
  roll: Readonly<Record<string, number>>,
  market: RiskMarket,
  params: PortfolioMarginParams,
): CurrencyPortfolioMargin {
  const cp = currencyOf(params, cur);
  const usdPerUnit = cur === "USDC" ? 1 : underlyingMarket(market, cur).indexPrice;
  const us = book.underlyings.filter((u) => book.legs.some((l) => l.currency === cur && l.underlying === u));
  const pv = pairVectors(cur, us, book, grid, pnls, deltaUsd[cur] ?? {}, usdPerUnit);
  const { standard, extended, damp } = aggregatedVectors(pv.pairs, us, grid, cp, usdPerUnit);
  const candidates = worstCaseCandidates(grid, standard, extended, params.bucketsCount);
  const { worst, cell: wc } = pmWorstCell(candidates, (c) => c.loss, 1e-12);
  const rollShock = roll[cur] ?? 0;
  const initial = worst + pv.deltaShock + rollShock;
  return {
    initial,
    maintenance: params.mmFactor * initial,
    risk: worst,
    worstScenario: wc ? label(wc.source === "extended", wc.spotMoveByUnderlying, us, wc.vol) : "none",
    deltaShock: pv.deltaShock,
    contingency: rollShock,
    rollShock,
    worstCase: wc ? { ...wc, loss: worst } : null,
    vectors: { standard, extended },
    pairs: pv.pairs,
    extendedDampener: damp,
  };
}

/** The risk matrix as Deribit's simulator lists it: raw and aggregated PnL by currency per cell. */
function riskMatrix(
  book: PmBook,
  grid: PmGrid,
  pnls: PmCellPnls,
  byCurrency: Readonly<Record<string, CurrencyPortfolioMargin>>,
): RiskMatrixCell[] {
  const first = book.underlyings[0];
  const sumByCur = (pnl: readonly number[]) => {
    const out: Record<string, number> = {};
    book.legs.forEach((leg, i) => {
      out[leg.currency] = (out[leg.currency] ?? 0) + (pnl[i] ?? 0);
    });
    return out;
  };
  const pick = (table: "standard" | "extended", j: number) => {
    const out: Record<string, number> = {};
    for (const c of book.currencies) out[c] = byCurrency[c]?.vectors[table][j] ?? 0;
    return out;
  };
  return [
    ...grid.standard.map((c, j) => ({
      spotMove: first === undefined ? 0 : (c.moves[first] ?? 0),
      spotMoveByUnderlying: c.moves,
      vol: c.vol,
      extended: false,
      index: j,
      pnl: sumByCur(pnls.standard[j] ?? []),
      aggregated: pick("standard", j),
    })),
    ...grid.extended.map((c, k) => ({
      spotMove: c.move,
      spotMoveByUnderlying: c.moves,
      vol: "up" as const,
      extended: true,
      index: k,
      pnl: sumByCur(pnls.extended[k] ?? []),
      aggregated: pick("extended", k),
    })),
  ];
}

/** Risk-matrix portfolio margin (see the module comment). */
export function portfolioMargin(
  positionsIn: readonly Position[],
  market: RiskMarket,
  params: PortfolioMarginParams = DERIBIT_PORTFOLIO_MARGIN,
): PortfolioMarginResult {
  const book = pmBook(positionsIn, market, params);
  const needEdge = book.legs.some((l) => l.position.instrument.type === "future");
  const grid = pmGrid(market, book.underlyings, book.pairs, params, needEdge);
  const pnls = cellPnls(book, market, grid);
  const deltaUsd = deltaUsdByCurrency(book, market);
  const roll = rollShockByCurrency(book, market, params);
  const byCurrency: Record<string, CurrencyPortfolioMargin> = {};
  for (const cur of book.currencies)
    byCurrency[cur] = currencyMargin(cur, book, grid, pnls, deltaUsd, roll, market, params);
  return { byCurrency, matrix: riskMatrix(book, grid, pnls, byCurrency) };
}
