/**
 * `volfolio/adapters/broker`: the broker interface, Deribit taker fees, the paper broker and the Deribit
 * broker (disabled unless configured).
 */
export type {
  Broker,
  Fill,
  OrderRequest,
  OrderSide,
  OrderState,
  OrderStatus,
  TopOfBook,
} from "../../adapters/broker/types.js";
export { DERIBIT_TAKER_FEES, takerFee } from "../../adapters/broker/fees.js";
export type { FeeSchedule } from "../../adapters/broker/fees.js";
export { PaperBroker } from "../../adapters/broker/paper.js";
export type { PaperBrokerOptions } from "../../adapters/broker/paper.js";
export {
  BrokerDisabledError,
  DERIBIT_MAINNET,
  DERIBIT_TESTNET,
  DeribitBroker,
  DeribitBrokerError,
} from "../../adapters/broker/deribit.js";
export type { DeribitBrokerOptions } from "../../adapters/broker/deribit.js";
