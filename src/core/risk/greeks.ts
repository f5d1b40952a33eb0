/**
 * Position and portfolio greeks, in coin and USD, by underlying and by expiry bucket.
 *
 * With S the index and F = c S the forward of the leg (the basis ratio c held fixed under a
 * spot move), m = quantity * contractSize, Black-76 raw greeks g (black76.ts, per coin of
 * underlying, USD) and q the USD-per-Black-dollar factor of the leg's settlement (valuation.ts:
 * q = S / F = 1 / c for an inverse option, whose USD value is its coin premium B / F at the index;
 * q = 1 for a linear one):
 *   deltaUnderlyingCoin = q m g.delta c          dV_usd/dS: coin-equivalent exposure (coins). For
 *                         an inverse option this is m g.delta, Black's forward delta: Deribit's
 *                         `delta` column, the figure a trader compares with the exchange's screen
 *   cashDeltaUsd        = deltaUnderlyingCoin S  USD per 100% spot move
 *   deltaCoin           = deltaUnderlyingCoin - valueCoin
 *                         premium-adjusted (coin-terms) delta of a coin-margined account
 *                         (DESIGN.md: Black delta minus coin premium), S d(V_usd/S)/dS
 *   gammaCoinPerUsd     = q m g.gamma c^2        d2V_usd/dS2 (coins per USD)
 *   cashGammaUsd        = gammaCoinPerUsd S^2 / 100     change of cash delta (USD) per 1% spot move
 *   vegaUsd / vegaCoin  = q m g.vega (/ S)       per 1.00 vol (x0.01 for per vol point)
 *   vegaNormalizedUsd   = vegaUsd sqrt(30 / DTE) (30-day-equivalent vega; DTE floored at 1 day)
 *   thetaUsdPerDay / thetaCoinPerDay = q m g.theta / 365 (/ S)   calendar day, F and vol fixed
 *   vannaUsd            = q m g.vanna c          d2V_usd/dS dvol (coins per 1.00 vol)
 *   volgaUsd            = q m g.volga            d2V_usd/dvol2
 * Futures: inverse: deltaUnderlyingCoin = m / entry, linear: m c; other greeks 0.
 * Variance swaps and vol-index futures (volValuation.ts): values of the surface alone (spot-free
 * in log-moneyness), so delta, gamma, vanna 0; vegaUsd and volgaUsd by a central parallel bump of
 * the surface (the scenario engine's volShift), theta 0 (not computed: the realized leg's accrual
 * is not a function of the surface), varianceVegaUsd USD per vol-point^2 of the leg's variance.
 * Coin figures are summed only within one underlying; USD figures also across underlyings.
 * Legs expired at the market's valuation time are refused (valuation.ts assertLive).
 */
import type { Position } from "../instruments/types.js";
import { blackGreeks } from "../pricing/black76.js";
import { forwardAtExpiry, type RiskMarket, underlyingMarket } from "./market.js";
import { assertLive, optionMarketInputs, positionMultiplier, valuePosition } from "./valuation.js";
import { volPositionGreeks } from "./volValuation.js";
import { DAYS_PER_YEAR, daysBetween, perDay, timeToExpiry } from "../time.js";

/** Additive greek figures (every field names its currency). */
export interface GreekFigures {
  valueUsd: number;
  valueCoin: number;
  deltaUnderlyingCoin: number;
  deltaCoin: number;
  cashDeltaUsd: number;
  /** d2V_usd/dS2: coins of delta per USD of spot (was misnamed gammaUsd: it is not in USD). */
  gammaCoinPerUsd: number;
  gammaCoin: number;
  cashGammaUsd: number;
  vegaUsd: number;
  vegaCoin: number;
  vegaNormalizedUsd: number;
  thetaUsdPerDay: number;
  thetaCoinPerDay: number;
  vannaUsd: number;
  vannaCoin: number;
  volgaUsd: number;
  volgaCoin: number;
  /**
   * USD per vol-point^2 of the leg's own variance: options vegaUsd / (2 sigma_pts 100) (per
   * 1.00 vol -> per point), variance swaps quantity N_var (remaining fraction), vol-index futures
   * quantity contractSize d fair / d V_fwd (volValuation.ts).
   */
  varianceVegaUsd: number;
}

const FIELDS: readonly (keyof GreekFigures)[] = [
  "valueUsd",
  "valueCoin",
  "deltaUnderlyingCoin",
  "deltaCoin",
  "cashDeltaUsd",
  "gammaCoinPerUsd",
  "gammaCoin",
  "cashGammaUsd",
  "vegaUsd",
  "vegaCoin",
  "vegaNormalizedUsd",
  "thetaUsdPerDay",
  "thetaCoinPerDay",
  "vannaUsd",
  "vannaCoin",
  "volgaUsd",
  "volgaCoin",
  "varianceVegaUsd",
];

/** All-zero figures. */
export function zeroGreekFigures(): GreekFigures {
  const z = {} as GreekFigures;
  for (const f of FIELDS) z[f] = 0;
  return z;
}

function addInto(a: GreekFigures, b: GreekFigures): void {
  for (const f of FIELDS) a[f] += b[f];
}

