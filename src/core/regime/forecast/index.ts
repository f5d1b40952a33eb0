export * from "./features.js";
export * from "./gbdt.js";
export * from "./linearModel.js";
export * from "./scores.js";
export * from "./walkForward.js";
export * from "./signal.js";
export * from "./online.js";
export * from "./season.js";
