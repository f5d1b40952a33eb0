/**
 * The agent's analytics for one tick (a thin shell over the core libraries): the surface fit
 * (core/surface, on the tick's normalized chain), the book's margin (core/margin standard or
 * portfolio margin) and its Monte Carlo CVaR (core/risk: Merton moves -> full-revaluation PnL ->
 * varCvarFromPnl, the same scenarios monteCarloVar builds), all on the tick's one market
 * (valuation.ts: the fitted surface pinned to the chain's marks by core chainRiskMarket) and over
 * the positions that market values.
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
import type { Position } from "../core/instruments/types.js";
import { standardBookMargin } from "../core/margin/book.js";
import { portfolioMargin } from "../core/margin/portfolioMargin.js";
import type { ChainSnapshot, MarketSnapshot } from "../core/market/types.js";
import { sumUsd } from "../core/risk/account.js";
import { compileBook, scenarioPortfolioPnl } from "../core/risk/grid.js";
import type { RiskMarket } from "../core/risk/market.js";
import type { Scenario } from "../core/risk/scenario.js";
import { DEFAULT_MERTON_BTC, mertonJumpMoves, varCvarFromPnl } from "../core/risk/var.js";
import { calibrateSurfaceFromQuotes } from "../core/surface/calibrate.js";
import type { VolSurface } from "../core/surface/types.js";
import { timeToExpiry } from "../core/time.js";
import type { AgentAnalyticsConfig } from "./config.js";
import type { AgentBook } from "./book.js";
import {
  type AgentGreeks,
  type AgentValuation,
  type FittedSurface,
  type ResolveInstrument,
  type TickMarketInput,
  tickMarketInput,
  valueAgentBook,
  withFittedSurface,
} from "./valuation.js";

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
  /** The tick's market (valuation.ts) and its normalized chain. */
  readonly market: RiskMarket;
  readonly snapshot: MarketSnapshot;
  /** The positions the market values (the book's, less the unpriced ones). */
  readonly positions: Position[];
  readonly greeks: AgentGreeks;
  readonly marginUsd: number;
  readonly cvarUsd: number;
  readonly varUsd: number;
  readonly scenarios: Scenario[];
  readonly surface: SurfaceInfo;
  /** Time spent, ms: fit, margin, CVaR. */
  readonly ms: { fit: number; margin: number; cvar: number };
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

/**
 * Total USD of initial margin by currency (core sumUsd: coins at their index, USDC/USD at 1).
 * The margined positions are ones the market values, so every currency has a price.
 */
function usdOf(byCurrency: Record<string, { initial: number }>, market: RiskMarket): number {
  const initial: Record<string, number> = {};
  for (const [c, v] of Object.entries(byCurrency)) initial[c] = v.initial;
  return sumUsd(initial, market).totalUsd;
}

/**
 * Initial margin of `positions` on `market`, USD: core standardBookMargin (Deribit's standard
 * margin) or portfolioMargin, each currency's initial margin at the market's index. The pre-trade
 * margin limit uses it with or without analytics.
 */
export function bookMarginUsd(
  positions: readonly Position[],
  market: RiskMarket,
  model: "standard" | "portfolio" = "standard",
): number {
  if (positions.length === 0) return 0;
  return model === "portfolio"
    ? usdOf(portfolioMargin(positions, market).byCurrency, market)
    : usdOf(standardBookMargin(positions, market).byCurrency, market);
}

export class AgentAnalytics {
  private fit: Fit | null = null;
  private lastFailure: { step: number; reason: string } | null = null;
  private view: AnalyticsView | null = null;
  /** The last tick a refit was attempted (a tick is fitted at most once). */
  private lastTried = -1;

  constructor(
    readonly config: AgentAnalyticsConfig,
    private readonly log: (obj: object, msg: string) => void = () => {},
  ) {}

  /** The latest view (null before the first valued tick). */
  get current(): AnalyticsView | null {
    return this.view;
  }

