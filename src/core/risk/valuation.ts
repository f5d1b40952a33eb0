/**
 * valuePosition(position, market): value of one holding in USD and in coin of its underlying.
 *
 * Options: Black-76 on the forward F of the option's expiry (market.ts), undiscounted (r = 0),
 * vol = surface.impliedVol(ln(K/F), T), m = quantity * contractSize, B = Black-76 USD value per
 * coin of underlying:
 *   inverse (coin-settled, Deribit's mark convention): valueCoin = m B / F (the premium in coin,
 *     which at the chain's mark IV and the forward the expiry's marks imply is Deribit's
 *     mark_price: on the 233-day season to its IV's 4-decimal rounding, median 4e-5 relative;
 *     scripts/measure/deribitMarks.ts, test/core/risk/deribitMarks.test.ts);
 *     valueUsd = valueCoin * S (those coins at the index S).
 *   linear (USDC-settled): valueUsd = m B; valueCoin = valueUsd / S.
 * So an inverse option's USD value is m B S / F, not m B: the two differ by the basis F / S (4.8%
 * on a 25DEC26 option at a 10% annual carry), which is why the coin value is never USD / index.
 * Inverse futures (contractSize USD): coin value = qty * size * (1/entry - 1/F), USD = coin * S.
 * Linear futures (contractSize coin): USD value = qty * size * (F - entry), coin = USD / S.
 * A future without entryPrice is taken as entered at the current forward (value 0): resolve
 * entries against a base market first (resolveFutureEntries) before revaluing scenarios.
 * Variance swaps and vol-index futures (USD-settled): volValuation.ts, on the same surface and
 * forwards; valueCoin = valueUsd / S.
 *
 * Expired legs: on a market whose valuation time is at or after a leg's expiry, valuePosition
 * gives the leg's settlement value at the index (intrinsic; an inverse option pays intrinsic / S
 * coins), flagged `settled`: that is what a scenario with a time roll past the expiry needs. A
 * leg already expired at the BASE market must not reach the risk engine at all (it would move
 * with every spot scenario): split it off first with `splitExpired` (expiredLegs.ts), which
 * settles it once; `assertLive` is the guard the risk entry points call.
 */
import { InvalidInputError } from "../errors.js";
import type { OptionContract, Position } from "../instruments/types.js";
import { blackUndiscountedUnchecked } from "../pricing/black76.js";
import { forwardAtExpiry, type RiskMarket, underlyingMarket } from "./market.js";
import { volIndexFutureState, volPositionValueUsd } from "./volValuation.js";
import { timeToExpiry } from "../time.js";

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

/** What Black-76 needs for one live option on a market: the one place forward and vol are chosen. */
export interface OptionMarketInputs {
  /** Index (spot), USD per coin. */
  readonly indexPrice: number;
  /** Forward of the option's expiry, USD per coin (market.ts forwardAtExpiry). */
  readonly forward: number;
  /** Years, ACT/365 (> 0). */
  readonly timeToExpiry: number;
  /** Surface vol at (ln(K/F), T), decimal. */
  readonly vol: number;
  /** USD per Black-76 dollar of this contract's value: S / F for inverse (coin premium B / F
   *  held at the index), 1 for linear. */
  readonly usdPerBlack: number;
}

/**
 * Forward, time, vol and settlement factor of a live option on `market`; throws InvalidInputError
 * for an option expired at the valuation time (settle it instead, see assertLive).
 */
export function optionMarketInputs(ins: OptionContract, market: RiskMarket): OptionMarketInputs {
  const um = underlyingMarket(market, ins.underlying);
  const T = timeToExpiry(ins.expiry, market.valuationTime);
  if (!(T > 0))
    throw new InvalidInputError(
      `${ins.name}.expiry`,
      new Date(ins.expiry).toISOString(),
      `must be after the valuation time ${new Date(market.valuationTime).toISOString()}`,
    );
  const F = forwardAtExpiry(um, market.valuationTime, ins.expiry);
  const vol = um.surface.impliedVol(Math.log(ins.strike / F), T);
  if (!(vol >= 0)) throw new InvalidInputError(`surface vol for ${ins.name}`, vol, "must be >= 0");
  const S = um.indexPrice;
  return {
    indexPrice: S,
    forward: F,
    timeToExpiry: T,
    vol,
    usdPerBlack: ins.settlement === "inverse" ? S / F : 1,
  };
}

/** Value of one position (see module comment). */
export function valuePosition(position: Position, market: RiskMarket): PositionValue {
  const ins = position.instrument;
  const um = underlyingMarket(market, ins.underlying);
  const S = um.indexPrice;
  const m = positionMultiplier(position);
  if (ins.type === "option") {
    const T = timeToExpiry(ins.expiry, market.valuationTime);
    const call = ins.kind === "call";
    if (T <= 0) {
      const usd = m * (call ? Math.max(S - ins.strike, 0) : Math.max(ins.strike - S, 0));
      return { valueUsd: usd, valueCoin: usd / S, settled: true };
    }
    const o = optionMarketInputs(ins, market);
    const black = m * blackUndiscountedUnchecked(o.forward, ins.strike, o.vol * Math.sqrt(T), call);
    if (ins.settlement === "inverse") {
      const coin = black / o.forward;
      return { valueUsd: coin * S, valueCoin: coin, settled: false };
    }
    return { valueUsd: black, valueCoin: black / S, settled: false };
  }
  if (ins.type === "varianceSwap" || ins.type === "volIndexFuture") {
    const v = volPositionValueUsd({ ...position, instrument: ins }, market);
    return { valueUsd: v.valueUsd, valueCoin: v.valueUsd / S, settled: v.settled };
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

/**
 * Fills missing future entry prices with the market forward (a position opened at the mark); a
 * vol-index future's with its fair value on the market (volValuation.ts).
 */
export function resolveFutureEntries(positions: readonly Position[], market: RiskMarket): Position[] {
  return positions.map((p) => {
    if (p.entryPrice !== undefined) return p;
    if (p.instrument.type === "volIndexFuture")
      return { ...p, entryPrice: volIndexFutureState(p.instrument, market).fair };
    if (p.instrument.type !== "future") return p;
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

/**
 * Throws an InvalidInputError naming the first dated leg whose expiry is at or before the
 * market's valuation time: the risk entry points (greeks, grid, stress, margin, VaR) value live
 * legs only; settle expired ones first (expiredLegs.ts splitExpired).
 */
export function assertLive(positions: readonly Position[], market: RiskMarket): void {
  for (let i = 0; i < positions.length; i++) {
    const ins = (positions[i] as Position).instrument;
    if (ins.expiry !== null && ins.expiry <= market.valuationTime)
      throw new InvalidInputError(
        `positions[${i}] (${ins.name}).expiry`,
        new Date(ins.expiry).toISOString(),
        `must be after the valuation time ${new Date(market.valuationTime).toISOString()} (an expired leg is settled, not revalued: split it off with splitExpired)`,
      );
  }
}
