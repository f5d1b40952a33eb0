/**
 * A seeded synthetic market through time: the index follows Bates (Heston stochastic variance,
 * which clusters volatility, plus Merton jumps, the crypto crashes), and at each step the chain
 * is the synthetic SSVI chain whose short-end ATM vol is the path's instantaneous vol (so the
 * surface moves with the market; the long end mean-reverts more slowly).
 *
 * Default parameters are BTC-like: 50% long-run vol, vol of variance 0.9, spot/vol correlation
 * -0.4, about 4 jumps a year averaging -4% (std 8%).
 */
import { simulateHeston } from "../backtest/paths/heston.js";
import { createRng } from "../math/rng.js";
import { type SyntheticChainOptions, syntheticChain } from "./synthetic.js";
import type { ChainSnapshot } from "./types.js";
import { YEAR_MS } from "../time.js";

export interface SyntheticSeriesOptions
  extends Omit<SyntheticChainOptions, "valuationTime" | "atmVol" | "longVol" | "spot"> {
  /** First instant, epoch ms UTC. */
  readonly start: number;
  readonly steps: number;
  /** Time between steps, ms (e.g. 3,600,000 for hourly). */
  readonly stepMs: number;
  readonly spot?: number;
  /** Long-run vol (default 0.5 BTC, 0.65 ETH) and starting vol (default the long-run vol). */
  readonly longRunVol?: number;
  readonly startVol?: number;
  readonly volOfVariance?: number;
  readonly spotVolCorrelation?: number;
  readonly jumpsPerYear?: number;
  readonly jumpMean?: number;
  readonly jumpVol?: number;
}

export interface SyntheticSeries {
  /** Instants, epoch ms UTC (steps + 1 of them). */
  readonly times: number[];
  /** Index, USD. */
  readonly spots: number[];
  /** Instantaneous vol of the path, decimal. */
  readonly vols: number[];
  /** The chain at step i (generated on demand, deterministic). */
  chainAt(i: number): ChainSnapshot;
}

export function syntheticSeries(o: SyntheticSeriesOptions): SyntheticSeries {
  const underlying = o.underlying ?? "BTC";
  const longRun = o.longRunVol ?? (underlying === "ETH" ? 0.65 : 0.5);
  const startVol = o.startVol ?? longRun;
  const spot0 = o.spot ?? (underlying === "BTC" ? 90_000 : underlying === "ETH" ? 3_000 : 100);
  const seed = o.seed ?? 1;
  const path = simulateHeston(
    {
      spot: spot0,
      horizon: (o.steps * o.stepMs) / YEAR_MS,
      steps: o.steps,
      drift: 0,
      v0: startVol * startVol,
      kappa: 3,
      theta: longRun * longRun,
      xi: o.volOfVariance ?? 0.9,
      rho: o.spotVolCorrelation ?? -0.4,
      jumpIntensity: o.jumpsPerYear ?? 4,
      jumpMean: o.jumpMean ?? -0.04,
      jumpVol: o.jumpVol ?? 0.08,
      scheme: "qe",
    },
    createRng(seed),
  );
  const times = Array.from({ length: o.steps + 1 }, (_, i) => o.start + i * o.stepMs);
  const spots = Array.from(path.prices);
  const variance = path.variance ?? new Float64Array(o.steps + 1).fill(longRun * longRun);
  const vols = Array.from(variance, (v) => Math.sqrt(Math.max(v, 0.01)));
  const { start: _s, steps: _n, stepMs: _m, longRunVol: _l, startVol: _v, ...chainOptions } = o;
  return {
    times,
    spots,
    vols,
    chainAt: (i: number) =>
      syntheticChain({
        ...chainOptions,
        underlying,
        valuationTime: times[i] ?? Number.NaN,
        spot: spots[i] ?? Number.NaN,
        atmVol: vols[i] ?? Number.NaN,
        longVol: 0.5 * (vols[i] ?? Number.NaN) + 0.5 * longRun + 0.05,
        seed: seed * 100_003 + i,
      }),
  };
}
