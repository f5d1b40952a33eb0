/**
 * volfolio public API. Each area exports its own barrel; names are unique across areas.
 * Layers (DESIGN.md): core (pure) <- adapters (I/O) <- cli / agent / web.
 */
export * from "./core/errors.js";
export * from "./core/math/index.js";
export * from "./core/pricing/index.js";
export * from "./core/instruments/index.js";
export * from "./core/market/index.js";
export * from "./core/surface/index.js";
export * from "./core/risk/index.js";
export * from "./core/margin/index.js";
export * from "./core/optimize/index.js";
export * from "./core/hedge/index.js";
export * from "./core/backtest/index.js";
export * from "./core/volindex/index.js";
export * from "./core/regime/index.js";
export * from "./core/vault/index.js";
export * from "./adapters/index.js";
