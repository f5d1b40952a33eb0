/**
 * What a backtest returns (engine.ts `runBacktest`): the result, its trade, settlement and daily
 * records, and the book valuation passed to `onValuation`. Units are stated per field.
 */
import type { Position } from "../instruments/types.js";
import type { BookEquity } from "../risk/account.js";
import type { PortfolioGreeks } from "../risk/greeks.js";
import type { RiskMarket } from "../risk/market.js";
import type { AttributionDay } from "./attribution.js";
import type { BacktestStep } from "./market.js";
import type { PerformanceMetrics } from "./metrics.js";

export interface TradeRecord {
  /** Epoch ms UTC. */
  readonly time: number;
  readonly instrument: string;
  readonly type: "option" | "perpetual" | "future";
  /** Signed contracts: an inverse option is 1 coin; a future `contractSize` USD (BTC 10). */
  readonly quantity: number;
  /** Executed price: coin per contract (inverse option) or USD per coin (future). */
  readonly price: number;
  /** The mark at the trade, same units. */
  readonly mark: number;
  /** Currency of `spread`, `slippage`, `fee` (the coin: every trade here settles in coin). */
  readonly currency: string;
  readonly spread: number;
  readonly slippage: number;
  readonly fee: number;
  /** The same costs in USD at the step's index. */
  readonly spreadUsd: number;
  readonly slippageUsd: number;
  readonly feeUsd: number;
  /** Index at the trade, USD. */
  readonly indexPrice: number;
  readonly tag: string;
}

export type RejectionReason = "not-listed" | "no-bid" | "no-ask" | "not-inverse";
export interface RejectionRecord {
  readonly time: number;
  readonly instrument: string;
  readonly quantity: number;
  readonly reason: RejectionReason;
}

/** A leg settled at expiry (core/risk splitExpired). */
export interface BacktestSettlement {
  /** Step at which it was settled, epoch ms UTC. */
  readonly time: number;
  readonly instrument: string;
  /** Contracts held at expiry. */
  readonly quantity: number;
  /** Settlement price, USD. */
  readonly price: number;
  readonly source: "delivery" | "index-intrinsic";
  /** Proceeds (negative: paid) in `currency`, and in USD at the step's index. */
  readonly value: number;
  readonly currency: string;
  readonly valueUsd: number;
  readonly detail: string;
}

export interface DailyRecord {
  /** Epoch ms UTC of the step recorded (first step of the day, after settlement, before trading). */
  readonly time: number;
  readonly indexPrice: number;
  readonly equityUsd: number;
  /** equityUsd / indexPrice: the whole account in coin. */
  readonly equityCoin: number;
}

export interface CostSummary {
  /** Coin costs converted at each trade's index, USD. */
  readonly spreadUsd: number;
  readonly slippageUsd: number;
  readonly feesUsd: number;
  /** Funding paid on the perpetual (negative = received). */
  readonly fundingUsd: number;
  /** spread + slippage + fees + funding. */
  readonly totalUsd: number;
  /** The same in coin (exact: every cost is paid in coin). */
  readonly spreadCoin: number;
  readonly slippageCoin: number;
  readonly feesCoin: number;
  readonly fundingCoin: number;
  readonly totalCoin: number;
}

/** The book as the engine valued it at a step (positions live, cash after settlement). */
export interface BookValuation {
  /** Epoch ms UTC. */
  readonly time: number;
  /** Live positions the step's market values (options, and the hedge with its entry = mark). */
  readonly positions: readonly Position[];
  /** Cash by currency (positions carried at their last value are not in it). */
  readonly cash: Readonly<Record<string, number>>;
  /** core/risk bookEquity of positions and cash on the step's market (carried legs excluded). */
  readonly equity: BookEquity;
  /** core/risk portfolioGreeks of `positions` on the step's market. */
  readonly greeks: PortfolioGreeks;
}

export interface BacktestResult {
  readonly strategy: string;
  readonly steps: number;
  readonly start: number;
  readonly end: number;
  readonly daily: readonly DailyRecord[];
  readonly attribution: readonly AttributionDay[];
  /** Trade log (empty when `recordTrades` is false; `tradeCount` always counts). */
  readonly trades: readonly TradeRecord[];
  readonly tradeCount: number;
  readonly rejections: readonly RejectionRecord[];
  /** Number of legs settled at expiry; `settled` lists them (when `recordTrades`). */
  readonly settlements: number;
  /** Settlements by price source: the venue's delivery price, or intrinsic at the step's index. */
  readonly settlementSources: { readonly delivery: number; readonly indexIntrinsic: number };
  /**
   * Hedge fills by price: at the data's own price of the instrument (`venue`: the chain's
   * perpetual quote, or its dated future's quote) or, without one, at the core mark -/+
   * hedgeHalfSpreadBps (`mark`: the index for the perpetual). `basisCoin`/`basisUsd`: the sum of
   * m (1/P - 1/M) over venue fills (P venue price, M core mark), the premium over the core mark
   * paid or received at the fills (part of the hedge's PnL, not a cost).
   */
  readonly hedgeFills: {
    readonly venue: number;
    readonly mark: number;
    readonly basisCoin: number;
    readonly basisUsd: number;
  };
  readonly settled: readonly BacktestSettlement[];
  /** Valuations of a held option the step's chain did not quote (marks surface interpolated). */
  readonly staleMarks: number;
  /** Valuations of a position the step's market could not value (carried at its last value). */
  readonly carriedMarks: number;
  readonly costs: CostSummary;
  /** Traded notional (options: |contracts| x size x index; futures: |USD notional|), and / average equity. */
  readonly turnoverUsd: number;
  readonly turnover: number;
  readonly metricsUsd: PerformanceMetrics | null;
  readonly metricsCoin: PerformanceMetrics | null;
  readonly finalEquityUsd: number;
  readonly finalEquityCoin: number;
  /** The book at the last step, as valued there. */
  readonly final: BookValuation;
}

/** What `onValuation` receives at each step where the engine values the book. */
export interface StepValuation extends BookValuation {
  readonly step: BacktestStep;
  /** The core market the book was valued on. */
  readonly market: RiskMarket;
}
