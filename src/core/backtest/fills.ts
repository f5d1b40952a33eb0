/**
 * How the backtest engine fills an order, as functions shared by the engine (engine.ts) and by
 * strategies that must price a trade exactly as the engine will (the optimizer strategy's LP,
 * optimizerStrategy.ts), and which dated future carries a future hedge.
 *
 * Inverse option (Deribit: premium in coin, 1 coin per contract): fill at the touch (ask for a
 * buy, bid for a sell, in coin per contract) moved by the slippage bps (hedge/costs.ts
 * slippageBpsFor; a sell price is floored at 0); fee in coin per contract
 * min(feeRate, feeCap x fill price) x contractSize (Deribit: 0.03% of the underlying, i.e. 0.0003
 * coin per coin, capped at 12.5% of the option price). Cash moves in the coin:
 * -(quantity x price + fee).
 *
 * Inverse future or perpetual (Deribit: contracts of `contractSize` USD, PnL in coin): a trade of
 * n contracts (USD notional m = n x contractSize) at fill price P while the core marks the
 * instrument at M (the perpetual at the index, a dated future at its expiry's forward) enters at M
 * and pays the difference at once, in coin: m (1/P - 1/M) (negative: a buy above the mark or a
 * sell below it); fee hedgeFeeRate x |m| / P coin. The touch is the chain's perpetual bid/ask
 * moved onto the mark (M x bid / perpetual mark; Deribit's perpetual trades a few bp off the
 * index) when the chain quotes them, else M -/+ hedgeHalfSpreadBps; then slippage bps.
 *
 * Example: touch 0.0100 coin, 5 bps slippage, feeRate 0.0003, feeCap 0.125: a buy of 1 fills at
 * 0.010005 coin with fee min(0.0003, 0.00125) = 0.0003 coin; a buy of a 0.0010-coin wing pays
 * min(0.0003, 0.000125) = 0.000125 coin (the cap binds).
 */
import { type CostModel, slippageBpsFor } from "../hedge/costs.js";
import type { HedgePolicy } from "../hedge/policies.js";
import type { BacktestStep } from "./market.js";
import { DAY_MS } from "../time.js";

/** An option fill, in the premium's currency (coin for inverse options). */
export interface OptionFill {
  /** Executed price per contract, quote units. */
  readonly price: number;
  /** |touch - mark| x |quantity|: the cost of crossing versus the mark. */
  readonly spread: number;
  /** |price - touch| x |quantity|. */
  readonly slippage: number;
  readonly fee: number;
  /** Cash change of the fill: -(quantity x price + fee). */
  readonly cash: number;
}

/** Fill of an option order of `quantity` contracts (signed, + buy) at `touch`. */
export function optionFill(o: {
  readonly costs: CostModel;
  readonly quantity: number;
  /** Ask for a buy, bid for a sell, quote units per contract. */
  readonly touch: number;
  /** Mark, quote units (for the spread cost only). */
  readonly mark: number;
  /** Underlying coins per contract (default 1). */
  readonly contractSize?: number;
}): OptionFill {
  const slip = (o.touch * slippageBpsFor(o.costs, o.quantity)) / 1e4;
  const price = o.quantity > 0 ? o.touch + slip : Math.max(o.touch - slip, 0);
  const absQ = Math.abs(o.quantity);
  const fee = Math.min(o.costs.feeRate, o.costs.feeCap * price) * absQ * (o.contractSize ?? 1);
  return {
    price,
    spread: Math.abs(o.touch - o.mark) * absQ,
    slippage: Math.abs(price - o.touch) * absQ,
    fee,
    cash: -(o.quantity * price + fee),
  };
}

/** A fill of an inverse future or perpetual, in coin. */
export interface HedgeFill {
  /** Executed price, USD per coin. */
  readonly price: number;
  /** Coin lost crossing from the mark to the touch (>= 0). */
  readonly spread: number;
  /** Coin lost to slippage beyond the touch (>= 0). */
  readonly slippage: number;
  /** Fee, coin. */
  readonly fee: number;
  /** Cash change, coin: m (1/P - 1/M) - fee. */
  readonly cash: number;
}

/**
 * Fill of `contracts` (signed) of an inverse future of `contractSize` USD marked at `mark`, with
 * the chain's perpetual quote when given (see the module comment).
 */
export function inverseHedgeFill(o: {
  readonly costs: CostModel;
  readonly contracts: number;
  readonly contractSize: number;
  /** The core's mark, USD. */
  readonly mark: number;
  /** The venue quote the spread is read from (mark, bid, ask), if any. */
  readonly quote?: {
    readonly mark: number;
    readonly bid?: number | null;
    readonly ask?: number | null;
  } | null;
}): HedgeFill {
  const M = o.mark;
  const m = o.contracts * o.contractSize;
  if (m === 0) return { price: M, spread: 0, slippage: 0, fee: 0, cash: 0 };
  const q = o.quote;
  const hs = (M * o.costs.hedgeHalfSpreadBps) / 1e4;
  const buy = m > 0;
  const fromQuote = buy ? q?.ask : q?.bid;
  const touch =
    q && typeof fromQuote === "number" && fromQuote > 0 && q.mark > 0
      ? (M * fromQuote) / q.mark
      : buy
        ? M + hs
        : M - hs;
  const slip = (touch * slippageBpsFor(o.costs, o.contracts)) / 1e4;
  const price = buy ? touch + slip : touch - slip;
  const absM = Math.abs(m);
  const fee = (o.costs.hedgeFeeRate * absM) / price;
  return {
    price,
    spread: Math.abs(absM * (1 / touch - 1 / M)),
    slippage: Math.abs(absM * (1 / price - 1 / touch)),
    fee,
    cash: m * (1 / price - 1 / M) - fee,
  };
}

/**
 * The dated future a flat future hedge opens on at `step`: the listed expiry closest to
 * now + `futureTenorDays` (default 30) among those more than max(`rollDays` (default 1),
 * 1 hour) days away; null when none is listed.
 */
export function futureHedgeExpiry(step: BacktestStep, policy: HedgePolicy): number | null {
  const minT = step.time + Math.max(policy.rollDays ?? 1, 1 / 24) * DAY_MS;
  const target = step.time + (policy.futureTenorDays ?? 30) * DAY_MS;
  let e: number | null = null;
  for (const x of step.expiries())
    if (x > minT && (e === null || Math.abs(x - target) < Math.abs(e - target))) e = x;
  return e;
}
