/**
 * The demo report: plain data (JSON-serializable) that the dashboard and report.html render.
 * Every section is optional; an absent section carries the reason in `unavailable`.
 * Units: vols decimal, money USD unless a field names a coin, instants ISO-8601 UTC strings.
 */
import type { ForecastPanel } from "./forecastPanel.js";
import type { AccountLiquidationDistance } from "../core/margin/liquidation.js";
import type { HistorySection } from "./history.js";
import type { MarginAccountRow, MarginCurrencyRow, PooledLiquidation } from "./bookMarket.js";

export interface SurfaceExpiry {
  readonly expiry: string;
  /** Time to expiry, years ACT/365. */
  readonly timeToExpiry: number;
  readonly forwardUsd: number;
  /** Market points: log-moneyness, bid/ask vols (null when one-sided), the vol the fit targets. */
  readonly points: { k: number; bidVol: number | null; askVol: number | null; midVol: number }[];
  /** Every clean quote of the expiry (the quoted strike range), by strike: vols null when absent. */
  readonly quotes: {
    instrument: string;
    strike: number;
    kind: "call" | "put";
    k: number;
    bidVol: number | null;
    askVol: number | null;
    markVol: number | null;
  }[];
  /** Fitted curve over the quoted k range (strike = F e^k). */
  readonly fit: { k: number; strike: number; vol: number }[];
  /** Quoted log-moneyness range [min, max] (fit points and every clean quote). */
  readonly kRange: [number, number];
  readonly atmVol: number;
  readonly rmseVolPts: number;
}

export interface SurfaceSection {
  readonly underlying: string;
  readonly model: string;
  readonly expiries: SurfaceExpiry[];
  readonly term: { expiry: string; timeToExpiry: number; atmVol: number; rr25: number; bf25: number }[];
  /**
   * Largest |quote - fit| first. signal: core's rich/cheap/fair for two-sided quotes; "no bid"
   * (or "cheap" above the ask) without a bid, "no ask" (or "rich") without an ask (pipeline.ts quoteSignal).
   */
  readonly richCheap: {
    name: string;
    volDiffPts: number;
    bidVol: number | null;
    askVol: number | null;
    targetVol: number;
    fittedVol: number;
    signal: string;
  }[];
  /** 3D grid, every expiry: z[i][j] = vol at (timeToExpiry[i], k[j]); null outside expiry i's quoted k range. */
  readonly grid: { k: number[]; timeToExpiry: number[]; expiry: string[]; vol: (number | null)[][] };
  /** Static-arbitrage check of the fitted surface (core/surface/arbitrage.ts surfaceArbitrageReport). */
  readonly arbitrage: {
    free: boolean;
    butterflyFree: boolean;
    calendarFree: boolean;
    /** Slices with negative density: smallest g, its k, grid points with g < 0. */
    butterfly: { expiry: string; minDensityG: number; at: number; points: number }[];
    /** Expiry pairs where total variance falls: smallest increase, its k, points. */
    calendar: { from: string; to: string; minIncrease: number; at: number; points: number }[];
  };
}

export interface OptimizerFrontier {
  /** CVaR confidence. */
  readonly alpha: number;
  readonly objectiveKind: string;
  readonly minCvarUsd: number;
  readonly unconstrainedCvarUsd: number;
  /** One per CVaR limit swept from the minimum to the unconstrained CVaR; CVaR recomputed from trades. */
  readonly points: {
    cvarLimitUsd: number;
    cvarUsd: number;
    objectiveUsd: number;
    vegaUsdPerVolPt: number;
    thetaUsdPerDay: number;
    trades: number;
    status: string;
  }[];
}

/** Which book the risk, stress and margin sections value, on which market, and what they leave out. */
export interface BookSection {
  /** The book: a file, or the default demo book placed on the loaded chain. */
  readonly label: string;
  /** The market the figures are of (the loaded chain(s), or the book file's market section). */
  readonly market: string;
  /** Positions in the book = valued + excluded.length + expired.length. */
  readonly positions: number;
  readonly valued: number;
  /** Positions left out of every figure, with the reason. */
  readonly excluded: { instrument: string; quantity: number; reason: string; detail: string }[];
  /**
   * Legs expired at the market's valuation time: settled once (value in `currency`, and USD),
   * at the index unless the delivery price is known (`settlementSource`); never in a figure but
   * equity, where the settlement value joins the cash.
   */
  readonly expired: {
    instrument: string;
    quantity: number;
    expiry: string;
    settlementPrice: number;
    settlementSource: string;
    currency: string;
    value: number;
    valueUsd: number;
    detail: string;
  }[];
  /** Vol of each valued option and its source (chain-mark, fitted-surface, ...). */
  readonly options: {
    instrument: string;
    forwardUsd: number;
    vol: number;
    source: string;
    ownMarkVol: number | null;
    note?: string;
  }[];
  /** Default demo book on a loaded chain: template leg -> placed leg. */
  readonly legs?: string[];
  readonly notes: string[];
}

