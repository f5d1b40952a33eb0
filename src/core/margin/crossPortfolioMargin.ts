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
import { settlementCurrency } from "./book.js";
import { DERIBIT_PORTFOLIO_MARGIN } from "./params/index.js";
import type { PmCurrencyParams, PmPairParams, PortfolioMarginParams } from "./params/types.js";
import { aggregateCellPnl, type PmVolScenario, pmCellMarket } from "./portfolioMargin.js";

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

const VOLS: readonly PmVolScenario[] = ["up", "same", "down"];
const USD_KEY = "USDC";

function paramOf<T>(table: Readonly<Record<string, T>>, field: string, key: string): T {
  const v = table[key];
  if (!v) throw new InvalidInputError(field, key, "has no portfolio-margin parameters (pass them in params)");
  return v;
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
  const positions = resolveFutureEntries(o.positions, market);
  const usdParams = paramOf(params.currencies, "params.currencies", USD_KEY);
  const B = params.bucketsCount;
  if (!Number.isInteger(B) || B < 1)
    throw new InvalidInputError("params.bucketsCount", B, "must be an integer >= 1");

  // Balances that move with a pair: coin cash whose currency is priced and "both".
  const equity = bookEquity(positions, o.cash, market);
  const balances: { u: string; amount: number }[] = [];
  for (const [c, amount] of Object.entries(o.cash ?? {})) {
    if (c === USD_KEY || c === "USD" || amount === 0) continue;
    if (!market.underlyings[c]) continue; // listed in equity.unpriced
    if (paramOf(params.currencies, "params.currencies", c).equitySideImpact === "both")
      balances.push({ u: c, amount });
  }
  const underlyings = [
    ...new Set([...positions.map((p) => p.instrument.underlying), ...balances.map((b) => b.u)]),
  ].sort((a, b) => (a === "BTC" ? -1 : b === "BTC" ? 1 : a < b ? -1 : 1));
  const pairs: Record<string, PmPairParams> = {};
  for (const u of underlyings) pairs[u] = paramOf(params.pairs, "params.pairs", u);
  const movesOf = (f: (p: PmPairParams) => number) =>
    Object.fromEntries(underlyings.map((u) => [u, f(pairs[u] as PmPairParams)]));

  const baseUsd = positions.map((p) => valuePosition(p, market).valueUsd);
  const index = (u: string) => underlyingMarket(market, u).indexPrice;
  /** Pair PnLs (USD) at a cell: positions valued at `mkt` (futures at `edge`), balances at `balMove`. */
  const pairPnl = (mkt: RiskMarket, edge: RiskMarket, balMoves: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const u of underlyings) out[u] = 0;
    positions.forEach((p, i) => {
      const m = p.instrument.type === "future" ? edge : mkt;
      const u = p.instrument.underlying;
      out[u] = (out[u] as number) + valuePosition(p, m).valueUsd - (baseUsd[i] as number);
    });
    for (const b of balances)
      out[b.u] = (out[b.u] as number) + b.amount * index(b.u) * (balMoves[b.u] as number);
    return out;
  };

  const std: { moves: Record<string, number>; vol: PmVolScenario; pnl: Record<string, number> }[] = [];
  for (let b = -B; b <= B; b++) {
    const moves = movesOf((p) => (p.priceRange * b) / B);
    for (const vol of VOLS) {
      const mkt = pmCellMarket(market, moves, vol, params);
      std.push({ moves, vol, pnl: pairPnl(mkt, mkt, moves) });
    }
  }
  const ext: { moves: Record<string, number>; move: number; pnl: Record<string, number> }[] = [];
  for (const move of params.extendedMoves) {
    if (!(move > -1)) throw new InvalidInputError("params.extendedMoves", move, "must be > -1");
    const moves = movesOf(() => move);
    const clamped = movesOf((p) => Math.max(-p.priceRange, Math.min(p.priceRange, move)));
    const mkt = pmCellMarket(market, moves, "up", params);
    const edge = pmCellMarket(market, clamped, "same", params);
    ext.push({ moves, move, pnl: pairPnl(mkt, edge, clamped) });
  }

  const aggregate = (xs: readonly number[]) =>
    aggregateCellPnl(xs, usdParams.pnlOffset, usdParams.maxOffsetablePnlUsd);
  const damp = usdParams.extendedDampenerUsd;
  const standard = std.map((c) => aggregate(underlyings.map((u) => c.pnl[u] as number)));
  const extended = ext.map((c) => {
    const x = aggregate(
      underlyings.map((u) => {
        const p = pairs[u] as PmPairParams;
        return (c.pnl[u] as number) * p.extendedTableFactor * Math.min(1, p.priceRange / Math.abs(c.move));
      }),
    );
    return x < 0 ? Math.min(0, x + damp) : Math.max(0, x - damp);
  });
  const cells: CrossPmWorstCase[] = [
    ...std.map((c, j) => ({
      source: "standard" as const,
      index: j,
      vol: c.vol,
      spotMoveByUnderlying: c.moves,
      lossUsd: -(standard[j] as number),
    })),
    ...ext.map((c, k) => ({
      source: "extended" as const,
      index: k,
      vol: "up" as const,
      spotMoveByUnderlying: c.moves,
      lossUsd: -(extended[k] as number),
    })),
  ];
  const risk = Math.max(0, ...cells.map((c) => c.lossUsd));
  const near = cells.filter((c) => risk > 0 && c.lossUsd >= risk - 1e-9 * Math.max(1, risk));
  const worstCase = near.find((c) => c.vol === "same") ?? near[0] ?? null;

  // Roll shock on each future's net position (one position per instrument), USD.
  const net = new Map<string, { coins: number; price: number; rate: number }>();
  const deltaUsd: Record<string, number> = {};
  for (const u of underlyings) deltaUsd[u] = 0;
  for (const b of balances) deltaUsd[b.u] = (deltaUsd[b.u] as number) + b.amount * index(b.u);
  for (const p of positions) {
    const ins = p.instrument;
    const u = ins.underlying;
    deltaUsd[u] = (deltaUsd[u] as number) + positionGreeks(p, market).deltaUnderlyingCoin * index(u);
    if (ins.type !== "future") continue;
    const cp: PmCurrencyParams = paramOf(params.currencies, "params.currencies", settlementCurrency(p));
    const F = forwardAtExpiry(underlyingMarket(market, u), market.valuationTime, ins.expiry);
    const T = ins.expiry === null ? 0 : timeToExpiry(ins.expiry, market.valuationTime);
    const size = p.quantity * ins.contractSize;
    const coins = ins.settlement === "inverse" ? size / F : size;
    const key = `${ins.name}|${ins.settlement}`;
    const f = net.get(key) ?? {
      coins: 0,
      price: F,
      rate: Math.max(cp.annualisedMoveRisk * T, cp.minAnnualisedMove),
    };
    f.coins += coins;
    net.set(key, f);
  }
  let roll = 0;
  for (const f of net.values()) roll += Math.abs(f.coins) * f.price * f.rate;
  let deltaShock = 0;
  for (const u of underlyings) {
    const p = pairs[u] as PmPairParams;
    deltaShock +=
      p.maxDeltaShock * Math.max(0, Math.abs(deltaUsd[u] as number) - p.deltaTotalLiqShockThresholdUsd);
  }
  const initial = risk + roll + deltaShock;
  let equityForInitial = 0;
  for (const e of Object.values(equity.byCurrency)) {
    const h = params.currencies[e.currency]?.haircut ?? 0;
    equityForInitial += e.equityUsd * (1 - h);
  }
  const pairVectors: Record<string, { standard: number[]; extended: number[]; deltaUsd: number }> = {};
  for (const u of underlyings)
    pairVectors[u] = {
      standard: std.map((c) => c.pnl[u] as number),
      extended: ext.map((c) => c.pnl[u] as number),
      deltaUsd: deltaUsd[u] as number,
    };
  return {
    initialUsd: initial,
    maintenanceUsd: params.mmFactor * initial,
    riskUsd: risk,
    rollShockUsd: roll,
    deltaShockUsd: deltaShock,
    worstCase: worstCase ? { ...worstCase, lossUsd: risk } : null,
    vectors: { standard, extended },
    pairs: pairVectors,
    equityUsd: equity.equityUsd,
    equityForInitialUsd: equityForInitial,
    unpriced: equity.unpriced.map((x) => `${x.amount} ${x.currency}: ${x.reason}`),
  };
}
