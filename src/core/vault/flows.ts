/**
 * Depositors' requests and the round boundaries they are queued to.
 *
 * A request made at `time` (epoch ms UTC) is processed at the first round boundary at or after
 * it: a deposit made during a round enters at the next round's share price, a withdrawal requested
 * during a round is paid at the round's end price (ledger.ts). Deposits and withdrawals are in the
 * vault's asset (coin, or USD for a USDC vault); a withdrawal names shares (or "all").
 */
import { InvalidInputError } from "../errors.js";
import type { DepositRequest, WithdrawRequest } from "./ledger.js";

export type VaultFlow =
  | { readonly time: number; readonly depositor: string; readonly type: "deposit"; readonly amount: number }
  | {
      readonly time: number;
      readonly depositor: string;
      readonly type: "withdraw";
      readonly shares: number | "all";
    };

/** Checks a flow list (field names `flows[i].<field>`); returns it sorted by time (stable). */
export function checkFlows(flows: readonly VaultFlow[]): VaultFlow[] {
  for (const [i, f] of flows.entries()) {
    if (!Number.isFinite(f.time))
      throw new InvalidInputError(`flows[${i}].time`, f.time, "must be a finite epoch ms");
    if (typeof f.depositor !== "string" || f.depositor.length === 0)
      throw new InvalidInputError(`flows[${i}].depositor`, f.depositor, "must be a non-empty string");
    if (f.type === "deposit") {
      if (!(f.amount > 0 && Number.isFinite(f.amount)))
        throw new InvalidInputError(`flows[${i}].amount`, f.amount, "must be a finite number > 0");
    } else if (f.type === "withdraw") {
      if (f.shares !== "all" && !(f.shares > 0 && Number.isFinite(f.shares)))
        throw new InvalidInputError(`flows[${i}].shares`, f.shares, 'must be > 0 or "all"');
    } else
      throw new InvalidInputError(
        `flows[${i}].type`,
        (f as { type: unknown }).type,
        'must be "deposit" or "withdraw"',
      );
  }
  return flows
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.time - b.f.time || a.i - b.i)
    .map((x) => x.f);
}

/** The requests of `flows` with time in (after, upTo], as the ledger takes them (and the withdrawals' flows, in order). */
export function flowsDue(
  flows: readonly VaultFlow[],
  after: number,
  upTo: number,
): { deposits: DepositRequest[]; withdrawals: WithdrawRequest[]; withdrawFlows: VaultFlow[] } {
  const deposits: DepositRequest[] = [];
  const withdrawals: WithdrawRequest[] = [];
  const withdrawFlows: VaultFlow[] = [];
  for (const f of flows) {
    if (!(f.time > after && f.time <= upTo)) continue;
    if (f.type === "deposit") deposits.push({ depositor: f.depositor, amount: f.amount });
    else {
      withdrawals.push({ depositor: f.depositor, shares: f.shares });
      withdrawFlows.push(f);
    }
  }
  return { deposits, withdrawals, withdrawFlows };
}
