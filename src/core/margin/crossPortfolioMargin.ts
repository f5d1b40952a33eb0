/**
 * Cross portfolio margin (X:PM): ONE risk matrix in USD over every position of every settlement
 * currency and the coin balances, as Deribit's cross-collateral portfolio margin assesses "the
 * entire portfolio for all available assets in the account" (support.deribit.com article
 * 25944811317149 "Margin types and usage"). Units: USD; moves relative; vols decimal.
 *
 * What Deribit documents (searched: Deribit docs, support articles, API reference, insights):
 * - Cross collateral: every cross-collateral currency counts at its current USD value, the total
 *   USD value of the account is compared with the requirement (article 25944777203869 "Cross
 *   collateral specifications"); the API's projected IM/MM are, with cross collateral, "the sum of
 *   each cross collateral currency's value converted ... using each cross collateral currency's
 *   index" (private/get_account_summary).
 * - Haircuts: "for the purposes of calculating the initial margin (IM), some cross collateral
 *   currencies may have a haircut applied" (same article). `private/pme/simulate` documents
 *   haircut 0 for btc and usd (2024-06-17) and a live response shows 0 for eth (2026-02-15): the
 *   currencies volfolio books hold carry no haircut. Deribit's insights post "Portfolio margin
 *   improvements for stETH and cross-collateral haircuts" (effective 13 January 2026) gives stETH
 *   7.5% (was 15%) in X:PM and X:SM, and says stETH is "grouped within ETH's bucket in the Extended
 *   Risk Matrix" and "stETH holdings can now offset ETH derivative positions": in X:PM the matrix is
 *   per underlying bucket across settlement currencies, and balances sit in it.
 * - `private/pme/simulate`'s currency field equity_side_impact ("both" for btc, "none" for usd).
 * Not published: how X:PM aggregates across buckets, which currency's offset / dampener / roll
 * parameters apply. READINGS (each a parameter of PmCurrencyParams; params/):
 * - Buckets = pairs (underlyings). Cell PnL of pair u, USD = sum over positions on u (any
 *   settlement: inverse legs' coin values at the moved index, linear in USDC) of valueUsd(cell) -
 *   valueUsd(base), plus each balance of coin u whose currency has equitySideImpact "both":
 *   amount x index x move. Standard cells: bucket b moves pair u by its priceRange x b / B, vol
 *   up/same/down as S:PM (pmShockedVol, sticky-strike); extended cells: options at the move with
 *   vol up, futures and balances (delta one) at the move clamped to +-priceRange, weight
 *   extendedTableFactor x min(1, priceRange / |move|) - all as in S:PM (portfolioMargin.ts).
 * - Across pairs: the account is a USD account, so the "usd" currency's pnlOffset and
 *   maxOffsetablePnl (params/usdc.ts) aggregate the cell: sum min(x, 0) + min(offset x sum
 *   max(x, 0), cap); an extended cell is dampened by the usd extended_dampener (25,000 USD).
 * - Roll shock: each future's net coin size x its price x max(amr_c T, min_c) with c its
 *   settlement currency's parameters; delta shock per pair on the pair's total USD delta
 *   (positions plus "both" balances), maxDeltaShock x (|delta| - threshold)^+.
 * - IM = worst + roll + delta shock, MM = mmFactor x IM. Equity: for maintenance sum_c equity_c x
 *   px_c; for initial margin the same with each currency's equity x (1 - haircut_c).
 * S:PM (portfolioMargin, one matrix per settlement currency, no balances) stays the default of
 * every figure volfolio shows; this is the cross-collateral alternative, chosen explicitly.
 */
import { InvalidInputError } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { bookEquity } from "../risk/account.js";
import { positionGreeks } from "../risk/greeks.js";
import { forwardAtExpiry, type RiskMarket, underlyingMarket } from "../risk/market.js";
import { assertLive, resolveFutureEntries, valuePosition } from "../risk/valuation.js";
import { timeToExpiry } from "../time.js";
import { assertExchangeMarginable, settlementCurrency } from "./book.js";
import { DERIBIT_PORTFOLIO_MARGIN } from "./params/index.js";
import type { PmCurrencyParams, PmPairParams, PortfolioMarginParams } from "./params/types.js";
import type { PmVolScenario } from "./pmCellMarket.js";
import {
  aggregateCellPnl,
  type PmGrid,
  pmBucketsCount,
  pmDampen,
  pmDeltaShockUsd,
  pmExtendedWeight,
  pmGrid,
  pmRollRate,
  pmWorstCell,
  sortUnderlyings,
} from "./pmGrid.js";

/** The worst X:PM cell. */
export interface CrossPmWorstCase {
  readonly source: "standard" | "extended";
  /** Index in the standard (bucket-major, up/same/down) or extended vector. */
  readonly index: number;
  readonly vol: PmVolScenario;
  readonly spotMoveByUnderlying: Readonly<Record<string, number>>;
  readonly lossUsd: number;
}

