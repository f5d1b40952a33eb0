/**
 * The agent values its book through the core (issue 18, "one market, one valuation"):
 *  - its reported greeks and equity equal an independent Black-76 reference written here and
 *    core portfolioGreeks / bookEquity on chainBookMarket of the same chain and positions;
 *  - an expired option leaves the book with its settlement credited, journaled;
 *  - a restart from the journal reaches the same book;
 *  - a position the market cannot value makes the agent reduce-only and is named in GET /state;
 *  - a chain with no mark gives no market: safe mode, with the reason.
 *
 * Deribit's convention for inverse (coin-settled) options, stated here independently of the code:
 * premium in coin = Black-76 price at the expiry's forward F / F, so the USD value of an inverse
 * option = (Black price / F) x index; its delta on Deribit's screen is Black's forward delta
 * (dV/dF of the Black price per coin), in coins; its vega and theta in USD are the Black ones
 * times index / F. An inverse perpetual of m USD entered at E is worth m (1/E - 1/S) coins at
 * index S and has delta m / E coins.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import type { Fill, OrderState } from "../../src/adapters/broker/types.js";
import { Journal } from "../../src/adapters/journal.js";
import { type AgentBook, applyFill, EMPTY_BOOK } from "../../src/agent/book.js";
import { startAgentHttp } from "../../src/agent/http.js";
import { KillSwitch } from "../../src/agent/killSwitch.js";
import { Agent, type AgentFeed, type JournalRecord } from "../../src/agent/loop.js";
import type { PolicyConfig } from "../../src/agent/policy.js";
import { agentHttpState } from "../../src/agent/run.js";
import { agentRiskReport, bookPositions } from "../../src/agent/valuation.js";
import { deribitOptionName, instrumentFromName } from "../../src/core/instruments/names.js";
import type { ChainSnapshot, OptionQuote } from "../../src/core/market/types.js";
import { blackGreeks, blackPrice } from "../../src/core/pricing/black76.js";
import { bookEquity } from "../../src/core/risk/account.js";
import { chainBookMarket } from "../../src/core/risk/chainMarket.js";
import { portfolioGreeks } from "../../src/core/risk/greeks.js";
import { HOUR, hourlyChains, option, SILENT, T0, TEST_POLICY, WIDE_LIMITS } from "./helpers.js";
import { tempDir } from "./tmp.js";

/** The agent's greeks and equity vs Black-76 written out leg by leg here: a few legs summed in another order, with USD/coin conversions; rounding only. */
const HAND_BLACK_REL = 1e-12;

/** The agent's valuation vs portfolioGreeks/bookEquity on the same accepted legs and market: summation order only. */
const SAME_LIBRARY_REL = 1e-12;

/** Harmonic mean of two entries ~1e5 USD: 8 digits is ~1e-13 relative, a few divisions' rounding. */
const HARMONIC_ENTRY_DIGITS = 8;

/** Coin cash ~0.1 from a few premiums, fees and settlements: decimal inputs rounded once or twice, ~1e-17. */
const COIN_CASH_DIGITS = 15;

/** Coin equity x an index ~1e5: 6 digits is ~1e-11 relative. */
const EQUITY_USD_DIGITS = 6;

const DAY = 86_400_000;
const YEAR = 365 * DAY;
const S = 100_000;
/** Carry of the forwards (continuous, per year): F = S exp(CARRY T), so F differs from the index. */
const CARRY = 0.08;
const expiryIn = (days: number) => Math.floor((T0 + days * DAY) / DAY) * DAY + 8 * HOUR;
const E9 = expiryIn(9);
const E30 = expiryIn(30);
const fwd = (expiry: number) => S * Math.exp((CARRY * (expiry - T0)) / YEAR);
/** A smile in k = ln(K/F): skewed and curved. */
const smile = (strike: number, F: number) => {
  const k = Math.log(strike / F);
  return 0.55 - 0.1 * k + 0.25 * k * k;
};

/** A BTC chain at T0: two expiries, forwards with carry, marks = Black-76(F)/F at the smile vol. */
function carryChain(): ChainSnapshot {
  const quotes: OptionQuote[] = [];
  for (const expiry of [E9, E30]) {
    const F = fwd(expiry);
    const T = (expiry - T0) / YEAR;
    for (let strike = 70_000; strike <= 140_000; strike += 5_000)
      for (const kind of ["call", "put"] as const) {
        const vol = smile(strike, F);
        const mark = blackPrice({ forward: F, strike, expiry: T, vol, kind }) / F;
        quotes.push({
          instrument: option(kind, strike, expiry),
          timestamp: T0,
          bid: mark * 0.99,
          ask: mark * 1.01,
          mark,
          markIv: vol,
          underlyingPrice: F,
          bidSize: 10,
          askSize: 10,
        });
      }
  }
  return { underlying: "BTC", valuationTime: T0, indexPrice: S, quotes };
}

