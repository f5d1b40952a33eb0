/**
 * Deribit public-API rows for tests (the shape of get_book_summary_by_currency, which
 * adapters/deribit/apiShapes.ts parses): an inverse chain priced by Black-76 from a forward and
 * vol written in the test, or the rows of a ChainSnapshot (e.g. a synthetic chain served by a fake
 * API). Prices in coin, mark_iv in percent, as Deribit sends them.
 */
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { blackPrice } from "../../src/core/pricing/black76.js";

/** One option row of the API. */
export interface DeribitApiOptionRow {
  readonly instrument_name: string;
  readonly creation_timestamp: number;
  readonly bid_price: number | null;
  readonly ask_price: number | null;
  readonly mark_price: number | null;
  readonly mark_iv: number | null;
  readonly underlying_price: number | null;
  readonly underlying_index: string | null;
  readonly estimated_delivery_price: number;
  readonly open_interest: number;
  readonly base_currency: string;
  readonly quote_currency: string;
}

/**
 * Rows of a BTC inverse chain at `time` (epoch ms): for each expiry code and strike a call and a
 * put marked at Black-76(forward(code), K, T, vol(code, K)) / forward, quoted at mark x (1 -+
 * spread), on the synthetic forward SYN.BTC-<code>. T = (expiry - time) / 365 days.
 */
export function blackChainRows(o: {
  readonly time: number;
  readonly indexPrice: number;
  readonly expiries: readonly { readonly code: string; readonly expiry: number }[];
  readonly strikes: readonly number[];
  readonly forward: (code: string) => number;
  readonly vol: (code: string, strike: number) => number;
  readonly spread?: number;
  readonly openInterest?: number;
}): DeribitApiOptionRow[] {
  const rows: DeribitApiOptionRow[] = [];
  const h = o.spread ?? 0.03;
  for (const { code, expiry } of o.expiries)
    for (const K of o.strikes)
      for (const kind of ["call", "put"] as const) {
        const F = o.forward(code);
        const T = (expiry - o.time) / (365 * 86_400_000);
        const usd = blackPrice({ forward: F, strike: K, expiry: T, vol: o.vol(code, K), kind });
        rows.push({
          instrument_name: `BTC-${code}-${K}-${kind === "call" ? "C" : "P"}`,
          creation_timestamp: o.time,
          bid_price: ((1 - h) * usd) / F,
          ask_price: ((1 + h) * usd) / F,
          mark_price: usd / F,
          mark_iv: o.vol(code, K) * 100,
          underlying_price: F,
          underlying_index: `SYN.BTC-${code}`,
          estimated_delivery_price: o.indexPrice,
          open_interest: o.openInterest ?? 500,
          base_currency: "BTC",
          quote_currency: "BTC",
        });
      }
  return rows;
}

/** The option rows of a chain snapshot, as the API would serve them. */
export function apiOptionRows(chain: ChainSnapshot): DeribitApiOptionRow[] {
  return chain.quotes.map((q) => ({
    instrument_name: q.instrument.name,
    creation_timestamp: q.timestamp,
    bid_price: q.bid,
    ask_price: q.ask,
    mark_price: q.mark,
    mark_iv: q.markIv === null || q.markIv === undefined ? null : q.markIv * 100,
    underlying_price: q.underlyingPrice ?? null,
    underlying_index: q.underlyingName ?? null,
    estimated_delivery_price: chain.indexPrice,
    open_interest: q.openInterest ?? 0,
    base_currency: chain.underlying,
    quote_currency: chain.underlying,
  }));
}