  /** Fits the surface to `chain`'s clean quotes; adopts it when good, else keeps the last good fit. */
  private refit(step: number, chain: MarketSnapshot): boolean {
    const res = calibrateSurfaceFromQuotes(chain.quotes, { model: this.config.surfaceModel });
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
      time: chain.valuationTime,
      surface: f.surface,
      rmseVolPts: Math.sqrt(ss / n),
      slices: f.slices.length,
      quotes: n,
    };
    return true;
  }

  /**
   * The fitted surface for tick `step` (refitted every `recalibrateEveryTicks` on the tick's
   * normalized chain, else the last good fit aged to the chain's time), or null before any good
   * fit (the tick is then valued on the marks surface).
   */
  surfaceFor(
    step: number,
    chain: MarketSnapshot,
  ): { readonly fitted: FittedSurface; readonly info: SurfaceInfo; readonly fitMs: number } | null {
    const t0 = performance.now();
    let refitted = false;
    const due = step % this.config.recalibrateEveryTicks === 0 && this.lastTried !== step;
    if (this.fit === null || due) {
      this.lastTried = step;
      refitted = this.refit(step, chain);
    }
    const fit = this.fit;
    if (fit === null) {
      this.view = null;
      return null;
    }
    const dt = timeToExpiry(chain.valuationTime, fit.time);
    const surface = agedSurface(fit.surface, dt);
    return {
      fitted: {
        surface,
        source: `${this.config.surfaceModel} fit of tick ${fit.step}${dt > 0 ? " (aged)" : ""}`,
      },
      info: {
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
      fitMs: performance.now() - t0,
    };
  }

  /** Margin, CVaR and the scenarios of the valued positions on the tick's market; the new view. */
  evaluate(o: {
    readonly step: number;
    readonly market: RiskMarket;
    readonly snapshot: MarketSnapshot;
    readonly positions: Position[];
    readonly greeks: AgentGreeks;
    readonly surface: SurfaceInfo;
    readonly fitMs: number;
  }): AnalyticsView {
    const t0 = performance.now();
    const marginUsd = this.marginOf(o.positions, o.market);
    const t1 = performance.now();
    const scenarios = this.scenarios(o.market);
    const { varUsd, cvarUsd } = this.cvarOf(o.positions, o.market, scenarios);
    const t2 = performance.now();
    this.view = {
      step: o.step,
      market: o.market,
      snapshot: o.snapshot,
      positions: o.positions,
      greeks: o.greeks,
      marginUsd,
      cvarUsd,
      varUsd,
      scenarios,
      surface: o.surface,
      ms: { fit: o.fitMs, margin: t1 - t0, cvar: t2 - t1 },
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
      const m = snap ? tickMarketInput(snap) : null;
      if (m?.ok && this.refit(s, m.input.normalized.snapshot)) return;
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
    return bookMarginUsd(positions, market, this.config.margin === "portfolio" ? "portfolio" : "standard");
  }
}

/** One tick valued: its market input, the book on it and, with analytics, margin and CVaR. */
export interface AnalyzedTick {
  readonly input: TickMarketInput;
  /** The analytics' surface the market is pinned from (null: the marks surface). */
  readonly fitted: FittedSurface | null;
  readonly valuation: AgentValuation;
  /** With analytics and a good fit: the surface info, fit time and the analytics view. */
  readonly fit: { readonly info: SurfaceInfo; readonly fitMs: number } | null;
  readonly view: AnalyticsView | null;
}

/**
 * The tick's market and the book on it (valuation.ts tickMarketInput / valueAgentBook), the
 * analytics' fitted surface (refit when due) in place of the marks surface when there is one,
 * and margin and CVaR of the valued positions on that market. `{ reason }` when the chain gives
 * no market.
 */
export function analyzeTick(
  analytics: AgentAnalytics | null,
  step: number,
  snapshot: ChainSnapshot,
  book: AgentBook,
  resolveInstrument: ResolveInstrument,
): AnalyzedTick | { readonly reason: string } {
  const m = tickMarketInput(snapshot);
  if (!m.ok) return { reason: m.reason };
  const fit = analytics?.surfaceFor(step, m.input.normalized.snapshot) ?? null;
  const fitted = fit?.fitted ?? null;
  const input = withFittedSurface(m.input, fitted);
  const valuation = valueAgentBook(input, book, resolveInstrument);
  const view =
    analytics && fit
      ? analytics.evaluate({
          step,
          market: valuation.market,
          snapshot: input.normalized.snapshot,
          positions: valuation.chain.accepted,
          greeks: valuation.report.greeks,
          surface: fit.info,
          fitMs: fit.fitMs,
        })
      : null;
  return { input, fitted, valuation, fit: fit ? { info: fit.info, fitMs: fit.fitMs } : null, view };
}
