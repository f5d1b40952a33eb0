export * from "./black76.js";
export * from "./impliedVol.js";
export * from "./inverse.js";
