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
import { forwardAtExpiry, type RiskMarket, type UnderlyingMarket, underlyingMarket } from "../risk/market.js";
import { applyScenario } from "../risk/scenario.js";
import { assertLive, resolveFutureEntries, valuePosition } from "../risk/valuation.js";
import type { VolSurface } from "../surface/types.js";
import { timeToExpiry } from "../time.js";
import { settlementCurrency } from "./book.js";
import { DERIBIT_PORTFOLIO_MARGIN } from "./params/index.js";
import type { PmCurrencyParams, PmPairParams, PortfolioMarginParams } from "./params/types.js";

export { DERIBIT_PORTFOLIO_MARGIN } from "./params/index.js";
export type { PortfolioMarginParams } from "./params/types.js";

/** Vol scenario of a risk-matrix cell. */
export type PmVolScenario = "up" | "same" | "down";

const VOLS: readonly PmVolScenario[] = ["up", "same", "down"];

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

function pairOf(params: PortfolioMarginParams, underlying: string): PmPairParams {
  const p = params.pairs[underlying];
  if (!p)
    throw new InvalidInputError(
      "params.pairs",
      underlying,
      "has no portfolio-margin parameters for this underlying (pass them in params.pairs)",
    );
  return p;
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

/** The DTE power-law factor (pivot / max(DTE, minDte))^p of a pair at T years. */
export function pmVegaPowerFactor(pair: PmPairParams, T: number, minDteDays: number): number {
  const dte = Math.max(T * 365, minDteDays);
  const p = dte < pair.vegaPowerPivotDays ? pair.shortTermVegaPower : pair.longTermVegaPower;
  return (pair.vegaPowerPivotDays / dte) ** p;
}

/** Shocked vol of an option at IV `v` and T years (see the module comment). */
export function pmShockedVol(
  v: number,
  T: number,
  vol: PmVolScenario,
  pair: PmPairParams,
  params: Pick<PortfolioMarginParams, "minDteDays" | "volFloor">,
): number {
  if (vol === "same") return v;
  const f = pmVegaPowerFactor(pair, T, params.minDteDays);
  if (vol === "up") return v + Math.max(v, pair.minVolatilityForShockUp) * pair.volatilityRangeUp * f;
  return Math.max(v * (1 - pair.volatilityRangeDown * f), params.volFloor);
}

function shockedSurface(
  base: VolSurface,
  vol: PmVolScenario,
  pair: PmPairParams,
  params: PortfolioMarginParams,
): VolSurface {
  if (vol === "same") return base;
  const impliedVol = (k: number, T: number) => pmShockedVol(base.impliedVol(k, T), T, vol, pair, params);
  return { model: `${base.model}+pm-${vol}`, impliedVol, totalVariance: (k, T) => impliedVol(k, T) ** 2 * T };
}

/**
 * Market moved by `moves` (per underlying, relative), sticky-strike, with the vol scenario: one
 * risk-matrix cell's market (also used by crossPortfolioMargin).
 */
export function pmCellMarket(
  market: RiskMarket,
  moves: Readonly<Record<string, number>>,
  vol: PmVolScenario,
  params: PortfolioMarginParams,
): RiskMarket {
  const moved = applyScenario(market, {
    spotShift: 0,
    spotShiftByUnderlying: moves,
    volShift: 0,
    surfaceDynamics: "sticky-strike",
  });
  if (vol === "same") return moved;
  const underlyings: Record<string, UnderlyingMarket> = { ...moved.underlyings };
  for (const u of Object.keys(moves)) {
    const m = moved.underlyings[u] as UnderlyingMarket;
    underlyings[u] = { ...m, surface: shockedSurface(m.surface, vol, pairOf(params, u), params) };
  }
  return { valuationTime: moved.valuationTime, underlyings };
}

function fmtMove(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function label(
  extended: boolean,
  moves: Readonly<Record<string, number>>,
  us: readonly string[],
  vol: string,
) {
  const spot =
    us.length === 1
      ? fmtMove(moves[us[0] as string] as number)
      : us.map((u) => `${u} ${fmtMove(moves[u] as number)}`).join(" ");
  return `${extended ? "extended " : ""}spot ${spot} vol ${vol}`;
}

/** Risk-matrix portfolio margin (see the module comment). */
export function portfolioMargin(
  positionsIn: readonly Position[],
  market: RiskMarket,
  params: PortfolioMarginParams = DERIBIT_PORTFOLIO_MARGIN,
): PortfolioMarginResult {
  assertLive(positionsIn, market);
  const B = params.bucketsCount;
  if (!Number.isInteger(B) || B < 1)
    throw new InvalidInputError("params.bucketsCount", B, "must be an integer >= 1");
  if (params.volScenariosCount !== 3)
    throw new InvalidInputError(
      "params.volScenariosCount",
      params.volScenariosCount,
      "must be 3 (up, same, down)",
    );
  const positions = resolveFutureEntries(positionsIn, market);
  const n = positions.length;
  const curOf = positions.map(settlementCurrency);
  const undOf = positions.map((p) => p.instrument.underlying);
  const underlyings = [...new Set(undOf)].sort((a, b) =>
    a === "BTC" ? -1 : b === "BTC" ? 1 : a < b ? -1 : 1,
  );
  const pairs: Record<string, PmPairParams> = {};
  for (const u of underlyings) pairs[u] = pairOf(params, u);
  const currencies = [...new Set(curOf)];
  for (const c of currencies) currencyOf(params, c);
  const inCcy = (i: number, mkt: RiskMarket) => {
    const v = valuePosition(positions[i] as Position, mkt);
    return curOf[i] === "USDC" ? v.valueUsd : v.valueCoin;
  };
  const base = positions.map((_, i) => inCcy(i, market));
  const pnlAt = (i: number, mkt: RiskMarket) => inCcy(i, mkt) - (base[i] as number);
  const isFuture = positions.map((p) => p.instrument.type === "future");

  // Per-position standard and extended vectors.
  const movesOf = (f: (pair: PmPairParams) => number) => {
    const m: Record<string, number> = {};
    for (const u of underlyings) m[u] = f(pairs[u] as PmPairParams);
    return m;
  };
  const stdCells: { moves: Record<string, number>; vol: PmVolScenario; bucket: number; pnl: number[] }[] = [];
  for (let b = -B; b <= B; b++) {
    const moves = movesOf((p) => (p.priceRange * b) / B);
    for (const vol of VOLS) {
      const mkt = pmCellMarket(market, moves, vol, params);
      stdCells.push({ moves, vol, bucket: b, pnl: positions.map((_, i) => pnlAt(i, mkt)) });
    }
  }
  const extCells: { moves: Record<string, number>; move: number; pnl: number[] }[] = [];
  for (const move of params.extendedMoves) {
    if (!(move > -1)) throw new InvalidInputError("params.extendedMoves", move, "must be > -1");
    const moves = movesOf(() => move);
    const clamped = movesOf((p) => Math.max(-p.priceRange, Math.min(p.priceRange, move)));
    const mkt = pmCellMarket(market, moves, "up", params);
    const edge = isFuture.some((x) => x) ? pmCellMarket(market, clamped, "same", params) : mkt;
    extCells.push({ moves, move, pnl: positions.map((_, i) => pnlAt(i, isFuture[i] ? edge : mkt)) });
  }

  // Delta by (currency, pair); roll shock on each future's NET position (Deribit holds one
  // position per instrument, so legs of the same instrument net before |size| is taken).
  const deltaUsd: Record<string, Record<string, number>> = {};
  const futureNet = new Map<string, { cur: string; sizeCcy: number; rate: number }>();
  positions.forEach((p, i) => {
    const cur = curOf[i] as string;
    const u = undOf[i] as string;
    const um = underlyingMarket(market, u);
    deltaUsd[cur] ??= {};
    const byPair = deltaUsd[cur] as Record<string, number>;
    byPair[u] = (byPair[u] ?? 0) + positionGreeks(p, market).deltaUnderlyingCoin * um.indexPrice;
    const ins = p.instrument;
    if (ins.type !== "future") return;
    const cp = currencyOf(params, cur);
    const F = forwardAtExpiry(um, market.valuationTime, ins.expiry);
    const T = ins.expiry === null ? 0 : timeToExpiry(ins.expiry, market.valuationTime);
    const m = p.quantity * ins.contractSize;
    const sizeCcy = ins.settlement === "inverse" ? m / F : cur === "USDC" ? m * F : m;
    const key = `${cur}|${ins.underlying}|${ins.settlement}|${ins.expiry}|${ins.name}`;
    const f = futureNet.get(key) ?? {
      cur,
      sizeCcy: 0,
      rate: Math.max(cp.annualisedMoveRisk * T, cp.minAnnualisedMove),
    };
    f.sizeCcy += sizeCcy;
    futureNet.set(key, f);
  });
  const roll: Record<string, number> = {};
  for (const f of futureNet.values()) roll[f.cur] = (roll[f.cur] ?? 0) + Math.abs(f.sizeCcy) * f.rate;

  const byCurrency: Record<string, CurrencyPortfolioMargin> = {};
  const stdAgg: Record<string, number[]> = {};
  const extAgg: Record<string, number[]> = {};
  for (const cur of currencies) {
    const cp = currencyOf(params, cur);
    const usdPerUnit = cur === "USDC" ? 1 : underlyingMarket(market, cur).indexPrice;
    const cap = cp.maxOffsetablePnlUsd / usdPerUnit;
    const damp = cp.extendedDampenerUsd / usdPerUnit;
    const us = underlyings.filter((u) => positions.some((_, i) => curOf[i] === cur && undOf[i] === u));
    const sumPair = (pnl: readonly number[], u: string) => {
      let s = 0;
      for (let i = 0; i < n; i++) if (curOf[i] === cur && undOf[i] === u) s += pnl[i] as number;
      return s;
    };
    const pairVec: Record<string, PmPairVectors> = {};
    let deltaShock = 0;
    for (const u of us) {
      const pp = pairs[u] as PmPairParams;
      const d = deltaUsd[cur]?.[u] ?? 0;
      const shock =
        (pp.maxDeltaShock * Math.max(0, Math.abs(d) - pp.deltaTotalLiqShockThresholdUsd)) / usdPerUnit;
      deltaShock += shock;
      pairVec[u] = {
        standard: stdCells.map((c) => sumPair(c.pnl, u)),
        extended: extCells.map((c) => sumPair(c.pnl, u)),
        extendedWeights: extCells.map(
          (c) => pp.extendedTableFactor * Math.min(1, pp.priceRange / Math.abs(c.move)),
        ),
        deltaUsd: d,
        deltaShock: shock,
      };
    }
    const aggregate = (xs: readonly number[]) => aggregateCellPnl(xs, cp.pnlOffset, cap);
    const standard = stdCells.map((_, j) => aggregate(us.map((u) => pairVec[u]?.standard[j] as number)));
    const extended = extCells.map((_, k) => {
      const x = aggregate(
        us.map((u) => (pairVec[u]?.extended[k] as number) * (pairVec[u]?.extendedWeights[k] as number)),
      );
      return x < 0 ? Math.min(0, x + damp) : Math.max(0, x - damp);
    });
    stdAgg[cur] = standard;
    extAgg[cur] = extended;

    // Worst cell; among cells within 1e-12 of it, the first unchanged-vol one, else the first.
    const cells: PmWorstCase[] = [
      ...stdCells.map(
        (c, j): PmWorstCase => ({
          source: "standard",
          index: j,
          bucket: c.bucket + B + 1,
          side: c.bucket < 0 ? "left" : c.bucket > 0 ? "right" : "center",
          vol: c.vol,
          spotMoveByUnderlying: c.moves,
          loss: -(standard[j] as number),
        }),
      ),
      ...extCells.map(
        (c, k): PmWorstCase => ({
          source: "extended",
          index: k,
          bucket: k + 1,
          side: c.move < 0 ? "left" : "right",
          vol: "up",
          spotMoveByUnderlying: c.moves,
          loss: -(extended[k] as number),
        }),
      ),
    ];
    const worst = Math.max(0, ...cells.map((c) => c.loss));
    const near = cells.filter((c) => worst > 0 && c.loss >= worst - 1e-12 * Math.max(1, worst));
    const worstCase = near.find((c) => c.vol === "same") ?? near[0] ?? null;
    const wc = worstCase;
    const rollShock = roll[cur] ?? 0;
    const initial = worst + deltaShock + rollShock;
    byCurrency[cur] = {
      initial,
      maintenance: params.mmFactor * initial,
      risk: worst,
      worstScenario: wc ? label(wc.source === "extended", wc.spotMoveByUnderlying, us, wc.vol) : "none",
      deltaShock,
      contingency: rollShock,
      rollShock,
      worstCase: wc ? { ...wc, loss: worst } : null,
      vectors: { standard, extended },
      pairs: pairVec,
      extendedDampener: damp,
    };
  }

  const first = underlyings[0];
  const sumByCur = (pnl: readonly number[]) => {
    const out: Record<string, number> = {};
    for (let i = 0; i < n; i++) out[curOf[i] as string] = (out[curOf[i] as string] ?? 0) + (pnl[i] as number);
    return out;
  };
  const pick = (agg: Record<string, number[]>, j: number) => {
    const out: Record<string, number> = {};
    for (const c of currencies) out[c] = agg[c]?.[j] as number;
    return out;
  };
  const matrix: RiskMatrixCell[] = [
    ...stdCells.map((c, j) => ({
      spotMove: first === undefined ? 0 : (c.moves[first] as number),
      spotMoveByUnderlying: c.moves,
      vol: c.vol,
      extended: false,
      index: j,
      pnl: sumByCur(c.pnl),
      aggregated: pick(stdAgg, j),
    })),
    ...extCells.map((c, k) => ({
      spotMove: c.move,
      spotMoveByUnderlying: c.moves,
      vol: "up" as const,
      extended: true,
      index: k,
      pnl: sumByCur(c.pnl),
      aggregated: pick(extAgg, k),
    })),
  ];
  return { byCurrency, matrix };
}

/**
 * One cell's PnL across pairs (underlyings) after Deribit's offset rule: losses add in full,
 * gains offset them only up to `pnlOffset` x the gains, capped at `maxOffsetUsd` (see the module
 * comment for the documented source). Used by segregated (S:PM) and cross (X:PM) margin alike.
 */
export function aggregateCellPnl(pnls: readonly number[], pnlOffset: number, maxOffsetUsd: number): number {
  let loss = 0;
  let gain = 0;
  for (const x of pnls)
    if (x < 0) loss += x;
    else gain += x;
  return loss + (gain > 0 ? Math.min(pnlOffset * gain, maxOffsetUsd) : 0);
}
