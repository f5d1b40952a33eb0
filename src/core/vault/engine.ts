/**
 * A vault as depositors see it: weekly (or `epochDays`) rounds over a backtest market, a share
 * ledger (ledger.ts: share price in the vault's asset, management and performance fees with a
 * high-water mark), deposits and withdrawals queued to round boundaries (flows.ts), and the
 * round's option sale sized to the vault's NAV (strategy.ts).
 *
 * How a round runs: rounds start at boundary instants anchor + n x epochDays (default anchor: the
 * first Friday 08:00 UTC at or after the first step, Deribit's weekly expiry, as Ribbon/Lyra/
 * Thetanuts roll). A round's boundary step is the first step at or after its instant. Each round is
 * (round.ts) ONE run of the backtest engine (core/backtest/engine.ts runBacktest, unmodified) over the steps
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
import { utcDayOfWeek, utcDayStart } from "../backtest/calendar.js";
import type { BacktestStep } from "../backtest/market.js";
import { InvalidInputError } from "../errors.js";
import { DAY_MS, timeToExpiry } from "../time.js";
import { checkFlows, flowsDue, type VaultFlow } from "./flows.js";
import { type EpochSettlement, initialLedger, type LedgerState, settleEpoch } from "./ledger.js";
import { type RoundConfig, type RoundTrading, tradeRound } from "./round.js";
import type { VaultBalance, VaultEpoch, VaultResult, VaultSpec } from "./types.js";

export type { VaultBalance, VaultEpoch, VaultResult, VaultSpec } from "./types.js";

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

/** What `runVault` takes. */
export interface VaultRunOptions {
  readonly spec: VaultSpec;
  readonly steps: Iterable<BacktestStep>;
  readonly flows: readonly VaultFlow[];
  /** Called with the number of steps consumed (for progress). */
  readonly onStep?: (consumed: number) => void;
  readonly onEpoch?: (e: VaultEpoch) => void;
}

/** The spec's settings, checked, with their defaults. */
interface VaultConfig extends RoundConfig {
  readonly spec: VaultSpec;
  /** Round length, ms. */
  readonly L: number;
}

type Totals = { -readonly [K in keyof VaultResult["totals"]]: number };

/** One run's state. */
interface VaultRun {
  readonly o: VaultRunOptions;
  readonly cfg: VaultConfig;
  readonly flows: VaultFlow[];
  ledger: LedgerState;
  /** The first share price. */
  readonly p0: number;
  anchor: number | null;
  underlying: string;
  asset: string;
  lot: number;
  /** Steps before the first boundary; steps consumed. */
  before: number;
  consumed: number;
  /** The current round's boundary and its steps so far. */
  cur: Boundary | null;
  buf: BacktestStep[];
  opening: VaultResult["opening"];
  processedUpTo: number;
  readonly epochs: VaultEpoch[];
  readonly totals: Totals;
}

/**
 * Runs a vault over `steps` with the depositors' `flows` (see the module comment). Deterministic.
 * `onStep` is called with the number of steps consumed (for progress).
 */
export function runVault(o: VaultRunOptions): VaultResult {
  const run = newVaultRun(o, vaultConfig(o.spec));
  for (const s of o.steps) {
    run.consumed++;
    acceptStep(run, s);
    o.onStep?.(run.consumed);
  }
  return vaultResult(run);
}

/** Checks the spec (each bad field named with its value) and fills in the defaults. */
function vaultConfig(spec: VaultSpec): VaultConfig {
  const type = spec.strategy;
  if (type !== "covered-call" && type !== "put-selling")
    throw new InvalidInputError("strategy", type, 'must be "covered-call" or "put-selling"');
  const collateral = spec.collateral ?? (type === "covered-call" ? "coin" : "usd");
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
  return {
    spec,
    type,
    collateral,
    isCoin: collateral === "coin",
    targetDelta,
    epochDays,
    conversionBps,
    ...(spec.costs ? { costs: spec.costs } : {}),
    L: epochDays * DAY_MS,
  };
}