export interface CrossPortfolioMarginResult {
  readonly initialUsd: number;
  readonly maintenanceUsd: number;
  /** Worst aggregated loss over both tables. */
  readonly riskUsd: number;
  readonly rollShockUsd: number;
  readonly deltaShockUsd: number;
  readonly worstCase: CrossPmWorstCase | null;
  /** Aggregated vectors (USD). */
  readonly vectors: { readonly standard: readonly number[]; readonly extended: readonly number[] };
  /** Per pair: raw USD PnL vectors (positions + balances) and USD delta. */
  readonly pairs: Readonly<
    Record<string, { standard: readonly number[]; extended: readonly number[]; deltaUsd: number }>
  >;
  /** Equity in USD (cash + positions at the index) and after the IM haircuts. */
  readonly equityUsd: number;
  readonly equityForInitialUsd: number;
  /** Balances left out of the matrix and of equity (no index in the market), one line each. */
  readonly unpriced: readonly string[];
}

const USD_KEY = "USDC";

function paramOf<T>(table: Readonly<Record<string, T>>, field: string, key: string): T {
  const v = table[key];
  if (!v) throw new InvalidInputError(field, key, "has no portfolio-margin parameters (pass them in params)");
  return v;
}

/** A coin balance that moves with its pair (currency priced and equity side impact "both"). */
interface MovingBalance {
  readonly u: string;
  readonly amount: number;
}

/** Pair PnLs (USD) per cell of the grid. */
interface XpmCells {
  readonly standard: readonly Readonly<Record<string, number>>[];
  readonly extended: readonly Readonly<Record<string, number>>[];
}

function movingBalances(
  cash: Readonly<Record<string, number>> | undefined,
  market: RiskMarket,
  params: PortfolioMarginParams,
): MovingBalance[] {
  const balances: MovingBalance[] = [];
  for (const [c, amount] of Object.entries(cash ?? {})) {
    if (c === USD_KEY || c === "USD" || amount === 0) continue;
    if (!market.underlyings[c]) continue; // listed in equity.unpriced
    if (paramOf(params.currencies, "params.currencies", c).equitySideImpact === "both")
      balances.push({ u: c, amount });
  }
  return balances;
}

/** Each pair's USD PnL at every cell: positions (futures at the edge), balances at the clamped move. */
function xpmCellPnls(
  positions: readonly Position[],
  balances: readonly MovingBalance[],
  underlyings: readonly string[],
  market: RiskMarket,
  grid: PmGrid,
): XpmCells {
  const baseUsd = positions.map((p) => valuePosition(p, market).valueUsd);
  const index = (u: string) => underlyingMarket(market, u).indexPrice;
  const pairPnl = (mkt: RiskMarket, edge: RiskMarket, balMoves: Readonly<Record<string, number>>) => {
    const out: Record<string, number> = {};
    for (const u of underlyings) out[u] = 0;
    positions.forEach((p, i) => {
      const m = p.instrument.type === "future" ? edge : mkt;
      const u = p.instrument.underlying;
      out[u] = (out[u] ?? 0) + valuePosition(p, m).valueUsd - (baseUsd[i] ?? 0);
    });
    for (const b of balances) out[b.u] = (out[b.u] ?? 0) + b.amount * index(b.u) * (balMoves[b.u] ?? 0);
    return out;
  };
  return {
    standard: grid.standard.map((c) => pairPnl(c.market, c.market, c.moves)),
    extended: grid.extended.map((c) => pairPnl(c.market, c.edge, c.clamped)),
  };
}

/** USD delta per pair (positions plus moving balances) and the futures' roll shock, USD. */
function xpmDeltaAndRoll(
  positions: readonly Position[],
  balances: readonly MovingBalance[],
  underlyings: readonly string[],
  market: RiskMarket,
  params: PortfolioMarginParams,
): { readonly deltaUsd: Record<string, number>; readonly roll: number } {
  const index = (u: string) => underlyingMarket(market, u).indexPrice;
  const net = new Map<string, { coins: number; price: number; rate: number }>();
  const deltaUsd: Record<string, number> = {};
  for (const u of underlyings) deltaUsd[u] = 0;
  for (const b of balances) deltaUsd[b.u] = (deltaUsd[b.u] ?? 0) + b.amount * index(b.u);
  for (const p of positions) {
    const ins = p.instrument;
    const u = ins.underlying;
    deltaUsd[u] = (deltaUsd[u] ?? 0) + positionGreeks(p, market).deltaUnderlyingCoin * index(u);
    if (ins.type !== "future") continue;
    const cp: PmCurrencyParams = paramOf(params.currencies, "params.currencies", settlementCurrency(p));
    const F = forwardAtExpiry(underlyingMarket(market, u), market.valuationTime, ins.expiry);
    const T = ins.expiry === null ? 0 : timeToExpiry(ins.expiry, market.valuationTime);
    const size = p.quantity * ins.contractSize;
    const coins = ins.settlement === "inverse" ? size / F : size;
    const key = `${ins.name}|${ins.settlement}`;
    const f = net.get(key) ?? { coins: 0, price: F, rate: pmRollRate(cp, T) };
    f.coins += coins;
    net.set(key, f);
  }
  let roll = 0;
  for (const f of net.values()) roll += Math.abs(f.coins) * f.price * f.rate;
  return { deltaUsd, roll };
}

