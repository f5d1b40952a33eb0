// Public API of core/risk.
export * from "./greeks.js";
export * from "./grid.js";
export * from "./market.js";
export * from "./scenario.js";
export * from "./valuation.js";