function newVaultRun(o: VaultRunOptions, cfg: VaultConfig): VaultRun {
  const flows = checkFlows(o.flows);
  const ledger = initialLedger(cfg.spec.initialSharePrice ?? 1);
  // Settle once with no shares to validate the fees before any step is read.
  settleEpoch(ledger, { grossNav: 0, years: 0, fees: cfg.spec.fees });
  return {
    o,
    cfg,
    flows,
    ledger,
    p0: ledger.sharePrice,
    anchor: cfg.spec.anchor ?? null,
    underlying: "",
    asset: "",
    lot: cfg.spec.lot ?? 0,
    before: 0,
    consumed: 0,
    cur: null,
    buf: [],
    opening: null,
    processedUpTo: Number.NEGATIVE_INFINITY,
    epochs: [],
    totals: {
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
    },
  };
}

/** Takes one step: before the anchor (counted), the first boundary, or a step of the current round. */
function acceptStep(run: VaultRun, s: BacktestStep): void {
  const anchor = startAt(run, s);
  if (s.time < anchor) {
    run.before++;
    return;
  }
  const n = Math.floor((s.time - anchor) / run.cfg.L);
  if (run.cur === null) {
    openVault(run, s);
    run.cur = { step: s, n };
    run.buf = [s];
    return;
  }
  run.buf.push(s);
  if (n > run.cur.n) {
    closeRound(run, run.cur, run.buf, s);
    run.cur = { step: s, n };
    run.buf = [s];
  }
}

/** At the first step: the underlying, the asset, the lot and the anchor; later: the same underlying. Returns the anchor. */
function startAt(run: VaultRun, s: BacktestStep): number {
  if (!run.underlying) {
    run.underlying = s.underlying;
    run.asset = run.cfg.isCoin ? run.underlying : "USD";
    run.lot ||= run.underlying === "BTC" ? 0.1 : 1;
    run.anchor ??= nextFridayExpiry(s.time);
  } else if (s.underlying !== run.underlying)
    throw new InvalidInputError("steps[].underlying", s.underlying, `must be ${run.underlying} throughout`);
  return run.anchor ?? nextFridayExpiry(s.time);
}

/** The first boundary: requests made up to here enter at the first share price. */
function openVault(run: VaultRun, s: BacktestStep): void {
  const st = settleFlows(run, s.time, 0, 0);
  run.opening = {
    time: s.time,
    indexPrice: s.indexPrice,
    deposits: st.deposits,
    nav: run.ledger.nav,
    totalShares: run.ledger.totalShares,
    sharePrice: run.ledger.sharePrice,
  };
}

/**
 * Settles the ledger at `time` on `grossNav` after `years` with the requests due since the last
 * boundary; a bad withdrawal is reported as the caller's `flows[i]` with the boundary.
 */
function settleFlows(run: VaultRun, time: number, grossNav: number, years: number): EpochSettlement {
  const due = flowsDue(run.flows, run.processedUpTo, time);
  run.processedUpTo = time;
  let settled: ReturnType<typeof settleEpoch>;
  try {
    settled = settleEpoch(run.ledger, {
      grossNav,
      years,
      fees: run.cfg.spec.fees,
      deposits: due.deposits,
      withdrawals: due.withdrawals,
    });
  } catch (e) {
    throw withdrawalError(e, run.o.flows, due.withdrawFlows, time);
  }
  run.ledger = settled.state;
  const st = settled.settlement;
  for (const d of st.deposits) run.totals.deposited += d.amount;
  for (const w of st.withdrawals) run.totals.withdrawn += w.amount;
  return st;
}

