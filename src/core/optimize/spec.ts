/**
 * The optimizer's problem, as plain data (the JSON form is validated by
 * src/adapters/optimizeSpec.ts). Everything is per contract of the candidate and in USD unless
 * the name says otherwise:
 *   deltaCoin       dV_usd/dS, coins of underlying (risk/greeks.ts deltaUnderlyingCoin)
 *   cashGammaUsd    change of cash delta (USD) per 1% spot move (risk/greeks.ts cashGammaUsd)
 *   vegaUsdPerVolPt USD per +1 vol point (vegaUsd x 0.01)
 *   thetaUsdPerDay  USD per calendar day
 * One problem covers one underlying (greek bands do not add across coins).
 */

/** Greek exposures of one contract or of a book (see the module comment for units). */
export interface OptimizeGreeks {
  readonly deltaCoin: number;
  readonly cashGammaUsd: number;
  readonly vegaUsdPerVolPt: number;
  readonly thetaUsdPerDay: number;
}

/** One tradable instrument the optimizer may buy or sell. */
export interface OptimizeCandidate {
  /** Venue name, e.g. "BTC-27MAR26-120000-C". */
  readonly name: string;
  /** Expiry bucket label used by per-bucket bands (e.g. "30-90d" or "27MAR26"). */
  readonly bucket: string;
  /** Best bid / ask per contract, USD (null = side missing: that direction is not allowed). */
  readonly bidUsd: number | null;
  readonly askUsd: number | null;
  /** Fitted-surface fair value per contract, USD. */
  readonly fairUsd: number;
  /** Fair implied vol (decimal) and vol of the traded side, for the explanation. */
  readonly fairVol?: number;
  readonly bidVol?: number | null;
  readonly askVol?: number | null;
  readonly greeks: OptimizeGreeks;
  /** Largest buy / sell in contracts (from displayed size, open interest, spec caps); >= 0. */
  readonly maxBuy: number;
  readonly maxSell: number;
  /**
   * Deribit standard initial margin per contract short, USD: the core margin engine's figure
   * (margin/book.ts standardBookMargin of a one-contract short, in USD at the index). Standard
   * margin is per position, so the optimizer charges it on the instrument's NET position after
   * the trades (heldContracts + buys - sells): marginShortUsd x max(0, -net).
   */
  readonly marginShortUsd: number;
  /**
   * The instrument's minimum trade amount in contracts (Deribit: BTC options 0.1, ETH options 1,
   * futures/perpetuals 1 contract of their USD size). With `lots`, this candidate trades in whole
   * multiples of it instead of lots.lotSize.
   */
  readonly minTradeContracts?: number;
  /** Contracts of this instrument already in the book (signed; default 0). */
  readonly heldContracts?: number;
  /**
   * The engine's standard initial margin (USD) of a net position of `contracts[k]` contracts, at
   * sorted breakpoints covering every reachable net position (futures and perpetuals, whose
   * margin N (base + perCoin N) is convex, not linear). The LP uses its piecewise-linear
   * interpolation, which lies on or above the engine's convex curve (so the budget holds for the
   * engine's figure); replaces the option rule above when present.
   */
  readonly marginCurve?: { readonly contracts: readonly number[]; readonly marginUsd: readonly number[] };
  /** Scenario PnL per contract long, USD, one entry per scenario (full revaluation). */
  readonly scenarioPnlUsd: Float64Array;
  /** Stress PnL per contract long, USD, one entry per stress scenario. */
  readonly stressPnlUsd?: Float64Array;
  /**
   * Variance notional per contract, USD per variance point (vol points squared): 1 for a unit of
   * a variance-swap basket (varianceSwapCandidate.ts), 0 (absent) for a single option or future.
   */
  readonly varianceUsdPerPt?: number;
}

/** The current book, aggregated. */
export interface OptimizeBook {
  readonly greeks: OptimizeGreeks;
  /** Greeks per bucket label (only the buckets that have bands need to be present). */
  readonly bucketGreeks?: Readonly<Record<string, OptimizeGreeks>>;
  /** Book PnL per scenario, USD (same scenarios as the candidates). */
  readonly scenarioPnlUsd: Float64Array;
  readonly stressPnlUsd?: Float64Array;
  /** Standard initial margin of the book (per position, netted by instrument), USD. */
  readonly marginUsd: number;
  /** Variance notional held through variance-swap baskets, USD per variance point (default 0). */
  readonly varianceUsdPerPt?: number;
}

