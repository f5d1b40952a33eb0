// Public API of core/hedge: hedging policies, no-trade bands, trading costs, hedging studies.
export * from "./bands.js";
export * from "./costs.js";
export * from "./policies.js";
export * from "./simulate.js";
