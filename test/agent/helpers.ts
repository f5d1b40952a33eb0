/** Test fixtures for the agent: a small, exactly priced inverse chain and a name resolver. */
import { expect } from "vitest";
import { Journal } from "../../src/adapters/journal.js";
import type { PreTradeLimits } from "../../src/agent/limits.js";
import type { AgentFeed, JournalRecord } from "../../src/agent/loop.js";
import type { PolicyConfig } from "../../src/agent/policy.js";
import { deribitOptionName, instrumentFromName } from "../../src/core/instruments/names.js";
import type { Instrument, OptionContract } from "../../src/core/instruments/types.js";
import type { ChainSnapshot, OptionQuote } from "../../src/core/market/types.js";
import { createRng } from "../../src/core/math/rng.js";
import { blackPrice } from "../../src/core/pricing/black76.js";

const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const T0 = Date.UTC(2026, 0, 5, 9, 0);

export function option(kind: "call" | "put", strike: number, expiry: number): OptionContract {
  return {
    type: "option",
    name: deribitOptionName({ underlying: "BTC", expiry, strike, kind }),
    underlying: "BTC",
    kind,
    strike,
    expiry,
    settlement: "inverse",
    contractSize: 1,
  };
}

/** The inverse BTC perpetual, 10 USD per contract. */
export const PERP: Instrument = instrumentFromName("BTC-PERPETUAL");

/** A chain at `time` with index `spot`, flat vol `vol`, expiries 2, 9, 30 and 60 days out (08:00 UTC). */
export function chainAt(
  time: number,
  spot: number,
  vol = 0.6,
  opts: { crossed?: boolean } = {},
): ChainSnapshot {
  const quotes: OptionQuote[] = [];
  for (const days of [2, 9, 30, 60]) {
    const expiry = Math.floor((T0 + days * DAY) / DAY) * DAY + 8 * 3_600_000;
    const T = (expiry - time) / (365 * DAY);
    if (T <= 0) continue;
    for (let strike = 60_000; strike <= 140_000; strike += 5_000) {
      for (const kind of ["call", "put"] as const) {
        const usd = blackPrice({ forward: spot, strike, expiry: T, vol, kind });
        const mark = usd / spot;
        const half = Math.max(0.0001, mark * 0.02);
        quotes.push({
          instrument: option(kind, strike, expiry),
          timestamp: time,
          bid: opts.crossed ? mark + half : Math.max(mark - half, 0.0001),
          ask: opts.crossed ? Math.max(mark - half, 0.0001) : mark + half,
          mark,
          bidSize: 20,
          askSize: 20,
          markIv: vol,
          underlyingPrice: spot,
        });
      }
    }
  }
  return { underlying: "BTC", valuationTime: time, indexPrice: spot, quotes };
}

const byName = new Map<string, Instrument>();
export function registerChain(chain: ChainSnapshot): void {
  for (const q of chain.quotes) byName.set(q.instrument.name, q.instrument);
}
export function resolveInstrument(name: string): Instrument {
  if (name === PERP.name) return PERP;
  const i = byName.get(name);
  if (!i) throw new RangeError(`unknown instrument ${name}`);
  return i;
}

/** The policy the loop tests run: short 2,000 USD/vol pt of 30-day vega, delta band 0.5 coin. */
export const TEST_POLICY: PolicyConfig = {
  deltaBand: 0.5,
  hedgeInstrument: "BTC-PERPETUAL",
  vegaTargetPerVolPoint: -2_000,
  vegaTolerancePerVolPoint: 200,
  vegaExpiryDays: 30,
  rollHours: 24,
  lotSize: 0.1,
  maxOrderContracts: 25,
  limitSlippage: 0.05,
};

/**
 * A journal that "crashes" the process (throws out of the loop) when the agent journals its first
 * broker error: a broker exception no longer ends a run (brokerPolicy.ts), so the in-process crash
 * tests throw from the broker and stop here, before the error is recorded, as a SIGKILL would.
 */
