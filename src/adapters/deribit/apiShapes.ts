/**
 * Deribit API v2 public market-data payloads, validated with zod, and their conversion to
 * ChainSnapshots. Shared with the live client (REST and WebSocket `ticker.*` notifications carry
 * the same ticker shape).
 *
 * Shapes (docs.deribit.com, API v2.1.1):
 *  - public/get_book_summary_by_currency -> result: array of
 *      { instrument_name, creation_timestamp (ms), mark_price, mark_iv (PERCENT, options only),
 *        bid_price, ask_price, mid_price (null when a side is missing), underlying_price (USD),
 *        underlying_index ("BTC-27DEC24" or "SYN.BTC-27DEC24" or "index_price"),
 *        estimated_delivery_price (USD index), open_interest, volume, base_currency, quote_currency,
 *        interest_rate, ... }
 *  - public/ticker (and ticker.{name}.{interval} notifications) -> result:
 *      { instrument_name, timestamp (ms), mark_price, mark_iv, bid_iv, ask_iv (PERCENT),
 *        best_bid_price, best_ask_price (0 or null when empty), best_bid_amount, best_ask_amount,
 *        underlying_price, underlying_index, index_price, open_interest, state,
 *        greeks { delta, gamma, vega, theta, rho }, stats { volume, ... }, ... }
 * Prices: inverse options in coin, linear (`_USDC`) options and futures in USD. IVs are divided
 * by 100 on the way in (decimal everywhere inside volfolio). An empty side (null, 0) becomes null.
 * Unknown extra fields are allowed (the API adds fields over time).
 *
 * A payload is one snapshot: its valuation time is the dominant (lower-median) timestamp of the
 * valid entries, and an entry farther than 10 minutes from it (options and futures alike) is
 * rejected as `timestamp-outlier` (csvFields.ts); `valuationTime` overrides the valuation time.
 * Entries that carry no bid/ask field at all (neither bid_price/ask_price nor
 * best_bid_price/best_ask_price) are kept mark-only and `warnings` says so.
 */
import { z } from "zod";
import {
  bidAskWarnings,
  dominantTimestamp,
  outlierDetail,
  TIMESTAMP_OUTLIER_TOLERANCE_MS,
} from "../csvFields.js";
import { parseInstrumentName } from "../../core/instruments/names.js";
import type { ExchangeInstrument, OptionContract } from "../../core/instruments/types.js";
import type { ChainSnapshot, FutureQuote, OptionQuote } from "../../core/market/types.js";
import { formatZodIssues } from "../zodIssues.js";

const num = z.number().refine(Number.isFinite, "must be a finite number");
const optNum = num.nullable().optional();

/** One entry of public/get_book_summary_by_currency. */
export const deribitBookSummarySchema = z.looseObject({
  instrument_name: z.string().min(1),
  creation_timestamp: num,
  mark_price: optNum,
  mark_iv: optNum,
  bid_price: optNum,
  ask_price: optNum,
  mid_price: optNum,
  last: optNum,
  underlying_price: optNum,
  underlying_index: z.string().nullable().optional(),
  estimated_delivery_price: optNum,
  open_interest: optNum,
  volume: optNum,
  volume_usd: optNum,
  interest_rate: optNum,
  base_currency: z.string().optional(),
  quote_currency: z.string().optional(),
});
export type DeribitBookSummary = z.infer<typeof deribitBookSummarySchema>;

export const deribitGreeksSchema = z.looseObject({
  delta: optNum,
  gamma: optNum,
  vega: optNum,
  theta: optNum,
  rho: optNum,
});

/** public/ticker result, also the data of a `ticker.{instrument}.{interval}` notification. */
export const deribitTickerSchema = z.looseObject({
  instrument_name: z.string().min(1),
  timestamp: num,
  state: z.string().optional(),
  mark_price: optNum,
  mark_iv: optNum,
  bid_iv: optNum,
  ask_iv: optNum,
  best_bid_price: optNum,
  best_ask_price: optNum,
  best_bid_amount: optNum,
  best_ask_amount: optNum,
  last_price: optNum,
  index_price: optNum,
  underlying_price: optNum,
  underlying_index: z.string().nullable().optional(),
  open_interest: optNum,
  interest_rate: optNum,
  settlement_price: optNum,
  estimated_delivery_price: optNum,
  greeks: deribitGreeksSchema.optional(),
  stats: z.looseObject({ volume: optNum }).optional(),
});
export type DeribitTicker = z.infer<typeof deribitTickerSchema>;