/** Aggregated USD vectors (usd offset rule, extended weights, usd dampener) and the worst cell. */
function xpmAggregate(
  cells: XpmCells,
  grid: PmGrid,
  underlyings: readonly string[],
  pairs: Readonly<Record<string, PmPairParams>>,
  usdParams: PmCurrencyParams,
): { standard: number[]; extended: number[]; risk: number; worstCase: CrossPmWorstCase | null } {
  const aggregate = (xs: readonly number[]) =>
    aggregateCellPnl(xs, usdParams.pnlOffset, usdParams.maxOffsetablePnlUsd);
  const standard = cells.standard.map((c) => aggregate(underlyings.map((u) => c[u] ?? 0)));
  const extended = cells.extended.map((c, k) => {
    const move = grid.extended[k]?.move ?? 0;
    const weighted = underlyings.map((u) => {
      const p = pairs[u];
      return p ? (c[u] ?? 0) * pmExtendedWeight(p, move) : 0;
    });
    return pmDampen(aggregate(weighted), usdParams.extendedDampenerUsd);
  });
  const candidates: CrossPmWorstCase[] = [
    ...grid.standard.map((c, j) => ({
      source: "standard" as const,
      index: j,
      vol: c.vol,
      spotMoveByUnderlying: c.moves,
      lossUsd: -(standard[j] ?? 0),
    })),
    ...grid.extended.map((c, k) => ({
      source: "extended" as const,
      index: k,
      vol: "up" as const,
      spotMoveByUnderlying: c.moves,
      lossUsd: -(extended[k] ?? 0),
    })),
  ];
  const { worst, cell } = pmWorstCell(candidates, (c) => c.lossUsd, 1e-9);
  return { standard, extended, risk: worst, worstCase: cell ? { ...cell, lossUsd: worst } : null };
}

/** X:PM of positions and balances on `market` (see the module comment). */
export function crossPortfolioMargin(o: {
  readonly positions: readonly Position[];
  /** Balances by currency ("BTC", "ETH", "USDC"), in that currency. */
  readonly cash?: Readonly<Record<string, number>>;
  readonly market: RiskMarket;
  readonly params?: PortfolioMarginParams;
}): CrossPortfolioMarginResult {
  const params = o.params ?? DERIBIT_PORTFOLIO_MARGIN;
  const market = o.market;
  assertLive(o.positions, market);
  assertExchangeMarginable(o.positions);
  const positions = resolveFutureEntries(o.positions, market);
  const usdParams = paramOf(params.currencies, "params.currencies", USD_KEY);
  pmBucketsCount(params);
  const equity = bookEquity(positions, o.cash, market);
  const balances = movingBalances(o.cash, market, params);
  const underlyings = sortUnderlyings([
    ...positions.map((p) => p.instrument.underlying),
    ...balances.map((b) => b.u),
  ]);
  const pairs: Record<string, PmPairParams> = {};
  for (const u of underlyings) pairs[u] = paramOf(params.pairs, "params.pairs", u);
  const grid = pmGrid(market, underlyings, pairs, params);
  const cells = xpmCellPnls(positions, balances, underlyings, market, grid);
  const agg = xpmAggregate(cells, grid, underlyings, pairs, usdParams);
  const { deltaUsd, roll } = xpmDeltaAndRoll(positions, balances, underlyings, market, params);
  let deltaShock = 0;
  for (const u of underlyings) {
    const p = pairs[u];
    if (p) deltaShock += pmDeltaShockUsd(p, deltaUsd[u] ?? 0);
  }
  const initial = agg.risk + roll + deltaShock;
  let equityForInitial = 0;
  for (const e of Object.values(equity.byCurrency))
    equityForInitial += e.equityUsd * (1 - (params.currencies[e.currency]?.haircut ?? 0));
  const pairVectors: Record<string, { standard: number[]; extended: number[]; deltaUsd: number }> = {};
  for (const u of underlyings)
    pairVectors[u] = {
      standard: cells.standard.map((c) => c[u] ?? 0),
      extended: cells.extended.map((c) => c[u] ?? 0),
      deltaUsd: deltaUsd[u] ?? 0,
    };
  return {
    initialUsd: initial,
    maintenanceUsd: params.mmFactor * initial,
    riskUsd: agg.risk,
    rollShockUsd: roll,
    deltaShockUsd: deltaShock,
    worstCase: agg.worstCase,
    vectors: { standard: agg.standard, extended: agg.extended },
    pairs: pairVectors,
    equityUsd: equity.equityUsd,
    equityForInitialUsd: equityForInitial,
    unpriced: equity.unpriced.map((x) => `${x.amount} ${x.currency}: ${x.reason}`),
  };
}