const fill = (instrument: string, side: "buy" | "sell", quantity: number, price: number): Fill => ({
  clientOrderId: `${instrument}-${side}`,
  instrument,
  side,
  quantity,
  price,
  fee: 0,
  feeCurrency: "BTC",
  timestamp: T0,
});

const C110_30 = deribitOptionName({ underlying: "BTC", expiry: E30, strike: 110_000, kind: "call" });
const P85_9 = deribitOptionName({ underlying: "BTC", expiry: E9, strike: 85_000, kind: "put" });

describe("the agent's valuation is the core's", () => {
  const chain = carryChain();
  let book: AgentBook = EMPTY_BOOK;
  for (const [name, side, qty, price] of [
    [C110_30, "sell", 3, 0.03],
    [P85_9, "buy", 2, 0.01],
    ["BTC-PERPETUAL", "buy", 1_000, 99_000],
    ["BTC-PERPETUAL", "buy", 500, 101_000],
  ] as const)
    book = applyFill(book, fill(name, side, qty, price), instrumentFromName(name));

  it("equals Black-76 at the chain's forward and mark IV under Deribit's convention", () => {
    const r = agentRiskReport(chain, book);
    // Reference, written here (see the file comment).
    let delta = 0;
    let valueCoin = 0;
    let vegaUsd = 0;
    let thetaUsdPerYear = 0;
    for (const [name, qty] of [
      [C110_30, -3],
      [P85_9, 2],
    ] as const) {
      const ins = instrumentFromName(name);
      if (ins.type !== "option") throw new Error(name);
      const F = fwd(ins.expiry);
      const T = (ins.expiry - T0) / YEAR;
      const b = blackGreeks({
        forward: F,
        strike: ins.strike,
        expiry: T,
        vol: smile(ins.strike, F),
        kind: ins.kind,
      });
      delta += qty * b.delta;
      valueCoin += (qty * b.price) / F;
      vegaUsd += (qty * b.vega * S) / F;
      thetaUsdPerYear += (qty * b.theta * S) / F;
    }
    // The perpetual: 1,500 contracts of 10 USD, entries averaged harmonically (E = 1500 / (1000/99000 + 500/101000)).
    const m = 15_000;
    const E = 1_500 / (1_000 / 99_000 + 500 / 101_000);
    expect(book.positions["BTC-PERPETUAL"]?.entryPrice).toBeCloseTo(E, HARMONIC_ENTRY_DIGITS);
    delta += m / E;
    valueCoin += m * (1 / E - 1 / S);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
    const g = r.greeks;
    expect(rel(g.deltaUnderlyingCoin, delta)).toBeLessThan(HAND_BLACK_REL);
    expect(rel(g.valueCoin, valueCoin)).toBeLessThan(HAND_BLACK_REL);
    expect(rel(g.valueUsd, valueCoin * S)).toBeLessThan(HAND_BLACK_REL);
    expect(rel(g.deltaPremiumAdjustedCoin, delta - valueCoin)).toBeLessThan(HAND_BLACK_REL);
    expect(rel(g.vegaUsdPerVol, vegaUsd)).toBeLessThan(HAND_BLACK_REL);
    expect(rel(g.vegaUsdPerVolPt, vegaUsd / 100)).toBeLessThan(HAND_BLACK_REL);
    expect(rel(g.thetaUsdPerDay, thetaUsdPerYear / 365)).toBeLessThan(HAND_BLACK_REL);
    // Equity: the book's coin cash (premiums) plus the positions' coin value, at the index.
    const cashBtc = -3 * -0.03 - 2 * 0.01;
    expect(book.cash.BTC).toBeCloseTo(cashBtc, COIN_CASH_DIGITS);
    expect(rel(r.equity.equityUsd, (cashBtc + valueCoin) * S)).toBeLessThan(HAND_BLACK_REL);
    expect(r.unpriced).toEqual([]);
    expect(r.positions.map((p) => p.volSource)).toEqual(["chain-mark", "chain-mark", undefined]);
  });

  it("equals portfolioGreeks and bookEquity on chainBookMarket of the same chain and positions", () => {
    const r = agentRiskReport(chain, book);
    const positions = bookPositions(book);
    // What `volfolio risk` on this chain does: THE chain -> market step, SVI fit pinned to the marks.
    const v = chainBookMarket([chain], positions, { surface: "fit" });
    expect(v.accepted).toHaveLength(3);
    const g = portfolioGreeks(v.accepted, v.market).byUnderlying.BTC;
    if (!g) throw new Error("no BTC greeks");
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(rel(r.greeks.deltaUnderlyingCoin, g.deltaUnderlyingCoin)).toBeLessThan(SAME_LIBRARY_REL);
    expect(rel(r.greeks.deltaPremiumAdjustedCoin, g.deltaCoin)).toBeLessThan(SAME_LIBRARY_REL);
    expect(rel(r.greeks.vegaUsdPerVol, g.vegaUsd)).toBeLessThan(SAME_LIBRARY_REL);
    expect(rel(r.greeks.thetaUsdPerDay, g.thetaUsdPerDay)).toBeLessThan(SAME_LIBRARY_REL);
    expect(rel(r.greeks.valueUsd, g.valueUsd)).toBeLessThan(SAME_LIBRARY_REL);
    expect(rel(r.equity.equityUsd, bookEquity(v.accepted, book.cash, v.market).equityUsd)).toBeLessThan(
      SAME_LIBRARY_REL,
    );
  });

  it("an option outside the listed expiries and another coin's option are unpriced, never zero risk", () => {
    const far = deribitOptionName({
      underlying: "BTC",
      expiry: expiryIn(200),
      strike: 100_000,
      kind: "call",
    });
    const eth = deribitOptionName({ underlying: "ETH", expiry: E30, strike: 4_000, kind: "put" });
    let b = book;
    b = applyFill(b, fill(far, "sell", 1, 0.1), instrumentFromName(far));
    b = applyFill(b, fill(eth, "buy", 5, 0.02), instrumentFromName(eth));
    const r = agentRiskReport(chain, b);
    expect(r.unpriced.map((u) => [u.instrument, u.quantity, u.reason])).toEqual([
      [far, -1, "outside-expiry-range"],
      [eth, 5, "underlying-not-in-market"],
    ]);
    // The valued part is the same book as before; the ETH cash the market cannot price is listed.
    expect(r.greeks).toEqual(agentRiskReport(chain, book).greeks);
    expect(r.equity.unpriced.map((u) => u.currency)).toEqual(["ETH"]);
  });
});

