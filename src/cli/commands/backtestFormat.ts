/**
 * The text of `volfolio backtest` (its --json is the result itself): run summary, metrics, costs,
 * attribution totals, optimizer and regime summaries, the daily attribution and the last trades.
 * Every number comes from the BacktestResult or the rule's log; nothing is computed here but sums
 * for display.
 */
import type { BacktestResult } from "../../core/backtest/engine.js";
import type { PerformanceMetrics } from "../../core/backtest/metrics.js";
import type { OptimizerRebalanceRecord } from "../../core/backtest/optimizerStrategy.js";
import type { RegimeScaledRule } from "../../core/backtest/regimeScaling.js";
import type { StrategyContext, StrategyOrder } from "../../core/backtest/strategies.js";
import type { ReplicatedSwap } from "../../core/backtest/varianceSwapReplication.js";
import { mean } from "../../core/math/stats.js";
import { formatTable } from "../io.js";

export const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "n/a" : `${(x * 100).toFixed(2)}%`;
export const num = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "n/a" : Number(x.toPrecision(4));

function metricsRows(r: BacktestResult) {
  const row = (name: string, f: (m: PerformanceMetrics) => string | number) => ({
    metric: name,
    USD: r.metricsUsd ? f(r.metricsUsd) : "n/a",
    coin: r.metricsCoin ? f(r.metricsCoin) : "n/a",
  });
  return [
    { metric: "final equity", USD: num(r.finalEquityUsd), coin: num(r.finalEquityCoin) },
    row("total return", (m) => pct(m.totalReturn)),
    row("CAGR", (m) => pct(m.cagr)),
    row("annualised vol", (m) => pct(m.annualVol)),
    row("Sharpe", (m) => num(m.sharpe)),
    row("Sortino", (m) => num(m.sortino)),
    row("max drawdown", (m) => pct(m.maxDrawdown)),
    row("Calmar", (m) => num(m.calmar)),
    row("CVaR95 daily PnL", (m) => num(m.cvar95)),
  ];
}

function attributionTotals(r: BacktestResult) {
  const keys = [
    "delta",
    "gamma",
    "vega",
    "theta",
    "vanna",
    "volga",
    "residual",
    "settlement",
    "trading",
    "total",
  ] as const;
  return keys.map((k) => {
    let usd = 0;
    let coin = 0;
    for (const d of r.attribution) {
      usd += d[`${k}Usd`];
      coin += d[`${k}Coin`];
    }
    return { term: k, USD: num(usd), coin: num(coin) };
  });
}

/** The optimizer strategy's run summary (--json `optimizer`). */
export interface OptimizerSummary {
  readonly rebalances: number;
  readonly optimal: number;
  readonly msPerRebalance: number | null;
  readonly maxMsPerRebalance: number | null;
  readonly log: readonly OptimizerRebalanceRecord[];
}

function optimizerLines(x: OptimizerSummary): string[] {
  const notOptimal = x.log.filter((l) => l.status !== "optimal");
  return [
    `optimizer: ${x.rebalances} rebalances, ${x.optimal} optimal; ${num(x.msPerRebalance)} ms per rebalance (max ${num(x.maxMsPerRebalance)})`,
    formatTable(
      x.log.slice(-12).map((l) => ({
        time: new Date(l.time).toISOString().slice(0, 16),
        status: l.status,
        candidates: l.candidates,
        orders: l.orders,
        "vega before": num(l.vegaBeforeUsdPerVolPt),
        "vega after": num(l.vegaAfterUsdPerVolPt),
        "delta before": num(l.deltaBeforeCoin),
        "delta after": num(l.deltaAfterCoin),
        "CVaR USD": num(l.cvarAfterUsd),
        "margin USD": num(l.marginAfterUsd),
      })),
    ),
    ...(x.log.length > 12 ? [`(last 12 of ${x.log.length}; --json has all)`] : []),
    ...notOptimal
      .slice(0, 5)
      .map((l) => `  ${new Date(l.time).toISOString().slice(0, 16)} ${l.status}: ${l.diagnosis}`),
  ];
}

/** Which prices the hedge fills and the settlements used (the data's own, or the index rule). */
function pricesLines(r: BacktestResult, input: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const h = r.hedgeFills;
  if (h.venue + h.mark > 0)
    lines.push(
      `hedge fills: ${h.venue} at the data's price of the hedge instrument (stored perpetual price / the chain's future)${
        h.venue > 0
          ? `, net basis vs the core mark ${num(h.basisUsd)} USD (${num(h.basisCoin)} coin; > 0 received)`
          : ""
      }; ${h.mark} at the core mark -/+ the half spread (the index for the perpetual: no stored price at that step)`,
    );
  const st = r.settlementSources;
  if (st.delivery + st.indexIntrinsic > 0)
    lines.push(
      `settlements: ${st.delivery} at the venue's delivery price, ${st.indexIntrinsic} intrinsic at the index of the first step after expiry (no delivery price in the data)`,
    );
  if (input.source === "store")
    lines.push(
      `store: ${String(input.perpetualSteps)} of ${r.steps} steps carry a stored perpetual price; ${String(input.deliveryPrices)} delivery prices stored`,
    );
  return lines;
}

export type RegimeSummary = ReturnType<typeof regimeSummary>;

