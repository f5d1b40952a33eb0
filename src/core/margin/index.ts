// Public API of core/margin.
export * from "./book.js";
export * from "./liquidation.js";
export * from "./portfolioMargin.js";
export * from "./standard.js";