// --- The loop: settlement, restart, reduce-only, no market ---------------------------------------

const HOURLY_POLICY: PolicyConfig = { ...TEST_POLICY, rollHours: 0.5 };
/** Trades nothing: no vega target to chase, a delta band no book here reaches. */
const PASSIVE: PolicyConfig = {
  ...HOURLY_POLICY,
  vegaTargetPerVolPoint: 0,
  vegaTolerancePerVolPoint: 1e9,
  deltaBand: 1e9,
};
/** Every name here is a Deribit name (helpers.chainAt names its options with deribitOptionName). */
const resolveInstrument = instrumentFromName;

/** Writes a journal holding one filled order of `fills` and a finished tick 0 (the agent resumes at 1). */
function seedJournal(dir: string, fills: Fill[]): void {
  const j = new Journal<JournalRecord>(join(dir, "journal.jsonl"));
  j.append({ type: "start", runId: "v", at: T0 });
  for (const f of fills) {
    const state: OrderState = {
      clientOrderId: f.clientOrderId,
      instrument: f.instrument,
      side: f.side,
      requestedQuantity: f.quantity,
      status: "filled",
      filledQuantity: f.quantity,
      fills: [f],
    };
    j.append({ type: "order", step: 0, state });
  }
  j.append({ type: "step-done", step: 0, delta: 0, vega: 0, mode: "trading" });
  j.close();
}

function agentIn(
  dir: string,
  feed: AgentFeed,
  o: { maxSteps?: number; warnings?: string[]; now?: (step: number) => number; policy?: PolicyConfig } = {},
) {
  const journal = new Journal<JournalRecord>(join(dir, "journal.jsonl"));
  const agent = new Agent({
    runId: "v",
    feed,
    broker: new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }),
    journal,
    resolveInstrument,
    policy: o.policy ?? HOURLY_POLICY,
    limits: WIDE_LIMITS,
    now: o.now ?? ((step) => T0 + step * HOUR),
    killed: () => false,
    logger: { ...SILENT, warn: (_obj: object, msg?: string) => void o.warnings?.push(msg ?? "") },
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
  });
  return { agent, journal };
}

