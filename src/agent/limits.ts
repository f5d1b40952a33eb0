/**
 * Pre-trade limits (pure). Every order passes `checkOrder` inside the guarded broker before it
 * can reach a venue; none can bypass it. A limit on a greek rejects an order that would leave the
 * book beyond the limit, unless the order moves the book toward it (risk-reducing orders are
 * always allowed, so the agent can get back inside its limits). The margin limit binds on the
 * margin before and after the order (the loop supplies the core margin on the tick's market,
 * with or without analytics); a futures order that reduces |delta| is a hedge and is not blocked
 * by it.
 *
 * Reduce-only: while the book holds a position the market cannot value (its risk is unknown, so
 * "toward the limit" cannot be judged), the caller passes `reduceOnly` and every order must
 * shrink the position it trades without flipping it (Deribit's reduce_only semantics); any
 * other order is rejected with limit "reduceOnly".
 *
 * Inputs that cannot be evaluated block: a NaN or infinite quantity, price, index, greek or
 * margin (limit "input"), a limit that is not a positive finite number (that limit's name), and
 * a configured `maxMarginUsd` without a margin estimate (the loop computes the core margin on
 * the tick's market with or without analytics; the exceptions are a delta-reducing futures hedge
 * and a reduce-only order that shrinks a held position). An order never passes on an input the
 * check cannot judge.
 *
 * Order rate, position size and daily loss (issue 19 item 3):
 *  - `maxOrdersPerWindow`: at most this many orders sent to the broker in the last `orderWindowMs`
 *    (default 60 s) of the decision clock (the replay clock in a replay, the wall clock live),
 *    counting the ones sent earlier in the same tick; every order counts, a hedge too (a
 *    runaway loop is stopped whatever it sends). The caller supplies `ordersInWindow`.
 *  - `maxPositionCoins`: the position of any one instrument after the order, in coins of the
 *    underlying (contracts x size for options and linear futures, contracts x size USD / index
 *    for inverse futures), unless the order shrinks the position. The caller supplies the held
 *    `positionBefore` and `coinsPerContract`.
 *  - `maxDailyLossUsd`: when the book's equity (core valuation, USD) is more than this below its
 *    value at the start of the UTC day, only risk-reducing orders pass (an order that shrinks a
 *    held position without flipping it, or a futures order that reduces |delta|). The caller
 *    supplies `dailyLossUsd` (start-of-day equity minus equity now; NaN when either cannot be
 *    valued, which blocks like a breach).
 * A configured limit whose input is missing or not finite blocks (it cannot be evaluated).
 *
 * Units: delta in coins of the underlying (Black-76 forward delta, core greeks.ts
 * deltaUnderlyingCoin), vega in USD per 1.00 vol inside, limits per vol point.
 */
import type { OrderRequest } from "../adapters/broker/types.js";
import type { Instrument } from "../core/instruments/types.js";

export interface PreTradeLimits {
  /** Largest option order, contracts. */
  readonly maxOptionContracts: number;
  /** Largest futures order, contracts. */
  readonly maxFutureContracts: number;
  /** Largest order notional, USD (options: contracts x size x index; inverse futures: contracts x size). */
  readonly maxOrderNotionalUsd: number;
  /** Largest |delta| after the trade, coins. */
  readonly maxAbsDelta: number;
  /** Largest |vega| after the trade, USD per vol point. */
  readonly maxAbsVegaPerVolPoint: number;
  /** Largest initial margin after the trade, USD (checked when a margin estimate is supplied). */
  readonly maxMarginUsd?: number;
  /** Most orders sent in the last `orderWindowMs` (decision clock), any instrument. */
  readonly maxOrdersPerWindow?: number;
  /** Length of the order-rate window, ms (default 60,000). */
  readonly orderWindowMs?: number;
  /** Largest |position| of one instrument after an order that grows it, coins of the underlying. */
  readonly maxPositionCoins?: number;
  /** Largest loss of book equity since the start of the UTC day, USD, before only risk-reducing orders pass. */
  readonly maxDailyLossUsd?: number;
}

/** Default order-rate window, ms. */
export const DEFAULT_ORDER_WINDOW_MS = 60_000;

