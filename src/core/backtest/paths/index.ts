export * from "./calibrate.js";
export * from "./gbm.js";
export * from "./heston.js";
export * from "./merton.js";
export * from "./types.js";
