/**
 * `volfolio/market`: chain snapshots, quote cleaning with reasons, forwards per expiry, the MarketSnapshot type,
 * synthetic chains and price paths.
 */
export {
  CHAIN_QUOTE_REJECTIONS,
  chainForwards,
  deribitExpiryCalendar,
  garchJumpPath,
  markParityForward,
  normalizeChain,
  parityForward,
  summarizeNormalizedChain,
  syntheticChain,
  syntheticChainWithTruth,
  syntheticSeries,
} from "../core/market/index.js";
export type {
  ChainQuoteRejection,
  ChainSnapshot,
  ChainSummary,
  CleanQuote,
  CleanQuoteFlag,
  ExpiryForward,
  ExpirySummary,
  ForwardSource,
  FutureQuote,
  GarchJumpPath,
  GarchJumpPathOptions,
  MarketSnapshot,
  NormalizedChain,
  NormalizeOptions,
  OptionQuote,
  RejectedQuote,
  SyntheticChainOptions,
  SyntheticSeries,
  SyntheticSeriesOptions,
  SyntheticSurfaceTruth,
} from "../core/market/index.js";