export interface OrderRiskContext {
  readonly instrument: Instrument;
  readonly indexPrice: number;
  /** Book delta (coins, deltaUnderlyingCoin) and vega (USD per 1.00 vol) before this order. */
  readonly deltaBefore: number;
  readonly vegaBefore: number;
  /** Per-contract delta (coins) and vega (USD per 1.00 vol) of the instrument. */
  readonly deltaPerContract: number;
  readonly vegaPerContract: number;
  /** Set while any position is unpriceable: the held quantity of this instrument and why. */
  readonly reduceOnly?: { readonly positionBefore: number; readonly reason: string };
  /** Initial margin before/after the order, USD, when a margin model is available. */
  readonly marginBefore?: number;
  readonly marginAfter?: number;
  /** Held contracts of this instrument before the order (position-size and daily-loss limits). */
  readonly positionBefore?: number;
  /** Coins of the underlying per contract of this instrument (position-size limit). */
  readonly coinsPerContract?: number;
  /** Orders already sent in the order-rate window (order-rate limit). */
  readonly ordersInWindow?: number;
  /** Start-of-UTC-day equity minus equity now, USD (> 0: a loss); NaN when it cannot be valued. */
  readonly dailyLossUsd?: number;
}

/** What blocked an order: a configured limit, reduce-only mode, or no quote to trade on. */
export type LimitName = keyof PreTradeLimits | "reduceOnly" | "quote" | "input";

export type LimitCheck =
  | { readonly ok: true; readonly deltaAfter: number; readonly vegaAfter: number }
  | { readonly ok: false; readonly limit: LimitName; readonly reason: string };

/** True when a signed trade of `signed` contracts shrinks a position of `before` without flipping it. */
export function reducesPosition(before: number, signed: number): boolean {
  const after = before + signed;
  return Math.abs(after) < Math.abs(before) && before * after >= 0;
}

/** The first input of the check that is not a finite number (a limit that cannot be evaluated). */
function nonFiniteInput(
  order: OrderRequest,
  ctx: OrderRiskContext,
  limits: PreTradeLimits,
): LimitCheck | null {
  const inputs: [string, number | null | undefined][] = [
    ["quantity", order.quantity],
    ["limitPrice", order.limitPrice],
    ["indexPrice", ctx.indexPrice],
    ["contractSize", ctx.instrument.contractSize],
    ["deltaBefore", ctx.deltaBefore],
    ["vegaBefore", ctx.vegaBefore],
    ["deltaPerContract", ctx.deltaPerContract],
    ["vegaPerContract", ctx.vegaPerContract],
    ["marginBefore", ctx.marginBefore],
    ["marginAfter", ctx.marginAfter],
    ["positionBefore", ctx.reduceOnly?.positionBefore],
    ["positionBefore", ctx.positionBefore],
    ["coinsPerContract", ctx.coinsPerContract],
    ["ordersInWindow", ctx.ordersInWindow],
  ];
  for (const [name, v] of inputs)
    if (v !== undefined && v !== null && !Number.isFinite(v))
      return { ok: false, limit: "input", reason: `${name} is ${v}: the order cannot be checked` };
  if (!(ctx.indexPrice > 0) || !(ctx.instrument.contractSize > 0))
    return {
      ok: false,
      limit: "input",
      reason: `index ${ctx.indexPrice} / contract size ${ctx.instrument.contractSize} must be > 0`,
    };
  for (const [name, v] of Object.entries(limits) as [keyof PreTradeLimits, unknown][])
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v > 0))
      return {
        ok: false,
        limit: name,
        reason: `limit ${name} = ${String(v)} is not a positive finite number`,
      };
  return null;
}

type Blocked = Extract<LimitCheck, { ok: false }>;

/** The signed trade and what it does to the held position and the book's greeks. */
interface TradeEffect {
  /** Signed contracts (+ buy, - sell). */
  readonly signed: number;
  /** Held contracts of the instrument before the order, when the caller knows them. */
  readonly held: number | undefined;
  /** The order shrinks the held position without flipping it. */
  readonly shrinksHeld: boolean;
  readonly deltaAfter: number;
  readonly vegaAfter: number;
  /** A futures order that reduces |delta| (risk-reducing even when margin charges it). */
  readonly hedge: boolean;
  /** A reduce-only order (it got here only because it shrinks a held position). */
  readonly shrinking: boolean;
}

