export * from "./forwards.js";
export * from "./normalize.js";
export * from "./synthetic.js";
export * from "./syntheticSeries.js";
export * from "./types.js";
export * from "./summary.js";
export * from "./paths.js";
