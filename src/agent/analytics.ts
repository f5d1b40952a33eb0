/**
 * The agent's analytics for one tick (a thin shell over the core libraries): the surface fit
 * (core/surface, after core/market normalizeChain), the risk market, the book's greeks
 * (core/risk portfolioGreeks), its margin (core/margin standard or portfolio margin) and its
 * Monte Carlo CVaR (core/risk: Merton moves -> full-revaluation PnL -> varCvarFromPnl, the same
 * scenarios monteCarloVar builds).
 *
 * State: the last good fit. A failed fit (no usable quotes, non-finite parameters) or a degraded
 * one (a slice that did not converge) is reported and the previous fit is kept; between refits
 * and after a failure the old fit is read "sticky expiry": at a later instant an option of time
 * to expiry T reads the old surface at T + (now - fitTime) (the scenario time-roll convention).
 *
 * Determinism: everything is a function of the snapshots of the current and earlier ticks (no
 * clock, seeded scenarios), so after a restart `restore` refits from the feed and reproduces it.
 *
 * Units: delta in coins of the underlying, vega USD per 1.00 vol, margin and CVaR in USD.
 */
import type { Instrument, Position } from "../core/instruments/types.js";
import { standardBookMargin } from "../core/margin/book.js";
import { portfolioMargin } from "../core/margin/portfolioMargin.js";
import { normalizeChain } from "../core/market/normalize.js";
import type { ChainSnapshot, MarketSnapshot, OptionQuote } from "../core/market/types.js";
import { portfolioGreeks, positionGreeks } from "../core/risk/greeks.js";
import { compileBook, scenarioPortfolioPnl } from "../core/risk/grid.js";
import { type RiskMarket, riskMarketFromSnapshots } from "../core/risk/market.js";
import type { Scenario } from "../core/risk/scenario.js";
import { DEFAULT_MERTON_BTC, mertonJumpMoves, varCvarFromPnl } from "../core/risk/var.js";
import { calibrateSurfaceFromQuotes } from "../core/surface/calibrate.js";
import type { VolSurface } from "../core/surface/types.js";
import type { AgentBook } from "./book.js";
import type { AgentAnalyticsConfig } from "./config.js";
import type { BookRisk } from "./valuation.js";
import { timeToExpiry } from "../core/time.js";

/** The surface in use and how it was obtained. */
export interface SurfaceInfo {
  readonly model: string;
  /** Tick of the fit in use, and its snapshot time (epoch ms). */
  readonly fitStep: number;
  readonly fitTime: number;
  /** Ticks since that fit. */
  readonly ageTicks: number;
  /** Quote-weighted RMSE of fitted vs market vol over all slices, vol points. */
  readonly rmseVolPts: number;
  readonly slices: number;
  readonly quotesFitted: number;
  /** Whether this tick refitted and whether that refit was adopted. */
  readonly refitted: boolean;
  readonly lastFailure: { step: number; reason: string } | null;
}

export interface AnalyticsView {
  readonly step: number;
  readonly market: RiskMarket;
  /** The normalized chain with the surface attached. */
  readonly snapshot: MarketSnapshot;
  readonly positions: Position[];
  readonly risk: BookRisk;
  readonly marginUsd: number;
  readonly cvarUsd: number;
  readonly varUsd: number;
  readonly scenarios: Scenario[];
  readonly surface: SurfaceInfo;
  /** Time spent, ms: normalize + fit, greeks, margin, CVaR. */
  readonly ms: { fit: number; greeks: number; margin: number; cvar: number };
}

interface Fit {
  readonly step: number;
  readonly time: number;
  readonly surface: VolSurface;
  readonly rmseVolPts: number;
  readonly slices: number;
  readonly quotes: number;
}

/** Reads `base` at the option's original time to expiry (sticky expiry) when the fit is `dtYears` old. */
function agedSurface(base: VolSurface, dtYears: number): VolSurface {
  if (dtYears <= 0) return base;
  return {
    model: `${base.model}+aged`,
    impliedVol: (k, T) => base.impliedVol(k, T + dtYears),
    totalVariance: (k, T) => base.impliedVol(k, T + dtYears) ** 2 * T,
  };
}

/** Book positions as risk-engine positions (futures entered at the current mark). */
export function bookPositions(book: AgentBook, resolveInstrument: (name: string) => Instrument): Position[] {
  return Object.values(book.positions).map((p) => ({
    instrument: resolveInstrument(p.instrument),
    quantity: p.quantity,
  }));
}

