/**
 * valuePosition(position, market): value of one holding in USD and in coin of its underlying.
 *
 * Options (inverse and linear): USD value = quantity * contractSize * Black-76(F, K, T, vol)
 * with F the forward of the option's expiry (market.ts), vol = surface.impliedVol(ln(K/F), T).
 * Coin value = USD value / index price (DESIGN.md: coin premium = USD value / underlying price).
 * At or after expiry an option is worth its intrinsic value against the index (it has settled).
 * Inverse futures (contractSize USD): coin value = qty * size * (1/entry - 1/F), USD = coin * S.
 * Linear futures (contractSize coin): USD value = qty * size * (F - entry), coin = USD / S.
 * A future without entryPrice is taken as entered at the current forward (value 0): resolve
 * entries against a base market first (resolveFutureEntries) before revaluing scenarios.
 */
import { InvalidInputError } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { blackUndiscountedUnchecked } from "../pricing/black76.js";
import { forwardAtExpiry, RISK_YEAR_MS, type RiskMarket, underlyingMarket } from "./market.js";

/** A position's value, with currencies named. */
export interface PositionValue {
  /** USD. */
  readonly valueUsd: number;
  /** Coin of the underlying. */
  readonly valueCoin: number;
  /** True when the leg's expiry is at or before valuationTime (settled at intrinsic). */
  readonly settled: boolean;
}

/** Signed size multiplier: quantity * contractSize. */
export function positionMultiplier(p: Position): number {
  const m = p.quantity * p.instrument.contractSize;
  if (!Number.isFinite(m))
    throw new InvalidInputError(`position[${p.instrument.name}].quantity`, p.quantity, "must be finite");
  return m;
}

/** Value of one position (see module comment). */
export function valuePosition(position: Position, market: RiskMarket): PositionValue {
  const ins = position.instrument;
  const um = underlyingMarket(market, ins.underlying);
  const S = um.indexPrice;
  const m = positionMultiplier(position);
  if (ins.type === "option") {
    const T = (ins.expiry - market.valuationTime) / RISK_YEAR_MS;
    const call = ins.kind === "call";
    if (T <= 0) {
      const usd = m * (call ? Math.max(S - ins.strike, 0) : Math.max(ins.strike - S, 0));
      return { valueUsd: usd, valueCoin: usd / S, settled: true };
    }
    const F = forwardAtExpiry(um, market.valuationTime, ins.expiry);
    const vol = um.surface.impliedVol(Math.log(ins.strike / F), T);
    if (!(vol >= 0)) throw new InvalidInputError(`surface vol for ${ins.name}`, vol, "must be >= 0");
    const usd = m * blackUndiscountedUnchecked(F, ins.strike, vol * Math.sqrt(T), call);
    return { valueUsd: usd, valueCoin: usd / S, settled: false };
  }
  const settled = ins.expiry !== null && ins.expiry <= market.valuationTime;
  const F = forwardAtExpiry(um, market.valuationTime, ins.expiry);
  const E = position.entryPrice ?? F;
  if (!(E > 0)) throw new InvalidInputError(`position[${ins.name}].entryPrice`, E, "must be > 0");
  if (ins.settlement === "inverse") {
    const coin = m * (1 / E - 1 / F);
    return { valueUsd: coin * S, valueCoin: coin, settled };
  }
  const usd = m * (F - E);
  return { valueUsd: usd, valueCoin: usd / S, settled };
}

/** Fills missing future entry prices with the market forward (a position opened at the mark). */
export function resolveFutureEntries(positions: readonly Position[], market: RiskMarket): Position[] {
  return positions.map((p) => {
    if (p.instrument.type !== "future" || p.entryPrice !== undefined) return p;
    const um = underlyingMarket(market, p.instrument.underlying);
    return { ...p, entryPrice: forwardAtExpiry(um, market.valuationTime, p.instrument.expiry) };
  });
}

/** Sum of position values by underlying, { BTC: {valueUsd, valueCoin}, ... }, and total USD. */
export function valuePortfolio(
  positions: readonly Position[],
  market: RiskMarket,
): { totalUsd: number; byUnderlying: Record<string, { valueUsd: number; valueCoin: number }> } {
  const byUnderlying: Record<string, { valueUsd: number; valueCoin: number }> = {};
  let totalUsd = 0;
  for (const p of positions) {
    const v = valuePosition(p, market);
    byUnderlying[p.instrument.underlying] ??= { valueUsd: 0, valueCoin: 0 };
    const b = byUnderlying[p.instrument.underlying] as { valueUsd: number; valueCoin: number };
    b.valueUsd += v.valueUsd;
    b.valueCoin += v.valueCoin;
    totalUsd += v.valueUsd;
  }
  return { totalUsd, byUnderlying };
}
