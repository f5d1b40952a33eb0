/** Test helpers: synthetic slices from known smiles, and a plain reader of the Deribit sample CSV. */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { OptionContract } from "../../../src/core/instruments/types.js";
import type { CleanQuote } from "../../../src/core/market/types.js";
import { impliedVol } from "../../../src/core/pricing/impliedVol.js";
import type { SurfaceQuote, SurfaceSlice } from "../../../src/core/surface/sliceData.js";

/** A slice whose mid vols are exactly sqrt(w(k)/T), with a bid/ask band of +-halfSpread. */
export function syntheticSlice(
  w: (k: number) => number,
  T: number,
  ks: readonly number[],
  halfSpread = 0.005,
  noise?: () => number,
): SurfaceSlice {
  const quotes: SurfaceQuote[] = ks.map((k) => {
    const v = Math.sqrt(w(k) / T) + (noise ? noise() : 0);
    return { k, bidVol: v - halfSpread, askVol: v + halfSpread, targetVol: v, source: "mid" };
  });
  return { expiry: T, forward: 100, quotes };
}

export const linspace = (a: number, b: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

export const DATA_DIR = resolve(__dirname, "../../..", "../shared/data");
export const SAMPLE_CSV = resolve(DATA_DIR, "deribit/sample_BTC_ETH_chain_20260110T091409Z.csv");
export const haveSample = existsSync(SAMPLE_CSV);

/**
 * CleanQuotes of one currency from the sample CSV (plain reader for tests; the CLI uses the
 * market loader). Bid/ask vols from coin prices x underlying via impliedVol; mark vol from the
 * file; forward = the row's underlying price; T from the file.
 */
export function sampleCleanQuotes(currency: "BTC" | "ETH"): CleanQuote[] {
  const lines = readFileSync(SAMPLE_CSV, "utf8").trim().split("\n");
  const head = (lines[0] as string).split(",");
  const col = (name: string) => head.indexOf(name);
  const out: CleanQuote[] = [];
  for (const line of lines.slice(1)) {
    const c = line.split(",");
    if (c[col("currency")] !== currency) continue;
    const num = (name: string) => {
      const s = c[col(name)];
      return s === undefined || s === "" ? null : Number(s);
    };
    const F = num("underlying") as number;
    const K = num("strike") as number;
    const T = num("time_to_maturity") as number;
    const kind = c[col("option_type")] === "put" ? "put" : "call";
    const bid = num("bid_price");
    const ask = num("ask_price");
    const volOf = (p: number | null) => {
      if (p === null || !(p > 0)) return null;
      const v = impliedVol({ price: p * F, forward: F, strike: K, expiry: T, kind });
      return Number.isFinite(v) && v > 0 ? v : null;
    };
    const bidVol = volOf(bid);
    const askVol = volOf(ask);
    const instrument: OptionContract = {
      type: "option",
      name: c[col("instrument_name")] as string,
      underlying: currency,
      kind,
      strike: K,
      expiry: Date.parse(c[col("expiry_datetime")] as string),
      settlement: "inverse",
      contractSize: 1,
    };
    out.push({
      instrument,
      timestamp: Date.parse(c[col("timestamp")] as string),
      bid: bid !== null && bid > 0 ? bid : null,
      ask: ask !== null && ask > 0 ? ask : null,
      mark: num("mark_price"),
      markIv: num("implied_volatility"),
      underlyingPrice: F,
      forward: F,
      timeToExpiry: T,
      logMoneyness: Math.log(K / F),
      bidVol,
      askVol,
      midVol: bidVol !== null && askVol !== null ? 0.5 * (bidVol + askVol) : null,
      markVol: num("implied_volatility"),
    });
  }
  return out;
}
