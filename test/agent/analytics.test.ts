/**
 * The agent with analytics on, over synthetic Bates/SSVI snapshots (core/market/syntheticSeries):
 * surface refits, margin and CVaR against the engines called directly, the CVaR rule, the
 * optimizer path, an infeasible optimizer spec, the margin pre-trade limit, and a restart.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import { Journal } from "../../src/adapters/journal.js";
import { AgentAnalytics, analyzeTick } from "../../src/agent/analytics.js";
import { applyFill, EMPTY_BOOK } from "../../src/agent/book.js";
import { type AgentAnalyticsConfig, agentAnalyticsSchema } from "../../src/agent/config.js";
import type { PreTradeLimits } from "../../src/agent/limits.js";
import { Agent, type AgentFeed, type JournalRecord } from "../../src/agent/loop.js";
import type { PolicyConfig } from "../../src/agent/policy.js";
import type { Instrument } from "../../src/core/instruments/types.js";
import { standardBookMargin } from "../../src/core/margin/book.js";
import { portfolioMargin } from "../../src/core/margin/portfolioMargin.js";
import { syntheticSeries } from "../../src/core/market/syntheticSeries.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { chainBookMarket } from "../../src/core/risk/chainMarket.js";
import { portfolioGreeks } from "../../src/core/risk/greeks.js";
import { DEFAULT_MERTON_BTC, monteCarloVar } from "../../src/core/risk/var.js";
import { bookPositions } from "../../src/agent/valuation.js";
import { HOUR, PERP, SILENT, WIDE_LIMITS } from "./helpers.js";
import { tempDir } from "./tmp.js";

/** SVI fit RMSE on the synthetic chain's marks: a smooth smile, well under 2 vol points. */
const SVI_RMSE_MAX_VOLPTS = 2;

/** Agent view vs the independent chain -> market -> portfolioGreeks pipeline on the same chain: the same fit and sums; coin delta ~1-10, rounding only. */
const COIN_GREEK_DIGITS = 9;

/** USD figures ~1e3-1e5 (vega, margin x index, MC VaR with the same seed and paths): 6 digits is ~1e-11 relative. */
const USD_DIGITS = 6;

const START = Date.UTC(2026, 0, 5, 9, 0);
const STEPS = 12;

const series = syntheticSeries({ start: START, steps: STEPS, stepMs: HOUR, seed: 7 });
// Displayed sizes of 50 contracts so orders fill in one tick (the generator shows 1).
const chains: ChainSnapshot[] = Array.from({ length: STEPS }, (_, i) => {
  const c = series.chainAt(i);
  return { ...c, quotes: c.quotes.map((q) => ({ ...q, bidSize: 50, askSize: 50 })) };
});
const byName = new Map<string, Instrument>([[PERP.name, PERP]]);
for (const c of chains) for (const q of c.quotes) byName.set(q.instrument.name, q.instrument);
const resolveInstrument = (name: string): Instrument => {
  const i = byName.get(name);
  if (!i) throw new RangeError(`unknown instrument ${name}`);
  return i;
};
const feed = (steps = STEPS): AgentFeed => ({ steps, at: async (i) => chains[i] ?? null });

const policy: PolicyConfig = {
  deltaBand: 0.3,
  hedgeInstrument: "BTC-PERPETUAL",
  vegaTargetPerVolPoint: -600,
  vegaTolerancePerVolPoint: 60,
  vegaExpiryDays: 30,
  rollHours: 24,
  lotSize: 0.1,
  maxOrderContracts: 10,
  limitSlippage: 0.05,
};
const analyticsConfig = (raw: object = {}): AgentAnalyticsConfig => agentAnalyticsSchema.parse(raw);

