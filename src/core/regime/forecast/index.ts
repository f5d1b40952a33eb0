export * from "./features.js";
export * from "./gbdt.js";
export * from "./linearModel.js";
export * from "./scores.js";
export * from "./walkForward.js";
