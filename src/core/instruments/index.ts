export * from "./names.js";
export * from "./types.js";
export * from "./volInstruments.js";
