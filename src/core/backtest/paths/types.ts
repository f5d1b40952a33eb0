/**
 * Simulated price paths for studies and synthetic backtests.
 * Units: times in years from the path start (ACT/365); prices USD; variance = vol^2 per year.
 */
export interface SimPath {
  /** Years from start, times[0] = 0, equally spaced by `dt`. */
  readonly times: Float64Array;
  /** Underlying price USD at each time. */
  readonly prices: Float64Array;
  /** Instantaneous variance per year at each time (stochastic-vol models only). */
  readonly variance?: Float64Array;
}

/** Common grid settings. */
export interface PathGrid {
  /** Start price, USD. */
  readonly spot: number;
  /** Horizon, years. */
  readonly horizon: number;
  /** Number of steps (the path has steps + 1 points). */
  readonly steps: number;
}
