/**
 * The share ledger of a vault: who holds how many shares, the share price (NAV per share) and the
 * high-water mark, settled one epoch (round) at a time. Pure functions over plain data.
 *
 * Conventions (as option vaults such as Ribbon, Lyra and Thetanuts run their weekly rounds):
 * - Everything is in the vault's asset (the coin for a covered-call or coin-collateral vault,
 *   USD for a USDC-collateral put vault). The first share is priced `initialPrice` (default 1).
 * - At the end of a round (`settleEpoch`), in this order:
 *   1. management fee = grossNav x managementPerYear x years (annual rate on the round's ending
 *      NAV before fees, accrued for the round's length in years, ACT/365);
 *   2. performance fee = performance x max(0, p1 - HWM) x shares, where p1 = (grossNav -
 *      management fee) / shares is the price after the management fee and HWM the vault's
 *      high-water mark per share (the highest price after fees ever struck, initially the first
 *      share price). The fee is on the per-share gain above the HWM only, so after a loss nobody
 *      (neither an old holder nor a depositor who entered at the low price) pays a performance fee
 *      until the price regains the HWM. The HWM then becomes the price after fees;
 *   3. both fees are paid to the manager in the vault's asset, out of NAV (not in newly minted
 *      shares: the holders' share count never changes by a fee, only the price does, and the
 *      manager holds no shares); the round's price is p = (grossNav - fees) / shares;
 *   4. withdrawals requested during the round are paid at p (shares burned, asset paid out);
 *   5. deposits made during the round are converted at p (shares minted) and enter the next round.
 * Hence shares x price = NAV at every boundary, and a holder's balance moves between two
 * boundaries only by the price: (gross return of the strategy) minus the two fees.
 */
import { InvalidInputError } from "../errors.js";

/** Fee rates: decimals (0.02 = 2% a year; 0.10 = 10% of the gain above the high-water mark). */
export interface VaultFees {
  readonly managementPerYear: number;
  readonly performance: number;
}

export interface LedgerState {
  /** Shares by depositor (holders with shares > 0 only). */
  readonly shares: Readonly<Record<string, number>>;
  readonly totalShares: number;
  /** NAV after the last boundary's fees and flows, asset units (= totalShares x sharePrice). */
  readonly nav: number;
  /** NAV per share after fees at the last boundary, asset units. */
  readonly sharePrice: number;
  /** Highest share price after fees ever struck, asset units. */
  readonly highWaterMark: number;
}

export interface DepositRequest {
  readonly depositor: string;
  /** Asset units, > 0. */
  readonly amount: number;
}

export interface WithdrawRequest {
  readonly depositor: string;
  /** Shares to redeem (> 0, at most the holding), or all of them (none held: nothing happens). */
  readonly shares: number | "all";
}

export interface EpochSettlement {
  /** NAV at the round's end before fees, asset units. */
  readonly grossNav: number;
  readonly years: number;
  readonly managementFee: number;
  readonly performanceFee: number;
  /** grossNav / shares (before fees); the previous price when there are no shares. */
  readonly priceBeforeFees: number;
  /** Price after fees: withdrawals and deposits of the round are struck at it. */
  readonly price: number;
  readonly highWaterMarkBefore: number;
  readonly highWaterMark: number;
  readonly deposits: readonly { depositor: string; amount: number; shares: number }[];
  readonly withdrawals: readonly { depositor: string; shares: number; amount: number }[];
  /** NAV after fees and flows (the next round's starting NAV). */
  readonly nav: number;
  readonly totalShares: number;
}

/** An empty vault: no shares, price `initialPrice`, HWM at it. */
export function initialLedger(initialPrice = 1): LedgerState {
  if (!(initialPrice > 0 && Number.isFinite(initialPrice)))
    throw new InvalidInputError("initialPrice", initialPrice, "must be a finite number > 0");
  return { shares: {}, totalShares: 0, nav: 0, sharePrice: initialPrice, highWaterMark: initialPrice };
}

function checkFees(f: VaultFees): void {
  if (!(f.managementPerYear >= 0 && f.managementPerYear < 1))
    throw new InvalidInputError("fees.managementPerYear", f.managementPerYear, "must be in [0, 1)");
  if (!(f.performance >= 0 && f.performance < 1))
    throw new InvalidInputError("fees.performance", f.performance, "must be in [0, 1)");
}