export class CrashOnBrokerErrorJournal extends Journal<JournalRecord> {
  override append(record: JournalRecord): void {
    if (record.type === "broker-error") throw new Error(`simulated crash (${record.message})`);
    super.append(record);
  }
}

/**
 * Pre-trade limits wide enough that TEST_POLICY's orders pass: the loop, recovery and broker tests
 * look at the rules and the journal, not at the limits (limits tests tighten one field of it).
 */
export const WIDE_LIMITS: PreTradeLimits = {
  maxOptionContracts: 50,
  maxFutureContracts: 1_000_000,
  maxOrderNotionalUsd: 10_000_000,
  maxAbsDelta: 20,
  maxAbsVegaPerVolPoint: 5_000,
};

/** A logger that drops everything. */
export const SILENT = { info() {}, warn() {}, error() {} };

/**
 * Hourly chains (chainAt, flat vol `vol`, default 0.6) from `start` (default T0) at the index
 * spots given, one a step, registered with resolveInstrument; `crossed(step)` crosses that
 * step's quotes.
 */
export function hourlyChains(
  spots: readonly number[],
  opts: { start?: number; vol?: number; crossed?: (step: number) => boolean } = {},
): ChainSnapshot[] {
  const start = opts.start ?? T0;
  const chains = spots.map((s, i) =>
    chainAt(start + i * HOUR, s, opts.vol ?? 0.6, { crossed: opts.crossed?.(i) ?? false }),
  );
  chains.forEach(registerChain);
  return chains;
}

/** `steps` spots from 100,000 drifting linearly: 100,000 x (1 + rate x step). */
export function driftSpots(steps: number, rate: number): number[] {
  return Array.from({ length: steps }, (_, i) => 100_000 * (1 + rate * i));
}

/** `steps` hourly spots from 100,000 on a seeded driftless lognormal path of annual vol `vol`. */
export function hourlyPathSpots(steps: number, seed: number, vol: number): number[] {
  const rng = createRng(seed);
  const spots = [100_000];
  let last = 100_000;
  for (let i = 1; i < steps; i++) {
    last *= Math.exp(vol * Math.sqrt(1 / 8760) * rng.normal());
    spots.push(last);
  }
  return spots;
}

/** A replay feed over `chains` (the first `steps`; null past the end). */
export function replayFeed(chains: readonly ChainSnapshot[], steps = chains.length): AgentFeed {
  return { steps, at: async (i) => chains[i] ?? null };
}

/** Every order the agent decided has exactly one recorded outcome (filled/open, rejected or cancelled). */
export function expectOneOutcomePerDecidedOrder(records: readonly JournalRecord[]): void {
  const decided = records.flatMap((r) => (r.type === "decision" ? r.orders.map((o) => o.clientOrderId) : []));
  const outcomes = records.flatMap((r) =>
    r.type === "order"
      ? [r.state.clientOrderId]
      : r.type === "limit-rejected" || r.type === "cancelled"
        ? [r.clientOrderId]
        : [],
  );
  expect(new Set(decided).size).toBe(decided.length);
  expect([...outcomes].sort()).toEqual([...decided].sort());
}

/** The policy and limits of the CLI agent tests' JSON configs (`volfolio agent --config`). */
export const CLI_POLICY = {
  deltaBand: 0.25,
  hedgeInstrument: "BTC-PERPETUAL",
  vegaTargetPerVolPoint: -1000,
  vegaTolerancePerVolPoint: 100,
  vegaExpiryDays: 30,
  rollHours: 24,
  lotSize: 0.1,
  maxOrderContracts: 5,
  limitSlippage: 0.03,
};
export const CLI_LIMITS = {
  maxOptionContracts: 25,
  maxFutureContracts: 200_000,
  maxOrderNotionalUsd: 5_000_000,
  maxAbsDelta: 5,
  maxAbsVegaPerVolPoint: 4000,
};
