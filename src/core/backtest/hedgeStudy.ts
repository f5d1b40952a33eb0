/**
 * Hedging-policy study: the same simulated paths (GBM, Merton, Heston or Bates; seeded) are
 * hedged under each policy, so differences come from the policies only. For each policy it
 * reports the distribution of the final hedged PnL of one option (USD), the costs and the trade
 * count, and the mean-variance utility mean - (riskAversion/2) variance used to rank policies
 * (Whalley & Wilmott's criterion).
 */
import { requirePositive } from "../errors.js";
import type { CostModel } from "../hedge/costs.js";
import type { HedgePolicy } from "../hedge/policies.js";
import { simulateHedgedOption } from "../hedge/simulate.js";
import { createRng } from "../math/rng.js";
import { mean, quantile, stdev } from "../math/stats.js";
import { simulateGbm } from "./paths/gbm.js";
import { simulateHeston } from "./paths/heston.js";
import { simulateMerton } from "./paths/merton.js";
import type { SimPath } from "./paths/types.js";
import type { SpotModel } from "./syntheticMarket.js";

export interface HedgeStudyOptions {
  readonly model: SpotModel;
  /** Start price, USD. */
  readonly spot: number;
  readonly strike: number;
  readonly kind: "call" | "put";
  /** +1 long, -1 short one option on one coin. */
  readonly side: 1 | -1;
  readonly expiryDays: number;
  /** Simulation (and decision) steps per day, e.g. 24 for hourly. */
  readonly stepsPerDay: number;
  /** Vol at which the option is priced and hedged (decimal). */
  readonly vol: number;
  readonly policies: readonly HedgePolicy[];
  readonly costs: CostModel;
  readonly paths: number;
  readonly seed: number;
  /** Risk aversion (per USD) of the utility used for the ranking. */
  readonly riskAversion: number;
}

export interface HedgePolicyOutcome {
  readonly policy: HedgePolicy;
  readonly meanPnlUsd: number;
  readonly stdevPnlUsd: number;
  /** Expected shortfall of the PnL at 95%, positive = loss. */
  readonly cvar95Usd: number;
  readonly meanCostsUsd: number;
  readonly meanTrades: number;
  /** mean - riskAversion/2 * variance. */
  readonly utility: number;
}

function simulatePath(
  model: SpotModel,
  spot: number,
  horizon: number,
  steps: number,
  rng: ReturnType<typeof createRng>,
): SimPath {
  const grid = { spot, horizon, steps };
  switch (model.type) {
    case "gbm":
      return simulateGbm({ ...grid, ...model }, rng);
    case "merton":
      return simulateMerton({ ...grid, ...model }, rng);
    case "heston":
      return simulateHeston({ ...grid, ...model, jumpIntensity: 0 }, rng);
    case "bates":
      return simulateHeston({ ...grid, ...model }, rng);
  }
}

/** Runs the study; outcomes in the order of `policies`. */
export function hedgePolicyStudy(o: HedgeStudyOptions): HedgePolicyOutcome[] {
  requirePositive("paths", o.paths);
  requirePositive("expiryDays", o.expiryDays);
  requirePositive("stepsPerDay", o.stepsPerDay);
  const steps = Math.round(o.expiryDays * o.stepsPerDay);
  const horizon = o.expiryDays / 365;
  const rng = createRng(o.seed);
  const acc = o.policies.map((policy) => ({ policy, pnl: [] as number[], cost: 0, trades: 0 }));
  for (let i = 0; i < o.paths; i++) {
    const p = simulatePath(o.model, o.spot, horizon, steps, rng);
    for (const a of acc) {
      const r = simulateHedgedOption({
        times: p.times,
        prices: p.prices,
        strike: o.strike,
        kind: o.kind,
        side: o.side,
        vol: o.vol,
        policy: a.policy,
        costs: o.costs,
      });
      a.pnl.push(r.pnlUsd);
      a.cost += r.costsUsd;
      a.trades += r.trades;
    }
  }
  return acc.map(({ policy, pnl: x, cost, trades }) => {
    const sd = x.length > 1 ? stdev(x) : 0;
    const m = mean(x);
    const q = quantile(x, 0.05);
    return {
      policy,
      meanPnlUsd: m,
      stdevPnlUsd: sd,
      cvar95Usd: -mean(x.filter((v) => v <= q)),
      meanCostsUsd: cost / o.paths,
      meanTrades: trades / o.paths,
      utility: m - 0.5 * o.riskAversion * sd * sd,
    };
  });
}
