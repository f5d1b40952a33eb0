export * from "./interpolate.js";
export * from "./modelFreeVariance.js";
export * from "./volIndex.js";
