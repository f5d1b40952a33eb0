/**
 * Account equity of a book: cash plus the value of its positions, per settlement currency, and
 * in USD. One function for every entry point (CLI margin, the demo, the agent, the backtest), so
 * an equity figure is never summed twice in two ways.
 *
 * Settlement currency (margin/book.ts settlementCurrency): the coin for inverse legs (their value
 * in coin: valuation.ts valueCoin), "USDC" for linear ones (their USD value). Cash amounts are in
 * their own currency. USD per unit: 1 for "USD" and "USDC"; a coin's index price on `market`.
 * A currency the market has no price for (cash in a coin without a market) is listed in
 * `unpriced` with its amount and left out of equityUsd: never a NaN in a total.
 *
 * Example: cash { BTC: 1 }, one long inverse call worth 0.05 BTC, BTC index 100,000 USD ->
 * byCurrency.BTC = { cash: 1, positions: 0.05, equity: 1.05, usdPerUnit: 100000, equityUsd: 105000 }.
 */
import type { Position } from "../instruments/types.js";
import { settlementCurrency } from "../margin/book.js";
import type { RiskMarket } from "./market.js";
import { valuePosition } from "./valuation.js";

/** One currency's account. Amounts in that currency unless named ...Usd. */
export interface CurrencyEquity {
  readonly currency: string;
  readonly cash: number;
  /** Value of the positions settled in this currency. */
  readonly positions: number;
  /** cash + positions. */
  readonly equity: number;
  /** USD per unit of the currency at the market's index (1 for USD/USDC). */
  readonly usdPerUnit: number;
  readonly equityUsd: number;
}

export interface BookEquity {
  readonly byCurrency: Record<string, CurrencyEquity>;
  /** Sum of equityUsd over the priced currencies. */
  readonly equityUsd: number;
  /** Cash the market cannot price (amount in its currency), left out of equityUsd. */
  readonly unpriced: readonly {
    readonly currency: string;
    readonly amount: number;
    readonly reason: string;
  }[];
}

/** USD per unit of `currency` on `market`, or null when the market has no price for it. */
export function usdPerUnit(currency: string, market: RiskMarket): number | null {
  if (currency === "USD" || currency === "USDC") return 1;
  const m = market.underlyings[currency];
  return m ? m.indexPrice : null;
}

/** Equity per settlement currency and in USD (see the module comment). Positions must be live. */
export function bookEquity(
  positions: readonly Position[],
  cash: Readonly<Record<string, number>> | undefined,
  market: RiskMarket,
): BookEquity {
  const acc = new Map<string, { cash: number; positions: number }>();
  const slot = (c: string) => {
    let s = acc.get(c);
    if (!s) {
      s = { cash: 0, positions: 0 };
      acc.set(c, s);
    }
    return s;
  };
  for (const [c, amount] of Object.entries(cash ?? {})) slot(c).cash += amount;
  for (const p of positions) {
    const cur = settlementCurrency(p);
    const v = valuePosition(p, market);
    slot(cur).positions += cur === "USDC" ? v.valueUsd : v.valueCoin;
  }
  const byCurrency: Record<string, CurrencyEquity> = {};
  const unpriced: { currency: string; amount: number; reason: string }[] = [];
  let equityUsd = 0;
  for (const [currency, s] of acc) {
    const px = usdPerUnit(currency, market);
    const equity = s.cash + s.positions;
    if (px === null) {
      unpriced.push({ currency, amount: equity, reason: `no ${currency} index in the market` });
      continue;
    }
    byCurrency[currency] = {
      currency,
      cash: s.cash,
      positions: s.positions,
      equity,
      usdPerUnit: px,
      equityUsd: equity * px,
    };
    equityUsd += equity * px;
  }
  return { byCurrency, equityUsd, unpriced };
}

/** Sum in USD of amounts by currency (e.g. maintenance margin by settlement currency), with the
 *  currencies the market cannot price listed instead of added. */
export function sumUsd(
  byCurrency: Readonly<Record<string, number>>,
  market: RiskMarket,
): { readonly totalUsd: number; readonly unpriced: readonly string[] } {
  let totalUsd = 0;
  const unpriced: string[] = [];
  for (const [c, x] of Object.entries(byCurrency)) {
    const px = usdPerUnit(c, market);
    if (px === null) unpriced.push(c);
    else totalUsd += x * px;
  }
  return { totalUsd, unpriced };
}
