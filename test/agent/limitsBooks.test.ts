/**
 * Limits count everything (issue 19 item 3): 10,000 random books and orders, seeded, through the
 * agent's own path (settle.ts settleExpiredLegs, then preTrade.ts preTradeCheck on the tick's core
 * market), including positions the market cannot price (another underlying, an expiry beyond the
 * listed ones) and options that expired before the tick. Every order that passes is judged by an
 * independent revaluation written here: Black-76 (Marsaglia's series for the normal CDF) for the
 * options' forward delta and vega on the chains' flat 60% vol, m / entry for the inverse
 * perpetual, the book's equity in USD from cash, option premiums (Deribit's mark convention) and
 * the perpetual's PnL. 0 breaches of any limit (size, notional, |delta|, |vega|, order rate,
 * position size, daily loss, reduce-only), and every expired option settled out of the book at
 * its intrinsic value on the index.
 */
import { describe, expect, it } from "vitest";
import { type AgentBook, EMPTY_BOOK } from "../../src/agent/book.js";
import type { PreTradeLimits } from "../../src/agent/limits.js";
import { preTradeCheck, tickContext, type TickContext } from "../../src/agent/preTrade.js";
import { settleExpiredLegs } from "../../src/agent/settle.js";
import { deribitOptionName, instrumentFromName } from "../../src/core/instruments/names.js";
import type { Instrument } from "../../src/core/instruments/types.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { createRng } from "../../src/core/math/rng.js";
import { chainAt, PERP, T0 } from "./helpers.js";

/** Daily loss vs its limit: equity differences of ~1e5-1e6 USD books; 1e-6 relative (floor 1 USD) for the valuation's rounding at the boundary. */
const LOSS_LIMIT_REL = 1e-6;

const N = 10_000;
const DAY = 86_400_000;
const YEAR = 365 * DAY;
const VOL = 0.6;

/** Standard normal CDF, Marsaglia (2004) series: Phi(x) = 1/2 + phi(x) (x + x^3/3 + x^5/15 + ...). */
function normCdf(x: number): number {
  if (x < -8) return 0;
  if (x > 8) return 1;
  let term = x;
  let sum = x;
  for (let i = 3; i < 400 && Math.abs(term) > 1e-17 * Math.abs(sum); i += 2) {
    term *= (x * x) / i;
    sum += term;
  }
  return 0.5 + sum * Math.exp(-0.5 * x * x - 0.5 * Math.log(2 * Math.PI));
}
const normPdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

/** Independent Black-76 (r = 0) on forward F: USD price, forward delta, vega per 1.00 vol, per coin. */
function black(kind: "call" | "put", F: number, K: number, T: number, vol: number) {
  const s = vol * Math.sqrt(T);
  const d1 = (Math.log(F / K) + 0.5 * s * s) / s;
  const d2 = d1 - s;
  const call = F * normCdf(d1) - K * normCdf(d2);
  const price = kind === "call" ? call : call - (F - K);
  const delta = kind === "call" ? normCdf(d1) : normCdf(d1) - 1;
  return { price, delta, vega: F * normPdf(d1) * Math.sqrt(T) };
}

const known = new Map<string, Instrument>();
const resolve = (name: string): Instrument => known.get(name) ?? instrumentFromName(name);

interface Market {
  snapshot: ChainSnapshot;
  ctx: TickContext;
  spot: number;
  time: number;
  options: Instrument[];
}

/** Independent figures of a book on a market (F = spot on these chains: flat, r = 0). */
function judge(book: AgentBook, m: Market) {
  let delta = 0;
  let vega = 0;
  let equity = 0;
  for (const [currency, amount] of Object.entries(book.cash))
    equity += currency === "BTC" ? amount * m.spot : currency === "USDC" ? amount : Number.NaN;
  for (const p of Object.values(book.positions)) {
    const ins = resolve(p.instrument);
    if (ins.type === "option") {
      const T = (ins.expiry - m.time) / YEAR;
      const b = black(ins.kind, m.spot, ins.strike, T, VOL);
      const q = p.quantity * ins.contractSize;
      delta += q * b.delta;
      vega += q * b.vega;
      equity += ((q * b.price) / m.spot) * m.spot; // B / F coins at the index S (F = S here)
    } else {
      const E = p.entryPrice ?? m.spot;
      delta += (p.quantity * ins.contractSize) / E;
      equity += p.quantity * ins.contractSize * (1 / E - 1 / m.spot) * m.spot;
    }
  }
  return { delta, vega, equity };
}

function markets(): Market[] {
  const out: Market[] = [];
  [70_000, 95_000, 100_000, 118_000, 135_000].forEach((spot, i) => {
    const time = T0 + (i * 7 + 1) * 3_600_000;
    const snapshot = chainAt(time, spot, VOL);
    for (const q of snapshot.quotes) known.set(q.instrument.name, q.instrument);
    const ctx = tickContext(null, i, snapshot, EMPTY_BOOK, resolve);
    if ("reason" in ctx) throw new Error(ctx.reason);
    out.push({ snapshot, ctx, spot, time, options: snapshot.quotes.map((q) => q.instrument) });
  });
  return out;
}

