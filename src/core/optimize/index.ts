// Public API of core/optimize.
export * from "./buildProblem.js";
export * from "./cvarCuts.js";
export * from "./explain.js";
export * from "./frontier.js";
export { lpToCplexText } from "./highsAdapter.js";
export * from "./infeasibility.js";
export * from "./lpSolver.js";
export * from "./optimize.js";
export * from "./spec.js";
export * from "./verify.js";
export * from "./candidates.js";
export * from "./fromChain.js";
