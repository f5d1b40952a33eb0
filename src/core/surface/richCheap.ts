/**
 * Rich/cheap list: each quote against the fitted surface, in vol points and in premium.
 *
 * signal: "rich" when the fitted vol is below the bid vol (the market pays more than the fit:
 * a sale candidate), "cheap" when it is above the ask vol (a purchase candidate), "fair" inside
 * the band; a one-sided quote (target = mark) is "rich"/"cheap" by the sign of the difference
 * and flagged by source "mark".
 * volDiffPts = 100 (targetVol - fittedVol). Premium difference = Black-76 value at the target vol
 * minus the value at the fitted vol, in USD per 1 coin of underlying and in the quote currency
 * (coin = USD / forward for inverse options, USD for linear). Positive = market richer than fit.
 */
import { blackPrice } from "../pricing/black76.js";
import type { SurfaceSlice } from "./sliceData.js";
import type { VolSurface } from "./types.js";

export interface RichCheapEntry {
  readonly name: string;
  /** Time to expiry, years. */
  readonly expiry: number;
  readonly k: number;
  readonly strike: number | null;
  readonly kind: "call" | "put" | null;
  readonly bidVol: number | null;
  readonly askVol: number | null;
  readonly targetVol: number;
  readonly fittedVol: number;
  readonly source: "mid" | "mark";
  /** 100 (targetVol - fittedVol). */
  readonly volDiffPts: number;
  /** Premium difference, USD per coin of underlying (null without strike/kind). */
  readonly premiumDiffUsd: number | null;
  /** Same in the quote currency (coin for inverse, USD for linear). */
  readonly premiumDiffQuote: number | null;
  readonly quoteCurrency: "coin" | "USD" | null;
  readonly signal: "rich" | "cheap" | "fair";
}

/** Rich/cheap entries of all quotes, sorted by |volDiffPts| descending. */
export function richCheapList(surface: VolSurface, slices: readonly SurfaceSlice[]): RichCheapEntry[] {
  const out: RichCheapEntry[] = [];
  for (const s of slices) {
    for (const q of s.quotes) {
      const fitted = surface.impliedVol(q.k, s.expiry);
      const diff = q.targetVol - fitted;
      let premiumUsd: number | null = null;
      let premiumQuote: number | null = null;
      let currency: "coin" | "USD" | null = null;
      const { kind, strike } = q;
      if (kind !== undefined && strike !== undefined && strike > 0 && s.forward > 0) {
        const at = (vol: number) => blackPrice({ forward: s.forward, strike, expiry: s.expiry, vol, kind });
        premiumUsd = at(q.targetVol) - at(fitted);
        if (q.settlement === "inverse") {
          premiumQuote = premiumUsd / s.forward;
          currency = "coin";
        } else {
          premiumQuote = premiumUsd;
          currency = "USD";
        }
      }
      let signal: "rich" | "cheap" | "fair";
      if (q.bidVol !== null && q.askVol !== null)
        signal = fitted < q.bidVol ? "rich" : fitted > q.askVol ? "cheap" : "fair";
      else signal = diff > 0 ? "rich" : diff < 0 ? "cheap" : "fair";
      out.push({
        name: q.name ?? `T=${s.expiry.toFixed(4)} k=${q.k.toFixed(4)}`,
        expiry: s.expiry,
        k: q.k,
        strike: q.strike ?? null,
        kind: q.kind ?? null,
        bidVol: q.bidVol,
        askVol: q.askVol,
        targetVol: q.targetVol,
        fittedVol: fitted,
        source: q.source,
        volDiffPts: 100 * diff,
        premiumDiffUsd: premiumUsd,
        premiumDiffQuote: premiumQuote,
        quoteCurrency: currency,
        signal,
      });
    }
  }
  return out.sort((a, b) => Math.abs(b.volDiffPts) - Math.abs(a.volDiffPts));
}