describe("limits on random books with unpriceable and expired positions", () => {
  it(`${N} random books and orders: 0 breaches by an independent Black-76 revaluation`, () => {
    const rng = createRng(20261207);
    const u = () => rng.uniform();
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(u() * xs.length)] as T;
    const ms = markets();
    const breaches: string[] = [];
    const count = {
      passed: 0,
      blocked: 0,
      unpriceable: 0,
      expired: 0,
      settled: 0,
      byLimit: {} as Record<string, number>,
    };
    for (let i = 0; i < N; i++) {
      const m = pick(ms);
      const positions: Record<
        string,
        { instrument: string; quantity: number; cost: number; entryPrice?: number }
      > = {};
      const add = (name: string, quantity: number, entryPrice?: number) => {
        positions[name] = {
          instrument: name,
          quantity,
          cost: 0,
          ...(entryPrice !== undefined ? { entryPrice } : {}),
        };
      };
      const lot = () => Math.round((u() - 0.5) * 2 * 300) / 10 || 0.1;
      for (let k = Math.floor(u() * 5); k > 0; k--) add(pick(m.options).name, lot());
      if (u() < 0.6) add(PERP.name, Math.round((u() - 0.5) * 100_000) || 1, m.spot * (0.9 + 0.2 * u()));
      // Unpriceable: an ETH option, or a BTC option beyond the last listed expiry.
      const unpriceable = u() < 0.25;
      if (unpriceable) {
        const expiry = Math.floor((m.time + 120 * DAY) / DAY) * DAY + 8 * 3_600_000;
        const name =
          u() < 0.5
            ? deribitOptionName({ underlying: "ETH", expiry, strike: 3_000, kind: "call" })
            : deribitOptionName({ underlying: "BTC", expiry, strike: 100_000, kind: "put" });
        add(name, lot());
        count.unpriceable++;
      }
      // Expired before the tick: settles at intrinsic on the index.
      const expired: { name: string; q: number; kind: "call" | "put"; strike: number }[] = [];
      if (u() < 0.25) {
        const expiry = Math.floor((m.time - DAY) / DAY) * DAY + 8 * 3_600_000;
        const kind = u() < 0.5 ? "call" : "put";
        const strike = 60_000 + 5_000 * Math.floor(u() * 17);
        const name = deribitOptionName({ underlying: "BTC", expiry, strike, kind });
        const q = lot();
        add(name, q);
        expired.push({ name, q, kind, strike });
        count.expired++;
      }
      const cash = { BTC: (u() - 0.5) * 4 };
      const raw: AgentBook = { positions, cash, fills: 0 };
      const settled = settleExpiredLegs(i, raw, m.snapshot, resolve);
      const book = settled.book;
      // Every expired option left the book, credited its intrinsic value in coins.
      let credit = 0;
      for (const e of expired) {
        if (book.positions[e.name]) breaches.push(`${i} expired ${e.name} still in the book`);
        const intrinsic = e.kind === "call" ? Math.max(m.spot - e.strike, 0) : Math.max(e.strike - m.spot, 0);
        credit += (e.q * intrinsic) / m.spot;
        count.settled++;
      }
      if (Math.abs((book.cash.BTC ?? 0) - cash.BTC - credit) > 1e-12) breaches.push(`${i} settlement credit`);

      // The order: an option of the chain, the perpetual, or a held leg (often a reduction).
      const held = Object.keys(book.positions);
      const r = u();
      const name =
        r < 0.45 ? pick(m.options).name : r < 0.75 ? PERP.name : held.length > 0 ? pick(held) : PERP.name;
      const ins = resolve(name);
      const isOption = ins.type === "option";
      const heldQ = book.positions[name]?.quantity ?? 0;
      const side = u() < 0.5 ? ("buy" as const) : ("sell" as const);
      const quantity =
        u() < 0.3 && heldQ !== 0
          ? Math.abs(heldQ) * (0.2 + 0.8 * u())
          : isOption
            ? Math.round(u() * 300) / 10 + 0.1
            : Math.round(u() * 60_000) + 1;
      const limits: { -readonly [K in keyof PreTradeLimits]: PreTradeLimits[K] } = {
        maxOptionContracts: 1 + u() * 30,
        maxFutureContracts: 1 + u() * 60_000,
        maxOrderNotionalUsd: 1_000 + u() * 3_000_000,
        maxAbsDelta: 0.5 + u() * 8,
        maxAbsVegaPerVolPoint: 100 + u() * 3_000,
        ...(u() < 0.6 ? { maxOrdersPerWindow: 1 + Math.floor(u() * 8) } : {}),
        ...(u() < 0.6 ? { maxPositionCoins: 0.5 + u() * 30 } : {}),
        ...(u() < 0.6 ? { maxDailyLossUsd: 100 + u() * 20_000 } : {}),
      };
      const before = judge(book, m);
      const ordersInWindow = Math.floor(u() * 10);
      const startOfDay = u() < 0.05 ? null : before.equity + (u() - 0.5) * 60_000;
      const check = preTradeCheck(
        { instrument: name, side, quantity, limitPrice: null },
        {
          book,
          ctx: m.ctx,
          limits,
          resolveInstrument: resolve,
          ordersInWindow,
          startOfDayEquityUsd: startOfDay,
        },
      );
      if (!check.ok) {
        count.blocked++;
        count.byLimit[check.limit] = (count.byLimit[check.limit] ?? 0) + 1;
        continue;
      }
      count.passed++;
      // Independent judgement of a passed order.
      const sign = side === "buy" ? 1 : -1;
      const after = { ...book, positions: { ...book.positions } };
      const q1 = heldQ + sign * quantity;
      after.positions[name] = {
        instrument: name,
        quantity: q1,
        cost: 0,
        ...(ins.type === "future" ? { entryPrice: book.positions[name]?.entryPrice ?? m.spot } : {}),
      };
      const shrinks = Math.abs(q1) < Math.abs(heldQ) && heldQ * q1 >= 0;
      const tol = 1e-7;
      if (unpriceable) {
        if (!shrinks) breaches.push(`${i} reduce-only: ${side} ${quantity} of held ${heldQ}`);
        continue;
      }
      const a = judge(after, m);
      const maxQ = isOption ? limits.maxOptionContracts : limits.maxFutureContracts;
      if (!(quantity <= maxQ)) breaches.push(`${i} size`);
      const notional = isOption ? quantity * ins.contractSize * m.spot : quantity * ins.contractSize;
      if (notional > limits.maxOrderNotionalUsd * (1 + tol)) breaches.push(`${i} notional`);
      if (Math.abs(a.delta) > limits.maxAbsDelta + tol && Math.abs(a.delta) > Math.abs(before.delta) + tol)
        breaches.push(`${i} delta ${before.delta} -> ${a.delta} (limit ${limits.maxAbsDelta})`);
      const vegaLimit = limits.maxAbsVegaPerVolPoint * 100;
      if (Math.abs(a.vega) > vegaLimit * (1 + tol) && Math.abs(a.vega) > Math.abs(before.vega) * (1 + tol))
        breaches.push(`${i} vega ${before.vega} -> ${a.vega} (limit ${vegaLimit})`);
      if (limits.maxOrdersPerWindow !== undefined && !(ordersInWindow < limits.maxOrdersPerWindow))
        breaches.push(`${i} order rate ${ordersInWindow} >= ${limits.maxOrdersPerWindow}`);
      if (limits.maxPositionCoins !== undefined && !shrinks) {
        const coins = Math.abs(q1) * (isOption ? ins.contractSize : ins.contractSize / m.spot);
        if (coins > limits.maxPositionCoins * (1 + tol) && Math.abs(q1) > Math.abs(heldQ))
          breaches.push(`${i} position ${coins} coins > ${limits.maxPositionCoins}`);
      }
      if (limits.maxDailyLossUsd !== undefined) {
        const hedge = !isOption && Math.abs(a.delta) < Math.abs(before.delta) - tol;
        const loss = startOfDay === null ? Number.NaN : startOfDay - before.equity;
        const reducing = shrinks || hedge;
        if (
          !reducing &&
          (Number.isNaN(loss) || loss > limits.maxDailyLossUsd + LOSS_LIMIT_REL * (1 + Math.abs(loss)))
        )
          breaches.push(`${i} daily loss ${loss} > ${limits.maxDailyLossUsd} with a risk-adding order`);
      }
    }
    console.info(
      `limits on random books: ${N} orders (${count.unpriceable} books with an unpriceable leg, ${count.expired} with an expired one, ${count.settled} settled); ${count.passed} passed, ${count.blocked} blocked ${JSON.stringify(count.byLimit)}; ${breaches.length} breaches`,
    );
    expect(breaches.slice(0, 10)).toEqual([]);
    expect(count.passed).toBeGreaterThan(500);
    expect(count.unpriceable).toBeGreaterThan(2_000);
    expect(count.expired).toBeGreaterThan(2_000);
    // Every new limit blocked something, so each was exercised.
    for (const l of [
      "maxOrdersPerWindow",
      "maxPositionCoins",
      "maxDailyLossUsd",
      "reduceOnly",
      "maxAbsDelta",
      "maxAbsVegaPerVolPoint",
    ])
      expect(count.byLimit[l] ?? 0, l).toBeGreaterThan(0);
  });
});
