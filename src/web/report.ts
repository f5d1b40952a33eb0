/**
 * The demo report: plain data (JSON-serializable) that the dashboard and report.html render.
 * Every section is optional; an absent section carries the reason in `unavailable`.
 * Units: vols decimal, money USD unless a field names a coin, instants ISO-8601 UTC strings.
 */
import type { AccountLiquidationDistance } from "../core/margin/liquidation.js";
import type { MarginAccountRow, MarginCurrencyRow, PooledLiquidation } from "./bookMarket.js";

export interface SurfaceExpiry {
  readonly expiry: string;
  /** Time to expiry, years ACT/365. */
  readonly timeToExpiry: number;
  readonly forwardUsd: number;
  /** Market points: log-moneyness, bid/ask vols (null when one-sided), the vol the fit targets. */
  readonly points: { k: number; bidVol: number | null; askVol: number | null; midVol: number }[];
  /** Fitted curve on a k grid. */
  readonly fit: { k: number; vol: number }[];
  readonly atmVol: number;
  readonly rmseVolPts: number;
}

export interface SurfaceSection {
  readonly underlying: string;
  readonly model: string;
  readonly expiries: SurfaceExpiry[];
  readonly term: { expiry: string; timeToExpiry: number; atmVol: number; rr25: number; bf25: number }[];
  readonly richCheap: {
    name: string;
    volDiffPts: number;
    targetVol: number;
    fittedVol: number;
    signal: string;
  }[];
  /** 3D grid: z[i][j] = vol at (timeToExpiry[i], k[j]). */
  readonly grid: { k: number[]; timeToExpiry: number[]; vol: number[][] };
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
    dates: string[];
    equityUsd: number[];
    drawdown: number[];
    attribution: { component: string; usd: number }[];
    metrics: Record<string, number> | null;
  };
  volIndex?: { underlying: string; index: number; term: { expiry: string; vol: number }[] };
  regime?: {
    /** Which daily price history the regime section is computed on. */
    source?: string;
    dates: string[];
    realizedVol: (number | null)[];
    garchVol: number[];
    highVolProbability: number[];
  };
  agent?: Record<string, unknown>;
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
] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];
