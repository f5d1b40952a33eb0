/**
 * `volfolio/adapters/tardis`: Tardis.dev options_chain CSV files (streamed, validated with zod).
 */
export {
  loadTardisOptionsChainFile,
  parseTardisOptionsChain,
  streamTardisSnapshots,
  TARDIS_FILE_SPAN_MS,
  TARDIS_OPTIONS_CHAIN_COLUMNS,
  tardisOptionsChainRowSchema,
} from "../../adapters/tardis/optionsChain.js";
export type {
  TardisChainResult,
  TardisLoadOptions,
  TardisRejectedRow,
  TardisRowRejection,
  TardisSnapshot,
} from "../../adapters/tardis/optionsChain.js";