/** The run's text: what ran, prices used, metrics, costs, attribution totals, optional sections. */
export function backtestText(o: {
  readonly r: BacktestResult;
  readonly input: Record<string, unknown>;
  readonly optimizer: OptimizerSummary | undefined;
  readonly regime: RegimeSummary | undefined;
  readonly attribution: boolean;
  readonly trades: boolean;
}): string {
  const { r } = o;
  const lines = [
    `${r.strategy}: ${r.steps} steps ${new Date(r.start).toISOString()} .. ${new Date(r.end).toISOString()}`,
    `trades ${r.tradeCount}, rejected orders ${r.rejections.length}, settlements ${r.settlements}, stale marks ${r.staleMarks} (held option not quoted: valued on the marks surface), carried ${r.carriedMarks}`,
    ...pricesLines(r, o.input),
    "",
    formatTable(metricsRows(r)),
    "",
    `costs USD (coin at each trade's index): spread ${num(r.costs.spreadUsd)}, slippage ${num(r.costs.slippageUsd)}, fees ${num(r.costs.feesUsd)}, funding ${num(r.costs.fundingUsd)}, total ${num(r.costs.totalUsd)} (${num(r.costs.totalCoin)} coin); turnover ${num(r.turnover)}x equity (${num(r.turnoverUsd)} USD notional)`,
    "",
    "Greek PnL attribution, summed over days (residual = actual - Taylor terms; settlement = legs expired in the day: proceeds - start value; trading = intraday trades, costs, funding); each column adds up to its own equity change:",
    formatTable(attributionTotals(r)),
  ];
  if (o.optimizer) lines.push("", ...optimizerLines(o.optimizer));
  if (o.regime) lines.push("", regimeLine(o.regime));
  if (o.attribution) lines.push("", attributionTable(r));
  if (o.trades) lines.push("", tradesTable(r));
  return lines.join("\n");
}

function regimeLine(regime: RegimeSummary): string {
  return (
    `regime scaling: ${regime.steps} steps, full size ${regime.fullSteps}, scaled ${regime.scaledSteps}, no new short vol ${regime.zeroSteps}; ` +
    `mean scale ${num(regime.meanScale)}; last: ${regime.last}`
  );
}

/** The daily attribution, USD terms and both totals. */
function attributionTable(r: BacktestResult): string {
  return formatTable(
    r.attribution.map((d) => ({
      day: new Date(d.start).toISOString().slice(0, 10),
      delta: num(d.deltaUsd),
      gamma: num(d.gammaUsd),
      vega: num(d.vegaUsd),
      theta: num(d.thetaUsd),
      vanna: num(d.vannaUsd),
      volga: num(d.volgaUsd),
      residual: num(d.residualUsd),
      settlement: num(d.settlementUsd),
      trading: num(d.tradingUsd),
      totalUsd: num(d.totalUsd),
      totalCoin: num(d.totalCoin),
    })),
  );
}

/** The last 20 trades. */
function tradesTable(r: BacktestResult): string {
  return formatTable(
    r.trades.slice(-20).map((t) => ({
      time: new Date(t.time).toISOString().slice(0, 16),
      instrument: t.instrument,
      qty: num(t.quantity),
      price: num(t.price),
      mark: num(t.mark),
      [`fee ${t.currency}`]: num(t.fee),
      tag: t.tag,
    })),
  );
}

/** How a regime-scaled strategy's signal behaved over the run (counts of steps by scale). */
export function regimeSummary(rule: RegimeScaledRule<StrategyContext, StrategyOrder>) {
  const scales = rule.signals.map((x) => x.scale);
  const last = rule.signals.at(-1);
  return {
    steps: scales.length,
    fullSteps: scales.filter((x) => x === 1).length,
    scaledSteps: scales.filter((x) => x > 0 && x < 1).length,
    zeroSteps: scales.filter((x) => x === 0).length,
    meanScale: scales.length ? mean(scales) : null,
    last: last
      ? `P(high vol) ${last.highVolProbability.toFixed(2)}, scale ${last.scale.toFixed(2)} (${last.reason})`
      : "none",
    signals: rule.signals.map((x) => ({
      time: x.time,
      highVolProbability: x.highVolProbability,
      scale: x.scale,
    })),
  };
}

/**
 * The variance-swap strategy's swaps (core/backtest/varianceSwapReplication.ts): per swap the
 * replicated P&L against the ideal N (RV - K_var) and the error's parts, USD.
 */
export function varianceSwapLines(swaps: readonly ReplicatedSwap[]): string[] {
  const rows = swaps.map((s) => ({
    start: new Date(s.entryTime).toISOString().slice(0, 10),
    exit: new Date(s.exitTime).toISOString().slice(0, 10),
    strikeVolPts: 100 * Math.sqrt(s.strikeVariance),
    realizedVolPts: 100 * Math.sqrt(s.realizedVariance),
    legs: s.legs.length,
    pnlUsd: s.pnlUsd,
    idealUsd: s.idealUsd,
    costsUsd: -s.costsUsd,
    strikesWingsUsd: s.staticUsd,
    hedgeUsd: s.hedgeUsd,
  }));
  return [
    "variance swaps (replicated P&L - ideal N(RV - K_var) = costs + strikes/wings + hedge; USD):",
    rows.length > 0 ? formatTable(rows) : "  (none settled)",
  ];
}