/** The ledger's `withdrawals[i].shares` error restated on the caller's `flows[j]`; other errors unchanged. */
function withdrawalError(
  e: unknown,
  flows: readonly VaultFlow[],
  withdrawFlows: readonly VaultFlow[],
  time: number,
): unknown {
  const m = e instanceof InvalidInputError ? /^withdrawals\[(\d+)\]\.shares$/.exec(e.field) : null;
  const flow = m ? withdrawFlows[Number(m[1])] : undefined;
  if (!m || !flow || !(e instanceof InvalidInputError)) return e;
  const held = /\((.*)\)|at most (.*)$/.exec(e.message.replace(/, got .*$/, ""));
  return new InvalidInputError(
    `flows[${flows.indexOf(flow)}].shares`,
    e.value,
    `must be at most the depositor's shares at the boundary ${new Date(time).toISOString()} (${held?.[1] ?? held?.[2] ?? ""})`,
  );
}

/** Runs round `b` over `roundSteps` to `end`, settles its fees and flows, records the epoch. */
function closeRound(
  run: VaultRun,
  b: Boundary,
  roundSteps: readonly BacktestStep[],
  end: BacktestStep,
): void {
  const start = b.step;
  const navStart = run.ledger.nav;
  const trading = tradeRound({
    cfg: run.cfg,
    navStart,
    roundEnd: (run.anchor ?? start.time) + (b.n + 1) * run.cfg.L,
    lot: run.lot,
    underlying: run.underlying,
    steps: roundSteps,
    end,
  });
  const prevPrice = run.ledger.sharePrice;
  const st = settleFlows(run, end.time, trading.grossNav, timeToExpiry(end.time, start.time));
  const e = epochRecord(run, { start, end, navStart, prevPrice, trading, st });
  const t = run.totals;
  t.premiumCoin += trading.premiumCoin;
  t.premiumUsd += trading.premiumUsd;
  t.settlementCoin += trading.settlementCoin;
  t.settlementUsd += trading.settlementUsd;
  t.tradingFeesCoin += trading.tradingFeesCoin;
  t.slippageCoin += trading.slippageCoin;
  t.managementFees += st.managementFee;
  t.performanceFees += st.performanceFee;
  run.epochs.push(e);
  run.o.onEpoch?.(e);
}

/** Depositors' balances at the ledger's price, sorted by name (USD at the index S). */
function balances(st: LedgerState, S: number, isCoin: boolean): VaultBalance[] {
  return Object.entries(st.shares)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([depositor, shares]) => {
      const value = shares * st.sharePrice;
      return { depositor, shares, value, valueUsd: isCoin ? value * S : value };
    });
}

/** The option sold, as the epoch records it (null: nothing sold). */
function soldOption(trading: RoundTrading): VaultEpoch["option"] {
  const s0 = trading.sale;
  const ins = s0?.instrument ?? null;
  return ins && s0 && s0.quantity > 0
    ? { instrument: ins.name, kind: ins.kind, strike: ins.strike, expiry: ins.expiry, quantity: s0.quantity }
    : null;
}

