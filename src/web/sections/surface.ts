/**
 * The demo's surface section (pure): the core's default-model fit of the loaded chain (display:
 * slices, fitted curves, rich/cheap, the 3D grid, the static-arbitrage check). The market the book
 * is valued on is the book commands' fit pinned to the chain's marks (web/bookMarket.ts), so its
 * option vols are the marks whichever model is shown here.
 */
import { groupByExpiry } from "../../core/market/byExpiry.js";
import { normalizeChain } from "../../core/market/normalize.js";
import type { ChainSnapshot } from "../../core/market/types.js";
import { linspace } from "../../core/risk/scenario.js";
import { surfaceArbitrageReport } from "../../core/surface/arbitrage.js";
import { calibrateSurfaceFromQuotes } from "../../core/surface/calibrate.js";
import { surfaceTermStructure } from "../../core/surface/queries.js";
import { type RichCheapEntry, richCheapList } from "../../core/surface/richCheap.js";
import type { SurfaceExpiry, SurfaceSection } from "../report.js";
import { iso } from "./util.js";

type SurfaceFitValue = Extract<ReturnType<typeof calibrateSurfaceFromQuotes>["fit"], { ok: true }>["value"];
type CleanQuote = ReturnType<typeof normalizeChain>["snapshot"]["quotes"][number];

/**
 * The dashboard's rich/cheap signal of a quote. A quote without a bid cannot be sold, so it is
 * never "rich" (core's richCheapList compares its mark with the fit): it says "no bid", or
 * "cheap" when the fit is above its ask (a purchase candidate). Likewise without an ask: "no ask",
 * or "rich" when the fit is below its bid. Two-sided quotes keep the core's signal.
 */
export function quoteSignal(r: Pick<RichCheapEntry, "bidVol" | "askVol" | "fittedVol" | "signal">): string {
  if (r.bidVol !== null && r.askVol !== null) return r.signal;
  if (r.bidVol === null && r.askVol === null) return "no bid / no ask";
  if (r.bidVol === null) return r.askVol !== null && r.fittedVol > r.askVol ? "cheap" : "no bid";
  return r.fittedVol < r.bidVol ? "rich" : "no ask";
}

/** One expiry of the section: market points, every quote by strike, the fitted curve over the quoted range. */
function surfaceExpiry(
  f: SurfaceFitValue,
  i: number,
  byExpiry: ReadonlyMap<number, CleanQuote[]>,
): SurfaceExpiry | undefined {
  const s = f.slices[i];
  if (!s) return undefined;
  const quotes = f.data[i]?.quotes ?? [];
  const all = [...(s.expiryTime !== null ? (byExpiry.get(s.expiryTime) ?? []) : [])].sort(
    (a, b) => a.instrument.strike - b.instrument.strike || a.instrument.kind.localeCompare(b.instrument.kind),
  );
  const ks = [...quotes.map((q) => q.k), ...all.map((q) => q.logMoneyness)];
  const lo = Math.min(...ks);
  const hi = Math.max(...ks);
  return {
    expiry: iso(s.expiryTime),
    timeToExpiry: s.expiry,
    forwardUsd: s.forward,
    points: quotes.map((q) => ({ k: q.k, bidVol: q.bidVol, askVol: q.askVol, midVol: q.targetVol })),
    quotes: all.map((q) => ({
      instrument: q.instrument.name,
      strike: q.instrument.strike,
      kind: q.instrument.kind,
      k: q.logMoneyness,
      bidVol: q.bidVol,
      askVol: q.askVol,
      markVol: q.markVol,
    })),
    fit: linspace(lo, hi, 61).map((k) => ({
      k,
      strike: s.forward * Math.exp(k),
      vol: f.surface.impliedVol(k, s.expiry),
    })),
    kRange: [lo, hi],
    atmVol: s.atmVol,
    rmseVolPts: s.rmseVolPts,
  };
}

