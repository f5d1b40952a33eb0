export * from "./rng.js";
