/**
 * The backtest's ledger: the account's cash per currency, the option book, and the records of
 * everything that moved them (trades, rejections, settlements, costs, turnover). Every flow after
 * the start is in coin (loop.ts states the accounting); costs are kept in coin (exact) and in USD
 * at each trade's index. The hedge future's holding is the hedger's (hedger.ts); its trades and
 * costs are booked here.
 */
import type { CostModel } from "../hedge/costs.js";
import { deribitOptionName } from "../instruments/names.js";
import type { OptionContract, Position } from "../instruments/types.js";
import type { SettledLeg } from "../risk/expiredLegs.js";
import type { RiskMarket } from "../risk/market.js";
import { valuePosition } from "../risk/valuation.js";
import { optionFill } from "./fills.js";
import { type BacktestStep, marketValues } from "./market.js";
import type {
  BacktestSettlement,
  CostSummary,
  RejectionReason,
  RejectionRecord,
  TradeRecord,
} from "./results.js";
import type { BookOption, OptionOrder } from "./strategies.js";

/** A held option: a core Position on the chain's option contract. */
export type OptionLeg = Position & { readonly instrument: OptionContract };

/** A fill's costs in coin (`spread`, `slippage`, `fee`). */
export interface FillCosts {
  readonly spread: number;
  readonly slippage: number;
  readonly fee: number;
}

/** A fill's costs as a trade record carries them: coin, USD at the index, and the index. */
type ChargedCosts = Pick<
  TradeRecord,
  "spread" | "slippage" | "fee" | "spreadUsd" | "slippageUsd" | "feeUsd" | "indexPrice"
>;

/** A trade of the hedge future, as the hedger executed it (fill price and core mark, USD). */
export interface FutureTrade {
  readonly instrument: string;
  readonly type: "perpetual" | "future";
  /** Signed contracts. */
  readonly quantity: number;
  /** |USD notional| traded. */
  readonly notionalUsd: number;
  readonly price: number;
  readonly mark: number;
  /** Coin cash change of the fill (fee included). */
  readonly cash: number;
  readonly costs: FillCosts;
  readonly tag: string;
}

export class BacktestLedger {
  /** The underlying coin (set by `open` at the first step). */
  coin = "";
  readonly cash: Record<string, number> = {};
  readonly options = new Map<string, OptionLeg>();
  /** Coin value per contract at the last valuation (for legs a later market cannot value). */
  readonly lastCoin = new Map<string, number>();
  readonly trades: TradeRecord[] = [];
  readonly settledLog: BacktestSettlement[] = [];
  readonly rejections: RejectionRecord[] = [];
  settlements = 0;
  readonly settlementSources = { delivery: 0, indexIntrinsic: 0 };
  tradeCount = 0;
  staleMarks = 0;
  carriedMarks = 0;
  turnoverUsd = 0;
  private readonly cost = {
    spread: 0,
    slippage: 0,
    fees: 0,
    funding: 0,
    spreadUsd: 0,
    slippageUsd: 0,
    feesUsd: 0,
    fundingUsd: 0,
  };

  /** @param record keep the trade and settlement logs (counts are always kept). */
  constructor(
    readonly costs: CostModel,
    readonly record: boolean,
  ) {}

  /** Opens the account at the first step: `coins` of the underlying and `usd`. */
  open(coin: string, initial: { readonly coins: number; readonly usd: number }): void {
    this.coin = coin;
    this.cash[coin] = initial.coins;
    this.cash.USD = initial.usd;
  }

  /** Coin cash. */
  coins(): number {
    return this.cash[this.coin] ?? 0;
  }

  /** Adds `amount` coin to coin cash (negative: paid). */
  addCoins(amount: number): void {
    this.cash[this.coin] = (this.cash[this.coin] ?? 0) + amount;
  }

  /** Pays `fund` coin of perpetual funding at the index S (negative: received). */
  payFunding(fund: number, S: number): void {
    this.cash[this.coin] = (this.cash[this.coin] ?? 0) - fund;
    this.cost.funding += fund;
    this.cost.fundingUsd += fund * S;
  }

  /** Expiries of the held options, in book order. */
  optionExpiries(): number[] {
    return [...this.options.values()].map((p) => p.instrument.expiry);
  }

  /** The option book as the strategy sees it. */
  bookOptions(): BookOption[] {
    return [...this.options.values()].map((p) => {
      const ins = p.instrument;
      return {
        expiry: ins.expiry,
        strike: ins.strike,
        kind: ins.kind,
        quantity: p.quantity,
        instrument: ins,
      };
    });
  }

  reject(s: BacktestStep, instrument: string, quantity: number, reason: RejectionReason): void {
    this.rejections.push({ time: s.time, instrument, quantity, reason });
  }

