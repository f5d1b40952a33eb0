/**
 * `volfolio/instruments`: options, futures, positions and portfolios as plain data; Deribit instrument names.
 */
export {
  DERIBIT_EXPIRY_HOUR_UTC,
  deribitOptionName,
  formatDeribitExpiry,
  instrumentFromName,
  parseDeribitExpiry,
  parseInstrumentName,
} from "../core/instruments/index.js";
export type {
  FutureContract,
  Instrument,
  InstrumentNameError,
  OptionContract,
  OptionKind,
  Portfolio,
  Position,
  Settlement,
} from "../core/instruments/index.js";