export interface DemoReport {
  readonly generatedBy: string;
  readonly seed: number;
  readonly source: string;
  valuationTime: string;
  readonly timings: { step: string; ms: number }[];
  readonly unavailable: Record<string, string>;
  surface?: SurfaceSection;
  /** The book behind greeks, scenarios, stress and margin (absent when the book did not load). */
  book?: BookSection;
  greeks?: {
    rows: {
      underlying: string;
      bucket: string;
      cashDeltaUsd: number;
      cashGammaUsd: number;
      vegaUsd: number;
      thetaUsdPerDay: number;
    }[];
    totalUsd: Record<string, number>;
    /**
     * By underlying, the figures `volfolio risk --json` prints (web/bookMarket.ts GreekRow): both
     * deltas named (deltaBlackCoin = Black's forward delta, Deribit's `delta`;
     * deltaPremiumAdjustedCoin = Black delta - coin premium), vega per vol point, theta per day.
     */
    byUnderlying?: Record<string, string | number>[];
    /** What each byUnderlying field means. */
    units?: Record<string, string>;
  };
  scenarios?: { spotShocks: number[]; volShocks: number[]; pnl: number[][] };
  stress?: {
    id: string;
    kind: string;
    spotShift: number;
    volShift: number;
    pnlUsd: number;
    closeCostUsd: number;
    stressedLossUsd: number;
  }[];
  /**
   * The figures `volfolio margin --json` prints for the same book and market (web/bookMarket.ts
   * bookMargin, one function): per settlement currency the standard and portfolio margin with
   * its components, the segregated accounts' equity, and the distance to liquidation by full
   * revaluation per account and pooled. Amounts in the row's currency unless named ...Usd.
   */
  margin?: {
    /** MarginCurrencyRow plus initial / maintenance = the standard margin (this section's old fields). */
    byCurrency: (MarginCurrencyRow & { initial: number; maintenance: number })[];
    accounts: MarginAccountRow[];
    equityUsd: number;
    /** Portfolio maintenance in USD (= portfolioMaintenanceUsd; the section's old name). */
    maintenanceUsd: number;
    portfolioInitialUsd: number;
    portfolioMaintenanceUsd: number;
    standardInitialUsd: number;
    standardMaintenanceUsd: number;
    unpriced: string[];
    /** The pooled account, sticky-strike, in the section's old fields (volDown: not searched, null). */
    liquidation: PooledLiquidation;
    /** Segregated currency accounts, then "pooled". */
    liquidationByAccount: AccountLiquidationDistance[];
    liquidationMargin: "portfolio";
    /** What each field means. */
    units: Record<string, string>;
  };
  optimizer?: {
    status: string;
    objectiveUsd: number;
    trades: {
      instrument: string;
      contracts: number;
      limitPriceUsd: number;
      edgeUsd: number;
      explanation: string;
    }[];
    before: Record<string, number>;
    after: Record<string, number>;
    notes: string[];
    /** Efficient frontier of the same problem: objective vs the CVaR limit (null if not computed). */
    frontier: OptimizerFrontier | null;
  };
  backtest?: {
    strategy: string;
    /** chain-history: the loaded underlying's real daily chains; synthetic: a seeded path ending at the valuation time. */
    kind: "chain-history" | "synthetic";
    /** One line naming the data the run is on and its dates. */
    dataSource: string;
    from: string;
    to: string;
    dates: string[];
    equityUsd: number[];
    drawdown: number[];
    attribution: { component: string; usd: number }[];
    metrics: Record<string, number> | null;
  };
  /** The 30-day index of the loaded chain (method: Deribit's DVOL method, core/volindex/dvol.ts). */
  volIndex?: { underlying: string; method: string; index: number; term: { expiry: string; vol: number }[] };
  regime?: {
    /** Which daily price history the regime section is computed on. */
    source?: string;
    /** Set when the history ends more than a few days before the valuation date. */
    stale?: { lastDate: string; valuationDate: string; daysBehind: number };
    dates: string[];
    realizedVol: (number | null)[];
    garchVol: number[];
    highVolProbability: number[];
    /** Walk-forward 30-day vol and spike forecasts (web/forecastPanel.ts); absent on a short history. */
    forecast?: ForecastPanel;
  };
  agent?: Record<string, unknown>;
  /** History tab: fixed-tenor ATM vol, RR/BF, vol index vs realized and DVOL, the cone, stored surfaces. */
  history?: HistorySection;
}

/** Names of every section, in page order. */
export const REPORT_SECTIONS = [
  "surface",
  "greeks",
  "scenarios",
  "stress",
  "margin",
  "optimizer",
  "backtest",
  "volIndex",
  "regime",
  "history",
] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];
