/**
 * volfolio public API: the package root exports core's public functions and types, by name, area by area
 * (each `./entry/<area>.ts` lists its public names; internals such as fitting parameterisations, unchecked
 * kernels and validation helpers are not exported here, but stay importable by the project's own modules).
 * Every area is also a subpath export (`volfolio/pricing`, `volfolio/surface`, ...); the outside world
 * (files, Deribit, Tardis, the store, sweeps, brokers) is in `volfolio/adapters/*`, never in the root, so
 * importing `volfolio` loads no database, queue or HTTP module (test/api/entryPoints.test.ts checks it).
 * Layers (DESIGN.md): core (pure) <- adapters (I/O) <- cli / agent / web.
 */
export * from "./entry/errors.js";
export * from "./entry/math.js";
export * from "./entry/pricing.js";
export * from "./entry/instruments.js";
export * from "./entry/market.js";
export * from "./entry/surface.js";
export * from "./entry/risk.js";
export * from "./entry/margin.js";
export * from "./entry/optimize.js";
export * from "./entry/hedge.js";
export * from "./entry/backtest.js";
export * from "./entry/volindex.js";
export * from "./entry/regime.js";
export * from "./entry/vault.js";