/** The JSON-RPC envelope of a REST/WebSocket response: { jsonrpc, id?, result, usIn?, usOut? }. */
export const deribitEnvelopeSchema = z.looseObject({
  jsonrpc: z.literal("2.0").optional(),
  id: z.union([z.number(), z.string()]).optional(),
  result: z.unknown(),
  usIn: num.optional(),
  usOut: num.optional(),
});

export type DeribitApiRejection =
  | "invalid-payload"
  | "bad-instrument-name"
  | "missing-index"
  | "timestamp-outlier";

export interface RejectedApiEntry {
  /** Position of the entry in the input array. */
  readonly index: number;
  readonly reason: DeribitApiRejection;
  readonly detail: string;
  readonly entry: unknown;
}

export interface DeribitApiChains {
  /** One chain per underlying coin, sorted by name. */
  readonly chains: ChainSnapshot[];
  readonly rejected: RejectedApiEntry[];
  /** Entries read (options + futures + rejected): accepted options + futures + rejected = read. */
  readonly entriesRead: number;
  /** Futures/perpetual entries turned into FutureQuotes. */
  readonly futuresRead: number;
  /** The dominant (lower-median) timestamp of the valid entries, epoch ms; null without any. */
  readonly dominantTime: number | null;
  /** Problems that did not reject entries but change what the chain is (e.g. no bid/ask fields). */
  readonly warnings: string[];
}

export interface DeribitApiChainOptions {
  /** The chains' valuation time, epoch ms UTC (default: the payload's dominant timestamp). */
  readonly valuationTime?: number;
  /** Entries farther than this from the dominant timestamp are `timestamp-outlier` (default 10 min). */
  readonly timestampToleranceMs?: number;
}

const side = (x: number | null | undefined): number | null => (typeof x === "number" && x > 0 ? x : null);
const pct = (x: number | null | undefined): number | null => (typeof x === "number" ? x / 100 : null);
const opt = (x: number | null | undefined): number | null => (typeof x === "number" ? x : null);

/** True when a payload entry looks like a ticker (rather than a book summary). */
export function isDeribitTickerLike(entry: unknown): boolean {
  return (
    typeof entry === "object" &&
    entry !== null &&
    ("best_bid_price" in entry || "best_ask_price" in entry || "greeks" in entry)
  );
}

function describe(error: z.ZodError): string {
  return formatZodIssues(error, { root: "entry", limit: 3 });
}

interface Normalized {
  name: string;
  timestamp: number;
  bid: number | null;
  ask: number | null;
  mark: number | null;
  bidIv: number | null;
  askIv: number | null;
  markIv: number | null;
  bidSize: number | null;
  askSize: number | null;
  underlyingPrice: number | null;
  underlyingName: string | null;
  index: number | null;
  openInterest: number | null;
  volume: number | null;
  /** The entry has a bid or ask field (even null). */
  hasSides: boolean;
}