export function checkOrder(order: OrderRequest, ctx: OrderRiskContext, limits: PreTradeLimits): LimitCheck {
  const bad =
    nonFiniteInput(order, ctx, limits) ??
    orderRateCheck(ctx, limits) ??
    sizeCheck(order, ctx, limits) ??
    notionalCheck(order, ctx, limits) ??
    reduceOnlyCheck(order, ctx);
  if (bad) return bad;
  const t = tradeEffect(order, ctx);
  const blocked =
    positionCheck(order, ctx, limits, t) ??
    greeksCheck(ctx, limits, t) ??
    dailyLossCheck(ctx, limits, t) ??
    marginCheck(ctx, limits, t);
  return blocked ?? { ok: true, deltaAfter: t.deltaAfter, vegaAfter: t.vegaAfter };
}

/** Order rate: orders already sent in the window against `maxOrdersPerWindow`. */
function orderRateCheck(ctx: OrderRiskContext, limits: PreTradeLimits): Blocked | null {
  if (limits.maxOrdersPerWindow === undefined) return null;
  const window = limits.orderWindowMs ?? DEFAULT_ORDER_WINDOW_MS;
  if (ctx.ordersInWindow === undefined)
    return {
      ok: false,
      limit: "maxOrdersPerWindow",
      reason: `order-rate limit ${limits.maxOrdersPerWindow} per ${window / 1000} s cannot be evaluated (no order count)`,
    };
  if (ctx.ordersInWindow >= limits.maxOrdersPerWindow)
    return {
      ok: false,
      limit: "maxOrdersPerWindow",
      reason: `${ctx.ordersInWindow} orders sent in the last ${window / 1000} s >= limit ${limits.maxOrdersPerWindow}`,
    };
  return null;
}

/** Order size: a positive quantity within the option or futures contract limit. */
function sizeCheck(order: OrderRequest, ctx: OrderRiskContext, limits: PreTradeLimits): Blocked | null {
  const isOption = ctx.instrument.type === "option";
  const maxContracts = isOption ? limits.maxOptionContracts : limits.maxFutureContracts;
  const limit = isOption ? "maxOptionContracts" : "maxFutureContracts";
  if (!(order.quantity > 0) || !Number.isFinite(order.quantity))
    return { ok: false, limit, reason: `quantity ${order.quantity} must be > 0` };
  if (order.quantity > maxContracts)
    return { ok: false, limit, reason: `${order.quantity} contracts > limit ${maxContracts}` };
  return null;
}

/** Order notional, USD (options and linear: contracts x size x index; inverse futures: contracts x size). */
function notionalCheck(order: OrderRequest, ctx: OrderRiskContext, limits: PreTradeLimits): Blocked | null {
  const notional =
    ctx.instrument.type === "option" || ctx.instrument.settlement === "linear"
      ? order.quantity * ctx.instrument.contractSize * ctx.indexPrice
      : order.quantity * ctx.instrument.contractSize;
  if (notional > limits.maxOrderNotionalUsd)
    return {
      ok: false,
      limit: "maxOrderNotionalUsd",
      reason: `notional ${notional.toFixed(0)} USD > limit ${limits.maxOrderNotionalUsd}`,
    };
  return null;
}

/** Reduce-only mode: the order must shrink the held position without flipping it. */
function reduceOnlyCheck(order: OrderRequest, ctx: OrderRiskContext): Blocked | null {
  const sign = order.side === "buy" ? 1 : -1;
  if (ctx.reduceOnly && !reducesPosition(ctx.reduceOnly.positionBefore, sign * order.quantity))
    return {
      ok: false,
      limit: "reduceOnly",
      reason: `reduce-only (${ctx.reduceOnly.reason}): ${order.side} ${order.quantity} would not shrink the held ${ctx.reduceOnly.positionBefore}`,
    };
  return null;
}

function tradeEffect(order: OrderRequest, ctx: OrderRiskContext): TradeEffect {
  const isOption = ctx.instrument.type === "option";
  const sign = order.side === "buy" ? 1 : -1;
  const held = ctx.reduceOnly?.positionBefore ?? ctx.positionBefore;
  const signed = sign * order.quantity;
  const deltaAfter = ctx.deltaBefore + signed * ctx.deltaPerContract;
  return {
    signed,
    held,
    shrinksHeld: held !== undefined && reducesPosition(held, signed),
    deltaAfter,
    vegaAfter: ctx.vegaBefore + signed * ctx.vegaPerContract,
    hedge: !isOption && Math.abs(deltaAfter) < Math.abs(ctx.deltaBefore),
    shrinking: ctx.reduceOnly !== undefined,
  };
}