const sumShares = (s: Readonly<Record<string, number>>): number => {
  // Neumaier-compensated: the total must match the holdings to the last bits.
  let sum = 0;
  let c = 0;
  for (const v of Object.values(s)) {
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + c;
};

/** What `settleEpoch` reads: the round's gross NAV, its length, the fees and the round's requests. */
export interface EpochInput {
  readonly grossNav: number;
  readonly years: number;
  readonly fees: VaultFees;
  readonly deposits?: readonly DepositRequest[];
  readonly withdrawals?: readonly WithdrawRequest[];
}

/**
 * Settles one round (see the module comment): fees on `grossNav` (the strategy's NAV at the round's
 * end, asset units, before fees), then the round's withdrawals and deposits at the price after fees.
 * `years` is the round's length (ACT/365). Throws an InvalidInputError naming the field and value
 * for a negative NAV, NAV without shares, a non-positive deposit, or a withdrawal of shares the
 * depositor does not hold.
 */
export function settleEpoch(
  state: LedgerState,
  o: EpochInput,
): { state: LedgerState; settlement: EpochSettlement } {
  checkEpochInput(state, o);
  const f = strikeFees(state, o);
  const shares: Record<string, number> = { ...state.shares };
  const withdrawals = redeem(shares, o.withdrawals ?? [], f.price);
  const deposits = mint(shares, o.deposits ?? [], f.price);
  const totalShares = sumShares(shares);
  // NAV by the flows of asset (what the account holds), not from shares x price: the identity
  // shares x price = NAV is then a check on the ledger, not a definition.
  let nav = o.grossNav - f.managementFee - f.performanceFee;
  for (const w of withdrawals) nav -= w.amount;
  for (const d of deposits) nav += d.amount;
  if (totalShares === 0) nav = 0;
  const next: LedgerState = { shares, totalShares, nav, sharePrice: f.price, highWaterMark: f.highWaterMark };
  return {
    state: next,
    settlement: {
      grossNav: o.grossNav,
      years: o.years,
      managementFee: f.managementFee,
      performanceFee: f.performanceFee,
      priceBeforeFees: f.priceBeforeFees,
      price: f.price,
      highWaterMarkBefore: state.highWaterMark,
      highWaterMark: f.highWaterMark,
      deposits,
      withdrawals,
      nav,
      totalShares,
    },
  };
}

function checkEpochInput(state: LedgerState, o: EpochInput): void {
  checkFees(o.fees);
  if (!(o.years >= 0 && Number.isFinite(o.years)))
    throw new InvalidInputError("years", o.years, "must be a finite number >= 0");
  if (!(o.grossNav >= 0 && Number.isFinite(o.grossNav)))
    throw new InvalidInputError(
      "grossNav",
      o.grossNav,
      "must be a finite number >= 0 (the vault is fully collateralised)",
    );
  if (state.totalShares === 0 && o.grossNav !== 0)
    throw new InvalidInputError("grossNav", o.grossNav, "must be 0 when the vault has no shares");
}

/** Steps 1-3 of the module comment: the fees, the price after them and the new high-water mark. */
function strikeFees(
  state: LedgerState,
  o: EpochInput,
): Pick<EpochSettlement, "managementFee" | "performanceFee" | "priceBeforeFees" | "price" | "highWaterMark"> {
  const n = state.totalShares;
  const hwm0 = state.highWaterMark;
  if (!(n > 0))
    return {
      managementFee: 0,
      performanceFee: 0,
      priceBeforeFees: state.sharePrice,
      price: state.sharePrice,
      highWaterMark: hwm0,
    };
  const managementFee = o.grossNav * o.fees.managementPerYear * o.years;
  const p1 = (o.grossNav - managementFee) / n;
  const gain = Math.max(0, p1 - hwm0);
  const price = p1 - o.fees.performance * gain;
  return {
    managementFee,
    performanceFee: o.fees.performance * gain * n,
    priceBeforeFees: o.grossNav / n,
    price,
    highWaterMark: Math.max(hwm0, price),
  };
}

/** Step 4: burns the withdrawn shares in `shares` and pays them at `price`. */
function redeem(
  shares: Record<string, number>,
  requests: readonly WithdrawRequest[],
  price: number,
): { depositor: string; shares: number; amount: number }[] {
  const withdrawals: { depositor: string; shares: number; amount: number }[] = [];
  for (const [i, w] of requests.entries()) {
    const held = shares[w.depositor] ?? 0;
    // "all" redeems whatever is held at the boundary, possibly nothing (a request queued before
    // the depositor's own deposit entered): no payout, no error.
    if (w.shares === "all" && held === 0) continue;
    const s = w.shares === "all" ? held : w.shares;
    if (!(typeof s === "number" && s > 0 && Number.isFinite(s)))
      throw new InvalidInputError(
        `withdrawals[${i}].shares`,
        w.shares,
        `must be > 0 (${w.depositor} holds ${held})`,
      );
    // Tolerate the last bits of a holding computed elsewhere (e.g. a request for the shares shown).
    if (s > held * (1 + 1e-12))
      throw new InvalidInputError(
        `withdrawals[${i}].shares`,
        s,
        `must be at most ${w.depositor}'s ${held} shares`,
      );
    const burn = Math.min(s, held);
    const left = held - burn;
    if (left <= held * 1e-12) delete shares[w.depositor];
    else shares[w.depositor] = left;
    withdrawals.push({ depositor: w.depositor, shares: burn, amount: burn * price });
  }
  return withdrawals;
}

/** Step 5: mints the deposits' shares in `shares` at `price`. */
function mint(
  shares: Record<string, number>,
  requests: readonly DepositRequest[],
  price: number,
): { depositor: string; amount: number; shares: number }[] {
  const deposits: { depositor: string; amount: number; shares: number }[] = [];
  for (const [i, d] of requests.entries()) {
    if (!(d.amount > 0 && Number.isFinite(d.amount)))
      throw new InvalidInputError(`deposits[${i}].amount`, d.amount, "must be a finite number > 0");
    const minted = d.amount / price;
    shares[d.depositor] = (shares[d.depositor] ?? 0) + minted;
    deposits.push({ depositor: d.depositor, amount: d.amount, shares: minted });
  }
  return deposits;
}
