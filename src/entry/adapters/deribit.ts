/**
 * `volfolio/adapters/deribit`: Deribit CSV files, API response shapes (zod), the REST client with its rate
 * limit and the WebSocket client (loads `ws`).
 */
export {
  createDeribitCsvAccumulator,
  DERIBIT_CSV_COLUMNS,
  formatDeribitCsvRows,
  loadDeribitCsvFile,
  parseDeribitCsv,
  streamDeribitCsvSnapshots,
} from "../../adapters/deribit/files.js";
export type {
  DeribitCsvOptions,
  DeribitFileResult,
  DeribitRowRejection,
  RejectedRow,
} from "../../adapters/deribit/files.js";
export {
  deribitBookSummarySchema,
  deribitEntriesToChains,
  deribitEnvelopeSchema,
  deribitGreeksSchema,
  deribitTickerSchema,
} from "../../adapters/deribit/apiShapes.js";
export type {
  DeribitApiChainOptions,
  DeribitApiChains,
  DeribitApiRejection,
  DeribitBookSummary,
  DeribitTicker,
  RejectedApiEntry,
} from "../../adapters/deribit/apiShapes.js";
export {
  DERIBIT_MAINNET_URL,
  DERIBIT_TESTNET_URL,
  DeribitClientError,
  DeribitRestClient,
  fetchDeribitChain,
} from "../../adapters/deribit/client.js";
export type {
  DeribitClientErrorKind,
  DeribitClientOptions,
  DeribitInstrumentInfo,
  FetchDeribitChainOptions,
  FetchedDeribitChain,
} from "../../adapters/deribit/client.js";
export { DERIBIT_REQUEST_CREDITS, DeribitTokenBucket } from "../../adapters/deribit/rateLimit.js";
export type { TokenBucketOptions } from "../../adapters/deribit/rateLimit.js";
export { DERIBIT_WS_MAINNET_URL, DeribitWsClient } from "../../adapters/deribit/ws.js";
export type { DeribitWsOptions } from "../../adapters/deribit/ws.js";
