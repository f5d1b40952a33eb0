/**
 * The broker interface every venue adapter implements (paper, Deribit). Orders carry a
 * client order id chosen by the caller: placing the same id twice never creates a second order
 * (idempotency across crashes and retries), and `getOrder` finds an order by that id.
 *
 * Units: quantity in contracts (> 0; the side gives the sign); prices in the instrument's quote
 * units (coin per coin for inverse options, USD for futures and linear options); fees in the
 * settlement currency named by `feeCurrency`.
 */

export type OrderSide = "buy" | "sell";

export interface OrderRequest {
  /** Caller-chosen idempotency key (Deribit: the order label). */
  readonly clientOrderId: string;
  /** Venue instrument name, e.g. "BTC-27MAR26-90000-C" or "BTC-PERPETUAL". */
  readonly instrument: string;
  readonly side: OrderSide;
  /** Contracts, > 0. */
  readonly quantity: number;
  /** Worst acceptable price (quote units); null = marketable at the touch. */
  readonly limitPrice: number | null;
}

export interface Fill {
  readonly clientOrderId: string;
  readonly instrument: string;
  readonly side: OrderSide;
  /** Contracts filled, > 0. */
  readonly quantity: number;
  /** Fill price, quote units. */
  readonly price: number;
  /** Fee paid (>= 0), in feeCurrency. */
  readonly fee: number;
  readonly feeCurrency: string;
  /** Epoch ms UTC. */
  readonly timestamp: number;
}

export type OrderStatus = "filled" | "partially-filled" | "rejected" | "cancelled" | "open";

export interface OrderState {
  readonly clientOrderId: string;
  readonly instrument: string;
  readonly side: OrderSide;
  readonly requestedQuantity: number;
  readonly status: OrderStatus;
  readonly filledQuantity: number;
  readonly fills: readonly Fill[];
  /** Why it was rejected or not fully filled. */
  readonly reason?: string;
}

/** Best bid/ask the paper broker fills against (null = no quote on that side). */
export interface TopOfBook {
  readonly bid: number | null;
  readonly ask: number | null;
  /** Displayed size in contracts (null = unknown: treated as unlimited). */
  readonly bidSize: number | null;
  readonly askSize: number | null;
  /** Underlying USD price at quote time (for inverse fee caps and conversions). */
  readonly underlyingPrice: number;
  readonly timestamp: number;
}

export interface Broker {
  readonly name: string;
  /** Places an order (idempotent on clientOrderId). `quote` is the touch the caller saw. */
  placeOrder(order: OrderRequest, quote: TopOfBook): Promise<OrderState>;
  /** The order with this client id, or null if the venue never received it. */
  getOrder(clientOrderId: string): Promise<OrderState | null>;
}