/** Position size in coins after an order that grows the held position. */
function positionCheck(
  order: OrderRequest,
  ctx: OrderRiskContext,
  limits: PreTradeLimits,
  t: TradeEffect,
): Blocked | null {
  if (limits.maxPositionCoins === undefined || t.shrinksHeld) return null;
  const { held, signed } = t;
  if (held === undefined || ctx.coinsPerContract === undefined || !(ctx.coinsPerContract > 0))
    return {
      ok: false,
      limit: "maxPositionCoins",
      reason: `position limit ${limits.maxPositionCoins} coins cannot be evaluated (held ${held}, coins per contract ${ctx.coinsPerContract})`,
    };
  const afterCoins = Math.abs((held + signed) * ctx.coinsPerContract);
  if (afterCoins > limits.maxPositionCoins && Math.abs(held + signed) > Math.abs(held))
    return {
      ok: false,
      limit: "maxPositionCoins",
      reason: `${order.instrument} position after ${(held + signed).toFixed(4)} contracts = ${afterCoins.toFixed(4)} coins > limit ${limits.maxPositionCoins}`,
    };
  return null;
}

/** Book delta and vega after the order, unless it moves the book toward the limit. */
function greeksCheck(ctx: OrderRiskContext, limits: PreTradeLimits, t: TradeEffect): Blocked | null {
  const { deltaAfter, vegaAfter } = t;
  if (Math.abs(deltaAfter) > limits.maxAbsDelta && Math.abs(deltaAfter) > Math.abs(ctx.deltaBefore))
    return {
      ok: false,
      limit: "maxAbsDelta",
      reason: `delta after ${deltaAfter.toFixed(3)} beyond ±${limits.maxAbsDelta}`,
    };
  const vegaLimit = limits.maxAbsVegaPerVolPoint * 100;
  if (Math.abs(vegaAfter) > vegaLimit && Math.abs(vegaAfter) > Math.abs(ctx.vegaBefore))
    return {
      ok: false,
      limit: "maxAbsVegaPerVolPoint",
      reason: `vega after ${(vegaAfter / 100).toFixed(1)} USD/vol pt beyond ±${limits.maxAbsVegaPerVolPoint}`,
    };
  return null;
}

/** Daily loss: past the limit only risk-reducing orders pass (a hedge, a shrinking order). */
function dailyLossCheck(ctx: OrderRiskContext, limits: PreTradeLimits, t: TradeEffect): Blocked | null {
  if (limits.maxDailyLossUsd === undefined || t.hedge || t.shrinking || t.shrinksHeld) return null;
  const loss = ctx.dailyLossUsd;
  if (loss === undefined || !Number.isFinite(loss))
    return {
      ok: false,
      limit: "maxDailyLossUsd",
      reason: `daily-loss limit ${limits.maxDailyLossUsd} USD cannot be evaluated (equity since the start of the UTC day: ${loss}); only risk-reducing orders pass`,
    };
  if (loss > limits.maxDailyLossUsd)
    return {
      ok: false,
      limit: "maxDailyLossUsd",
      reason: `equity ${loss.toFixed(0)} USD below the start of the UTC day > limit ${limits.maxDailyLossUsd}: only risk-reducing orders pass`,
    };
  return null;
}

/**
 * Initial margin after the order (a delta-reducing futures hedge is never blocked by it: the
 * standard margin model, without offsets, charges it margin; a reduce-only order neither).
 */
function marginCheck(ctx: OrderRiskContext, limits: PreTradeLimits, t: TradeEffect): Blocked | null {
  if (limits.maxMarginUsd === undefined || t.hedge || t.shrinking) return null;
  if (ctx.marginAfter === undefined || ctx.marginBefore === undefined)
    return {
      ok: false,
      limit: "maxMarginUsd",
      reason: `margin limit ${limits.maxMarginUsd} USD cannot be evaluated (no margin estimate for this order)`,
    };
  if (ctx.marginAfter > limits.maxMarginUsd && ctx.marginAfter > ctx.marginBefore)
    return {
      ok: false,
      limit: "maxMarginUsd",
      reason: `margin after ${ctx.marginAfter.toFixed(0)} USD > limit ${limits.maxMarginUsd}`,
    };
  return null;
}
