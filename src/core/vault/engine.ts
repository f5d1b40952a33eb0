/**
 * A vault as depositors see it: weekly (or `epochDays`) rounds over a backtest market, a share
 * ledger (ledger.ts: share price in the vault's asset, management and performance fees with a
 * high-water mark), deposits and withdrawals queued to round boundaries (flows.ts), and the
 * round's option sale sized to the vault's NAV (strategy.ts).
 *
 * How a round runs: rounds start at boundary instants anchor + n x epochDays (default anchor: the
 * first Friday 08:00 UTC at or after the first step, Deribit's weekly expiry, as Ribbon/Lyra/
 * Thetanuts roll). A round's boundary step is the first step at or after its instant. Each round is
 * ONE run of the backtest engine (core/backtest/engine.ts runBacktest, unmodified) over the steps
 * from its boundary step to the next one inclusive, starting with the round's NAV as cash (coin
 * for a coin vault, USD for a USDC vault) and a rule that sells the round's option at the first
 * step; the engine fills it at the bid (fees, slippage), settles it at expiry (the venue's delivery
 * price when the data has one, else intrinsic at the index of the first step after expiry) and
 * values the book on the core market (valuePosition via chainRiskMarket). The option expires
 * inside the round, so the round ends flat; its end NAV is the engine's final equity, in the asset:
 * coin vault: equity USD / index; USDC vault: USD cash + coin cash converted at the index, at
 * `conversionBps` (the coin premium and coin settlement of inverse options are swept into USDC at
 * the end of each round, as a USDC vault must). The ledger then charges the fees and processes the
 * round's requests at the price after fees; the next round starts with the ledger's NAV.
 * Steps before the first boundary and after the last complete round are not traded (counted).
 *
 * Units: times epoch ms UTC; `asset` amounts in the vault's asset (coin or USD); `...Coin` in the
 * coin; `...Usd` in USD at the stated step's index.
 */
import { runBacktest } from "../backtest/engine.js";
import { utcDayOfWeek, utcDayStart } from "../backtest/calendar.js";
import type { BacktestStep } from "../backtest/market.js";
import type { StrategyRule, StrategySpec } from "../backtest/strategies.js";
import { InvalidInputError } from "../errors.js";
import type { CostModel } from "../hedge/costs.js";
import { DAY_MS, timeToExpiry } from "../time.js";
import { checkFlows, flowsDue, type VaultFlow } from "./flows.js";
import {
  type EpochSettlement,
  initialLedger,
  type LedgerState,
  settleEpoch,
  type VaultFees,
} from "./ledger.js";
import { type VaultCollateral, type VaultSale, type VaultStrategyType, vaultSale } from "./strategy.js";

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

/** First Friday 08:00 UTC at or after `t` (Deribit's weekly expiry). */
export function nextFridayExpiry(t: number): number {
  let d = utcDayStart(t) + 8 * 3_600_000;
  while (d < t || utcDayOfWeek(d) !== 5) d += DAY_MS;
  return d;
}

interface Boundary {
  readonly step: BacktestStep;
  readonly n: number;
}

/**
 * Runs a vault over `steps` with the depositors' `flows` (see the module comment). Deterministic.
 * `onStep` is called with the number of steps consumed (for progress).
 */
