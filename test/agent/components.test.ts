import { readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import { Journal } from "../../src/adapters/journal.js";
import { applyFill, EMPTY_BOOK } from "../../src/agent/book.js";
import { assessFeed } from "../../src/agent/health.js";
import { checkOrder, type PreTradeLimits, reducesPosition } from "../../src/agent/limits.js";
import { instrumentFromName } from "../../src/core/instruments/names.js";
import { valuePosition } from "../../src/core/risk/valuation.js";
import { bookPositions } from "../../src/agent/valuation.js";
import { flatSurface } from "../../src/core/surface/types.js";
import { chainAt, PERP, registerChain, resolveInstrument, T0 } from "./helpers.js";
import { tempDir } from "./tmp.js";

/** Fees and cash in coin (~1e-4 to 0.1) from decimal prices and quantities: one or two roundings, ~1e-17. */
const COIN_DIGITS = 15;

/** Cash + open position value vs the trades' PnL written here: a few inverse/linear terms summed in another order (floor 1). */
const CASH_PLUS_VALUE_REL = 1e-12;

const tmp = () => tempDir("agent");

describe("journal", () => {
  it("frames each record (length + CRC-32), truncates a torn tail, refuses corruption elsewhere", () => {
    const path = join(tmp(), "j.jsonl");
    const j = new Journal<{ a: number }>(path);
    j.append({ a: 1 });
    j.append({ a: 2 });
    j.close();
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines[0]).toBe('{"journal":"volfolio","version":2}');
    expect(JSON.parse(lines[1] as string)).toMatchObject({ a: 1, "~len": 7 });
    writeFileSync(path, `${readFileSync(path, "utf8")}{"a":3,"~len":7,"~cr`); // crash mid-write
    const r = new Journal<{ a: number }>(path).read();
    expect(r.records).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.tornTail).toBe(true);
    expect(r.tornLine).toBe(4);
    const j2 = new Journal<{ a: number }>(path);
    j2.append({ a: 4 }); // truncates the torn tail first
    j2.close();
    expect(new Journal<{ a: number }>(path).read()).toMatchObject({
      records: [{ a: 1 }, { a: 2 }, { a: 4 }],
      tornTail: false,
    });
    // A complete line whose checksum fails, followed by valid records: corruption, an error.
    const text = readFileSync(path, "utf8").replace('{"a":2', '{"a":5');
    writeFileSync(path, text);
    expect(() => new Journal(path).read()).toThrow(/line 3 is not a valid record \(checksum mismatch\)/);
  });

  it("reads version-1 journals (unframed lines) and frames what it appends to them", () => {
    const path = join(tmp(), "v1.jsonl");
    writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":');
    const r = new Journal<{ a: number }>(path).read({ repair: true });
    expect(r).toMatchObject({ records: [{ a: 1 }, { a: 2 }], tornTail: true, truncated: true, version: 1 });
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n{"a":2}\n');
    const j = new Journal<{ a: number }>(path);
    j.append({ a: 3 });
    j.close();
    expect(new Journal<{ a: number }>(path).read().records).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it("continues short writes and rolls back a write that fails part-way (ENOSPC)", () => {
    const path = join(tmp(), "w.jsonl");
    let mode: "short" | "enospc" = "short";
    const j = new Journal<{ a: string }>(path, {
      write: (fd, buf, off, len) => {
        if (mode === "short") return writeSync(fd, buf, off, Math.min(len, 3));
        writeSync(fd, buf, off, Math.floor(len / 2));
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
    });
    j.append({ a: "x".repeat(50) });
    mode = "enospc";
    expect(() => j.append({ a: "y" })).toThrow(/ENOSPC/);
    const r = new Journal<{ a: string }>(path).read();
    expect(r).toMatchObject({ records: [{ a: "x".repeat(50) }], tornTail: false });
  });
});

describe("paper broker", () => {
  const chain = chainAt(T0, 100_000);
  registerChain(chain);
  const q = chain.quotes.find((x) => x.instrument.strike === 110_000 && x.instrument.kind === "call")!;
  const touch = { bid: q.bid, ask: q.ask, bidSize: 5, askSize: 5, underlyingPrice: 100_000, timestamp: T0 };

  it("fills at the touch up to displayed size, partial beyond, with Deribit fees", async () => {
    const b = new PaperBroker({ statePath: join(tmp(), "b.jsonl"), resolveInstrument });
    const s = await b.placeOrder(
      { clientOrderId: "x1", instrument: q.instrument.name, side: "buy", quantity: 8, limitPrice: null },
      touch,
    );
    expect(s.status).toBe("partially-filled");
    expect(s.filledQuantity).toBe(5);
    expect(s.fills[0]?.price).toBe(q.ask);
    expect(s.fills[0]?.fee).toBeCloseTo(Math.min(0.0003, 0.125 * (q.ask as number)) * 5, COIN_DIGITS);
    expect(s.fills[0]?.feeCurrency).toBe("BTC");
  });

  it("is idempotent on the client order id, across restarts", async () => {
    const path = join(tmp(), "b.jsonl");
    const b1 = new PaperBroker({ statePath: path, resolveInstrument });
    const first = await b1.placeOrder(
      { clientOrderId: "id-1", instrument: q.instrument.name, side: "sell", quantity: 1, limitPrice: null },
      touch,
    );
    b1.close();
    const b2 = new PaperBroker({ statePath: path, resolveInstrument });
    const again = await b2.placeOrder(
      { clientOrderId: "id-1", instrument: q.instrument.name, side: "sell", quantity: 1, limitPrice: null },
      touch,
    );
    expect(again).toEqual(first);
    expect(b2.allOrders()).toHaveLength(1);
    expect(await b2.getOrder("nope")).toBeNull();
  });

  it("rejects with a reason when the limit is not met or the side is empty", async () => {
    const b = new PaperBroker({ statePath: join(tmp(), "b.jsonl"), resolveInstrument });
    const r1 = await b.placeOrder(
      {
        clientOrderId: "a",
        instrument: q.instrument.name,
        side: "buy",
        quantity: 1,
        limitPrice: (q.ask as number) / 2,
      },
      touch,
    );
    expect(r1).toMatchObject({ status: "rejected", filledQuantity: 0 });
    expect(r1.reason).toMatch(/worse than limit/);
    const r2 = await b.placeOrder(
      { clientOrderId: "b", instrument: PERP.name, side: "sell", quantity: 1, limitPrice: null },
      { ...touch, bid: null },
    );
    expect(r2.reason).toMatch(/no bid/);
  });
});

describe("book", () => {
  it("moves coin cash by premium and fee, and nets positions to zero", () => {
    const chain = chainAt(T0, 100_000);
    registerChain(chain);
    const name = chain.quotes[0]!.instrument.name;
    const inst = resolveInstrument(name);
    let book = applyFill(
      EMPTY_BOOK,
      {
        clientOrderId: "1",
        instrument: name,
        side: "buy",
        quantity: 2,
        price: 0.05,
        fee: 0.0006,
        feeCurrency: "BTC",
        timestamp: 0,
      },
      inst,
    );
    expect(book.cash.BTC).toBeCloseTo(-0.1006, COIN_DIGITS);
    book = applyFill(
      book,
      {
        clientOrderId: "2",
        instrument: name,
        side: "sell",
        quantity: 2,
        price: 0.06,
        fee: 0.0006,
        feeCurrency: "BTC",
        timestamp: 0,
      },
      inst,
    );
    expect(book.positions[name]).toBeUndefined();
    expect(book.cash.BTC).toBeCloseTo(0.02 - 0.0012, COIN_DIGITS);
  });
});

describe("book: futures", () => {
  const perp = instrumentFromName("BTC-PERPETUAL");
  const linear = instrumentFromName("BTC_USDC-PERPETUAL");
  const f = (instrument: string, side: "buy" | "sell", quantity: number, price: number) => ({
    clientOrderId: `${instrument}-${quantity}-${price}`,
    instrument,
    side,
    quantity,
    price,
    fee: 0,
    feeCurrency: "BTC",
    timestamp: 0,
  });
  /** A market with the BTC index at S (a perpetual's forward is the index). */
  const at = (S: number) => ({
    valuationTime: 0,
    underlyings: { BTC: { indexPrice: S, forwards: [], surface: flatSurface(0.5) } },
  });

  it("realized cash + the open position's value = the fills' PnL, through adds, reductions and a flip", () => {
    // Inverse perpetual, 10 USD a contract: the PnL of fills (q_i, P_i) at index S is
    // sum q_i 10 (1/P_i - 1/S) coins; a linear one (0.001 BTC a contract): sum q_i 0.001 (S - P_i) USDC.
    const trades = [
      ["buy", 1_000, 100_000],
      ["buy", 500, 110_000],
      ["sell", 800, 105_000],
      ["sell", 1_200, 95_000], // flips to short 500
      ["buy", 200, 97_000],
    ] as const;
    for (const [ins, inverse] of [
      [perp, true],
      [linear, false],
    ] as const) {
      let book = EMPTY_BOOK;
      for (const [side, q, p] of trades) book = applyFill(book, f(ins.name, side, q, p), ins);
      expect(book.positions[ins.name]?.quantity).toBe(-300);
      for (const S of [90_000, 100_000, 120_000]) {
        let expected = 0;
        for (const [side, q, p] of trades) {
          const signed = side === "buy" ? q : -q;
          expected += inverse ? signed * 10 * (1 / p - 1 / S) : signed * 0.001 * (S - p);
        }
        const [open] = bookPositions(book, instrumentFromName);
        const v = valuePosition(open as never, at(S));
        const cash = book.cash[inverse ? "BTC" : "USDC"] ?? 0;
        const got = cash + (inverse ? v.valueCoin : v.valueUsd);
        expect(Math.abs(got - expected)).toBeLessThan(CASH_PLUS_VALUE_REL * Math.max(1, Math.abs(expected)));
      }
    }
  });
});

describe("feed health", () => {
  it("flags missing, stale, crossed and jumping data with reasons", () => {
    expect(assessFeed(null, T0, null).reasons[0]?.code).toBe("missing");
    const good = chainAt(T0, 100_000);
    expect(assessFeed(good, T0 + 1000, 99_000).healthy).toBe(true);
    expect(assessFeed(good, T0 + 10 * 60_000, null).reasons.map((r) => r.code)).toEqual(["stale"]);
    expect(
      assessFeed(chainAt(T0, 100_000, 0.6, { crossed: true }), T0, null).reasons.map((r) => r.code),
    ).toEqual(["crossed"]);
    expect(assessFeed(good, T0, 60_000).reasons.map((r) => r.code)).toEqual(["index-jump"]);
  });
});

describe("pre-trade limits", () => {
  const limits: PreTradeLimits = {
    maxOptionContracts: 10,
    maxFutureContracts: 100_000,
    maxOrderNotionalUsd: 2_000_000,
    maxAbsDelta: 5,
    maxAbsVegaPerVolPoint: 1_000,
    maxMarginUsd: 50_000,
  };
  const base = {
    instrument: resolveInstrument(chainAt(T0, 100_000).quotes[0]!.instrument.name),
    indexPrice: 100_000,
    deltaBefore: 0,
    vegaBefore: 0,
    deltaPerContract: 0.5,
    vegaPerContract: 10_000,
  };
  const order = (quantity: number, side: "buy" | "sell" = "buy") => ({
    clientOrderId: "o",
    instrument: "x",
    side,
    quantity,
    limitPrice: null,
  });

  it("blocks size, notional, delta, vega and margin breaches, naming the limit", () => {
    expect(checkOrder(order(11), base, limits)).toMatchObject({ ok: false, limit: "maxOptionContracts" });
    expect(
      checkOrder(
        order(30),
        { ...base, instrument: PERP, deltaPerContract: 1e-4 },
        { ...limits, maxOrderNotionalUsd: 100 },
      ),
    ).toMatchObject({
      ok: false,
      limit: "maxOrderNotionalUsd",
    });
    expect(checkOrder(order(10), { ...base, deltaPerContract: 0.6 }, limits)).toMatchObject({
      ok: false,
      limit: "maxAbsDelta",
    });
    expect(checkOrder(order(10), { ...base, vegaPerContract: 20_000 }, limits)).toMatchObject({
      ok: false,
      limit: "maxAbsVegaPerVolPoint",
    });
    expect(
      checkOrder(order(1), { ...base, marginBefore: 10_000, marginAfter: 60_000 }, limits),
    ).toMatchObject({ ok: false, limit: "maxMarginUsd" });
    expect(checkOrder(order(1), { ...base, marginBefore: 0, marginAfter: 1_000 }, limits)).toMatchObject({
      ok: true,
      deltaAfter: 0.5,
      vegaAfter: 10_000,
    });
    // A configured margin limit without a margin estimate cannot be evaluated: blocked.
    expect(checkOrder(order(1), base, limits)).toMatchObject({ ok: false, limit: "maxMarginUsd" });
    const { maxMarginUsd: _unset, ...withoutMarginLimit } = limits;
    expect(checkOrder(order(1), base, withoutMarginLimit).ok).toBe(true);
  });

  it("always allows an order that reduces a breach", () => {
    const m = { marginBefore: 1_000, marginAfter: 900 };
    expect(checkOrder(order(2, "sell"), { ...base, ...m, deltaBefore: 8 }, limits).ok).toBe(true);
  });

  it("reduce-only: only an order that shrinks the held position without flipping it passes", () => {
    expect(reducesPosition(3, -3)).toBe(true);
    expect(reducesPosition(-0.3, 0.1)).toBe(true);
    expect(reducesPosition(3, -4)).toBe(false); // flips
    expect(reducesPosition(3, 1)).toBe(false);
    expect(reducesPosition(0, 1)).toBe(false);
    const ro = (positionBefore: number) => ({
      ...base,
      reduceOnly: { positionBefore, reason: "unpriced X" },
    });
    expect(checkOrder(order(2, "sell"), ro(3), limits).ok).toBe(true);
    expect(checkOrder(order(2, "buy"), ro(3), limits)).toMatchObject({ ok: false, limit: "reduceOnly" });
    expect(checkOrder(order(4, "sell"), ro(3), limits)).toMatchObject({ ok: false, limit: "reduceOnly" });
    expect(checkOrder(order(1, "buy"), ro(0), limits)).toMatchObject({ ok: false, limit: "reduceOnly" });
  });
});
