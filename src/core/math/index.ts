export * from "./rng.js";
export * from "./stats.js";
export * from "./nelderMead.js";
export * from "./normal.js";
export * from "./roots.js";
export * from "./levenbergMarquardt.js";
