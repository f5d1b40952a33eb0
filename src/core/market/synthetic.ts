/**
 * A seeded, realistic synthetic option chain, so everything runs with no data and no network.
 *
 * - Expiries: Deribit's calendar at 08:00 UTC: the next 4 dailies, the next 3 Friday weeklies,
 *   the last Fridays of the next 3 months and the next 4 quarter-end months.
 * - Forwards: spot x exp(basis x T) (contango, `basisPerYear`); dated futures quoted for the
 *   monthly and quarterly expiries, synthetic forwards (SYN.*) for the others, as on Deribit.
 * - Smiles: an SSVI surface (Gatheral & Jacquier 2014) with power-law phi, free of static
 *   arbitrage by construction (eta (1 + |rho|) <= 2, theta increasing): ATM vol rising from
 *   `atmVol` at the short end to `longVol`, negative rho (put skew) by default.
 * - Quotes: inverse (coin) prices on the expiry forward; bid/ask around the mark by a vol spread
 *   that widens in the wings and at the short end, rounded out to the 0.0001-coin tick; a bid
 *   under one tick is no bid (empty), as in the far wings on Deribit. Sizes and open interest
 *   are seeded random, larger near the money. Optional mark noise (`markNoise`, vol) off the SSVI, one draw per strike shared by its call and put.
 *
 * The surface parameters are returned with the chain so tests can check recovery.
 */
import { deribitOptionName, formatDeribitExpiry } from "../instruments/names.js";
import type { OptionContract } from "../instruments/types.js";
import { createRng, type Rng } from "../math/rng.js";
import { blackGreeks } from "../pricing/black76.js";
import type { ChainSnapshot, FutureQuote, OptionQuote } from "./types.js";
import { DAY_MS, timeToExpiry } from "../time.js";
const TICK = 0.0001;

export interface SyntheticChainOptions {
  readonly underlying?: string;
  /** Snapshot instant, epoch ms UTC. */
  readonly valuationTime: number;
  /** Index price, USD (default BTC 90,000; ETH 3,000; else 100). */
  readonly spot?: number;
  readonly seed?: number;
  /** Short-end ATM vol (default BTC 0.45, ETH 0.60). */
  readonly atmVol?: number;
  /** Long-end ATM vol (default atmVol + 0.08). */
  readonly longVol?: number;
  /** SSVI correlation (default BTC -0.25, ETH -0.2). */
  readonly rho?: number;
  /** SSVI eta (default 1.0) and gamma (default 0.4). */
  readonly eta?: number;
  readonly gamma?: number;
  /** Futures basis, per year (default 0.04). */
  readonly basisPerYear?: number;
  /** Std dev of mark-vol noise around the surface, vol (default 0). */
  readonly markNoise?: number;
}

export interface SyntheticSurfaceTruth {
  readonly rho: number;
  readonly eta: number;
  readonly gamma: number;
  /** ATM total variance theta(T) of each expiry. */
  readonly thetaByExpiry: ReadonlyMap<number, number>;
}

/** SSVI power-law phi. */
export function ssviPhiPowerLaw(theta: number, eta: number, gamma: number): number {
  return eta / (theta ** gamma * (1 + theta) ** (1 - gamma));
}

/** SSVI total variance at log-moneyness k for ATM total variance theta. */
export function ssviTotalVarianceAt(k: number, theta: number, rho: number, phi: number): number {
  const pk = phi * k;
  return (theta / 2) * (1 + rho * pk + Math.sqrt((pk + rho) ** 2 + (1 - rho * rho)));
}

function lastFridayOfMonth(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0, 8));
  const back = (last.getUTCDay() - 5 + 7) % 7;
  return last.getTime() - back * DAY_MS;
}

