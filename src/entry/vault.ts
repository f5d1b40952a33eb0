/**
 * `volfolio/vault`: the option-selling vault: share ledger, deposit/withdraw requests, the round's sale, the engine.
 */
export { flowsDue, initialLedger, runVault, settleEpoch, vaultSale } from "../core/vault/index.js";
export type {
  DepositRequest,
  EpochInput,
  EpochSettlement,
  LedgerState,
  VaultBalance,
  VaultCollateral,
  VaultEpoch,
  VaultFees,
  VaultFlow,
  VaultResult,
  VaultRunOptions,
  VaultSale,
  VaultSpec,
  VaultStrategyType,
  WithdrawRequest,
} from "../core/vault/index.js";
