export * from "./forwards.js";
export * from "./normalize.js";
export * from "./types.js";
