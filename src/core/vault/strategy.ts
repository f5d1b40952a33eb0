/**
 * What a vault sells at the start of a round, sized to its NAV (the collateral limit), checked
 * against the exchange's standard initial margin (the margin limit).
 *
 * - covered-call: sells calls on every coin held (quantity = NAV in coin, in lots), fully
 *   collateralised in coin: a call pays at most one coin per contract at expiry.
 * - put-selling, USD (USDC) collateral: sells puts with strike x quantity <= NAV in USD (cash
 *   secured: the most a put can pay is its strike).
 * - put-selling, coin collateral: the same notional rule with the coin NAV valued at the index
 *   (strike x quantity <= coins x index); the collateral then falls with the price, as on a
 *   coin-margined venue.
 * Expiry: the latest listed expiry after now + 1 hour and at or before the round's end (the
 * option settles inside the round, at the boundary step at the latest); strike: the listed
 * strike whose core delta (Black's forward delta on the step's market, Deribit's `delta`) is
 * closest to `targetDelta` (backtest/strategies.ts pickStrikeByDelta). Quantity is floored to
 * `lot` contracts; if Deribit's standard initial margin of the sale (core/margin
 * standardBookMargin on the step's market) exceeds the round's equity in coin, the quantity is
 * cut to fit.
 */
import { pickStrikeByDelta } from "../backtest/strategies.js";
import type { BacktestStep } from "../backtest/market.js";
import { standardBookMargin } from "../margin/book.js";
import type { OptionContract } from "../instruments/types.js";

export type VaultStrategyType = "covered-call" | "put-selling";
export type VaultCollateral = "coin" | "usd";

/** The round's sale (or why there is none). */
export interface VaultSale {
  readonly instrument: OptionContract | null;
  /** Contracts sold (> 0), 0 when nothing is sold. */
  readonly quantity: number;
  /** Notional of the sale, USD: quantity x index (calls) or quantity x strike (puts). */
  readonly notionalUsd: number;
  /** Collateral at the open, USD (the round's NAV at the index). */
  readonly collateralUsd: number;
  /** Deribit standard initial margin of the sale, coin, and as a fraction of the equity in coin. */
  readonly initialMarginCoin: number;
  readonly marginUtilisation: number;
  /** Why nothing (or less than the collateral allows) was sold; null when the full size was. */
  readonly note: string | null;
}

/** Floors to whole lots; rounded to 10 decimals so 156 x 0.1 reads 15.6, not 15.600000000000001. */
const floorLots = (x: number, lot: number): number => Number((Math.floor(x / lot + 1e-9) * lot).toFixed(10));

/** The sale of a round opened at `step` with `coins` and `usd` of cash (see the module comment). */
export function vaultSale(o: {
  readonly step: BacktestStep;
  readonly type: VaultStrategyType;
  readonly collateral: VaultCollateral;
  readonly coins: number;
  readonly usd: number;
  readonly targetDelta: number;
  readonly roundEnd: number;
  readonly lot: number;
}): VaultSale {
  const { step } = o;
  const S = step.indexPrice;
  const collateralUsd = o.coins * S + o.usd;
  const none = (note: string): VaultSale => ({
    instrument: null,
    quantity: 0,
    notionalUsd: 0,
    collateralUsd,
    initialMarginCoin: 0,
    marginUtilisation: 0,
    note,
  });
  let expiry: number | null = null;
  for (const e of step.expiries())
    if (e - step.time >= 3_600_000 && e <= o.roundEnd && (expiry === null || e > expiry)) expiry = e;
  if (expiry === null) return none("no expiry listed between now + 1h and the round's end");
  const kind = o.type === "covered-call" ? "call" : "put";
  const k = pickStrikeByDelta(step, expiry, kind, o.targetDelta);
  const q = k === null ? null : step.quote(expiry, k, kind);
  if (k === null || !q) return none(`no ${kind} quoted at the round's expiry`);
  if (q.bid === null) return none(`no bid on ${q.instrument.name}`);
  let qty =
    o.type === "covered-call"
      ? floorLots(o.coins, o.lot)
      : floorLots((o.collateral === "usd" ? o.usd + o.coins * S : o.coins * S) / k, o.lot);
  if (!(qty > 0)) return none(`collateral below one lot (${o.lot})`);
  const sm = step.market([expiry]);
  let note: string | null = null;
  let im = 0;
  const equityCoin = collateralUsd / S;
  if (sm) {
    const margin = (n: number) =>
      standardBookMargin([{ instrument: q.instrument, quantity: -n }], sm.market).byCurrency[step.underlying]
        ?.initial ?? 0;
    im = margin(qty);
    if (im > equityCoin) {
      qty = floorLots((qty * equityCoin) / im, o.lot);
      note = `cut to the standard initial margin (${im.toFixed(6)} > equity ${equityCoin.toFixed(6)} coin)`;
      im = qty > 0 ? margin(qty) : 0;
      if (!(qty > 0)) return { ...none(note), initialMarginCoin: 0 };
    }
  }
  return {
    instrument: q.instrument,
    quantity: qty,
    notionalUsd: kind === "call" ? qty * S : qty * k,
    collateralUsd,
    initialMarginCoin: im,
    marginUtilisation: equityCoin > 0 ? im / equityCoin : 0,
    note,
  };
}
