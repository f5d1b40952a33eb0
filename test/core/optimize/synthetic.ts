/**
 * Seeded synthetic CVaR problems (tests and bench/optimize.bench.ts): n option-like candidates
 * whose scenario PnL is delta-gamma-vega on S joint spot/vol scenarios plus idiosyncratic noise,
 * a short-vol book, delta and vega bands and a CVaR_0.95 limit. Quotes straddle fair with a
 * random skew, so the edge objective wants some of everything and CVaR decides how much.
 */
import { createRng } from "../../../src/core/math/rng.js";
import type { OptimizeCandidate, OptimizeProblem } from "../../../src/core/optimize/spec.js";

export function syntheticCvarProblem(
  nCand: number,
  nScen: number,
  o: { readonly seed?: number; readonly cvarLimitUsd?: number; readonly alpha?: number } = {},
): OptimizeProblem {
  const rng = createRng(o.seed ?? 20260110);
  const spot = new Float64Array(nScen);
  const vol = new Float64Array(nScen);
  for (let s = 0; s < nScen; s++) {
    spot[s] = 0.08 * rng.normal();
    vol[s] = 0.05 * rng.normal() - 0.3 * (spot[s] as number);
  }
  const F = 95_000;
  const candidates: OptimizeCandidate[] = Array.from({ length: nCand }, (_, i) => {
    const isCall = i % 2 === 0;
    const delta = (isCall ? 1 : -1) * (0.1 + 0.8 * rng.uniform());
    const gamma = 2e-5 * (0.2 + rng.uniform());
    const vega = 50 + 150 * rng.uniform();
    const fair = 500 + 4000 * rng.uniform();
    const half = 10 + 60 * rng.uniform();
    const skew = (rng.uniform() - 0.5) * 3 * half;
    const noise = 5 * rng.uniform();
    const pnl = new Float64Array(nScen);
    for (let s = 0; s < nScen; s++) {
      const dS = F * (spot[s] as number);
      pnl[s] =
        delta * dS + 0.5 * gamma * dS * dS + vega * 100 * (vol[s] as number) + noise * (rng.uniform() - 0.5);
    }
    return {
      name: `SYN-${i}`,
      bucket: i % 3 === 0 ? "7-30d" : "30-90d",
      bidUsd: fair + skew - half,
      askUsd: fair + skew + half,
      fairUsd: fair,
      greeks: {
        deltaCoin: delta,
        cashGammaUsd: (gamma * F * F) / 100,
        vegaUsdPerVolPt: vega,
        thetaUsdPerDay: -vega / 5,
      },
      maxBuy: 5 + 20 * rng.uniform(),
      maxSell: 5 + 20 * rng.uniform(),
      marginShortUsd: 0.1 * F,
      scenarioPnlUsd: pnl,
    };
  });
  const bookPnl = new Float64Array(nScen);
  for (let s = 0; s < nScen; s++) {
    const dS = F * (spot[s] as number);
    bookPnl[s] = -4e-4 * dS * dS - 3000 * 100 * (vol[s] as number);
  }
  return {
    candidates,
    book: {
      greeks: { deltaCoin: 0, cashGammaUsd: -180, vegaUsdPerVolPt: -3000, thetaUsdPerDay: 400 },
      scenarioPnlUsd: bookPnl,
      marginUsd: 0,
    },
    objective: { kind: "edge" },
    constraints: {
      delta: { min: -1, max: 1 },
      vega: { min: -2000, max: 2000 },
      cvar: { alpha: o.alpha ?? 0.95, maxLossUsd: o.cvarLimitUsd ?? 20_000 },
    },
  };
}