/** Deribit-style listed expiries (08:00 UTC) after `valuationTime`, sorted. */
export function deribitExpiryCalendar(valuationTime: number): number[] {
  const set = new Set<number>();
  const today8 = Math.floor(valuationTime / DAY_MS) * DAY_MS + 8 * 3_600_000;
  for (let d = 0, n = 0; n < 4; d++) {
    const t = today8 + d * DAY_MS;
    if (t > valuationTime) {
      set.add(t);
      n++;
    }
  }
  for (let d = 0, n = 0; n < 3; d++) {
    const t = today8 + d * DAY_MS;
    if (t > valuationTime && new Date(t).getUTCDay() === 5) {
      set.add(t);
      n++;
    }
  }
  const start = new Date(valuationTime);
  for (let m = 0, n = 0; n < 3; m++) {
    const t = lastFridayOfMonth(start.getUTCFullYear(), start.getUTCMonth() + m);
    if (t > valuationTime) {
      set.add(t);
      n++;
    }
  }
  for (let m = 0, n = 0; n < 4; m++) {
    const month = start.getUTCMonth() + m;
    if ((((month % 12) + 12) % 12) % 3 !== 2) continue;
    const t = lastFridayOfMonth(start.getUTCFullYear(), month);
    if (t > valuationTime + 35 * DAY_MS) {
      set.add(t);
      n++;
    }
  }
  return [...set].sort((a, b) => a - b);
}

function strikeStep(forward: number, sd: number): number {
  const ladder = [1, 2, 2.5, 5];
  const raw = (forward * sd) / 8;
  const decade = 10 ** Math.floor(Math.log10(raw));
  for (const m of ladder) if (m * decade >= raw) return m * decade;
  return 10 * decade;
}

/** The options with the generator's defaults filled in. */
function syntheticParams(o: SyntheticChainOptions) {
  const underlying = o.underlying ?? "BTC";
  const isBtc = underlying === "BTC";
  const atmVol = o.atmVol ?? (isBtc ? 0.45 : 0.6);
  return {
    underlying,
    spot: o.spot ?? (isBtc ? 90_000 : underlying === "ETH" ? 3_000 : 100),
    atmVol,
    longVol: o.longVol ?? atmVol + 0.08,
    rho: o.rho ?? (isBtc ? -0.25 : -0.2),
    eta: o.eta ?? 1.0,
    gamma: o.gamma ?? 0.4,
    basis: o.basisPerYear ?? 0.04,
    markNoise: o.markNoise ?? 0,
  };
}

/** Last Friday of a month: Deribit's monthly expiries, which have a dated future. */
function monthlyExpiries(expiries: readonly number[]): Set<number> {
  return new Set(
    expiries.filter(
      (e) =>
        new Date(e).getUTCDay() === 5 && new Date(e + 7 * DAY_MS).getUTCMonth() !== new Date(e).getUTCMonth(),
    ),
  );
}

/** One expiry's strike as the generator quotes it. */
interface SyntheticStrike {
  readonly underlying: string;
  readonly expiry: number;
  readonly strike: number;
  /** Years. */
  readonly T: number;
  readonly forward: number;
  readonly markVol: number;
  /** |ln K/F| / sqrt(total variance). */
  readonly distance: number;
  readonly underlyingName: string;
  readonly now: number;
}

/**
 * A call or put quote at the strike's mark IV: bid/ask a vega-scaled half spread around the mark
 * (wider away from the money and under 3 days), on the 0.0001-coin tick; sizes, open interest and
 * volume random, larger near the money.
 */