/**
 * 3D view: every expiry, each row drawn over its own quoted k range (null outside it), so short
 * expiries' steep wings do not stretch the vol axis and no expiry is left out.
 */
function surfaceGrid(f: SurfaceFitValue, expiries: readonly SurfaceExpiry[]): SurfaceSection["grid"] {
  const kLo = Math.max(-1.5, Math.min(...expiries.map((e) => e.kRange[0])));
  const kHi = Math.min(1.5, Math.max(...expiries.map((e) => e.kRange[1])));
  const kGrid = linspace(kLo, kHi, 61);
  return {
    k: kGrid,
    timeToExpiry: expiries.map((e) => e.timeToExpiry),
    expiry: expiries.map((e) => e.expiry),
    vol: expiries.map((e) =>
      kGrid.map((k) =>
        k >= e.kRange[0] - 1e-12 && k <= e.kRange[1] + 1e-12 ? f.surface.impliedVol(k, e.timeToExpiry) : null,
      ),
    ),
  };
}

/** The static-arbitrage check of the fitted surface: only the failing slices and expiry pairs. */
function arbitrageSection(
  f: SurfaceFitValue,
  expiries: readonly SurfaceExpiry[],
): SurfaceSection["arbitrage"] {
  const arb = surfaceArbitrageReport(f.surface);
  return {
    free: arb.free,
    butterflyFree: arb.butterflyFree,
    calendarFree: arb.calendarFree,
    butterfly: arb.butterfly
      .map((b, i) => ({
        expiry: expiries[i]?.expiry ?? "",
        minDensityG: b.minDensityG,
        at: b.minDensityAt,
        points: b.negativeDensityPoints,
      }))
      .filter((b) => b.points > 0),
    calendar: arb.calendar
      .map((c, i) => ({
        from: expiries[i]?.expiry ?? "",
        to: expiries[i + 1]?.expiry ?? "",
        minIncrease: c.minIncrease,
        at: c.minIncreaseAt,
        points: c.violations,
      }))
      .filter((c) => c.points > 0),
  };
}

/** The 15 largest quote-minus-fit differences with the dashboard's signal. */
function richCheapSection(f: SurfaceFitValue): SurfaceSection["richCheap"] {
  return richCheapList(f.surface, f.data)
    .slice(0, 15)
    .map((r) => ({
      name: r.name,
      volDiffPts: r.volDiffPts,
      bidVol: r.bidVol,
      askVol: r.askVol,
      targetVol: r.targetVol,
      fittedVol: r.fittedVol,
      signal: quoteSignal(r),
    }));
}

/** The surface section of a chain, by the core's default model (calibrateSurfaceFromQuotes; svi-af since issue 21). */
export function surfaceSection(chain: ChainSnapshot): SurfaceSection {
  const norm = normalizeChain(chain);
  const res = calibrateSurfaceFromQuotes(norm.snapshot.quotes);
  if (!res.fit.ok) throw new Error(`${res.fit.reason}: ${res.fit.message}`);
  const f = res.fit.value;
  const term = surfaceTermStructure(f.surface);
  // every clean quote by expiry (the smile's quoted strike range; the fit uses the out-of-the-money side)
  const byExpiry = groupByExpiry(norm.snapshot.quotes);
  const expiries = f.slices.flatMap((_, i) => surfaceExpiry(f, i, byExpiry) ?? []);
  return {
    underlying: chain.underlying,
    model: f.model,
    expiries,
    term: f.slices.map((s, i) => ({
      expiry: iso(s.expiryTime),
      timeToExpiry: s.expiry,
      atmVol: term[i]?.atmVol ?? s.atmVol,
      rr25: term[i]?.riskReversal25 ?? Number.NaN,
      bf25: term[i]?.butterfly25 ?? Number.NaN,
    })),
    richCheap: richCheapSection(f),
    grid: surfaceGrid(f, expiries),
    arbitrage: arbitrageSection(f, expiries),
  };
}