  /** Fills an option order at the step's touch (fills.ts optionFill), or rejects it with a reason. */
  fillOption(s: BacktestStep, ord: OptionOrder): void {
    if (ord.quantity === 0) return;
    const q = s.quote(ord.expiry, ord.strike, ord.kind);
    const name =
      q?.instrument.name ??
      deribitOptionName({ underlying: s.underlying, expiry: ord.expiry, strike: ord.strike, kind: ord.kind });
    if (!q) {
      this.reject(s, name, ord.quantity, "not-listed");
      return;
    }
    const ins = q.instrument;
    if (ins.settlement !== "inverse") {
      this.reject(s, name, ord.quantity, "not-inverse");
      return;
    }
    const touch = ord.quantity > 0 ? q.ask : q.bid;
    if (touch === null) {
      this.reject(s, name, ord.quantity, ord.quantity > 0 ? "no-ask" : "no-bid");
      return;
    }
    const f = optionFill({
      costs: this.costs,
      quantity: ord.quantity,
      touch,
      mark: q.mark,
      contractSize: ins.contractSize,
    });
    const S = s.indexPrice;
    this.addCoins(f.cash);
    const charged = this.chargeCosts(f, S);
    this.turnoverUsd += Math.abs(ord.quantity) * ins.contractSize * S;
    this.tradeCount++;
    this.moveOption(name, ins, ord.quantity);
    if (this.record)
      this.trades.push({
        time: s.time,
        instrument: name,
        type: "option",
        quantity: ord.quantity,
        price: f.price,
        mark: q.mark,
        currency: this.coin,
        ...charged,
        tag: ord.tag,
      });
  }

  /** Books a hedge-future trade: its coin cash, costs, turnover and record. */
  bookFutureTrade(s: BacktestStep, t: FutureTrade): void {
    const S = s.indexPrice;
    this.addCoins(t.cash);
    const charged = this.chargeCosts(t.costs, S);
    this.turnoverUsd += t.notionalUsd;
    this.tradeCount++;
    if (this.record)
      this.trades.push({
        time: s.time,
        instrument: t.instrument,
        type: t.type,
        quantity: t.quantity,
        price: t.price,
        mark: t.mark,
        currency: this.coin,
        ...charged,
        tag: t.tag,
      });
  }

  /** Books a leg settled at expiry (core/risk splitExpired): proceeds, counts, log; an option leaves the book. */
  bookSettlement(s: BacktestStep, x: SettledLeg): void {
    const ins = x.position.instrument;
    this.cash[x.currency] = (this.cash[x.currency] ?? 0) + x.value;
    this.settlements++;
    if (x.source === "delivery") this.settlementSources.delivery++;
    else this.settlementSources.indexIntrinsic++;
    if (ins.type === "option") {
      this.options.delete(ins.name);
      this.lastCoin.delete(ins.name);
    }
    if (this.record)
      this.settledLog.push({
        time: s.time,
        instrument: ins.name,
        quantity: x.position.quantity,
        price: x.settlementPrice,
        source: x.source,
        value: x.value,
        currency: x.currency,
        valueUsd: x.valueUsd,
        detail: x.detail,
      });
  }

  /**
   * The options `market` values (their coin value per contract remembered; a held option the
   * step's chain does not quote counted stale) and the coin value of the ones it cannot (carried
   * at their last value, counted).
   */
  valueOptions(s: BacktestStep, market: RiskMarket): { valued: Position[]; carried: number } {
    const valued: Position[] = [];
    let carried = 0;
    for (const p of this.options.values()) {
      const ins = p.instrument;
      if (marketValues(market, p)) {
        valued.push(p);
        this.lastCoin.set(ins.name, valuePosition({ instrument: ins, quantity: 1 }, market).valueCoin);
        if (!s.quote(ins.expiry, ins.strike, ins.kind)) this.staleMarks++;
      } else {
        this.carriedMarks++;
        carried += (this.lastCoin.get(ins.name) ?? 0) * p.quantity;
      }
    }
    return { valued, carried };
  }

  /** Coin value of `name` per contract at its last valuation, or null. */
  carriedCoinPerContract(name: string): number | null {
    return this.lastCoin.get(name) ?? null;
  }

  /** The run's costs, coin and USD. */
  costSummary(): CostSummary {
    const c = this.cost;
    return {
      spreadUsd: c.spreadUsd,
      slippageUsd: c.slippageUsd,
      feesUsd: c.feesUsd,
      fundingUsd: c.fundingUsd,
      totalUsd: c.spreadUsd + c.slippageUsd + c.feesUsd + c.fundingUsd,
      spreadCoin: c.spread,
      slippageCoin: c.slippage,
      feesCoin: c.fees,
      fundingCoin: c.funding,
      totalCoin: c.spread + c.slippage + c.fees + c.funding,
    };
  }

  /** Adds a fill's costs (coin, and USD at the index S) to the run's totals; returns them for its trade record. */
  private chargeCosts(f: FillCosts, S: number): ChargedCosts {
    const c = this.cost;
    c.spread += f.spread;
    c.slippage += f.slippage;
    c.fees += f.fee;
    c.spreadUsd += f.spread * S;
    c.slippageUsd += f.slippage * S;
    c.feesUsd += f.fee * S;
    return {
      spread: f.spread,
      slippage: f.slippage,
      fee: f.fee,
      spreadUsd: f.spread * S,
      slippageUsd: f.slippage * S,
      feeUsd: f.fee * S,
      indexPrice: S,
    };
  }

  /** Adds `quantity` contracts of `ins` to the book (a position netted to zero leaves it). */
  private moveOption(name: string, ins: OptionContract, quantity: number): void {
    const nq = (this.options.get(name)?.quantity ?? 0) + quantity;
    if (Math.abs(nq) < 1e-12) {
      this.options.delete(name);
      this.lastCoin.delete(name);
    } else this.options.set(name, { instrument: ins, quantity: nq });
  }
}