function syntheticOptionQuote(s: SyntheticStrike, kind: "call" | "put", rng: Rng): OptionQuote {
  const { forward, strike, T } = s;
  const g = blackGreeks({ forward, strike, expiry: T, vol: s.markVol, kind });
  const markCoin = g.price / forward;
  const halfVol = 0.004 + 0.006 * Math.min(s.distance, 4) + (T < 3 / 365 ? 0.01 : 0);
  const halfCoin = Math.max((g.vega * halfVol) / forward, TICK / 2);
  const bidRaw = Math.floor((markCoin - halfCoin) / TICK) * TICK;
  const ask = Math.max(Math.ceil((markCoin + halfCoin) / TICK) * TICK, TICK);
  const instrument: OptionContract = {
    type: "option",
    name: deribitOptionName({ underlying: s.underlying, expiry: s.expiry, strike, kind }),
    underlying: s.underlying,
    kind,
    strike,
    expiry: s.expiry,
    settlement: "inverse",
    contractSize: 1,
  };
  const nearness = Math.exp(-0.5 * s.distance * s.distance);
  return {
    instrument,
    timestamp: s.now,
    bid: bidRaw >= TICK ? Number(bidRaw.toFixed(4)) : null,
    ask: Number(ask.toFixed(4)),
    mark: Number(markCoin.toPrecision(10)),
    bidSize: Math.round((1 + 40 * rng.uniform() * nearness) * 10) / 10,
    askSize: Math.round((1 + 40 * rng.uniform() * nearness) * 10) / 10,
    markIv: s.markVol,
    underlyingPrice: forward,
    underlyingName: s.underlyingName,
    openInterest: Math.round(20 + 2000 * nearness * rng.uniform()),
    volume: Math.round(50 * nearness * rng.uniform() * 10) / 10,
  };
}

/** Generates one synthetic chain and the surface it was priced on. */
export function syntheticChainWithTruth(o: SyntheticChainOptions): {
  chain: ChainSnapshot;
  truth: SyntheticSurfaceTruth;
} {
  const p = syntheticParams(o);
  const { underlying, spot, rho } = p;
  const rng = createRng(o.seed ?? 1);
  const now = o.valuationTime;
  const quotes: OptionQuote[] = [];
  const futures: FutureQuote[] = [];
  const thetaByExpiry = new Map<number, number>();
  const expiries = deribitExpiryCalendar(now);
  const monthlies = monthlyExpiries(expiries);
  for (const expiry of expiries) {
    const T = timeToExpiry(expiry, now);
    const forward = spot * Math.exp(p.basis * T);
    const vol = p.longVol + (p.atmVol - p.longVol) * Math.exp(-T / 0.25);
    const theta = vol * vol * T;
    thetaByExpiry.set(expiry, theta);
    const phi = ssviPhiPowerLaw(theta, p.eta, p.gamma);
    const sd = Math.sqrt(theta);
    const step = strikeStep(forward, sd);
    const futureName = `${underlying}-${formatDeribitExpiry(expiry)}`;
    const dated = monthlies.has(expiry);
    if (dated) futures.push({ name: futureName, underlying, expiry, timestamp: now, mark: forward });
    const kMax = Math.max(4 * sd, 0.15);
    const lo = Math.max(step, Math.ceil((forward * Math.exp(-kMax)) / step) * step);
    for (let strike = lo; strike <= forward * Math.exp(kMax); strike += step) {
      const k = Math.log(strike / forward);
      const markVolExact = Math.sqrt(ssviTotalVarianceAt(k, theta, rho, phi) / T);
      // One mark IV per strike for the call and the put, as Deribit marks them (put-call parity
      // holds on the marks; the risk engine prices an in-the-money option at its strike's mark).
      const markVol = Math.max(0.05, markVolExact + p.markNoise * rng.normal());
      const underlyingName = dated ? futureName : `SYN.${futureName}`;
      const s = {
        underlying,
        expiry,
        strike,
        T,
        forward,
        markVol,
        distance: Math.abs(k) / sd,
        underlyingName,
        now,
      };
      for (const kind of ["call", "put"] as const) quotes.push(syntheticOptionQuote(s, kind, rng));
    }
  }
  futures.push({
    name: `${underlying}-PERPETUAL`,
    underlying,
    expiry: null,
    timestamp: now,
    mark: spot * (1 + 0.0001 * rng.normal()),
  });
  return {
    chain: { underlying, valuationTime: now, indexPrice: spot, quotes, futures },
    truth: { rho, eta: p.eta, gamma: p.gamma, thetaByExpiry },
  };
}

/** Generates one synthetic chain (see syntheticChainWithTruth). */
export function syntheticChain(o: SyntheticChainOptions): ChainSnapshot {
  return syntheticChainWithTruth(o).chain;
}
