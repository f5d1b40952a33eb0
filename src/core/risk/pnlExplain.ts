/**
 * PnL explain: a book's PnL over a window (the backtest's day) attributed to Greek terms, in USD
 * and in coin, on the core's valuation (DESIGN.md: risk/ holds the PnL explain; the backtest's
 * daily windows are core/backtest/attribution.ts).
 *
 * A window runs from one day's first step to the next day's. At its start the engine records the
 * book it holds (after settling expired legs): cash per currency, each live option's value and
 * greeks (core/risk valuePosition and positionGreeks on the step's market) with its forward F0
 * and vol s0 (optionMarketInputs), and the hedge future (entered at its mark, value 0). At the
 * end, that same start book, held unchanged, is revalued ("book actual"); whatever else moved the
 * equity (trades during the day, their costs, funding, legs opened and closed within it) is
 * "trading". Every leg of the start book lands in exactly one place:
 *
 *   live at the end      Taylor terms on the core greeks + residual (below);
 *   expired in the window  settlement: its settlement proceeds minus its start value (the leg
 *                        leaves the window at its settlement, never revalued afterwards).
 *                        Coin: X - V0c (X = coins received, splitExpired). USD: X S_set - V0usd
 *                        at the settlement index S_set; the proceeds are then coin cash, and their
 *                        move to the end index, X (S1 - S_set), is in delta;
 *   cash                 coin cash c: delta in USD, c (S1 - S0); nothing in coin. USD cash u:
 *                        nothing in USD; delta in coin, u (1/S1 - 1/S0) (USD is short the coin);
 *   hedge (inverse future, n contracts of size USD, m = n size, marked M0 -> M1): coin
 *                        p = m (1/M0 - 1/M1) in delta; USD p S1 (its coin PnL held at the end).
 *
 * Taylor terms of a live inverse option (coin value V = m B(F, s, t) / F: a function of its own
 * forward, vol and time only; USD value = V x index S). With the core's figures at the start
 * (risk/greeks.ts: deltaCoin = F dV/dF, S gammaCoin - deltaCoin = F^2 d2V/dF2, vegaCoin = dV/ds,
 * thetaCoinPerDay = dV/dt per day, S vannaCoin - vegaCoin = F d2V/dF ds, volgaCoin = d2V/ds2),
 * rF = F1/F0 - 1, rS = S1/S0 - 1, ds = s1 - s0, d = days:
 *   coin:  delta = deltaCoin rF                   gamma = 1/2 (S0 gammaCoin - deltaCoin) rF^2
 *          vega  = vegaCoin ds                    theta = thetaCoinPerDay d
 *          vanna = (S0 vannaCoin - vegaCoin) rF ds   volga = 1/2 volgaCoin ds^2
 *   USD (from S1 V1 - S0 V0 = S0 dV + V0 dS + dS dV):
 *          delta = S0 (valueCoin rS + deltaCoin rF)  gamma = S0 (coin gamma + deltaCoin rS rF)
 *          vega  = S0 coin vega   theta = S0 coin theta   volga = S0 coin volga
 *          vanna = S0 (coin vanna + vegaCoin rS ds)
 * With the basis held (rF = rS) the USD terms are exactly the core's USD greeks times the moves:
 * deltaUnderlyingCoin dS, 1/2 gammaUsd dS^2, vegaUsd ds, thetaUsdPerDay d, vannaUsd dS ds,
 * 1/2 volgaUsd ds^2. A change of basis (F/S) is in delta (each option moves with its own forward).
 * residual = actual - Taylor terms (third order, the dS x dt cross term in USD), reported.
 *
 * So: delta + gamma + vega + theta + vanna + volga + residual + settlement + trading = total, in
 * each currency, where total USD = equity USD change and total coin = change of the equity in
 * coin (equity USD / index), both from core/risk bookEquity. A position the step's market cannot
 * value (its expiry no longer listed) is carried at its last coin value: its whole change is in
 * the residual.
 *
 * Units: USD, coin of the underlying; times epoch ms UTC.
 */
import type { FutureContract, OptionContract, Position } from "../instruments/types.js";
import { DAY_MS } from "../time.js";
import { splitExpired } from "./expiredLegs.js";
import { type GreekFigures, positionGreeks } from "./greeks.js";
import type { RiskMarket } from "./market.js";
import { optionMarketInputs, valuePosition } from "./valuation.js";