export function runVault(o: {
  readonly spec: VaultSpec;
  readonly steps: Iterable<BacktestStep>;
  readonly flows: readonly VaultFlow[];
  readonly onStep?: (consumed: number) => void;
  readonly onEpoch?: (e: VaultEpoch) => void;
}): VaultResult {
  const spec = o.spec;
  const type = spec.strategy;
  if (type !== "covered-call" && type !== "put-selling")
    throw new InvalidInputError("strategy", type, 'must be "covered-call" or "put-selling"');
  const collateral: VaultCollateral = spec.collateral ?? (type === "covered-call" ? "coin" : "usd");
  if (collateral !== "coin" && collateral !== "usd")
    throw new InvalidInputError("collateral", collateral, 'must be "coin" or "usd"');
  if (type === "covered-call" && collateral !== "coin")
    throw new InvalidInputError("collateral", collateral, 'must be "coin" for a covered-call vault');
  const targetDelta = spec.targetDelta ?? 0.1;
  if (!(targetDelta > 0 && targetDelta < 1))
    throw new InvalidInputError("targetDelta", targetDelta, "must be in (0, 1)");
  const epochDays = spec.epochDays ?? 7;
  if (!(epochDays > 0 && Number.isFinite(epochDays)))
    throw new InvalidInputError("epochDays", epochDays, "must be a finite number > 0");
  const conversionBps = spec.conversionBps ?? 0;
  if (!(conversionBps >= 0 && conversionBps < 1e4))
    throw new InvalidInputError("conversionBps", conversionBps, "must be in [0, 10000)");
  if (spec.lot !== undefined && !(spec.lot > 0 && Number.isFinite(spec.lot)))
    throw new InvalidInputError("lot", spec.lot, "must be a finite number > 0");
  const flows = checkFlows(o.flows);
  const L = epochDays * DAY_MS;
  let ledger: LedgerState = initialLedger(spec.initialSharePrice ?? 1);
  // Settle once with no shares to validate the fees before any step is read.
  settleEpoch(ledger, { grossNav: 0, years: 0, fees: spec.fees });
  const p0 = ledger.sharePrice;

  let anchor = spec.anchor ?? null;
  let underlying = "";
  let asset = "";
  let lot = spec.lot ?? 0;
  let before = 0;
  let consumed = 0;
  let cur: Boundary | null = null;
  let buf: BacktestStep[] = [];
  let opening: VaultResult["opening"] = null;
  let processedUpTo = Number.NEGATIVE_INFINITY;
  const epochs: VaultEpoch[] = [];
  const totals = {
    premiumCoin: 0,
    premiumUsd: 0,
    settlementCoin: 0,
    settlementUsd: 0,
    tradingFeesCoin: 0,
    slippageCoin: 0,
    managementFees: 0,
    performanceFees: 0,
    deposited: 0,
    withdrawn: 0,
  };
  const isCoin = collateral === "coin";

  const balances = (st: LedgerState, S: number): VaultBalance[] =>
    Object.entries(st.shares)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([depositor, shares]) => {
        const value = shares * st.sharePrice;
        return { depositor, shares, value, valueUsd: isCoin ? value * S : value };
      });
  const countFlows = (s: EpochSettlement) => {
    for (const d of s.deposits) totals.deposited += d.amount;
    for (const w of s.withdrawals) totals.withdrawn += w.amount;
  };

  /** Runs a settlement; a bad withdrawal is reported as the caller's `flows[i]` with the boundary. */
  const settleAt = <T>(time: number, due: ReturnType<typeof flowsDue>, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      const m = e instanceof InvalidInputError ? /^withdrawals\[(\d+)\]\.shares$/.exec(e.field) : null;
      const flow = m ? due.withdrawFlows[Number(m[1])] : undefined;
      if (!m || !flow || !(e instanceof InvalidInputError)) throw e;
      const held = /\((.*)\)|at most (.*)$/.exec(e.message.replace(/, got .*$/, ""));
      throw new InvalidInputError(
        `flows[${o.flows.indexOf(flow)}].shares`,
        e.value,
        `must be at most the depositor's shares at the boundary ${new Date(time).toISOString()} (${held?.[1] ?? held?.[2] ?? ""})`,
      );
    }
  };

  const runRound = (b: Boundary, roundSteps: readonly BacktestStep[], end: BacktestStep): void => {
    const start = b.step;
    const navStart = ledger.nav;
    const years = timeToExpiry(end.time, start.time);
    const days = (end.time - start.time) / DAY_MS;
    let sale: VaultSale | null = null;
    let premiumCoin = 0;
    let premiumUsd = 0;
    let tradingFeesCoin = 0;
    let slippageCoin = 0;
    let settlementCoin = 0;
    let settlementUsd = 0;
    let conversionCost = 0;
    let grossNav = 0;
    let accountStart = 0;
    if (navStart > 0) {
      const initial = isCoin ? { coins: navStart, usd: 0 } : { coins: 0, usd: navStart };
      const roundEnd = anchor! + (b.n + 1) * L;
      let decided = false;
      const rule: StrategyRule = {
        initial,
        decide: (ctx) => {
          if (decided) return [];
          decided = true;
          sale = vaultSale({
            step: ctx.step,
            type,
            collateral,
            coins: ctx.coins,
            usd: ctx.usd,
            targetDelta,
            roundEnd,
            lot,
          });
          const ins = sale.instrument;
          return ins && sale.quantity > 0
            ? [
                {
                  expiry: ins.expiry,
                  strike: ins.strike,
                  kind: ins.kind,
                  quantity: -sale.quantity,
                  tag: "open",
                },
              ]
            : [];
        },
      };
      const strategySpec: StrategySpec =
        type === "covered-call"
          ? {
              type: "covered-call",
              name: "vault covered-call",
              params: { coins: navStart, targetDelta, tenorDays: epochDays },
              ...(spec.costs ? { costs: spec.costs } : {}),
            }
          : {
              type: "cash-secured-put",
              name: "vault put-selling",
              params: { usd: navStart, targetDelta, tenorDays: epochDays },
              ...(spec.costs ? { costs: spec.costs } : {}),
            };
      const r = runBacktest({ strategy: strategySpec, steps: roundSteps, rule, recordTrades: true });
      const live = r.final.positions.filter((p) => p.instrument.type === "option");
      if (live.length > 0)
        throw new InvalidInputError(
          "steps",
          new Date(end.time).toISOString(),
          `round ended with ${live[0]?.instrument.name} still open (the round's option must expire by the boundary)`,
        );
      for (const t of r.trades) {
        if (t.type !== "option") continue;
        premiumCoin += -t.quantity * t.price;
        premiumUsd += -t.quantity * t.price * t.indexPrice;
        tradingFeesCoin += t.fee;
        slippageCoin += t.slippage;
      }
      for (const x of r.settled) {
        settlementCoin += x.value;
        settlementUsd += x.valueUsd;
      }
      const S = end.indexPrice;
      const d0 = r.daily[0];
      accountStart = d0 ? (isCoin ? d0.equityCoin : d0.equityUsd) : Number.NaN;
      if (isCoin) grossNav = r.final.equity.equityUsd / S;
      else {
        const coins = r.final.cash[underlying] ?? 0;
        conversionCost = (Math.abs(coins) * S * conversionBps) / 1e4;
        grossNav = r.final.equity.equityUsd - conversionCost;
      }
      // A fully collateralised vault cannot lose more than its NAV; rounding can leave dust.
      if (grossNav < 0 && grossNav > -1e-12 * navStart) grossNav = 0;
    }
    const due = flowsDue(flows, processedUpTo, end.time);
    processedUpTo = end.time;
    const prevPrice = ledger.sharePrice;
    const settled = settleAt(end.time, due, () =>
      settleEpoch(ledger, {
        grossNav,
        years,
        fees: spec.fees,
        deposits: due.deposits,
        withdrawals: due.withdrawals,
      }),
    );
    ledger = settled.state;
    const st = settled.settlement;
    countFlows(st);
    const S = end.indexPrice;
    const netReturn = ledger.sharePrice / prevPrice - 1;
    const sinceDays = (end.time - (opening?.time ?? start.time)) / DAY_MS;
    const s0 = sale as VaultSale | null;
    const ins = s0?.instrument ?? null;
    const e: VaultEpoch = {
      round: epochs.length + 1,
      start: start.time,
      end: end.time,
      days,
      indexStart: start.indexPrice,
      indexEnd: S,
      option:
        ins && s0 && s0.quantity > 0
          ? {
              instrument: ins.name,
              kind: ins.kind,
              strike: ins.strike,
              expiry: ins.expiry,
              quantity: s0.quantity,
            }
          : null,
      saleNote: navStart > 0 ? (s0?.note ?? null) : "no shares outstanding",
      notionalUsd: s0?.notionalUsd ?? 0,
      collateralUsd: s0?.collateralUsd ?? 0,
      collateralUtilisation: s0 && s0.collateralUsd > 0 ? s0.notionalUsd / s0.collateralUsd : 0,
      initialMarginCoin: s0?.initialMarginCoin ?? 0,
      marginUtilisation: s0?.marginUtilisation ?? 0,
      premiumCoin,
      premiumUsd,
      tradingFeesCoin,
      slippageCoin,
      settlementCoin,
      settlementUsd,
      conversionCost,
      navStart,
      accountStart,
      grossNav,
      strategyPnl: grossNav - navStart,
      grossReturn: navStart > 0 ? grossNav / navStart - 1 : 0,
      managementFee: st.managementFee,
      performanceFee: st.performanceFee,
      priceBeforeFees: st.priceBeforeFees,
      sharePrice: ledger.sharePrice,
      sharePriceCoin: isCoin ? ledger.sharePrice : ledger.sharePrice / S,
      sharePriceUsd: isCoin ? ledger.sharePrice * S : ledger.sharePrice,
      highWaterMark: ledger.highWaterMark,
      netReturn,
      apy: days > 0 ? (1 + netReturn) ** (365 / days) - 1 : 0,
      apySinceInception: sinceDays > 0 ? (ledger.sharePrice / p0) ** (365 / sinceDays) - 1 : 0,
      deposits: st.deposits,
      withdrawals: st.withdrawals,
      nav: ledger.nav,
      navUsd: isCoin ? ledger.nav * S : ledger.nav,
      navCoin: isCoin ? ledger.nav : ledger.nav / S,
      totalShares: ledger.totalShares,
      balances: balances(ledger, S),
    };
    totals.premiumCoin += premiumCoin;
    totals.premiumUsd += premiumUsd;
    totals.settlementCoin += settlementCoin;
    totals.settlementUsd += settlementUsd;
    totals.tradingFeesCoin += tradingFeesCoin;
    totals.slippageCoin += slippageCoin;
    totals.managementFees += st.managementFee;
    totals.performanceFees += st.performanceFee;
    epochs.push(e);
    o.onEpoch?.(e);
  };

  for (const s of o.steps) {
    consumed++;
    if (!underlying) {
      underlying = s.underlying;
      asset = isCoin ? underlying : "USD";
      lot ||= underlying === "BTC" ? 0.1 : 1;
      anchor ??= nextFridayExpiry(s.time);
    } else if (s.underlying !== underlying)
      throw new InvalidInputError("steps[].underlying", s.underlying, `must be ${underlying} throughout`);
    const a = anchor as number;
    if (s.time < a) {
      before++;
      o.onStep?.(consumed);
      continue;
    }
    const n = Math.floor((s.time - a) / L);
    if (cur === null) {
      // The first boundary: requests made up to here enter at the first share price.
      const due = flowsDue(flows, processedUpTo, s.time);
      processedUpTo = s.time;
      const st = settleAt(s.time, due, () =>
        settleEpoch(ledger, {
          grossNav: 0,
          years: 0,
          fees: spec.fees,
          deposits: due.deposits,
          withdrawals: due.withdrawals,
        }),
      );
      ledger = st.state;
      countFlows(st.settlement);
      opening = {
        time: s.time,
        indexPrice: s.indexPrice,
        deposits: st.settlement.deposits,
        nav: ledger.nav,
        totalShares: ledger.totalShares,
        sharePrice: ledger.sharePrice,
      };
      cur = { step: s, n };
      buf = [s];
    } else {
      buf.push(s);
      if (n > cur.n) {
        runRound(cur, buf, s);
        cur = { step: s, n };
        buf = [s];
      }
    }
    o.onStep?.(consumed);
  }
  if (!underlying) throw new InvalidInputError("steps", 0, "must contain at least one step");
  const lastS = cur?.step ?? null;
  const S = lastS?.indexPrice ?? Number.NaN;
  const sinceDays = lastS && opening ? (lastS.time - opening.time) / DAY_MS : 0;
  return {
    strategy: type,
    collateral,
    underlying,
    asset,
    epochDays,
    targetDelta,
    fees: spec.fees,
    anchor: anchor as number,
    opening,
    epochs,
    final: {
      sharePrice: ledger.sharePrice,
      sharePriceUsd: isCoin ? ledger.sharePrice * S : ledger.sharePrice,
      sharePriceCoin: isCoin ? ledger.sharePrice : ledger.sharePrice / S,
      highWaterMark: ledger.highWaterMark,
      nav: ledger.nav,
      navUsd: isCoin ? ledger.nav * S : ledger.nav,
      totalShares: ledger.totalShares,
      apySinceInception: sinceDays > 0 ? (ledger.sharePrice / p0) ** (365 / sinceDays) - 1 : 0,
      balances: balances(ledger, S),
    },
    totals,
    unusedSteps: { before, after: Math.max(0, buf.length - 1) },
    pendingFlows: flows.filter((f) => f.time > processedUpTo),
  };
}
