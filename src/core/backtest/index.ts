// Public API of core/backtest: path models, synthetic market, strategies, engine, metrics, attribution.
export * from "./paths/index.js";
