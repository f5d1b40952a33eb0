/**
 * The agent's book as plain data, rebuilt by folding fills (pure): positions in contracts and
 * cash by currency. Premiums of inverse options move coin cash; linear options and fees in
 * USDC move USDC cash; futures carry no premium (their PnL is in the mark-to-market, tracked by
 * the entry notional).
 */
import type { Fill } from "../adapters/broker/types.js";
import type { Instrument } from "../core/instruments/types.js";

export interface AgentPosition {
  readonly instrument: string;
  /** Signed contracts. */
  readonly quantity: number;
  /** Signed sum of quantity x price over fills that built the position (quote units), for average price. */
  readonly cost: number;
}

export interface AgentBook {
  readonly positions: Readonly<Record<string, AgentPosition>>;
  /** Cash by currency (coin for inverse premiums and fees, USDC for linear). */
  readonly cash: Readonly<Record<string, number>>;
  /** Number of fills applied. */
  readonly fills: number;
}

export const EMPTY_BOOK: AgentBook = { positions: {}, cash: {}, fills: 0 };

/** Applies one fill; `instrument` gives the settlement and contract size. */
export function applyFill(book: AgentBook, fill: Fill, instrument: Instrument): AgentBook {
  const sign = fill.side === "buy" ? 1 : -1;
  const prev = book.positions[fill.instrument] ?? { instrument: fill.instrument, quantity: 0, cost: 0 };
  const quantity = roundContracts(prev.quantity + sign * fill.quantity);
  const positions = { ...book.positions };
  if (quantity === 0) delete positions[fill.instrument];
  else
    positions[fill.instrument] = {
      instrument: fill.instrument,
      quantity,
      cost: prev.cost + sign * fill.quantity * fill.price,
    };
  const cash = { ...book.cash };
  if (instrument.type === "option") {
    const currency = instrument.settlement === "inverse" ? instrument.underlying : "USDC";
    cash[currency] = (cash[currency] ?? 0) - sign * fill.quantity * fill.price * instrument.contractSize;
  }
  cash[fill.feeCurrency] = (cash[fill.feeCurrency] ?? 0) - fill.fee;
  return { positions, cash, fills: book.fills + 1 };
}

/** Contracts are multiples of 0.1 (Deribit's option minimum); removes float dust. */
export function roundContracts(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}