function normalizeEntry(entry: unknown): { ok: true; value: Normalized } | { ok: false; detail: string } {
  if (isDeribitTickerLike(entry)) {
    const p = deribitTickerSchema.safeParse(entry);
    if (!p.success) return { ok: false, detail: describe(p.error) };
    const t = p.data;
    return {
      ok: true,
      value: {
        name: t.instrument_name,
        timestamp: t.timestamp,
        bid: side(t.best_bid_price),
        ask: side(t.best_ask_price),
        mark: opt(t.mark_price),
        bidIv: side(t.best_bid_price) === null ? null : pct(t.bid_iv),
        askIv: side(t.best_ask_price) === null ? null : pct(t.ask_iv),
        markIv: pct(t.mark_iv),
        bidSize: opt(t.best_bid_amount),
        askSize: opt(t.best_ask_amount),
        underlyingPrice: side(t.underlying_price),
        underlyingName: t.underlying_index ?? null,
        index: side(t.index_price) ?? side(t.estimated_delivery_price),
        openInterest: opt(t.open_interest),
        volume: opt(t.stats?.volume),
        hasSides: "best_bid_price" in t || "best_ask_price" in t,
      },
    };
  }
  const p = deribitBookSummarySchema.safeParse(entry);
  if (!p.success) return { ok: false, detail: describe(p.error) };
  const s = p.data;
  return {
    ok: true,
    value: {
      name: s.instrument_name,
      timestamp: s.creation_timestamp,
      bid: side(s.bid_price),
      ask: side(s.ask_price),
      mark: opt(s.mark_price),
      bidIv: null,
      askIv: null,
      markIv: pct(s.mark_iv),
      bidSize: null,
      askSize: null,
      underlyingPrice: side(s.underlying_price),
      underlyingName: s.underlying_index ?? null,
      index: side(s.estimated_delivery_price),
      openInterest: opt(s.open_interest),
      volume: opt(s.volume),
      hasSides: "bid_price" in s || "ask_price" in s,
    },
  };
}

interface ValidEntry {
  readonly i: number;
  readonly n: Normalized;
  readonly inst: ExchangeInstrument;
}

/** One coin's entries on the way to its chain. */
interface CoinEntries {
  readonly items: { i: number; n: Normalized; inst: OptionContract }[];
  readonly futures: FutureQuote[];
  readonly index: number[];
}

/** Entries that parse and name an instrument; the rest rejected with their reason. */
function validEntries(entries: readonly unknown[], rejected: RejectedApiEntry[]): ValidEntry[] {
  const valid: ValidEntry[] = [];
  entries.forEach((entry, i) => {
    const r = normalizeEntry(entry);
    if (!r.ok) {
      rejected.push({ index: i, reason: "invalid-payload", detail: r.detail, entry });
      return;
    }
    const name = parseInstrumentName(r.value.name);
    if (!name.ok) {
      rejected.push({ index: i, reason: "bad-instrument-name", detail: name.message, entry });
      return;
    }
    valid.push({ i, n: r.value, inst: name.value });
  });
  return valid;
}

/** Entries grouped by coin (timestamp outliers rejected), with the counts the warnings need. */
function groupByCoin(
  valid: readonly ValidEntry[],
  entries: readonly unknown[],
  dominant: number | null,
  tolerance: number,
  rejected: RejectedApiEntry[],
): { byCoin: Map<string, CoinEntries>; futuresRead: number; optionEntries: number; missingSides: number } {
  const byCoin = new Map<string, CoinEntries>();
  let futuresRead = 0;
  let missingSides = 0;
  let optionEntries = 0;
  for (const { i, n, inst } of valid) {
    if (dominant !== null && Math.abs(n.timestamp - dominant) > tolerance) {
      const detail = outlierDetail(n.timestamp, dominant, tolerance);
      rejected.push({ index: i, reason: "timestamp-outlier", detail, entry: entries[i] });
      continue;
    }
    let acc = byCoin.get(inst.underlying);
    if (!acc) {
      acc = { items: [], futures: [], index: [] };
      byCoin.set(inst.underlying, acc);
    }
    if (n.index !== null) acc.index.push(n.index);
    if (inst.type === "future") {
      futuresRead++;
      const mark = n.mark ?? n.underlyingPrice;
      if (mark !== null && mark > 0) {
        const { name, underlying, expiry } = inst;
        acc.futures.push({ name, underlying, expiry, timestamp: n.timestamp, mark, bid: n.bid, ask: n.ask });
      }
      continue;
    }
    optionEntries++;
    if (!n.hasSides) missingSides++;
    acc.items.push({ i, n, inst });
  }
  return { byCoin, futuresRead, optionEntries, missingSides };
}

/** The coin's index: the median of the entries' index prices, else the perpetual's mark. */
function coinIndex(acc: CoinEntries): number | null {
  const sorted = [...acc.index].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median !== undefined) return median;
  return acc.futures.find((f) => f.expiry === null)?.mark ?? null;
}

