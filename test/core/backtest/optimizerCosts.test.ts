/**
 * The optimizer strategy prices its trades with the engine's costs (optimizerStrategy.ts).
 * References are independent of the LP: the engine's own trade records (spread + slippage + fee
 * of each "optimize" fill, in coin and at the index in USD) for the costs, and the risk module
 * (risk/greeks.ts positionGreeks on the book rebuilt from the context and the orders, the hedge on
 * the engine's inverse dated future) for the delta. Each test also shows that an approximation
 * (fee = feeRate x index per contract without slippage; a linear 1-coin future) misses the
 * reference, so it can fail.
 */
import { describe, expect, it } from "vitest";
import { futureName } from "../../../src/core/backtest/calendar.js";
import { runBacktest } from "../../../src/core/backtest/engine.js";
import type { BacktestStep } from "../../../src/core/backtest/market.js";
import { optimizerStrategyRule } from "../../../src/core/backtest/optimizerStrategy.js";
import {
  type StrategyRule,
  isHedgeOrder,
  type StrategyContext,
  type StrategyOrder,
  type StrategySpec,
} from "../../../src/core/backtest/strategies.js";
import { syntheticSteps } from "../../../src/core/backtest/syntheticMarket.js";
import { DEFAULT_COSTS } from "../../../src/core/hedge/costs.js";
import { instrumentFromName } from "../../../src/core/instruments/names.js";
import type { Position } from "../../../src/core/instruments/types.js";
import { positionGreeks } from "../../../src/core/risk/greeks.js";
import { loadLpSolver } from "../../../src/core/optimize/lpSolver.js";

/** HiGHS loaded once for the file; the strategy then solves synchronously. */
const solver = await loadLpSolver();

const HOUR = 3_600_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5); // a Monday
/** The optimizer's logged cost vs the engine's fills re-summed here (coin x index over ~10 fills of 1-1000 USD): 1e-9 relative. */
const REL = 1e-9;
/** A fee below the 0.0003-coin rate by more than 1e-6 relative is the 12.5% cap binding (the two differ by >= 1e-3 otherwise). */
const CAP_DETECT_REL = 1e-6;
/** One product on a fee of ~1e-4 coin: 14 digits. (FEE_DIGITS was 12; tightened, passes at 14). */
const FEE_DIGITS = 14;
/** The old feeRate x index pricing must differ from the engine's charge by more than 0.1%. */
const OLD_WAY_MIN_REL = 1e-3;
/** Vega target met by the LP equality row far inside HiGHS's 1e-7 feasibility tolerance in scaled units: 8 digits on 100 USD/vol pt. (VEGA_TARGET_DIGITS was 6; tightened, passes at 8). */
const VEGA_TARGET_DIGITS = 8;
/** HiGHS's primal feasibility tolerance on the delta band row (coins). */
const BAND_SLACK = 1e-7;
/** The engine's delta of the held book (risk engine, same Black-76) vs the optimizer's logged delta: summation order, 11 digits of coin. (DELTA_DIGITS was 9; tightened, passes at 11). */
const DELTA_DIGITS = 11;
/** Netted quantities below 1e-12 contracts are float leftovers of buy/sell pairs, not positions. */
const ZERO_QTY = 1e-12;

type OptimizerSpec = Extract<StrategySpec, { type: "optimizer" }>;

const baseSpec = (o: {
  target: number;
  band: number;
  candidates: object;
  hedge?: StrategySpec["hedge"];
  everyDays?: number;
}): OptimizerSpec => ({
  type: "optimizer",
  params: {
    usd: 1_000_000,
    rebalance: { everyDays: o.everyDays ?? 1 },
    optimize: {
      underlying: "BTC",
      objective: { kind: "vega-target", targetUsdPerVolPt: o.target, penaltyUsd: 100 },
      constraints: { delta: { min: -o.band, max: o.band } },
      candidates: { minDays: 14, maxDays: 60, maxContracts: 40, ...o.candidates },
      scenarios: { spotShifts: [-0.2, 0, 0.2], volShifts: [0] },
      stress: false,
    },
  },
  ...(o.hedge ? { hedge: o.hedge } : {}),
});

