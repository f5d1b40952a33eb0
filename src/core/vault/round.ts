/**
 * One vault round's trading: ONE run of the backtest engine (core/backtest/engine.ts runBacktest,
 * unmodified) over the round's steps, starting with the round's NAV as cash (coin for a coin vault,
 * USD for a USDC vault) and a rule that sells the round's option (strategy.ts vaultSale) at the
 * first step; the engine fills, settles and values it. The round ends flat; its gross NAV is the
 * engine's final equity in the vault's asset (a USDC vault sweeps its coin into USD at
 * `conversionBps`). Engine.ts's module comment describes the whole vault.
 */
import { runBacktest } from "../backtest/engine.js";
import type { BacktestResult } from "../backtest/engine.js";
import type { BacktestStep } from "../backtest/market.js";
import type { StrategyRule, StrategySpec } from "../backtest/strategies.js";
import { InvalidInputError } from "../errors.js";
import type { CostModel } from "../hedge/costs.js";
import { type VaultCollateral, type VaultSale, type VaultStrategyType, vaultSale } from "./strategy.js";
import type { VaultEpoch } from "./types.js";

/** The vault's settings a round trades with (engine.ts resolves them from the spec). */
export interface RoundConfig {
  readonly type: VaultStrategyType;
  readonly collateral: VaultCollateral;
  readonly isCoin: boolean;
  readonly targetDelta: number;
  readonly epochDays: number;
  readonly conversionBps: number;
  readonly costs?: Partial<CostModel>;
}

/**
 * What a round traded and what it ended with: the VaultEpoch fields of the same names (units and
 * meanings documented there), and the sale they came from.
 */
export interface RoundTrading
  extends Pick<
    VaultEpoch,
    | "premiumCoin"
    | "premiumUsd"
    | "tradingFeesCoin"
    | "slippageCoin"
    | "settlementCoin"
    | "settlementUsd"
    | "conversionCost"
    | "grossNav"
    | "accountStart"
  > {
  /** The round's sale (null: no shares, nothing decided). */
  readonly sale: VaultSale | null;
}

const NO_TRADING: RoundTrading = {
  sale: null,
  premiumCoin: 0,
  premiumUsd: 0,
  tradingFeesCoin: 0,
  slippageCoin: 0,
  settlementCoin: 0,
  settlementUsd: 0,
  conversionCost: 0,
  grossNav: 0,
  accountStart: 0,
};

/**
 * Trades a round of `steps` (its boundary step to the next one, `end`, inclusive) with `navStart`
 * (asset units; nothing is traded without it), selling an option expiring by `roundEnd` in `lot`s.
 */
export function tradeRound(o: {
  readonly cfg: RoundConfig;
  readonly navStart: number;
  readonly roundEnd: number;
  readonly lot: number;
  readonly underlying: string;
  readonly steps: readonly BacktestStep[];
  readonly end: BacktestStep;
}): RoundTrading {
  const { cfg, navStart, end } = o;
  if (!(navStart > 0)) return NO_TRADING;
  const initial = cfg.isCoin ? { coins: navStart, usd: 0 } : { coins: 0, usd: navStart };
  const sell = saleRule(cfg, initial, o.roundEnd, o.lot);
  const r = runBacktest({
    strategy: roundStrategySpec(cfg, navStart),
    steps: o.steps,
    rule: sell.rule,
    recordTrades: true,
  });
  const live = r.final.positions.filter((p) => p.instrument.type === "option");
  if (live.length > 0)
    throw new InvalidInputError(
      "steps",
      new Date(end.time).toISOString(),
      `round ended with ${live[0]?.instrument.name} still open (the round's option must expire by the boundary)`,
    );
  const S = end.indexPrice;
  const d0 = r.daily[0];
  let conversionCost = 0;
  let grossNav: number;
  if (cfg.isCoin) grossNav = r.final.equity.equityUsd / S;
  else {
    const coins = r.final.cash[o.underlying] ?? 0;
    conversionCost = (Math.abs(coins) * S * cfg.conversionBps) / 1e4;
    grossNav = r.final.equity.equityUsd - conversionCost;
  }
  // A fully collateralised vault cannot lose more than its NAV; rounding can leave dust.
  if (grossNav < 0 && grossNav > -1e-12 * navStart) grossNav = 0;
  return {
    sale: sell.sale(),
    ...roundFlows(r),
    conversionCost,
    grossNav,
    accountStart: d0 ? (cfg.isCoin ? d0.equityCoin : d0.equityUsd) : Number.NaN,
  };
}

/** The rule that sells the round's option at the first step it is asked, and the sale it made. */
function saleRule(
  cfg: RoundConfig,
  initial: StrategyRule["initial"],
  roundEnd: number,
  lot: number,
): { rule: StrategyRule; sale: () => VaultSale | null } {
  let sale: VaultSale | null = null;
  let decided = false;
  const rule: StrategyRule = {
    initial,
    decide: (ctx) => {
      if (decided) return [];
      decided = true;
      const made = vaultSale({
        step: ctx.step,
        type: cfg.type,
        collateral: cfg.collateral,
        coins: ctx.coins,
        usd: ctx.usd,
        targetDelta: cfg.targetDelta,
        roundEnd,
        lot,
      });
      sale = made;
      const ins = made.instrument;
      return ins && made.quantity > 0
        ? [{ expiry: ins.expiry, strike: ins.strike, kind: ins.kind, quantity: -made.quantity, tag: "open" }]
        : [];
    },
  };
  return { rule, sale: () => sale };
}

/** The engine's strategy spec of a round (its name, params for the record, and the costs). */
function roundStrategySpec(cfg: RoundConfig, navStart: number): StrategySpec {
  const costs = cfg.costs ? { costs: cfg.costs } : {};
  return cfg.type === "covered-call"
    ? {
        type: "covered-call",
        name: "vault covered-call",
        params: { coins: navStart, targetDelta: cfg.targetDelta, tenorDays: cfg.epochDays },
        ...costs,
      }
    : {
        type: "cash-secured-put",
        name: "vault put-selling",
        params: { usd: navStart, targetDelta: cfg.targetDelta, tenorDays: cfg.epochDays },
        ...costs,
      };
}

/** The round's option premium, fees and slippage (its trades) and settlement, coin and USD. */
function roundFlows(
  r: BacktestResult,
): Pick<
  RoundTrading,
  "premiumCoin" | "premiumUsd" | "tradingFeesCoin" | "slippageCoin" | "settlementCoin" | "settlementUsd"
> {
  let premiumCoin = 0;
  let premiumUsd = 0;
  let tradingFeesCoin = 0;
  let slippageCoin = 0;
  let settlementCoin = 0;
  let settlementUsd = 0;
  for (const t of r.trades) {
    if (t.type !== "option") continue;
    premiumCoin += -t.quantity * t.price;
    premiumUsd += -t.quantity * t.price * t.indexPrice;
    tradingFeesCoin += t.fee;
    slippageCoin += t.slippage;
  }
  for (const x of r.settled) {
    settlementCoin += x.value;
    settlementUsd += x.valueUsd;
  }
  return { premiumCoin, premiumUsd, tradingFeesCoin, slippageCoin, settlementCoin, settlementUsd };
}