/** The round's record: its sale, flows, NAV, fees and share price after settlement. */
function epochRecord(
  run: VaultRun,
  r: {
    readonly start: BacktestStep;
    readonly end: BacktestStep;
    readonly navStart: number;
    readonly prevPrice: number;
    readonly trading: RoundTrading;
    readonly st: EpochSettlement;
  },
): VaultEpoch {
  const { start, end, navStart, trading, st } = r;
  const { ledger } = run;
  const isCoin = run.cfg.isCoin;
  const S = end.indexPrice;
  const days = (end.time - start.time) / DAY_MS;
  const netReturn = ledger.sharePrice / r.prevPrice - 1;
  const sinceDays = (end.time - (run.opening?.time ?? start.time)) / DAY_MS;
  const s0 = trading.sale;
  const flows = trading;
  return {
    round: run.epochs.length + 1,
    start: start.time,
    end: end.time,
    days,
    indexStart: start.indexPrice,
    indexEnd: S,
    option: soldOption(trading),
    saleNote: navStart > 0 ? (s0?.note ?? null) : "no shares outstanding",
    notionalUsd: s0?.notionalUsd ?? 0,
    collateralUsd: s0?.collateralUsd ?? 0,
    collateralUtilisation: s0 && s0.collateralUsd > 0 ? s0.notionalUsd / s0.collateralUsd : 0,
    initialMarginCoin: s0?.initialMarginCoin ?? 0,
    marginUtilisation: s0?.marginUtilisation ?? 0,
    premiumCoin: flows.premiumCoin,
    premiumUsd: flows.premiumUsd,
    tradingFeesCoin: flows.tradingFeesCoin,
    slippageCoin: flows.slippageCoin,
    settlementCoin: flows.settlementCoin,
    settlementUsd: flows.settlementUsd,
    conversionCost: flows.conversionCost,
    navStart,
    accountStart: flows.accountStart,
    grossNav: flows.grossNav,
    strategyPnl: flows.grossNav - navStart,
    grossReturn: navStart > 0 ? flows.grossNav / navStart - 1 : 0,
    managementFee: st.managementFee,
    performanceFee: st.performanceFee,
    priceBeforeFees: st.priceBeforeFees,
    sharePrice: ledger.sharePrice,
    sharePriceCoin: isCoin ? ledger.sharePrice : ledger.sharePrice / S,
    sharePriceUsd: isCoin ? ledger.sharePrice * S : ledger.sharePrice,
    highWaterMark: ledger.highWaterMark,
    netReturn,
    apy: days > 0 ? (1 + netReturn) ** (365 / days) - 1 : 0,
    apySinceInception: sinceDays > 0 ? (ledger.sharePrice / run.p0) ** (365 / sinceDays) - 1 : 0,
    deposits: st.deposits,
    withdrawals: st.withdrawals,
    nav: ledger.nav,
    navUsd: isCoin ? ledger.nav * S : ledger.nav,
    navCoin: isCoin ? ledger.nav : ledger.nav / S,
    totalShares: ledger.totalShares,
    balances: balances(ledger, S, isCoin),
  };
}

/** The vault's result after the last step: epochs, totals, the final share price and balances. */
function vaultResult(run: VaultRun): VaultResult {
  const { cfg, ledger, opening } = run;
  if (!run.underlying) throw new InvalidInputError("steps", 0, "must contain at least one step");
  const isCoin = cfg.isCoin;
  const lastS = run.cur?.step ?? null;
  const S = lastS?.indexPrice ?? Number.NaN;
  const sinceDays = lastS && opening ? (lastS.time - opening.time) / DAY_MS : 0;
  return {
    strategy: cfg.type,
    collateral: cfg.collateral,
    underlying: run.underlying,
    asset: run.asset,
    epochDays: cfg.epochDays,
    targetDelta: cfg.targetDelta,
    fees: cfg.spec.fees,
    anchor: run.anchor ?? Number.NaN,
    opening,
    epochs: run.epochs,
    final: {
      sharePrice: ledger.sharePrice,
      sharePriceUsd: isCoin ? ledger.sharePrice * S : ledger.sharePrice,
      sharePriceCoin: isCoin ? ledger.sharePrice : ledger.sharePrice / S,
      highWaterMark: ledger.highWaterMark,
      nav: ledger.nav,
      navUsd: isCoin ? ledger.nav * S : ledger.nav,
      totalShares: ledger.totalShares,
      apySinceInception: sinceDays > 0 ? (ledger.sharePrice / run.p0) ** (365 / sinceDays) - 1 : 0,
      balances: balances(ledger, S, isCoin),
    },
    totals: run.totals,
    unusedSteps: { before: run.before, after: Math.max(0, run.buf.length - 1) },
    pendingFlows: run.flows.filter((f) => f.time > run.processedUpTo),
  };
}
