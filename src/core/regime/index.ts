export * from "./garch.js";
export * from "./hmm.js";
export * from "./realizedVol.js";
export * from "./signals.js";
export * from "./report.js";
export * from "./tracker.js";
export * from "./syntheticBars.js";
