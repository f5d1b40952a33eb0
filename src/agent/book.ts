/**
 * The agent's book as plain data, rebuilt by folding journaled events (pure): fills and
 * settlements of expired options. Positions in contracts by instrument name, cash by currency.
 *
 * Cash (currency = the settlement currency: the coin for inverse instruments, "USDC" for linear):
 *  - option premiums: a buy of q contracts at price P (quote units: coin for inverse, USD for
 *    linear) pays q P contractSize; a sell receives it;
 *  - fees: in the fill's feeCurrency;
 *  - futures: no premium; the open quantity carries an average entry price (`entryPrice`, USD),
 *    and a fill that reduces the position realizes its PnL into cash:
 *      inverse (contractSize USD): closing c contracts of a position of sign s at price P pays
 *        s c size (1/E - 1/P) coins; entries average harmonically (q / E = sum q_i / P_i), so the
 *        open position is worth q size (1/E - 1/F) coins at forward F (core valuePosition);
 *      linear (contractSize coin): s c size (P - E) USDC; entries average arithmetically.
 *    Realized + open value then equals the sum over fills of q_i size (1/P_i - 1/F) (inverse) or
 *    q_i size (F - P_i) (linear) exactly;
 *  - settlement of an expired option (applySettlement): the position leaves the book and its
 *    settlement value (core splitExpired) is credited in its currency.
 */
import type { Fill } from "../adapters/broker/types.js";
import type { Instrument } from "../core/instruments/types.js";

export interface AgentPosition {
  readonly instrument: string;
  /** Signed contracts. */
  readonly quantity: number;
  /** Signed sum of quantity x price over fills that built the position (quote units), for average price. */
  readonly cost: number;
  /** Futures only: average entry price of the open quantity, USD (see the module comment). */
  readonly entryPrice?: number;
}

export interface AgentBook {
  readonly positions: Readonly<Record<string, AgentPosition>>;
  /** Cash by currency (coin for inverse premiums, fees and futures PnL, USDC for linear). */
  readonly cash: Readonly<Record<string, number>>;
  /** Number of fills applied. */
  readonly fills: number;
}

export const EMPTY_BOOK: AgentBook = { positions: {}, cash: {}, fills: 0 };

/** Settlement currency of an instrument: its coin when inverse, USDC when linear. */
export function settlementCurrencyOf(instrument: Instrument): string {
  return instrument.settlement === "inverse" ? instrument.underlying : "USDC";
}

/** Applies one fill; `instrument` gives the settlement and contract size. */
export function applyFill(book: AgentBook, fill: Fill, instrument: Instrument): AgentBook {
  const sign = fill.side === "buy" ? 1 : -1;
  const prev = book.positions[fill.instrument] ?? { instrument: fill.instrument, quantity: 0, cost: 0 };
  const quantity = roundContracts(prev.quantity + sign * fill.quantity);
  const cash = { ...book.cash };
  const currency = settlementCurrencyOf(instrument);
  let entryPrice: number | undefined;
  if (instrument.type === "option") {
    cash[currency] = (cash[currency] ?? 0) - sign * fill.quantity * fill.price * instrument.contractSize;
  } else {
    const r = futureFill(prev, sign * fill.quantity, fill.price, instrument);
    entryPrice = r.entryPrice;
    if (r.realized !== 0) cash[currency] = (cash[currency] ?? 0) + r.realized;
  }
  cash[fill.feeCurrency] = (cash[fill.feeCurrency] ?? 0) - fill.fee;
  const positions = { ...book.positions };
  if (quantity === 0) delete positions[fill.instrument];
  else
    positions[fill.instrument] = {
      instrument: fill.instrument,
      quantity,
      cost: prev.cost + sign * fill.quantity * fill.price,
      ...(entryPrice !== undefined ? { entryPrice } : {}),
    };
  return { positions, cash, fills: book.fills + 1 };
}

/** A futures fill of `q` signed contracts at `price` (USD) on `prev`: new entry and realized PnL. */
function futureFill(
  prev: AgentPosition,
  q: number,
  price: number,
  instrument: Instrument,
): { entryPrice: number | undefined; realized: number } {
  const inverse = instrument.settlement === "inverse";
  const size = instrument.contractSize;
  const q0 = prev.quantity;
  const e0 = prev.entryPrice ?? price;
  const q1 = roundContracts(q0 + q);
  if (q0 === 0 || Math.sign(q0) === Math.sign(q)) {
    // Opening or adding: average the entry.
    const entryPrice = inverse ? q1 / (q0 / e0 + q / price) : (q0 * e0 + q * price) / q1;
    return { entryPrice, realized: 0 };
  }
  // Reducing (and possibly flipping): realize the closed part at `price`.
  const closed = Math.min(Math.abs(q), Math.abs(q0));
  const s = Math.sign(q0);
  const realized = inverse ? s * closed * size * (1 / e0 - 1 / price) : s * closed * size * (price - e0);
  const entryPrice = q1 === 0 ? undefined : Math.sign(q1) === s ? e0 : price;
  return { entryPrice, realized };
}

/** An expired option settled out of the book (journaled; see loop.ts). */
export interface AgentSettlement {
  readonly instrument: string;
  /** Signed contracts that settled (the whole position). */
  readonly quantity: number;
  /** Settlement price, USD per coin, and where it came from. */
  readonly settlementPrice: number;
  readonly source: "delivery" | "index-intrinsic";
  /** Currency credited (the coin for inverse options, USDC for linear) and the amount in it. */
  readonly currency: string;
  readonly value: number;
}

/** Removes a settled position and credits its settlement value. */
export function applySettlement(book: AgentBook, s: AgentSettlement): AgentBook {
  const positions = { ...book.positions };
  delete positions[s.instrument];
  const cash = { ...book.cash, [s.currency]: (book.cash[s.currency] ?? 0) + s.value };
  return { positions, cash, fills: book.fills };
}

/** Contracts are multiples of 0.1 (Deribit's option minimum); removes float dust. */
export function roundContracts(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}
