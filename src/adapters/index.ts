// Public API of adapters (filled in by the area's owners).
export {};
export * from "./priceHistory.js";
export * from "./strategyFile.js";
export * from "./sweepRunner.js";
export * from "./sweepQueue.js";
export * from "./deribit/files.js";
export * from "./deribit/apiShapes.js";
export * from "./tardis/optionsChain.js";
export * from "./chainFile.js";
export * from "./portfolioFile.js";
export * from "./optimizeSpec.js";
export * from "./deribit/client.js";
export * from "./deribit/rateLimit.js";
export * from "./backtestData.js";
export * from "./store/types.js";
export * from "./store/duckdb.js";
export * from "./store/postgres.js";
export * from "./deribit/ws.js";