describe("the agent loop on the core valuation", () => {
  // helpers.chainAt lists expiries 2, 9, 30 and 60 days after T0 (08:00 UTC); the 2-day one
  // expires at E2. Ticks hourly from E2 - 3 h, so tick 3 is the first after the expiry.
  const E2 = expiryIn(2);
  const start = E2 - 3 * HOUR;
  const spots = [100_000, 100_400, 99_800, 101_000, 100_600, 100_200, 100_900, 101_300];
  const chains = hourlyChains(spots, { start });
  const feed = (steps = chains.length): AgentFeed => ({ steps, at: async (i) => chains[i] ?? null });
  const now = (step: number) => start + step * HOUR;
  const held = deribitOptionName({ underlying: "BTC", expiry: E2, strike: 95_000, kind: "call" });
  const seed = [fill(held, "buy", 2, 0.05)];
  // 200 days out, beyond the chain's last listed expiry (60 days): no forward, no smile.
  const far = deribitOptionName({ underlying: "BTC", expiry: expiryIn(200), strike: 100_000, kind: "call" });

  it("settles an expired option at the index, credits the coin and journals it", async () => {
    const dir = tempDir("agent-val");
    seedJournal(dir, seed);
    // A passive policy (no vega or delta trade), so the book moves only by the settlement.
    const { agent, journal } = agentIn(dir, feed(), { now, policy: PASSIVE });
    const state = await agent.run();
    expect(state.ordersSent).toBe(0);
    // The call is held to expiry (the roll rule closes inside 0.5 h only; tick 2 is 1 h out), then
    // settled at tick 3 (at the expiry) at its index: 2 x (101,000 - 95,000) / 101,000 BTC.
    const settled = journal.read().records.filter((r) => r.type === "settlement");
    expect(settled).toHaveLength(1);
    const s = settled[0] as Extract<JournalRecord, { type: "settlement" }>;
    expect(s).toMatchObject({
      step: 3,
      instrument: held,
      quantity: 2,
      source: "index-intrinsic",
      currency: "BTC",
      settlementPrice: 101_000,
    });
    const value = (2 * (101_000 - 95_000)) / 101_000;
    expect(s.value).toBeCloseTo(value, COIN_CASH_DIGITS);
    expect(s.detail).toMatch(/delivery price unknown/);
    expect(state.book.positions).toEqual({});
    expect(state.book.cash.BTC).toBeCloseTo(-2 * 0.05 + value, COIN_CASH_DIGITS);
    expect(state.settlements.map((x) => x.instrument)).toEqual([held]);
    // Equity after: the coin cash at the last tick's index.
    expect(state.risk?.equity.equityUsd).toBeCloseTo(
      (-0.1 + value) * (spots.at(-1) as number),
      EQUITY_USD_DIGITS,
    );
    expect(state.risk?.unpriced).toEqual([]);
  });

  it("settles at the feed's delivery price when it has one", async () => {
    const dir = tempDir("agent-val");
    seedJournal(dir, seed);
    const withDelivery: AgentFeed = {
      ...feed(5),
      deliveryPrice: async (u, e) => (u === "BTC" && e === E2 ? 100_500 : null),
    };
    const { agent } = agentIn(dir, withDelivery, { now, policy: PASSIVE });
    const state = await agent.run();
    expect(state.settlements[0]).toMatchObject({ source: "delivery", settlementPrice: 100_500 });
    expect(state.book.cash.BTC).toBeCloseTo(-0.1 + (2 * 5_500) / 100_500, COIN_CASH_DIGITS);
  });

  it.each([2, 5])(
    "a restart from the journal at tick %i (before / after the settlement) reaches the same book",
    async (cut) => {
      const whole = tempDir("agent-val");
      seedJournal(whole, seed);
      const ref = await agentIn(whole, feed(), { now }).agent.run();
      const dir = tempDir("agent-val");
      seedJournal(dir, seed);
      const first = agentIn(dir, feed(), { now, maxSteps: cut });
      await first.agent.run();
      first.journal.close();
      const second = agentIn(dir, feed(), { now });
      const state = await second.agent.run();
      expect(ref.ordersSent).toBeGreaterThan(0);
      expect(ref.settlements.map((x) => x.instrument)).toEqual([held]);
      expect(state.recovered?.fromStep).toBe(cut);
      expect(state.book).toEqual(ref.book);
      expect(state.settlements).toEqual(ref.settlements);
      expect(state.risk).toEqual(ref.risk);
    },
  );

  it("an unpriceable position makes the agent reduce-only, named in the mode, the log and GET /state", async () => {
    // Reduce-only leaves nothing to do but hold it: no vega trade, no hedge.
    const dir = tempDir("agent-val");
    seedJournal(dir, [fill(far, "sell", 1, 0.2)]);
    const warnings: string[] = [];
    const { agent, journal } = agentIn(dir, feed(3), { now, warnings });
    const kill = new KillSwitch(join(dir, "KILL"));
    const { app, url } = await startAgentHttp({
      token: "test-token-0123456789",
      state: () => agentHttpState(agent, { runId: "v", broker: "paper", killSwitch: kill }),
      killSwitch: kill,
    });
    try {
      const state = await agent.run();
      expect(state.mode).toBe("reduce-only");
      expect(state.modeReasons[0]).toMatch(new RegExp(`unpriced ${far} \\(-1\\): outside-expiry-range`));
      expect(warnings).toContain("entering reduce-only mode");
      const records = journal.read().records;
      expect(records.filter((r) => r.type === "decision")).toEqual([]);
      expect(state.ordersSent).toBe(0);
      const body = (await (await fetch(`${url}/state`)).json()) as {
        mode: string;
        risk: { unpriced: { instrument: string; reason: string }[]; greeks: { vegaUsdPerVolPt: number } };
      };
      expect(body.mode).toBe("reduce-only");
      expect(body.risk.unpriced).toEqual([
        expect.objectContaining({ instrument: far, quantity: -1, reason: "outside-expiry-range" }),
      ]);
      // GET /state's risk is agentRiskReport on the last tick's chain and the book: the same
      // figures the loop stored at that tick's end.
      const last = chains[2] as ChainSnapshot;
      expect(body.risk).toEqual(
        JSON.parse(JSON.stringify(agentRiskReport(last, state.book, { resolveInstrument }))),
      );
      expect(body.risk).toEqual(JSON.parse(JSON.stringify(state.risk)));
    } finally {
      await app.close();
    }
  });

  it("in reduce-only mode only orders that shrink a held position go out", async () => {
    // A short 2-day call inside the roll window (closed by the roll rule) next to the far leg.
    const dir = tempDir("agent-val");
    seedJournal(dir, [fill(far, "sell", 1, 0.2), fill(held, "sell", 3, 0.05)]);
    const rolling: PolicyConfig = { ...HOURLY_POLICY, rollHours: 2.5 };
    const journal = new Journal<JournalRecord>(join(dir, "journal.jsonl"));
    const agent = new Agent({
      runId: "v",
      feed: feed(3),
      broker: new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument }),
      journal,
      resolveInstrument,
      policy: rolling,
      limits: WIDE_LIMITS,
      now,
      killed: () => false,
      logger: SILENT,
    });
    const state = await agent.run();
    expect(state.mode).toBe("reduce-only");
    const orders = journal.read().records.flatMap((r) => (r.type === "decision" ? r.orders : []));
    expect(orders.map((o) => [o.rule, o.instrument, o.side, o.quantity])).toEqual([["roll", held, "buy", 3]]);
    expect(state.book.positions[held]).toBeUndefined();
    expect(state.book.positions[far]?.quantity).toBe(-1);
  });

  it("a chain with no mark gives no market: safe mode with the reason, no orders", async () => {
    const c = chains[0] as ChainSnapshot;
    const noMarks: ChainSnapshot = {
      ...c,
      quotes: c.quotes.map((q) => ({ ...q, bid: null, ask: null, mark: null, markIv: null })),
    };
    const dir = tempDir("agent-val");
    const { agent, journal } = agentIn(dir, { steps: 1, at: async () => noMarks }, { now });
    const state = await agent.run();
    expect(state.mode).toBe("safe");
    expect(state.modeReasons[0]).toMatch(/^no-market: no-marks/);
    expect(journal.read().records.filter((r) => r.type === "decision")).toEqual([]);
    expect(state.risk).toBeNull();
  });
});