/** Total USD of amounts by currency (coins at their index, USDC/USD at 1). */
function usdOf(byCurrency: Record<string, { initial: number }>, market: RiskMarket): number {
  let usd = 0;
  for (const [cur, v] of Object.entries(byCurrency))
    usd +=
      cur === "USDC" || cur === "USD" ? v.initial : v.initial * (market.underlyings[cur]?.indexPrice ?? 0);
  return usd;
}

export class AgentAnalytics {
  private fit: Fit | null = null;
  private lastFailure: { step: number; reason: string } | null = null;
  private view: AnalyticsView | null = null;
  /** The last tick a refit was attempted (a tick is fitted at most once). */
  private lastTried = -1;

  constructor(
    readonly config: AgentAnalyticsConfig,
    private readonly resolveInstrument: (name: string) => Instrument,
    private readonly log: (obj: object, msg: string) => void = () => {},
  ) {}

  /** The latest view (null before the first healthy tick). */
  get current(): AnalyticsView | null {
    return this.view;
  }

  /** Fits the surface on `snapshot`; adopts it when good, else keeps the last good fit. */
  private refit(step: number, snapshot: ChainSnapshot, norm: ReturnType<typeof normalizeChain>): boolean {
    const res = calibrateSurfaceFromQuotes(norm.snapshot.quotes, { model: this.config.surfaceModel });
    let reason: string | null = null;
    if (!res.fit.ok) reason = `${res.fit.reason}: ${res.fit.message}`;
    else {
      const bad = res.fit.value.slices.filter((s) => s.degraded !== null || !Number.isFinite(s.rmseVolPts));
      if (bad.length > 0) reason = `degraded: ${bad.map((s) => s.degraded ?? "non-finite RMSE").join("; ")}`;
    }
    if (reason !== null || !res.fit.ok) {
      this.lastFailure = { step, reason: reason ?? "fit failed" };
      this.log(
        { step, reason, keeping: this.fit?.step ?? null },
        "surface fit rejected; keeping the last good fit",
      );
      return false;
    }
    const f = res.fit.value;
    let ss = 0;
    let n = 0;
    for (const s of f.slices) {
      ss += s.rmseVolPts ** 2 * s.quoteCount;
      n += s.quoteCount;
    }
    this.fit = {
      step,
      time: snapshot.valuationTime,
      surface: f.surface,
      rmseVolPts: Math.sqrt(ss / n),
      slices: f.slices.length,
      quotes: n,
    };
    return true;
  }

  /** Recomputes everything for tick `step`; null when no surface is available yet. */
  update(step: number, snapshot: ChainSnapshot, book: AgentBook): AnalyticsView | null {
    const t0 = performance.now();
    const norm = normalizeChain(snapshot);
    let refitted = false;
    const due = step % this.config.recalibrateEveryTicks === 0 && this.lastTried !== step;
    if (this.fit === null || due) {
      this.lastTried = step;
      refitted = this.refit(step, snapshot, norm);
    }
    if (this.fit === null) {
      this.view = null;
      return null;
    }
    const fit = this.fit;
    const surface = agedSurface(fit.surface, timeToExpiry(snapshot.valuationTime, fit.time));
    const market: MarketSnapshot = { ...norm.snapshot, surface };
    const riskMarket = riskMarketFromSnapshots([market]);
    const positions = bookPositions(book, this.resolveInstrument);
    const t1 = performance.now();
    const risk = this.riskOf(positions, riskMarket);
    const t2 = performance.now();
    const marginUsd = this.marginOf(positions, riskMarket);
    const t3 = performance.now();
    const scenarios = this.scenarios(riskMarket);
    const { varUsd, cvarUsd } = this.cvarOf(positions, riskMarket, scenarios);
    const t4 = performance.now();
    this.view = {
      step,
      market: riskMarket,
      snapshot: market,
      positions,
      risk,
      marginUsd,
      cvarUsd,
      varUsd,
      scenarios,
      surface: {
        model: this.config.surfaceModel,
        fitStep: fit.step,
        fitTime: fit.time,
        ageTicks: step - fit.step,
        rmseVolPts: fit.rmseVolPts,
        slices: fit.slices,
        quotesFitted: fit.quotes,
        refitted,
        lastFailure: this.lastFailure,
      },
      ms: { fit: t1 - t0, greeks: t2 - t1, margin: t3 - t2, cvar: t4 - t3 },
    };
    return this.view;
  }