/** One day's PnL attribution, in USD and in coin (each set adds up to its own total). */
export interface AttributionDay {
  /** Window start / end, epoch ms UTC. */
  readonly start: number;
  readonly end: number;
  readonly deltaUsd: number;
  readonly gammaUsd: number;
  readonly vegaUsd: number;
  readonly thetaUsd: number;
  readonly vannaUsd: number;
  readonly volgaUsd: number;
  /** Live options' actual PnL minus their Taylor terms (reported, never hidden). */
  readonly residualUsd: number;
  /** Legs of the start book that expired in the window: proceeds minus start value. */
  readonly settlementUsd: number;
  /** Actual PnL of the start-of-day book (options, settlements, cash, hedge). */
  readonly bookActualUsd: number;
  /** Everything else in the equity change: trades during the day, their costs, funding. */
  readonly tradingUsd: number;
  /** Equity change over the window = bookActual + trading. */
  readonly totalUsd: number;
  readonly deltaCoin: number;
  readonly gammaCoin: number;
  readonly vegaCoin: number;
  readonly thetaCoin: number;
  readonly vannaCoin: number;
  readonly volgaCoin: number;
  readonly residualCoin: number;
  readonly settlementCoin: number;
  readonly bookActualCoin: number;
  readonly tradingCoin: number;
  /** Change of the equity in coin (equity USD / index) over the window. */
  readonly totalCoin: number;
}

/** An option of the start book. */
export interface WindowLeg {
  /** The position as held at the window start. */
  readonly position: Position;
  readonly valueUsd: number;
  readonly valueCoin: number;
  /** Core greeks at the start; null when the leg was carried (the market could not value it). */
  readonly greeks: GreekFigures | null;
  /** Forward (USD) and vol (decimal) the core valued it at. */
  readonly forward: number;
  readonly vol: number;
}

/** The start-of-day book. */
export interface AttributionWindow {
  readonly start: number;
  /** Index at the start, USD. */
  readonly indexPrice: number;
  readonly equityUsd: number;
  /** The underlying coin. */
  readonly coin: string;
  /** Cash by currency at the start. */
  readonly cash: Readonly<Record<string, number>>;
  readonly legs: readonly WindowLeg[];
  /** Hedge future at the start (value 0: entered at its mark), or null. */
  readonly hedge: {
    readonly instrument: FutureContract;
    readonly contracts: number;
    readonly mark: number;
  } | null;
}

/** A live leg's end value (USD, coin) and the forward (USD) and vol (decimal) it was valued at. */
export interface WindowLegEnd {
  readonly valueUsd: number;
  readonly valueCoin: number;
  readonly forward: number;
  readonly vol: number;
}

/** What the window's end knows about each start leg and the hedge. */
export interface WindowEnd {
  readonly time: number;
  readonly indexPrice: number;
  readonly equityUsd: number;
  /** End value and market inputs of a live start leg (at its start quantity), or null if carried. */
  readonly revalue: (p: Position) => WindowLegEnd | null;
  /** Carried coin value per contract of a leg the market cannot value (last value known). */
  readonly carriedCoinPerContract: (name: string) => number | null;
  /** Legs the engine settled in the window: coins per contract and the index at settlement. */
  readonly settled: ReadonlyMap<string, { readonly coinPerContract: number; readonly indexPrice: number }>;
  /** The start hedge's mark at the end (its settlement price if it expired in the window), USD. */
  readonly hedgeMark: number | null;
}

/** A start leg `market` values: its value and core greeks, and the forward and vol it was valued at. */
export function liveWindowLeg(
  p: Position & { readonly instrument: OptionContract },
  market: RiskMarket,
): WindowLeg {
  const g = positionGreeks(p, market);
  const mi = optionMarketInputs(p.instrument, market);
  return {
    position: p,
    valueUsd: g.valueUsd,
    valueCoin: g.valueCoin,
    greeks: g,
    forward: mi.forward,
    vol: mi.vol,
  };
}

