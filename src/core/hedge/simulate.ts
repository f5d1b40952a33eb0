/**
 * Hedging study: a short (or long) European option delta-hedged along one price path with a
 * hedging policy and costs. Used to compare policies (hedge error vs costs) on simulated paths.
 *
 * Model: option valued and hedged with Black-76 at a constant `vol`, r = 0, hedge with a linear
 * perpetual on the path price (no funding unless the policy sets fundingRatePerYear).
 * Units: prices USD; times in years from the path start; PnL in USD.
 */
import { InvalidInputError, requirePositive } from "../errors.js";
import { blackGreeks } from "../pricing/black76.js";
import { type CostModel, hedgeFill } from "./costs.js";
import { type HedgePolicy, hedgeTrade } from "./policies.js";
import { YEAR_MS } from "../time.js";

export interface HedgeStudyInput {
  /** Times in years from start, increasing, first 0, last = option expiry. */
  readonly times: ArrayLike<number>;
  /** Underlying prices USD at `times`. */
  readonly prices: ArrayLike<number>;
  readonly strike: number;
  readonly kind: "call" | "put";
  /** +1 long, -1 short (one coin of underlying). */
  readonly side: 1 | -1;
  /** Pricing and hedging vol, decimal annualized; the option is sold/bought at this vol. */
  readonly vol: number;
  readonly policy: HedgePolicy;
  readonly costs: CostModel;
}

export interface HedgeStudyResult {
  /** Final PnL USD: option premium + option payoff + hedge PnL - costs - funding. */
  readonly pnlUsd: number;
  /** Costs paid USD (spread + slippage + fees). */
  readonly costsUsd: number;
  readonly trades: number;
  /** Sum of |hedge trade| in coins. */
  readonly turnoverCoins: number;
}

/** Runs one hedged option to expiry along the path. */
export function simulateHedgedOption(o: HedgeStudyInput): HedgeStudyResult {
  const n = o.times.length;
  if (n < 2 || o.prices.length !== n)
    throw new InvalidInputError("prices", o.prices.length, `must have ${n} >= 2 points like times`);
  requirePositive("vol", o.vol);
  const T = o.times[n - 1] ?? Number.NaN;
  const costRate = o.costs.hedgeFeeRate + (o.costs.hedgeHalfSpreadBps + o.costs.slippageBps) / 1e4;
  const first = blackGreeks({
    forward: o.prices[0] ?? Number.NaN,
    strike: o.strike,
    expiry: T,
    vol: o.vol,
    kind: o.kind,
  });
  let cash = -o.side * first.price; // premium received when short
  let hedge = 0;
  let costs = 0;
  let trades = 0;
  let turnover = 0;
  let lastHedge = Number.NEGATIVE_INFINITY;
  const funding = o.policy.fundingRatePerYear ?? 0;
  for (let i = 0; i < n - 1; i++) {
    const t = o.times[i] ?? Number.NaN;
    const s = o.prices[i] ?? Number.NaN;
    if (i > 0) {
      const dt = t - (o.times[i - 1] ?? Number.NaN);
      cash -= hedge * s * funding * dt;
    }
    const g = blackGreeks({ forward: s, strike: o.strike, expiry: T - t, vol: o.vol, kind: o.kind });
    const q = hedgeTrade(o.policy, {
      now: t * YEAR_MS,
      lastHedgeTime: lastHedge,
      netDelta: o.side * g.delta + hedge,
      gamma: o.side * g.gamma,
      spot: s,
      vol: o.vol,
      timeToExpiry: T - t,
      costRate,
    });
    if (q !== 0) {
      const f = hedgeFill({ costs: o.costs, quantity: q, markUsd: s });
      cash -= q * s; // trade at mark; costs below
      const c = f.spreadUsd + f.slippageUsd + f.feeUsd;
      cash -= c;
      costs += c;
      hedge += q;
      trades++;
      turnover += Math.abs(q);
      lastHedge = t * YEAR_MS;
    }
  }
  const sT = o.prices[n - 1] ?? Number.NaN;
  const payoff = o.kind === "call" ? Math.max(sT - o.strike, 0) : Math.max(o.strike - sT, 0);
  const pnl = cash + o.side * payoff + hedge * sT;
  return { pnlUsd: pnl, costsUsd: costs, trades, turnoverCoins: turnover };
}