function makeAgent(
  dir: string,
  o: {
    analytics?: AgentAnalyticsConfig;
    policy?: PolicyConfig;
    limits?: PreTradeLimits;
    steps?: number;
    maxSteps?: number;
  },
) {
  const journal = new Journal<JournalRecord>(join(dir, "journal.jsonl"));
  const broker = new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument });
  const logs: Record<string, unknown>[] = [];
  const agent = new Agent({
    runId: "an",
    feed: feed(o.steps),
    broker,
    journal,
    resolveInstrument,
    policy: o.policy ?? policy,
    limits: o.limits ?? WIDE_LIMITS,
    now: (step) => START + step * HOUR,
    killed: () => false,
    logger: {
      ...SILENT,
      info: (obj: object, msg?: string) => void (msg === "tick" && logs.push(obj as never)),
    },
    ...(o.analytics ? { analytics: o.analytics } : {}),
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
  });
  return { agent, journal, broker, logs };
}

const records = <T extends JournalRecord["type"]>(j: Journal<JournalRecord>, type: T) =>
  j.read().records.filter((r) => r.type === type) as Extract<JournalRecord, { type: T }>[];

describe("agent analytics", () => {
  it("equals the core valuation, margin and CVaR on the chain's market called directly", () => {
    const chain = chains[3] as ChainSnapshot;
    const name = (k: "call" | "put", pick: (xs: number[]) => number) => {
      const qs = chain.quotes.filter(
        (q) => q.instrument.kind === k && q.instrument.expiry > START + 20 * 86_400_000,
      );
      const strikes = qs.map((q) => q.instrument.strike);
      const s = pick(strikes);
      return qs.find((q) => q.instrument.strike === s)?.instrument.name as string;
    };
    // Option premiums of 0.01 BTC; the perpetual at the index (a fill sets its entry price,
    // which its value and delta use).
    const fill = (instrument: string, side: "buy" | "sell", quantity: number) => ({
      clientOrderId: instrument,
      instrument,
      side,
      quantity,
      price: instrument === PERP.name ? chain.indexPrice : 0.01,
      fee: 0,
      feeCurrency: "BTC",
      timestamp: 0,
    });
    let book = EMPTY_BOOK;
    for (const [n, side, qty] of [
      [name("call", (x) => Math.max(...x.filter((k) => k < 100_000))), "sell", 4],
      [name("put", (x) => Math.min(...x.filter((k) => k > 80_000))), "sell", 3],
      [PERP.name, "buy", 500],
    ] as const)
      book = applyFill(book, fill(n, side, qty), resolveInstrument(n));
    for (const margin of ["standard", "portfolio"] as const) {
      const cfg = analyticsConfig({ margin, cvar: { paths: 300, seed: 5, volSpotBeta: -0.4 } });
      const tick = analyzeTick(new AgentAnalytics(cfg), 3, chain, book, resolveInstrument);
      if ("reason" in tick) throw new Error(tick.reason);
      const view = tick.view;
      expect(view).not.toBeNull();
      if (!view) return;
      // Independent pipeline: THE chain -> market step with a fresh SVI fit pinned to the marks.
      const positions = bookPositions(book, resolveInstrument);
      const ref = chainBookMarket([chain], positions, { surface: "fit", surfaceModel: "svi" });
      expect(ref.inputs[0]?.surfaceSource).toBe("svi");
      expect(ref.excluded).toEqual([]);
      const market = ref.market;
      expect(Number.isFinite(view.surface.rmseVolPts)).toBe(true);
      expect(view.surface.rmseVolPts).toBeLessThan(SVI_RMSE_MAX_VOLPTS);
      const g = portfolioGreeks(positions, market).byUnderlying.BTC;
      expect(view.greeks.deltaUnderlyingCoin).toBeCloseTo(
        g?.deltaUnderlyingCoin as number,
        COIN_GREEK_DIGITS,
      );
      expect(view.greeks.vegaUsdPerVol).toBeCloseTo(g?.vegaUsd as number, USD_DIGITS);
      expect(tick.valuation.report.greeks.thetaUsdPerDay).toBeCloseTo(
        g?.thetaUsdPerDay as number,
        COIN_GREEK_DIGITS,
      );
      const m =
        margin === "standard"
          ? standardBookMargin(positions, market).byCurrency.BTC
          : portfolioMargin(positions, market).byCurrency.BTC;
      expect(view.marginUsd).toBeCloseTo((m?.initial as number) * chain.indexPrice, USD_DIGITS);
      expect(view.marginUsd).toBeGreaterThan(0);
      const mc = monteCarloVar({
        positions,
        market,
        confidence: 0.99,
        horizonDays: 1,
        paths: 300,
        seed: 5,
        volSpotBeta: -0.4,
        params: {
          ...DEFAULT_MERTON_BTC,
          vol: market.underlyings.BTC?.surface.impliedVol(0, 30 / 365) as number,
        },
      });
      expect(view.cvarUsd).toBeGreaterThan(0);
      expect(view.cvarUsd).toBeCloseTo(mc.cvarUsd, USD_DIGITS);
      expect(view.varUsd).toBeCloseTo(mc.varUsd, USD_DIGITS);
    }
  });

  it("refits the surface every tick and reports margin and CVaR in the state and the tick log", async () => {
    const { agent, logs } = makeAgent(tempDir("agent-an"), { analytics: analyticsConfig(), steps: 5 });
    const state = await agent.run();
    expect(logs).toHaveLength(5);
    for (const l of logs) {
      const s = l.surface as { rmseVolPts: number; ageTicks: number; refitted: boolean };
      expect(s.refitted).toBe(true);
      expect(s.ageTicks).toBe(0);
      expect(Number.isFinite(s.rmseVolPts)).toBe(true);
      expect(Number.isFinite(l.cvarUsd as number)).toBe(true);
      expect((l.ms as Record<string, number>).total).toBeGreaterThan(0);
    }
    expect(state.surface?.fitStep).toBe(4);
    expect(state.marginUsd).toBeGreaterThan(0); // short vol book after the first ticks
    expect(state.cvarUsd).toBeGreaterThan(0);
    expect(Math.abs(state.vega / 100 - policy.vegaTargetPerVolPoint)).toBeLessThan(
      policy.vegaTolerancePerVolPoint * 1.5,
    );
  }, 30_000);

  it("keeps the last good fit (aged) between recalibrations", async () => {
    const { agent, logs } = makeAgent(tempDir("agent-an"), {
      analytics: analyticsConfig({ recalibrateEveryTicks: 3 }),
      steps: 5,
    });
    await agent.run();
    expect(logs.map((l) => (l.surface as { ageTicks: number }).ageTicks)).toEqual([0, 1, 2, 0, 1]);
  }, 30_000);

  it("a failed fit is logged and the previous good fit is kept", async () => {
    // Tick 2 has bids and the venue's mark IVs but no ask and no mark price: no quote has a
    // mid or mark-price vol to fit, while the venue's mark IVs still give the tick a market
    // (the surface through the marks). (A tick with no price at all gives no market: the loop
    // test "a chain with no mark" covers it.)
    const broken: AgentFeed = {
      steps: 4,
      at: async (i) => {
        const c = chains[i] as ChainSnapshot;
        return i === 2 ? { ...c, quotes: c.quotes.map((q) => ({ ...q, ask: null, mark: null })) } : c;
      },
    };
    const warnings: string[] = [];
    const ticks: Record<string, unknown>[] = [];
    const agent = new Agent({
      runId: "fit",
      feed: broken,
      broker: new PaperBroker({ statePath: join(tempDir("agent-an"), "b.jsonl"), resolveInstrument }),
      journal: new Journal<JournalRecord>(join(tempDir("agent-an"), "j.jsonl")),
      resolveInstrument,
      policy,
      limits: WIDE_LIMITS,
      now: (step) => START + step * HOUR,
      killed: () => false,
      logger: {
        ...SILENT,
        info: (obj: object, msg?: string) => void (msg === "tick" && ticks.push(obj as never)),
        warn: (_obj: object, msg?: string) => void warnings.push(msg ?? ""),
      },
      analytics: analyticsConfig(),
    });
    const state = await agent.run();
    expect(warnings).toContain("surface fit rejected; keeping the last good fit");
    const s2 = ticks[2]?.surface as { refitted: boolean; ageTicks: number };
    expect(s2).toMatchObject({ refitted: false, ageTicks: 1 });
    expect(state.surface?.lastFailure?.step).toBe(2);
    expect(state.surface?.lastFailure?.reason).toMatch(/no-usable-quotes/);
    expect(state.surface?.fitStep).toBe(3);
  }, 30_000);

  it("a CVaR breach fires a risk-reducing rebalance that lowers CVaR", async () => {
    const dir = tempDir("agent-an");
    const first = makeAgent(dir, { analytics: analyticsConfig(), maxSteps: 3 });
    const s1 = await first.agent.run();
    first.journal.close();
    const before = s1.cvarUsd as number;
    expect(before).toBeGreaterThan(0);
    // Resume with a CVaR limit below the book's CVaR (config is not journaled).
    const limit = (before * 0.6) | 0;
    const second = makeAgent(dir, { analytics: analyticsConfig({ maxCvarUsd: limit }), maxSteps: 5 });
    await second.agent.run();
    const decisions = records(second.journal, "decision").filter((d) => d.step >= 3);
    const risk = decisions.flatMap((d) => d.orders.filter((o) => o.rule === "risk"));
    expect(risk.length).toBeGreaterThan(0);
    expect(risk[0]?.why).toMatch(/CVaR .* > limit/);
    // CVaR each tick decided on (the tick log's `decidedOn`: before its orders): tick 4's is
    // after tick 3's reduction.
    const cvarAt = (step: number) =>
      (second.logs.find((l) => l.step === step)?.decidedOn as { cvarUsd: number } | undefined)?.cvarUsd ??
      Number.NaN;
    expect(cvarAt(3)).toBeGreaterThan(limit);
    expect(cvarAt(4)).toBeLessThan(cvarAt(3));
  }, 30_000);

  it("with the optimizer, CVaR and margin breaches are repaired by buying back held shorts", async () => {
    const dir = tempDir("agent-an");
    const first = makeAgent(dir, { analytics: analyticsConfig(), maxSteps: 3 });
    const s1 = await first.agent.run();
    first.journal.close();
    const cvarLimit = Math.round((s1.cvarUsd as number) * 0.6);
    const marginLimit = Math.round((s1.marginUsd as number) * 0.6);
    const second = makeAgent(dir, {
      analytics: analyticsConfig({ useOptimizer: true, maxCvarUsd: cvarLimit }),
      limits: { ...WIDE_LIMITS, maxMarginUsd: marginLimit },
      maxSteps: 5,
    });
    await second.agent.run();
    const run = records(second.journal, "optimizer").find((r) => r.step === 3);
    expect(run?.status).toBe("optimal");
    expect(run?.summary).toMatch(/CVaR .* > limit .*margin .* > limit/);
    const orders = records(second.journal, "decision").find((d) => d.step === 3)?.orders ?? [];
    expect(
      orders.some(
        (o) => o.rule === "optimizer" && o.side === "buy" && /buys back the held short/.test(o.why),
      ),
    ).toBe(true);
    // The figures each tick decided on (before its orders).
    const at = (step: number) =>
      second.logs.find((l) => l.step === step)?.decidedOn as { cvarUsd: number; marginUsd: number };
    expect(at(3).cvarUsd).toBeGreaterThan(cvarLimit);
    expect(at(3).marginUsd).toBeGreaterThan(marginLimit);
    expect(at(4).cvarUsd).toBeLessThanOrEqual(cvarLimit);
    expect(at(4).marginUsd).toBeLessThanOrEqual(marginLimit);
  }, 60_000);

  it("the optimizer path reaches the vega target within tolerance with |delta| inside the band", async () => {
    const dir = tempDir("agent-an");
    const { agent, journal } = makeAgent(dir, {
      analytics: analyticsConfig({ useOptimizer: true, maxCvarUsd: 200_000 }),
      steps: 4,
    });
    const state = await agent.run();
    const runs = records(journal, "optimizer");
    expect(runs.length).toBeGreaterThan(0);
    expect(runs[0]?.status).toBe("optimal");
    const orders = records(journal, "decision").flatMap((d) => d.orders);
    expect(orders.some((o) => o.rule === "optimizer" && /^optimizer \(vega/.test(o.why))).toBe(true);
    expect(Math.abs(state.vega / 100 - policy.vegaTargetPerVolPoint)).toBeLessThanOrEqual(
      policy.vegaTolerancePerVolPoint,
    );
    expect(Math.abs(state.delta)).toBeLessThanOrEqual(policy.deltaBand);
    expect(state.cvarUsd).toBeLessThanOrEqual(200_000);
  }, 60_000);

  it("an infeasible optimizer spec is journaled with its diagnosis and no option order goes out", async () => {
    const dir = tempDir("agent-an");
    const { agent, journal } = makeAgent(dir, {
      // A short-vega band needs short options, whose margin the budget does not allow.
      analytics: analyticsConfig({ useOptimizer: true, optimizer: { vega: "hard" } }),
      limits: { ...WIDE_LIMITS, maxMarginUsd: 100 },
      steps: 2,
    });
    const state = await agent.run();
    const runs = records(journal, "optimizer");
    expect(runs[0]?.status).toBe("infeasible");
    expect(runs[0]?.diagnosis).toMatch(/margin|vega/);
    console.info(`infeasible optimizer diagnosis: ${runs[0]?.diagnosis}`);
    expect(runs[0]?.fallback).toBe("none");
    expect(state.lastOptimizer?.status).toBe("infeasible");
    const orders = records(journal, "decision").flatMap((d) => d.orders);
    expect(orders.filter((o) => o.rule !== "delta")).toEqual([]);
    expect(state.vega).toBe(0);
  }, 60_000);

  it("the margin limit binds: an order that would push margin over it is rejected, naming the limit", async () => {
    const dir = tempDir("agent-an");
    const { agent, journal } = makeAgent(dir, {
      analytics: analyticsConfig(),
      limits: { ...WIDE_LIMITS, maxMarginUsd: 5_000 },
      steps: 2,
    });
    const state = await agent.run();
    const rejected = records(journal, "limit-rejected");
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected[0]?.limit).toBe("maxMarginUsd");
    expect(rejected[0]?.reason).toMatch(/margin after \d+ USD > limit 5000/);
    expect(state.marginUsd ?? 0).toBeLessThanOrEqual(5_000);
  }, 30_000);

  it("a restart mid-run reproduces the uninterrupted book and order ids (optimizer on)", async () => {
    const cfg = analyticsConfig({ useOptimizer: true, maxCvarUsd: 150_000, recalibrateEveryTicks: 2 });
    const ref = makeAgent(tempDir("agent-an"), { analytics: cfg, steps: 6 });
    const refState = await ref.agent.run();
    const dir = tempDir("agent-an");
    const a = makeAgent(dir, { analytics: cfg, steps: 6, maxSteps: 3 });
    await a.agent.run();
    a.journal.close();
    const b = makeAgent(dir, { analytics: cfg, steps: 6 });
    const state = await b.agent.run();
    expect(state.recovered?.fromStep).toBe(3);
    expect(state.book).toEqual(refState.book);
    expect(b.broker.allOrders().map((o) => o.clientOrderId)).toEqual(
      ref.broker.allOrders().map((o) => o.clientOrderId),
    );
  }, 60_000);
});