/** A start leg no market values: carried at `valueCoin` (its last coin value), USD at the index. */
export function carriedWindowLeg(p: Position, valueCoin: number, indexPrice: number): WindowLeg {
  return { position: p, valueUsd: valueCoin * indexPrice, valueCoin, greeks: null, forward: 0, vol: 0 };
}

/** A start option leg revalued on the end market (null for a non-option). */
export function windowLegEnd(p: Position, market: RiskMarket): WindowLegEnd | null {
  const ins = p.instrument;
  if (ins.type !== "option") return null;
  const v = valuePosition(p, market);
  const mi = optionMarketInputs(ins, market);
  return { valueUsd: v.valueUsd, valueCoin: v.valueCoin, forward: mi.forward, vol: mi.vol };
}

const usdLike = (c: string) => c === "USD" || c === "USDC";

/** Running sums of one currency's explain terms. */
interface Terms {
  d: number;
  g: number;
  v: number;
  t: number;
  va: number;
  vo: number;
  res: number;
  set: number;
  actual: number;
}

const zeroTerms = (): Terms => ({ d: 0, g: 0, v: 0, t: 0, va: 0, vo: 0, res: 0, set: 0, actual: 0 });

/** The window's moves: index S0 -> S1, rS = S1/S0 - 1, `days` of calendar time. */
interface WindowMoves {
  readonly S0: number;
  readonly S1: number;
  readonly rS: number;
  readonly days: number;
}

/**
 * Closes a window (see the module comment): every start leg, the cash and the hedge explained in
 * USD (`u`) and coin (`c`), then the totals from the equity change.
 */
export function closeAttributionWindow(w: AttributionWindow, e: WindowEnd): AttributionDay {
  const S0 = w.indexPrice;
  const S1 = e.indexPrice;
  const mv: WindowMoves = { S0, S1, rS: S1 / S0 - 1, days: (e.time - w.start) / DAY_MS };
  const u = zeroTerms();
  const c = zeroTerms();
  for (const leg of w.legs) explainLeg(leg, e, mv, u, c);
  explainCash(w, mv, u, c);
  explainHedge(w, e, S1, u, c);
  return attributionDay(w, e, u, c);
}

/** One start leg: expired in the window, carried (no market), or live (Taylor terms). */
function explainLeg(leg: WindowLeg, e: WindowEnd, mv: WindowMoves, u: Terms, c: Terms): void {
  const ins = leg.position.instrument;
  if (ins.expiry !== null && ins.expiry <= e.time) {
    explainExpiredLeg(leg, e, mv.S1, u, c);
    return;
  }
  const end = leg.greeks ? e.revalue(leg.position) : null;
  if (end && leg.greeks) explainLiveLeg(leg, leg.greeks, end, mv, u, c);
  else explainCarriedLeg(leg, e, mv.S1, u, c);
}

/**
 * Expired in the window: settled once; proceeds per contract as the engine settled them, else
 * (closed before its expiry) what it would have received at the end index.
 */
function explainExpiredLeg(leg: WindowLeg, e: WindowEnd, S1: number, u: Terms, c: Terms): void {
  const p = leg.position;
  let rec = e.settled.get(p.instrument.name);
  if (!rec) {
    const s = splitExpired([p], e.time, { indexPrice: () => S1 }).settled[0];
    rec = { coinPerContract: s ? s.value / p.quantity : 0, indexPrice: S1 };
  }
  const X = rec.coinPerContract * p.quantity;
  c.set += X - leg.valueCoin;
  u.set += X * rec.indexPrice - leg.valueUsd;
  u.d += X * (S1 - rec.indexPrice);
  c.actual += X - leg.valueCoin;
  u.actual += X * S1 - leg.valueUsd;
}

/** A leg the end market cannot value: its last coin value (or its start value), all residual. */
function explainCarriedLeg(leg: WindowLeg, e: WindowEnd, S1: number, u: Terms, c: Terms): void {
  const p = leg.position;
  const per = e.carriedCoinPerContract(p.instrument.name);
  const v1 = per === null ? leg.valueCoin : per * p.quantity;
  c.res += v1 - leg.valueCoin;
  c.actual += v1 - leg.valueCoin;
  u.res += v1 * S1 - leg.valueUsd;
  u.actual += v1 * S1 - leg.valueUsd;
}

