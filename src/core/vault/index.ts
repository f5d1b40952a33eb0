// Public API of core/vault: share ledger, depositors' requests, the round's sale, the vault engine.
export * from "./engine.js";
export * from "./flows.js";
export * from "./ledger.js";
export * from "./strategy.js";
