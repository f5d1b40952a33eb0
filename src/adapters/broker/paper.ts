/**
 * The paper broker: fills against the quoted touch like a taker on Deribit would.
 *
 * - A buy fills at the ask, a sell at the bid, up to the displayed size; the rest of the order
 *   is cancelled (immediate-or-cancel), giving partial fills. No quote on the side, or a limit
 *   price the touch does not meet: rejected with the reason.
 * - Slippage: `slippageBps` of the price added against the taker (default 0).
 * - Fees: Deribit taker fees (./fees.ts).
 * - Idempotent: its exchange-side state (every order it accepted) is a journal; an order whose
 *   client id it has seen returns the recorded state, so a retry after a crash never fills twice.
 */
import type { Instrument } from "../../core/instruments/types.js";
import { Journal, type JournalWrite } from "../journal.js";
import { DERIBIT_TAKER_FEES, type FeeSchedule, takerFee } from "./fees.js";
import type { Broker, Fill, OrderRequest, OrderState, TopOfBook } from "./types.js";

export interface PaperBrokerOptions {
  /** Journal file of the simulated exchange (its durable order book). */
  readonly statePath: string;
  /** Instrument details (settlement, contract size) by venue name. */
  readonly resolveInstrument: (name: string) => Instrument;
  readonly fees?: FeeSchedule;
  readonly slippageBps?: number;
  /** The journal's write call (tests inject faults); default fs.writeSync. */
  readonly journalWrite?: JournalWrite;
}

export class PaperBroker implements Broker {
  readonly name = "paper";
  private readonly journal: Journal<OrderState>;
  private readonly orders = new Map<string, OrderState>();

  constructor(private readonly options: PaperBrokerOptions) {
    this.journal = new Journal<OrderState>(
      options.statePath,
      options.journalWrite ? { write: options.journalWrite } : {},
    );
    for (const o of this.journal.read({ repair: true }).records) this.orders.set(o.clientOrderId, o);
  }

  async getOrder(clientOrderId: string): Promise<OrderState | null> {
    return this.orders.get(clientOrderId) ?? null;
  }

  async placeOrder(order: OrderRequest, quote: TopOfBook): Promise<OrderState> {
    const seen = this.orders.get(order.clientOrderId);
    if (seen) return seen;
    const state = this.execute(order, quote);
    this.journal.append(state); // durable before it is reported
    this.orders.set(order.clientOrderId, state);
    return state;
  }

  /** All orders the simulated exchange has accepted, in order. */
  allOrders(): OrderState[] {
    return [...this.orders.values()];
  }

  close(): void {
    this.journal.close();
  }

  private execute(order: OrderRequest, quote: TopOfBook): OrderState {
    const base = {
      clientOrderId: order.clientOrderId,
      instrument: order.instrument,
      side: order.side,
      requestedQuantity: order.quantity,
    };
    const reject = (reason: string): OrderState => ({
      ...base,
      status: "rejected",
      filledQuantity: 0,
      fills: [],
      reason,
    });
    if (!(order.quantity > 0) || !Number.isFinite(order.quantity))
      return reject(`quantity ${order.quantity} must be > 0`);
    const touch = order.side === "buy" ? quote.ask : quote.bid;
    const size = order.side === "buy" ? quote.askSize : quote.bidSize;
    if (touch === null || !(touch > 0)) return reject(`no ${order.side === "buy" ? "ask" : "bid"} quoted`);
    const slip = (this.options.slippageBps ?? 0) / 10_000;
    const price = order.side === "buy" ? touch * (1 + slip) : touch * (1 - slip);
    if (
      order.limitPrice !== null &&
      (order.side === "buy" ? price > order.limitPrice : price < order.limitPrice)
    ) {
      return reject(`touch ${price} worse than limit ${order.limitPrice}`);
    }
    const quantity = size === null ? order.quantity : Math.min(order.quantity, size);
    if (!(quantity > 0)) return reject("no displayed size");
    const instrument = this.options.resolveInstrument(order.instrument);
    const fee = takerFee(
      {
        isOption: instrument.type === "option",
        settlement: instrument.settlement,
        quantity,
        price,
        underlyingPrice: quote.underlyingPrice,
        contractSize: instrument.contractSize,
      },
      this.options.fees ?? DERIBIT_TAKER_FEES,
    );
    const fill: Fill = {
      clientOrderId: order.clientOrderId,
      instrument: order.instrument,
      side: order.side,
      quantity,
      price,
      fee,
      feeCurrency: instrument.settlement === "inverse" ? instrument.underlying : "USDC",
      timestamp: quote.timestamp,
    };
    const partial = quantity < order.quantity;
    return {
      ...base,
      status: partial ? "partially-filled" : "filled",
      filledQuantity: quantity,
      fills: [fill],
      ...(partial ? { reason: `displayed size ${size} < ${order.quantity}: remainder cancelled` } : {}),
    };
  }
}