interface Decision {
  readonly ctx: StrategyContext;
  readonly orders: readonly StrategyOrder[];
}

/** Runs `spec`; `first` (if given) trades on the first step instead of the optimizer. */
async function run(spec: OptimizerSpec, steps: BacktestStep[], first?: (s: BacktestStep) => StrategyOrder[]) {
  const rule = optimizerStrategyRule(spec, solver);
  const decisions: Decision[] = [];
  let n = 0;
  const spy: StrategyRule = {
    initial: rule.initial,
    decide: (ctx) => {
      if (first && n++ === 0) return first(ctx.step);
      const k = rule.log.length;
      const orders = rule.decide(ctx);
      if (rule.log.length > k) decisions.push({ ctx, orders });
      return orders;
    },
  };
  const result = runBacktest({ strategy: spec, steps, rule: spy });
  return { result, decisions, log: rule.log };
}

/** The engine's charged cost of the optimizer's fills at `time`, and the old LP's price of them. */
function engineCosts(r: Awaited<ReturnType<typeof run>>, step: BacktestStep) {
  const fills = r.result.trades.filter((t) => t.time === step.time && t.tag === "optimize");
  let engine = 0;
  let old = 0;
  let capped = 0;
  for (const t of fills) {
    const q = Math.abs(t.quantity);
    engine += t.spreadUsd + t.slippageUsd + t.feeUsd;
    // The old LP: spread vs fair (= mark) + feeRate x index per contract, no slippage; the
    // hedge at index x (fee + half-spread + slippage).
    const c = DEFAULT_COSTS;
    old +=
      t.type === "option"
        ? t.spreadUsd + q * c.feeRate * step.indexPrice
        : q * 10 * (c.hedgeFeeRate + (c.hedgeHalfSpreadBps + c.slippageBps) / 1e4); // 10 USD contracts
    // Deribit's option fee in coin: min(0.0003 coin, 12.5% of the price) per contract.
    if (t.type === "option" && t.fee < q * c.feeRate * (1 - CAP_DETECT_REL)) {
      expect(t.fee).toBeCloseTo(q * c.feeCap * t.price, FEE_DIGITS); // the cap binds
      capped++;
    }
  }
  return { fills, engine, old, capped };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("optimizer strategy: the LP prices trades with the engine's costs", () => {
  it("opening: the LP's cost of its trades equals the engine's charged costs, deep-OTM wings (fee cap binds) included", async () => {
    // Only wings (|delta| <= 0.03) as fresh candidates: the LP must buy vega in cheap options.
    const spec = baseSpec({ target: 150, band: 0.2, candidates: { minAbsDelta: 0.003, maxAbsDelta: 0.03 } });
    const steps = [...syntheticSteps({ steps: 2, seed: 3, start: START + 9 * HOUR })];
    const r = await run(spec, steps);
    expect(r.log.map((l) => l.status)).toEqual(["optimal"]);
    const c = engineCosts(r, steps[0] as BacktestStep);
    expect(c.fills.filter((t) => t.type === "option").length).toBeGreaterThan(0);
    expect(c.capped).toBeGreaterThan(0);
    expect(rel(r.log[0]?.costUsd as number, c.engine)).toBeLessThan(REL);
    // The old feeRate x index pricing of the same trades is off the engine's charge.
    expect(rel(c.old, c.engine)).toBeGreaterThan(OLD_WAY_MIN_REL);
    console.log(
      `opening: LP ${r.log[0]?.costUsd.toFixed(6)} USD, engine ${c.engine.toFixed(6)} USD (${c.capped} capped fills of ${c.fills.length}); old LP pricing ${c.old.toFixed(2)} USD`,
    );
  });

  it("closing and keeping: a held book is partly closed at the engine's costs (fee cap binds on the wings sold)", async () => {
    const steps = [...syntheticSteps({ steps: 3, seed: 8, start: START + 9 * HOUR })];
    // Step 0: long 10 at-the-money calls and 30 deep-OTM puts (~25 days).
    const book = (s: BacktestStep): StrategyOrder[] => {
      const e = s
        .expiries()
        .reduce((a, b) => (Math.abs(b - s.time - 30 * DAY) < Math.abs(a - s.time - 30 * DAY) ? b : a));
      const ks = s.strikes(e);
      const F = s.forward(e);
      const atm = ks.reduce((a, b) => (Math.abs(b - F) < Math.abs(a - F) ? b : a));
      const wing = ks.find((k) => k >= 0.7 * F) as number; // a deep wing that has a bid
      return [
        { expiry: e, strike: atm, kind: "call", quantity: 10, tag: "setup" },
        { expiry: e, strike: wing, kind: "put", quantity: 30, tag: "setup" },
      ];
    };
    // Step 1: no fresh candidate (empty tenor range), no hedge, a vega target far below the
    // book's: the LP's only choices are how much of each held option to keep.
    const spec = baseSpec({ target: 100, band: 100, candidates: { minDays: 2000, maxDays: 3000 } });
    const noHedge: OptimizerSpec = { ...spec, params: { ...spec.params, hedgeInOptimizer: false } };
    const r = await run(noHedge, steps, book);
    expect(r.log.map((l) => l.status)).toEqual(["optimal"]);
    const d = r.decisions[0] as Decision;
    expect(d.ctx.options.length).toBe(2);
    // Some held position is reduced (closing), some kept.
    const change = (o: (typeof d.ctx.options)[number]) =>
      d.orders
        .filter(
          (x) => !isHedgeOrder(x) && x.expiry === o.expiry && x.strike === o.strike && x.kind === o.kind,
        )
        .reduce((a, x) => a + x.quantity, 0);
    const reduced = d.ctx.options.filter((o) => Math.sign(change(o)) === -Math.sign(o.quantity));
    expect(reduced.length).toBe(2);
    // ...and part of the book is kept (the vega target is met, not everything closed).
    expect(r.log[0]?.vegaAfterUsdPerVolPt).toBeCloseTo(100, VEGA_TARGET_DIGITS);
    const c = engineCosts(r, steps[1] as BacktestStep);
    expect(c.capped).toBeGreaterThan(0);
    expect(rel(r.log[0]?.costUsd as number, c.engine)).toBeLessThan(REL);
    expect(rel(c.old, c.engine)).toBeGreaterThan(OLD_WAY_MIN_REL);
    console.log(
      `closing: orders ${d.orders.map((o) => (isHedgeOrder(o) ? `hedge ${o.quantity.toFixed(3)}` : `${o.kind} ${o.strike} ${o.quantity.toFixed(3)}`)).join(", ")}; LP ${r.log[0]?.costUsd.toFixed(6)} USD, engine ${c.engine.toFixed(6)} USD (${c.capped} capped); old LP pricing ${c.old.toFixed(2)} USD`,
    );
  });

  it("a dated-future hedge leaves the book's delta (risk module, inverse future) inside the band", async () => {
    const BAND = 0.02;
    // Step 0: long 20 in-the-money calls (~14 coins of delta) for the optimizer to hedge from
    // step 1 on, mostly with the 60-day future (option trades are capped at 2 contracts).
    const book = (s: BacktestStep): StrategyOrder[] => {
      const e = s.expiries().find((x) => x - s.time > 40 * DAY) as number;
      const strike = s.strikes(e).find((k) => k >= 0.9 * s.forward(e)) as number;
      return [{ expiry: e, strike, kind: "call", quantity: 20, tag: "setup" }];
    };
    const spec = baseSpec({
      target: 600,
      band: BAND,
      candidates: { minAbsDelta: 0.15, maxAbsDelta: 0.6, maxContracts: 2 },
      hedge: { policy: "none", instrument: "future", futureTenorDays: 60 },
    });
    // A steep basis (30%/yr) so F/S - 1 of the 60-day future is ~5%.
    const steps = [
      ...syntheticSteps({ steps: 24 * 2 + 2, seed: 12, start: START + 9 * HOUR, basisPerYear: 0.3 }),
    ];
    const r = await run(spec, steps, book);
    expect(r.log.map((l) => l.status)).toEqual(["optimal", "optimal", "optimal"]);
    expect(r.result.rejections).toEqual([]);
    let heldFuture = 0;
    for (const [i, d] of r.decisions.entries()) {
      const s = d.ctx.step;
      // The future the engine traded (or holds): from its trade records.
      const fut = r.result.trades.filter((t) => t.type === "future" && t.time <= s.time).at(-1);
      expect(fut).toBeDefined();
      const e = s.expiries().find((x) => futureName(s.underlying, x) === fut?.instrument) as number;
      if (i > 0) {
        expect(d.ctx.hedgeExpiry).toBe(e);
        heldFuture++;
      }
      // The book after the orders, valued by the risk module.
      const q = new Map<string, { expiry: number; strike: number; kind: "call" | "put"; quantity: number }>();
      for (const o of d.ctx.options) q.set(`${o.expiry}|${o.strike}|${o.kind}`, { ...o });
      let hedge = d.ctx.hedge;
      for (const o of d.orders) {
        if (isHedgeOrder(o)) {
          hedge += o.quantity;
          continue;
        }
        const k = `${o.expiry}|${o.strike}|${o.kind}`;
        const p = q.get(k) ?? { expiry: o.expiry, strike: o.strike, kind: o.kind, quantity: 0 };
        q.set(k, { ...p, quantity: p.quantity + o.quantity });
      }
      const opts = [...q.values()].filter((p) => Math.abs(p.quantity) > ZERO_QTY);
      // The step's core market (the engine's) over the options' expiries and the future's.
      const market = s.market([...opts.map((p) => p.expiry), e])!.market;
      const positions: Position[] = opts.map((p) => ({
        instrument: s.quote(p.expiry, p.strike, p.kind)!.instrument,
        quantity: p.quantity,
      }));
      // Deribit's dated future: 10 USD contracts, inverse; `hedge` coins of delta are
      // hedge x F / 10 contracts entered at F (the expiry's forward, its mark).
      const F = s.forward(e);
      positions.push({
        instrument: instrumentFromName(futureName(s.underlying, e)),
        quantity: (hedge * F) / 10,
        entryPrice: F,
      });
      // Coin cash (before the trades) is delta one.
      const delta =
        d.ctx.coins + positions.reduce((a, p) => a + positionGreeks(p, market).deltaUnderlyingCoin, 0);
      expect(Math.abs(delta)).toBeLessThanOrEqual(BAND + BAND_SLACK);
      expect(r.log[i]?.deltaAfterCoin).toBeCloseTo(delta, DELTA_DIGITS);
      // Had the future been a linear 1-coin contract (delta F/S per coin), the same hedge would
      // leave the book outside the band: the test can tell the two apart.
      const asLinear = delta + hedge * (F / s.indexPrice - 1);
      expect(Math.abs(asLinear)).toBeGreaterThan(BAND);
      // And the LP's cost of the trades is what the engine charged (future hedge included).
      const c = engineCosts(r, s);
      if (i === 0) expect(c.fills.some((t) => t.type === "future")).toBe(true);
      expect(rel(r.log[i]?.costUsd as number, c.engine)).toBeLessThan(REL);
      console.log(
        `future hedge ${i}: hedge ${hedge.toFixed(3)} coin on ${fut?.instrument} (F/S ${(F / s.indexPrice).toFixed(4)}), delta ${delta.toFixed(5)} (band ${BAND}), as a linear future ${asLinear.toFixed(4)}`,
      );
    }
    expect(heldFuture).toBe(2);
  });
});
