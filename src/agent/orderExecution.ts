/**
 * What an order sends to the broker (pure): the request and the touch the broker fills against.
 * The loop (loop.ts execute) checks the limits first and journals the result after.
 */
import type { OrderRequest, TopOfBook } from "../adapters/broker/types.js";
import type { DecidedOrder } from "./agentTypes.js";
import type { TickContext } from "./preTrade.js";

export function orderRequest(order: DecidedOrder): OrderRequest {
  return {
    clientOrderId: order.clientOrderId,
    instrument: order.instrument,
    side: order.side,
    quantity: order.quantity,
    limitPrice: order.limitPrice,
  };
}

/**
 * The order's touch on the tick's chain; an instrument without a quote (the futures hedge)
 * trades around the index, half a tick each side.
 */
export function orderQuote(order: DecidedOrder, ctx: TickContext): TopOfBook {
  const { snapshot } = ctx;
  const q = ctx.quotes.get(order.instrument);
  return q
    ? {
        bid: q.bid,
        ask: q.ask,
        bidSize: q.bidSize ?? null,
        askSize: q.askSize ?? null,
        underlyingPrice: q.underlyingPrice ?? snapshot.indexPrice,
        timestamp: snapshot.valuationTime,
      }
    : {
        // Futures hedge: the perpetual trades around the index (half a tick each side).
        bid: snapshot.indexPrice - 0.25,
        ask: snapshot.indexPrice + 0.25,
        bidSize: null,
        askSize: null,
        underlyingPrice: snapshot.indexPrice,
        timestamp: snapshot.valuationTime,
      };
}