function optionQuoteOf({ n, inst }: { n: Normalized; inst: OptionContract }): OptionQuote {
  return {
    instrument: inst,
    timestamp: n.timestamp,
    bid: n.bid,
    ask: n.ask,
    mark: n.mark,
    bidSize: n.bidSize,
    askSize: n.askSize,
    bidIv: n.bidIv,
    askIv: n.askIv,
    markIv: n.markIv,
    underlyingPrice: n.underlyingPrice,
    underlyingName: n.underlyingName,
    openInterest: n.openInterest,
    volume: n.volume,
  };
}

/** One chain per coin with an index price; a coin without one has its options rejected. */
function coinChains(
  byCoin: ReadonlyMap<string, CoinEntries>,
  entries: readonly unknown[],
  valuationTime: number,
  rejected: RejectedApiEntry[],
): ChainSnapshot[] {
  const chains: ChainSnapshot[] = [];
  for (const [coin, acc] of [...byCoin].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const index = coinIndex(acc);
    if (index === null) {
      const detail = `no index price for ${coin} in the payload (no index_price, estimated_delivery_price or perpetual)`;
      for (const it of acc.items)
        rejected.push({ index: it.i, reason: "missing-index", detail, entry: entries[it.i] });
      continue;
    }
    chains.push({
      underlying: coin,
      valuationTime,
      indexPrice: index,
      quotes: acc.items.map(optionQuoteOf),
      futures: acc.futures.sort(
        (a, b) => (a.expiry ?? Number.POSITIVE_INFINITY) - (b.expiry ?? Number.POSITIVE_INFINITY),
      ),
    });
  }
  return chains;
}

/**
 * Converts Deribit book-summary and/or ticker entries (any mix, any coins) to one chain per coin.
 * Options become quotes; futures and perpetuals become FutureQuotes (mark, USD). The chain's
 * valuation time is the payload's dominant timestamp (entries farther than the tolerance from it
 * are rejected as "timestamp-outlier"); its index the median of the entries' index (ticker
 * index_price, else estimated_delivery_price). A coin whose entries carry no index at all has its
 * options rejected as "missing-index".
 */
export function deribitEntriesToChains(
  entries: readonly unknown[],
  options: DeribitApiChainOptions = {},
): DeribitApiChains {
  const rejected: RejectedApiEntry[] = [];
  const valid = validEntries(entries, rejected);
  const tolerance = options.timestampToleranceMs ?? TIMESTAMP_OUTLIER_TOLERANCE_MS;
  const dominant = dominantTimestamp(valid.map((v) => v.n.timestamp));
  const g = groupByCoin(valid, entries, dominant, tolerance, rejected);
  const chains = coinChains(g.byCoin, entries, options.valuationTime ?? (dominant as number), rejected);
  rejected.sort((a, b) => a.index - b.index);
  const warnings = bidAskWarnings(
    "Deribit JSON payload",
    g.optionEntries > 0 && g.missingSides === g.optionEntries
      ? ["bid_price/best_bid_price", "ask_price/best_ask_price"]
      : [],
    chains.flatMap((c) => c.quotes),
    "field",
  );
  return {
    chains,
    rejected,
    entriesRead: entries.length,
    futuresRead: g.futuresRead,
    dominantTime: dominant,
    warnings,
  };
}

/**
 * Flattens a parsed JSON document into entries: a JSON-RPC envelope ({result: [...]} or
 * {result: {...}}), an array of envelopes, an array of entries, or a single entry.
 */
export function deribitPayloadEntries(doc: unknown): unknown[] {
  const unwrap = (x: unknown): unknown[] => {
    if (Array.isArray(x)) return x.flatMap(unwrap);
    if (typeof x === "object" && x !== null && "result" in x && !("instrument_name" in x)) {
      return unwrap((x as { result: unknown }).result);
    }
    if (typeof x === "object" && x !== null && "params" in x && !("instrument_name" in x)) {
      // WebSocket subscription notification: { method: "subscription", params: { channel, data } }
      const data = (x as { params?: { data?: unknown } }).params?.data;
      return data === undefined ? [x] : unwrap(data);
    }
    return [x];
  };
  return unwrap(doc);
}
