/**
 * The scenario grid of Deribit's risk-matrix margin, shared by segregated (S:PM,
 * portfolioMargin.ts) and cross (X:PM, crossPortfolioMargin.ts) portfolio margin: which moves and
 * vol scenarios the cells are, in Deribit's vector order, and the per-cell rules both apply
 * (extended weights, the dampener, the delta shock, the roll-shock rate, the worst cell).
 * Units: moves relative, vols decimal, amounts in the caller's currency. The parameters and their
 * sources are in params/ and the rules' readings in portfolioMargin.ts's module comment.
 */
import { InvalidInputError } from "../errors.js";
import type { RiskMarket } from "../risk/market.js";
import type { PmCurrencyParams, PmPairParams, PortfolioMarginParams } from "./params/types.js";
import { type PmVolScenario, pmCellMarket } from "./pmCellMarket.js";

/** Vol scenarios inside a price bucket, in Deribit's order. */
export const PM_VOLS: readonly PmVolScenario[] = ["up", "same", "down"];

/** A standard cell: bucket b in -B..B moves each pair by its priceRange x b / B. */
export interface PmStandardCell {
  readonly moves: Record<string, number>;
  readonly vol: PmVolScenario;
  readonly bucket: number;
  /** The market of the cell (sticky-strike, vol shocked). */
  readonly market: RiskMarket;
}

/** An extended cell: options at `move` with vol up; futures and balances at the clamped move. */
export interface PmExtendedCell {
  readonly moves: Record<string, number>;
  readonly move: number;
  /** `move` clamped to each pair's +-priceRange (where delta-one legs are revalued). */
  readonly clamped: Record<string, number>;
  readonly market: RiskMarket;
  /** Market at the clamped move, unchanged vol: for futures (and balances). */
  readonly edge: RiskMarket;
}

export interface PmGrid {
  readonly standard: readonly PmStandardCell[];
  readonly extended: readonly PmExtendedCell[];
}

/** Underlyings in Deribit's order: BTC first, then alphabetical. */
export function sortUnderlyings(underlyings: Iterable<string>): string[] {
  return [...new Set(underlyings)].sort((a, b) => (a === "BTC" ? -1 : b === "BTC" ? 1 : a < b ? -1 : 1));
}

/** bucketsCount must be an integer >= 1 (throws naming the field otherwise). */
export function pmBucketsCount(params: PortfolioMarginParams): number {
  const B = params.bucketsCount;
  if (!Number.isInteger(B) || B < 1)
    throw new InvalidInputError("params.bucketsCount", B, "must be an integer >= 1");
  return B;
}

function movesOf(
  underlyings: readonly string[],
  pairs: Readonly<Record<string, PmPairParams>>,
  f: (pair: PmPairParams) => number,
): Record<string, number> {
  const m: Record<string, number> = {};
  for (const u of underlyings) {
    const p = pairs[u];
    if (p) m[u] = f(p);
  }
  return m;
}

/**
 * The 27 (2B + 1 buckets x 3 vols) standard and the extended cells with their markets.
 * `needEdge` false skips the futures' edge market (then `edge` is the option market).
 */
export function pmGrid(
  market: RiskMarket,
  underlyings: readonly string[],
  pairs: Readonly<Record<string, PmPairParams>>,
  params: PortfolioMarginParams,
  needEdge = true,
): PmGrid {
  const B = pmBucketsCount(params);
  const standard: PmStandardCell[] = [];
  for (let b = -B; b <= B; b++) {
    const moves = movesOf(underlyings, pairs, (p) => (p.priceRange * b) / B);
    for (const vol of PM_VOLS)
      standard.push({ moves, vol, bucket: b, market: pmCellMarket(market, moves, vol, params) });
  }
  const extended: PmExtendedCell[] = [];
  for (const move of params.extendedMoves) {
    if (!(move > -1)) throw new InvalidInputError("params.extendedMoves", move, "must be > -1");
    const moves = movesOf(underlyings, pairs, () => move);
    const clamped = movesOf(underlyings, pairs, (p) => Math.max(-p.priceRange, Math.min(p.priceRange, move)));
    const cellMarket = pmCellMarket(market, moves, "up", params);
    const edge = needEdge ? pmCellMarket(market, clamped, "same", params) : cellMarket;
    extended.push({ moves, move, clamped, market: cellMarket, edge });
  }
  return { standard, extended };
}

/** Weight of an extended cell's PnL: extendedTableFactor x min(1, priceRange / |move|). */
export function pmExtendedWeight(pair: PmPairParams, move: number): number {
  return pair.extendedTableFactor * Math.min(1, pair.priceRange / Math.abs(move));
}

/** The extended dampener as a deductible: |x| -> max(0, |x| - damp), sign kept. */
export function pmDampen(x: number, damp: number): number {
  return x < 0 ? Math.min(0, x + damp) : Math.max(0, x - damp);
}

/** Delta shock of a pair, USD: maxDeltaShock x max(0, |delta USD| - threshold). */
export function pmDeltaShockUsd(pair: PmPairParams, deltaUsd: number): number {
  return pair.maxDeltaShock * Math.max(0, Math.abs(deltaUsd) - pair.deltaTotalLiqShockThresholdUsd);
}

/** Roll-shock rate of a future T years out: max(annualisedMoveRisk x T, minAnnualisedMove). */
export function pmRollRate(cp: PmCurrencyParams, T: number): number {
  return Math.max(cp.annualisedMoveRisk * T, cp.minAnnualisedMove);
}

/**
 * The worst of `cells` by `loss`: the largest loss (0 when none is positive) and, among cells
 * within `relTol` of it, the first unchanged-vol one, else the first (Deribit's published
 * worst_case_bucket picks index 1 of three equal cells).
 */
export function pmWorstCell<C extends { readonly vol: PmVolScenario }>(
  cells: readonly C[],
  loss: (c: C) => number,
  relTol: number,
): { readonly worst: number; readonly cell: C | null } {
  let worst = 0;
  for (const c of cells) worst = Math.max(worst, loss(c));
  const near = cells.filter((c) => worst > 0 && loss(c) >= worst - relTol * Math.max(1, worst));
  return { worst, cell: near.find((c) => c.vol === "same") ?? near[0] ?? null };
}

/**
 * One cell's PnL across pairs (underlyings) after Deribit's offset rule: losses add in full,
 * gains offset them only up to `pnlOffset` x the gains, capped at `maxOffsetUsd` (see portfolioMargin.ts's
 * module comment for the documented source). Used by segregated (S:PM) and cross (X:PM) margin alike.
 */
export function aggregateCellPnl(pnls: readonly number[], pnlOffset: number, maxOffsetUsd: number): number {
  let loss = 0;
  let gain = 0;
  for (const x of pnls)
    if (x < 0) loss += x;
    else gain += x;
  return loss + (gain > 0 ? Math.min(pnlOffset * gain, maxOffsetUsd) : 0);
}
