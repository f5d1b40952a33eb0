export * from "./dvol.js";
export * from "./dvolHourly.js";
export * from "./interpolate.js";
export * from "./modelFreeVariance.js";
export * from "./series.js";
export * from "./volIndex.js";
export * from "./varianceSwap.js";
export * from "./volIndexFuture.js";
