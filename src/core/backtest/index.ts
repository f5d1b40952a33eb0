// Public API of core/backtest: path models, synthetic market, strategies, engine, metrics, attribution.
export * from "./attribution.js";
export * from "./calendar.js";
export * from "./engine.js";
export * from "./hedgeStudy.js";
export * from "./market.js";
export * from "./metrics.js";
export * from "./optimizerStrategy.js";
export * from "./paths/index.js";
export * from "./strategies.js";
export * from "./sweep.js";
export * from "./syntheticMarket.js";
export * from "./regimeScaling.js";
