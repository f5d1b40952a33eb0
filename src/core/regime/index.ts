export * from "./garch.js";
export * from "./hmm.js";
export * from "./realizedVol.js";
export * from "./signals.js";
