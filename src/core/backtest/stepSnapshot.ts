/**
 * A backtest step (market.ts) seen as the risk engine's market: cleaned quotes (`CleanQuote`,
 * linear contracts of 1 coin priced in USD, as the engine accounts them), forwards per expiry and
 * a surface that passes exactly through the step's mark vols. This lets the optimizer strategy
 * reuse the optimizer's candidate, book, scenario and margin builders (core/optimize,
 * core/risk) on what the engine sees at that step, and nothing else (no look-ahead).
 *
 * Surface: per listed expiry, total variance w = vol^2 T linear in k = ln(K/F) between the
 * listed strikes (out-of-the-money side: put vol below the forward, call vol at or above; the
 * other side when one is missing), flat vol beyond the wings; between expiries linear in total
 * variance at fixed k (surface/interpolate.ts). At a listed (K, expiry) it returns the step's
 * mark vol of the out-of-the-money side, so the risk engine's greeks equal Black-76 greeks at the
 * mark vol (for the in-the-money side too when, as in the synthetic market and usually on
 * Deribit, calls and puts of a strike share one mark vol); no fit, so fair value = mark (the edge
 * of a trade is minus its crossing cost).
 *
 * Units: times epoch ms UTC, T = timeToExpiry(expiry, time), prices USD per coin, vols decimal.
 */
import type { OptionContract } from "../instruments/types.js";
import type { CleanQuote, MarketSnapshot } from "../market/types.js";
import { impliedVol } from "../pricing/impliedVol.js";
import { type SmileFunction, surfaceFromSmiles } from "../surface/interpolate.js";
import { optionName } from "./calendar.js";
import type { BacktestStep, StepOptionQuote } from "./market.js";
import { timeToExpiry } from "../time.js";

/** Piecewise-linear smile in total variance through (k_i, w_i), flat beyond the ends. */
function linearSmile(expiry: number, ks: readonly number[], ws: readonly number[]): SmileFunction {
  const n = ks.length;
  const seg = (k: number): number => {
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((ks[mid] as number) <= k) lo = mid;
      else hi = mid;
    }
    return lo;
  };
  return {
    expiry,
    totalVariance: (k) => {
      if (n === 1 || k <= (ks[0] as number)) return ws[0] as number;
      if (k >= (ks[n - 1] as number)) return ws[n - 1] as number;
      const i = seg(k);
      const a = (k - (ks[i] as number)) / ((ks[i + 1] as number) - (ks[i] as number));
      return (1 - a) * (ws[i] as number) + a * (ws[i + 1] as number);
    },
    firstDerivative: (k) => {
      if (n === 1 || k <= (ks[0] as number) || k >= (ks[n - 1] as number)) return 0;
      const i = seg(k);
      return ((ws[i + 1] as number) - (ws[i] as number)) / ((ks[i + 1] as number) - (ks[i] as number));
    },
    secondDerivative: () => 0,
  };
}

const ivOr = (price: number | null, F: number, K: number, T: number, kind: "call" | "put") => {
  if (price === null) return null;
  const v = impliedVol({ price, forward: F, strike: K, expiry: T, kind });
  return Number.isFinite(v) && v > 0 ? v : null;
};

/** The linear 1-coin option contract the backtest trades. */
export function stepOptionContract(
  underlying: string,
  expiry: number,
  strike: number,
  kind: "call" | "put",
): OptionContract {
  return {
    type: "option",
    name: optionName(underlying, expiry, strike, kind),
    underlying,
    kind,
    strike,
    expiry,
    settlement: "linear",
    contractSize: 1,
  };
}

/**
 * The market snapshot of `step` restricted to `expiries` (every listed strike, calls and puts),
 * plus the contracts in `extra` (e.g. held options) when quoted. Unlisted expiries are skipped.
 */
export function stepMarketSnapshot(
  step: BacktestStep,
  expiries: readonly number[],
  extra: readonly { expiry: number; strike: number; kind: "call" | "put" }[] = [],
): { snapshot: MarketSnapshot; quotes: Map<string, StepOptionQuote> } {
  const t = step.time;
  const listed = new Set(step.expiries());
  const wanted = new Map<number, Set<string>>();
  const want = (e: number, k: number, kind: "call" | "put") => {
    const s = wanted.get(e) ?? new Set<string>();
    s.add(`${k}|${kind}`);
    wanted.set(e, s);
  };
  for (const e of expiries) {
    if (!listed.has(e) || e <= t) continue;
    for (const k of step.strikes(e)) {
      want(e, k, "call");
      want(e, k, "put");
    }
  }
  for (const x of extra) if (x.expiry > t) want(x.expiry, x.strike, x.kind);
  const quotes = new Map<string, StepOptionQuote>();
  const clean: CleanQuote[] = [];
  const smiles: SmileFunction[] = [];
  const sortedExpiries = [...wanted.keys()].sort((a, b) => a - b);
  for (const e of sortedExpiries) {
    const T = timeToExpiry(e, t);
    const F = step.forward(e);
    const byStrike = new Map<number, { call?: StepOptionQuote; put?: StepOptionQuote }>();
    for (const key of wanted.get(e) as Set<string>) {
      const [ks, kind] = key.split("|") as [string, "call" | "put"];
      const K = Number(ks);
      const q = step.quote(e, K, kind);
      if (!q) continue;
      const ins = stepOptionContract(step.underlying, e, K, kind);
      quotes.set(ins.name, q);
      const slot = byStrike.get(K) ?? {};
      slot[kind] = q;
      byStrike.set(K, slot);
      const bidVol = ivOr(q.bidUsd, q.forward, K, T, kind);
      const askVol = ivOr(q.askUsd, q.forward, K, T, kind);
      clean.push({
        instrument: ins,
        timestamp: t,
        bid: q.bidUsd,
        ask: q.askUsd,
        mark: q.markUsd,
        bidSize: null,
        askSize: null,
        underlyingPrice: q.forward,
        forward: q.forward,
        timeToExpiry: T,
        logMoneyness: Math.log(K / q.forward),
        bidVol,
        askVol,
        midVol: bidVol !== null && askVol !== null ? (bidVol + askVol) / 2 : null,
        markVol: q.markVol,
      });
    }
    const strikes = [...byStrike.keys()].sort((a, b) => a - b);
    const ks: number[] = [];
    const ws: number[] = [];
    for (const K of strikes) {
      const s = byStrike.get(K) as { call?: StepOptionQuote; put?: StepOptionQuote };
      const q = (K < F ? (s.put ?? s.call) : (s.call ?? s.put)) as StepOptionQuote;
      ks.push(Math.log(K / F));
      ws.push(q.markVol * q.markVol * T);
    }
    if (ks.length > 0) smiles.push(linearSmile(T, ks, ws));
  }
  const snapshot: MarketSnapshot = {
    underlying: step.underlying,
    valuationTime: t,
    indexPrice: step.indexPrice,
    forwards: step
      .expiries()
      .filter((e) => e > t)
      .map((e) => ({
        expiry: e,
        timeToExpiry: timeToExpiry(e, t),
        forward: step.forward(e),
        source: "venue-underlying",
      })),
    quotes: clean,
    ...(smiles.length > 0 ? { surface: surfaceFromSmiles("step-marks", smiles) } : {}),
  };
  return { snapshot, quotes };
}