export type GreekName = "delta" | "gamma" | "vega" | "theta";

/** A closed band; either side may be absent (then unbounded). */
export interface Band {
  readonly min?: number;
  readonly max?: number;
}

export type OptimizeObjective =
  /** Maximize edge against the fitted surface: buys fair - ask, sells bid - fair, minus costs. */
  | { readonly kind: "edge" }
  /** Maximize theta (USD/day) minus costs against fair, `costWeight` x USD of cost per USD/day. */
  | { readonly kind: "theta"; readonly costWeight?: number }
  /**
   * Reach total vega `targetUsdPerVolPt` at least cost: minimize costs + penaltyUsd x |miss|
   * (miss in USD per vol point). Edge counts as negative cost.
   */
  | { readonly kind: "vega-target"; readonly targetUsdPerVolPt: number; readonly penaltyUsd?: number };

export interface OptimizeCosts {
  /** Fee per contract traded, USD (default 0). */
  readonly feePerContractUsd?: number;
  /** Slippage beyond the quoted side, as a fraction of the bid/ask spread (default 0). */
  readonly slippageSpreadFraction?: number;
}

export interface OptimizeConstraints {
  /** Bands on the total (book + trades). */
  readonly delta?: Band;
  readonly gamma?: Band;
  readonly vega?: Band;
  readonly theta?: Band;
  /** Per expiry-bucket bands: bucket -> greek -> band. */
  readonly buckets?: Readonly<Record<string, Partial<Record<GreekName, Band>>>>;
  /** CVaR (expected loss beyond the alpha quantile) of the scenario loss, USD. */
  readonly cvar?: { readonly alpha: number; readonly maxLossUsd: number };
  /** Every stress scenario's loss <= maxLossUsd. */
  readonly worstStress?: { readonly maxLossUsd: number };
  /** Total standard initial margin of the book after the trades <= budget, USD (per position, netted). */
  readonly marginBudgetUsd?: number;
  /** Net premium paid (buys at ask minus sells at bid) <= budget, USD. */
  readonly premiumBudgetUsd?: number;
  /**
   * Band on the total variance notional (book + trades), USD per variance point: the exposure
   * only variance-swap candidates carry ("pure variance exposure").
   */
  readonly variance?: Band;
}

export interface OptimizeProblem {
  readonly candidates: readonly OptimizeCandidate[];
  readonly book: OptimizeBook;
  readonly objective: OptimizeObjective;
  readonly constraints: OptimizeConstraints;
  readonly costs?: OptimizeCosts;
  /**
   * Trade in whole lots (MILP): each candidate in multiples of its minTradeContracts when set,
   * else of `lotSize` contracts. Default: continuous.
   */
  readonly lots?: { readonly lotSize: number };
  /**
   * The margin engine's figure for the book after trading `net` contracts per candidate, USD
   * (e.g. standardBookMargin on the netted resulting book, fromChain.ts). When given, the result's
   * after.marginUsd is this figure and the verification checks it against the budget and
   * against the optimizer's own margin model.
   */
  readonly marginOfBook?: (net: Float64Array) => number;
  /**
   * The margin engine's Deribit portfolio margin (initial, USD) of the book after trading `net`
   * (margin/portfolioMargin.ts on the netted resulting book). Reported before and after the
   * trades; NOT a constraint of the LP (the standard-margin budget is): the figure is the
   * engine's, computed after the solve.
   */
  readonly portfolioMarginOfBook?: (net: Float64Array) => number;
  /** Scenario names (for the explanation), optional. */
  readonly scenarioNames?: readonly string[];
  readonly stressNames?: readonly string[];
}

/** Candidate filters (used when building candidates from a chain). */
export interface CandidateFilter {
  /** Days to expiry window. */
  readonly minDays?: number;
  readonly maxDays?: number;
  /** |Black delta| window (e.g. 0.05..0.6). */
  readonly minAbsDelta?: number;
  readonly maxAbsDelta?: number;
  /** Max relative spread (ask - bid) / mid. */
  readonly maxRelativeSpread?: number;
  /** Minimum open interest, contracts. */
  readonly minOpenInterest?: number;
  /** Size caps: fraction of displayed size and of open interest, and an absolute cap. */
  readonly displayedSizeFraction?: number;
  readonly openInterestFraction?: number;
  readonly maxContracts?: number;
}
