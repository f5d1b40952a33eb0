/**
 * `volfolio/adapters/files`: the input files of the CLI and library users: chains (Deribit CSV/JSON, Tardis),
 * books, optimize specs, strategy and sweep specs, price histories; validated with zod, rejects with reasons.
 */
export { BadInputFileError, InputFileError } from "../../adapters/inputFile.js";
export { chainsFromDeribitJson, detectChainFormat, loadChainFile } from "../../adapters/chainFile.js";
export type {
  ChainFileFormat,
  ChainFileOptions,
  ChainFileRejection,
  ChainFileResult,
} from "../../adapters/chainFile.js";
export {
  BOOK_CSV_COLUMNS,
  BookFileError,
  COIN_NAME,
  loadPortfolioFile,
  MAX_PLAUSIBLE_VOL,
  parametricSurface,
  parsePortfolioCsv,
  parsePortfolioJson,
  riskMarketFromPortfolioData,
} from "../../adapters/portfolioFile.js";
export type {
  PortfolioFile,
  PortfolioMarketData,
  PortfolioRowRejection,
} from "../../adapters/portfolioFile.js";
export {
  loadOptimizeSpecFile,
  optimizeSpecParts,
  optimizeSpecSchema,
  parseOptimizeSpec,
} from "../../adapters/optimizeSpec.js";
export type { OptimizeSpecFile } from "../../adapters/optimizeSpec.js";
export {
  loadStrategyFile,
  loadSweepFile,
  parseStrategySpec,
  parseSweepSpec,
  parseSyntheticMarket,
  strategyCostsSchema,
  strategyHedgeSchema,
  strategySpecSchema,
  sweepSpecSchema,
  syntheticMarketSchema,
} from "../../adapters/strategyFile.js";
export { loadPriceHistory, parsePriceHistory, priceLogReturns } from "../../adapters/priceHistory.js";
export type { DatedBar, PriceHistory, PriceHistoryRejection } from "../../adapters/priceHistory.js";
