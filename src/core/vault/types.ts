/**
 * What a vault run takes and returns (engine.ts runVault): the spec, the rounds (epochs) and the
 * result. Units: times epoch ms UTC; `asset` amounts in the vault's asset (coin or USD); `...Coin`
 * in the coin; `...Usd` in USD at the stated step's index.
 */
import type { CostModel } from "../hedge/costs.js";
import type { VaultFlow } from "./flows.js";
import type { EpochSettlement, VaultFees } from "./ledger.js";
import type { VaultCollateral, VaultStrategyType } from "./strategy.js";

export interface VaultSpec {
  readonly strategy: VaultStrategyType;
  /** covered-call: "coin" (the only choice); put-selling: "usd" (USDC, default) or "coin". */
  readonly collateral?: VaultCollateral;
  /** |delta| of the option sold (default 0.10). */
  readonly targetDelta?: number;
  /** Round length, days (default 7). */
  readonly epochDays?: number;
  /** First boundary instant, epoch ms UTC (default: first Friday 08:00 UTC at or after the first step). */
  readonly anchor?: number;
  readonly fees: VaultFees;
  /** Trading costs of the engine (default core/hedge DEFAULT_COSTS: Deribit fees, 5 bp slippage). */
  readonly costs?: Partial<CostModel>;
  /** Contracts per lot (default 0.1 for BTC, 1 otherwise: Deribit's minimum option sizes). */
  readonly lot?: number;
  /** USDC vault: cost of sweeping the coin balance into USD at each round's end, bp (default 0). */
  readonly conversionBps?: number;
  /** Price of the first share, asset units (default 1). */
  readonly initialSharePrice?: number;
}

export interface VaultBalance {
  readonly depositor: string;
  readonly shares: number;
  /** shares x share price, asset units, and USD at the boundary's index. */
  readonly value: number;
  readonly valueUsd: number;
}

export interface VaultEpoch {
  /** Round number, 1-based. */
  readonly round: number;
  readonly start: number;
  readonly end: number;
  readonly days: number;
  readonly indexStart: number;
  readonly indexEnd: number;
  /** The option sold (null: nothing sold, see `saleNote`). */
  readonly option: {
    readonly instrument: string;
    readonly kind: "call" | "put";
    readonly strike: number;
    readonly expiry: number;
    readonly quantity: number;
  } | null;
  readonly saleNote: string | null;
  readonly notionalUsd: number;
  readonly collateralUsd: number;
  /** notional / collateral. */
  readonly collateralUtilisation: number;
  readonly initialMarginCoin: number;
  readonly marginUtilisation: number;
  /** Premium received at the fill price (after slippage), coin, and USD at the trade's index. */
  readonly premiumCoin: number;
  readonly premiumUsd: number;
  /** Exchange fees paid on the sale, coin (paid out of the premium). */
  readonly tradingFeesCoin: number;
  /** Slippage below the bid, coin (already in the fill price, so in `premiumCoin`). */
  readonly slippageCoin: number;
  /** Paid at expiry (<= 0 for a short option: the round's option loss), coin and USD. */
  readonly settlementCoin: number;
  readonly settlementUsd: number;
  /** USDC vault: cost of sweeping coin into USD, asset units. */
  readonly conversionCost: number;
  /** NAV the round started with (ledger), asset units. */
  readonly navStart: number;
  /** The engine's account equity at the round's first step, asset units (= navStart). */
  readonly accountStart: number;
  /** NAV at the round's end before fees, asset units; strategy PnL = grossNav - navStart. */
  readonly grossNav: number;
  readonly strategyPnl: number;
  readonly grossReturn: number;
  readonly managementFee: number;
  readonly performanceFee: number;
  readonly priceBeforeFees: number;
  /** Share price after fees, asset units; in coin and in USD at the end index. */
  readonly sharePrice: number;
  readonly sharePriceCoin: number;
  readonly sharePriceUsd: number;
  readonly highWaterMark: number;
  /** Share price return of the round, and its APY (1 + r)^(365 / days) - 1. */
  readonly netReturn: number;
  readonly apy: number;
  /** (price / first price)^(365 / days since the first boundary) - 1. */
  readonly apySinceInception: number;
  readonly deposits: EpochSettlement["deposits"];
  readonly withdrawals: EpochSettlement["withdrawals"];
  /** After fees and flows: the next round's NAV, asset, USD and coin; shares outstanding. */
  readonly nav: number;
  readonly navUsd: number;
  readonly navCoin: number;
  readonly totalShares: number;
  readonly balances: readonly VaultBalance[];
}

export interface VaultResult {
  readonly strategy: VaultStrategyType;
  readonly collateral: VaultCollateral;
  readonly underlying: string;
  /** The vault's asset: the coin, or "USD" for a USDC vault. */
  readonly asset: string;
  readonly epochDays: number;
  readonly targetDelta: number;
  readonly fees: VaultFees;
  readonly anchor: number;
  /** The first boundary: deposits made before it enter there at the first share price. */
  readonly opening: {
    readonly time: number;
    readonly indexPrice: number;
    readonly deposits: EpochSettlement["deposits"];
    readonly nav: number;
    readonly totalShares: number;
    readonly sharePrice: number;
  } | null;
  readonly epochs: readonly VaultEpoch[];
  readonly totals: {
    readonly premiumCoin: number;
    readonly premiumUsd: number;
    readonly settlementCoin: number;
    readonly settlementUsd: number;
    readonly tradingFeesCoin: number;
    readonly slippageCoin: number;
    readonly managementFees: number;
    readonly performanceFees: number;
    readonly deposited: number;
    readonly withdrawn: number;
  };
  readonly final: {
    readonly sharePrice: number;
    readonly sharePriceUsd: number;
    readonly sharePriceCoin: number;
    readonly highWaterMark: number;
    readonly nav: number;
    readonly navUsd: number;
    readonly totalShares: number;
    readonly apySinceInception: number;
    readonly balances: readonly VaultBalance[];
  };
  /** Steps not traded: before the first boundary, and of an incomplete last round. */
  readonly unusedSteps: { readonly before: number; readonly after: number };
  /** Requests after the last boundary (not processed). */
  readonly pendingFlows: readonly VaultFlow[];
}
