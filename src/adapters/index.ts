// Public API of adapters (filled in by the area's owners).
export {};
export * from "./priceHistory.js";
