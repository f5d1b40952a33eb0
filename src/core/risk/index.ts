// Public API of core/risk.
export * from "./chainMarket.js";
export * from "./greeks.js";
export * from "./grid.js";
export * from "./market.js";
export * from "./scenario.js";
export * from "./valuation.js";
export * from "./stress.js";
export * from "./stressLibrary.js";
export * from "./var.js";