  /**
   * After a restart: rebuilds the fit the uninterrupted run had at tick `step` by refitting the
   * recalibration ticks at or before it (walking back past failed fits, at most 20 of them).
   */
  async restore(step: number, at: (step: number) => Promise<ChainSnapshot | null>): Promise<void> {
    const every = this.config.recalibrateEveryTicks;
    for (let s = step - (step % every), tries = 0; s >= 0 && tries < 20; s -= every, tries++) {
      const snap = await at(s);
      if (s === step) this.lastTried = s;
      if (snap && this.refit(s, snap, normalizeChain(snap))) return;
    }
  }

  /** The CVaR scenarios: seeded Merton h-day moves, exactly as core/risk monteCarloVar builds them. */
  scenarios(market: RiskMarket): Scenario[] {
    const c = this.config.cvar;
    const moves = mertonJumpMoves({
      params: { ...DEFAULT_MERTON_BTC, vol: c.vol ?? this.mcVol(market) },
      horizonDays: c.horizonDays,
      paths: c.paths,
      seed: c.seed,
    });
    const out: Scenario[] = [];
    for (const r of moves) {
      const by: Record<string, number> = {};
      for (const u of Object.keys(market.underlyings)) by[u] = Math.max(r, -0.99);
      out.push({
        spotShift: Math.max(r, -0.99),
        spotShiftByUnderlying: by,
        volShift: c.volSpotBeta * r,
        timeRollDays: c.horizonDays,
        surfaceDynamics: "sticky-moneyness",
      });
    }
    return out;
  }

  /** Diffusion vol of the CVaR simulation: the surface's 30-day ATM vol (default). */
  mcVol(market: RiskMarket): number {
    const um = Object.values(market.underlyings)[0];
    const v = um ? um.surface.impliedVol(0, 30 / 365) : Number.NaN;
    return Number.isFinite(v) && v > 0 ? v : DEFAULT_MERTON_BTC.vol;
  }

  cvarOf(
    positions: readonly Position[],
    market: RiskMarket,
    scenarios: readonly Scenario[],
  ): { varUsd: number; cvarUsd: number } {
    if (positions.length === 0) return { varUsd: 0, cvarUsd: 0 };
    const pnl = scenarioPortfolioPnl(compileBook(positions, market), scenarios);
    const r = varCvarFromPnl(pnl, this.config.cvar.confidence);
    return { varUsd: r.varUsd, cvarUsd: r.cvarUsd };
  }

  /** Initial margin of positions, USD (configured model). */
  marginOf(positions: readonly Position[], market: RiskMarket): number {
    if (positions.length === 0) return 0;
    return this.config.margin === "portfolio"
      ? usdOf(portfolioMargin(positions, market).byCurrency, market)
      : usdOf(standardBookMargin(positions, market).byCurrency, market);
  }

  riskOf(positions: readonly Position[], market: RiskMarket): BookRisk {
    const g = portfolioGreeks(positions, market);
    let delta = 0;
    let gamma = 0;
    let vega = 0;
    let theta = 0;
    let optionValueUsd = 0;
    positions.forEach((p, i) => {
      const x = g.positions[i];
      if (!x) return;
      delta += x.deltaUnderlyingCoin;
      gamma += x.gammaUsd;
      vega += x.vegaUsd;
      theta += x.thetaUsdPerDay * 365;
      if (p.instrument.type === "option") optionValueUsd += x.valueUsd;
    });
    return { delta, gamma, vega, theta, optionValueUsd, unpriced: [] };
  }

  /** Per-contract delta (coins) and vega (USD per 1.00 vol) of an option from the surface. */
  contractGreeks(q: OptionQuote): { delta: number; vega: number } | null {
    const v = this.view;
    if (!v) return null;
    if (q.instrument.expiry <= v.market.valuationTime) return null;
    const g = positionGreeks({ instrument: q.instrument, quantity: 1 }, v.market);
    if (!Number.isFinite(g.deltaUnderlyingCoin) || !Number.isFinite(g.vegaUsd)) return null;
    return { delta: g.deltaUnderlyingCoin, vega: g.vegaUsd };
  }
}