/** A live leg: the coin Taylor terms, their USD images, and the residuals. */
function explainLiveLeg(
  leg: WindowLeg,
  g: GreekFigures,
  end: WindowLegEnd,
  mv: WindowMoves,
  u: Terms,
  c: Terms,
): void {
  const { S0, rS } = mv;
  const rF = end.forward / leg.forward - 1;
  const ds = end.vol - leg.vol;
  const cd = g.deltaCoin * rF;
  const cg = 0.5 * (S0 * g.gammaCoin - g.deltaCoin) * rF * rF;
  const cv = g.vegaCoin * ds;
  const ct = g.thetaCoinPerDay * mv.days;
  const cva = (S0 * g.vannaCoin - g.vegaCoin) * rF * ds;
  const cvo = 0.5 * g.volgaCoin * ds * ds;
  addTaylorTerms(c, { d: cd, g: cg, v: cv, t: ct, va: cva, vo: cvo }, end.valueCoin - leg.valueCoin);
  const usd: TaylorTerms = {
    d: S0 * (g.valueCoin * rS + cd),
    g: S0 * (cg + g.deltaCoin * rS * rF),
    v: S0 * cv,
    t: S0 * ct,
    va: S0 * (cva + g.vegaCoin * rS * ds),
    vo: S0 * cvo,
  };
  addTaylorTerms(u, usd, end.valueUsd - leg.valueUsd);
}

/** One leg's Taylor terms (coin or USD). */
type TaylorTerms = Pick<Terms, "d" | "g" | "v" | "t" | "va" | "vo">;

/** Adds a leg's Taylor terms to the totals, what they leave of its actual change to `res`. */
function addTaylorTerms(acc: Terms, x: TaylorTerms, actual: number): void {
  acc.d += x.d;
  acc.g += x.g;
  acc.v += x.v;
  acc.t += x.t;
  acc.va += x.va;
  acc.vo += x.vo;
  acc.res += actual - (x.d + x.g + x.v + x.t + x.va + x.vo);
  acc.actual += actual;
}

/** Cash: coin cash moves in USD, USD cash moves in coin. */
function explainCash(w: AttributionWindow, mv: WindowMoves, u: Terms, c: Terms): void {
  const { S0, S1 } = mv;
  for (const [cur, amount] of Object.entries(w.cash)) {
    if (cur === w.coin) {
      u.d += amount * (S1 - S0);
      u.actual += amount * (S1 - S0);
    } else if (usdLike(cur)) {
      c.d += amount * (1 / S1 - 1 / S0);
      c.actual += amount * (1 / S1 - 1 / S0);
    }
  }
}

/** The start hedge future, marked M0 -> M1: coin PnL in delta, held to the end in USD. */
function explainHedge(w: AttributionWindow, e: WindowEnd, S1: number, u: Terms, c: Terms): void {
  if (!w.hedge || e.hedgeMark === null) return;
  const m = w.hedge.contracts * w.hedge.instrument.contractSize;
  const p = m * (1 / w.hedge.mark - 1 / e.hedgeMark);
  c.d += p;
  c.actual += p;
  u.d += p * S1;
  u.actual += p * S1;
}

/** The day's record: the terms, and trading = the equity change the start book does not explain. */
function attributionDay(w: AttributionWindow, e: WindowEnd, u: Terms, c: Terms): AttributionDay {
  const totalUsd = e.equityUsd - w.equityUsd;
  const totalCoin = e.equityUsd / e.indexPrice - w.equityUsd / w.indexPrice;
  return {
    start: w.start,
    end: e.time,
    deltaUsd: u.d,
    gammaUsd: u.g,
    vegaUsd: u.v,
    thetaUsd: u.t,
    vannaUsd: u.va,
    volgaUsd: u.vo,
    residualUsd: u.res,
    settlementUsd: u.set,
    bookActualUsd: u.actual,
    tradingUsd: totalUsd - u.actual,
    totalUsd,
    deltaCoin: c.d,
    gammaCoin: c.g,
    vegaCoin: c.v,
    thetaCoin: c.t,
    vannaCoin: c.va,
    volgaCoin: c.vo,
    residualCoin: c.res,
    settlementCoin: c.set,
    bookActualCoin: c.actual,
    tradingCoin: totalCoin - c.actual,
    totalCoin,
  };
}