/** Greeks of one position (see the module comment). */
export function positionGreeks(position: Position, market: RiskMarket): GreekFigures {
  const ins = position.instrument;
  const um = underlyingMarket(market, ins.underlying);
  const S = um.indexPrice;
  const m = positionMultiplier(position);
  const v = valuePosition(position, market);
  const g = zeroGreekFigures();
  g.valueUsd = v.valueUsd;
  g.valueCoin = v.valueCoin;
  if (ins.type === "option") {
    const T = timeToExpiry(ins.expiry, market.valuationTime);
    const o = optionMarketInputs(ins, market);
    const c = o.forward / S;
    const qm = m * o.usdPerBlack;
    const b = blackGreeks({ forward: o.forward, strike: ins.strike, expiry: T, vol: o.vol, kind: ins.kind });
    g.deltaUnderlyingCoin = qm * b.delta * c;
    g.gammaCoinPerUsd = qm * b.gamma * c * c;
    g.vegaUsd = qm * b.vega;
    g.vegaNormalizedUsd = g.vegaUsd * Math.sqrt(30 / Math.max(T * DAYS_PER_YEAR, 1));
    g.thetaUsdPerDay = perDay(qm * b.theta);
    g.vannaUsd = qm * b.vanna * c;
    g.volgaUsd = qm * b.volga;
    g.varianceVegaUsd = o.vol > 0 ? (0.01 * g.vegaUsd) / (2 * 100 * o.vol) : 0;
  } else if (ins.type === "varianceSwap" || ins.type === "volIndexFuture") {
    const vg = volPositionGreeks({ ...position, instrument: ins }, market);
    g.vegaUsd = vg.vegaUsd;
    g.volgaUsd = vg.volgaUsd;
    g.varianceVegaUsd = vg.varianceVegaUsd;
    const days = daysBetween(market.valuationTime, ins.expiry);
    g.vegaNormalizedUsd = g.vegaUsd * Math.sqrt(30 / Math.max(days, 1));
  } else {
    const F = forwardAtExpiry(um, market.valuationTime, ins.expiry);
    const E = position.entryPrice ?? F;
    g.deltaUnderlyingCoin = ins.settlement === "inverse" ? m / E : (m * F) / S;
  }
  g.cashDeltaUsd = g.deltaUnderlyingCoin * S;
  g.deltaCoin = g.deltaUnderlyingCoin - g.valueCoin;
  g.gammaCoin = g.gammaCoinPerUsd - g.deltaCoin / S;
  g.cashGammaUsd = (g.gammaCoinPerUsd * S * S) / 100;
  g.vegaCoin = g.vegaUsd / S;
  g.thetaCoinPerDay = g.thetaUsdPerDay / S;
  g.vannaCoin = g.vannaUsd / S;
  g.volgaCoin = g.volgaUsd / S;
  return g;
}

/** Expiry buckets in days to expiry: [0,7), [7,30), [30,90), [90,180), [180,inf), perpetual. */
export const EXPIRY_BUCKETS: readonly { readonly label: string; readonly maxDays: number }[] = [
  { label: "0-7d", maxDays: 7 },
  { label: "7-30d", maxDays: 30 },
  { label: "30-90d", maxDays: 90 },
  { label: "90-180d", maxDays: 180 },
  { label: "180d+", maxDays: Number.POSITIVE_INFINITY },
];

/** Bucket label of an expiry (null = perpetual). */
export function expiryBucket(expiry: number | null, valuationTime: number): string {
  if (expiry === null) return "perpetual";
  const days = daysBetween(valuationTime, expiry);
  if (days <= 0) return "expired";
  for (const b of EXPIRY_BUCKETS) if (days < b.maxDays) return b.label;
  return "180d+";
}

/** Aggregated greeks: per underlying (coin + USD), per underlying and expiry bucket, total USD. */
export interface PortfolioGreeks {
  readonly byUnderlying: Record<string, GreekFigures>;
  readonly byUnderlyingBucket: Record<string, Record<string, GreekFigures>>;
  /** USD fields summed over underlyings (coin fields omitted: they do not add across coins). */
  readonly totalUsd: {
    valueUsd: number;
    cashDeltaUsd: number;
    cashGammaUsd: number;
    vegaUsd: number;
    vegaNormalizedUsd: number;
    thetaUsdPerDay: number;
    vannaUsd: number;
    volgaUsd: number;
    varianceVegaUsd: number;
  };
  readonly positions: readonly GreekFigures[];
}

/** Sums position greeks by underlying and expiry bucket. */
export function portfolioGreeks(positions: readonly Position[], market: RiskMarket): PortfolioGreeks {
  assertLive(positions, market);
  const byUnderlying: Record<string, GreekFigures> = {};
  const byUnderlyingBucket: Record<string, Record<string, GreekFigures>> = {};
  const totalUsd = {
    valueUsd: 0,
    cashDeltaUsd: 0,
    cashGammaUsd: 0,
    vegaUsd: 0,
    vegaNormalizedUsd: 0,
    thetaUsdPerDay: 0,
    vannaUsd: 0,
    volgaUsd: 0,
    varianceVegaUsd: 0,
  };
  const per: GreekFigures[] = [];
  for (const p of positions) {
    const g = positionGreeks(p, market);
    per.push(g);
    const u = p.instrument.underlying;
    byUnderlying[u] ??= zeroGreekFigures();
    addInto(byUnderlying[u], g);
    const bucket = expiryBucket(p.instrument.expiry, market.valuationTime);
    byUnderlyingBucket[u] ??= {};
    const bu = byUnderlyingBucket[u];
    bu[bucket] ??= zeroGreekFigures();
    addInto(bu[bucket], g);
    for (const k of Object.keys(totalUsd) as (keyof typeof totalUsd)[]) totalUsd[k] += g[k];
  }
  return { byUnderlying, byUnderlyingBucket, totalUsd, positions: per };
}
