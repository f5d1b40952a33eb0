/**
 * Pricing bench (issue #2): implied-vol solves per second, the cost of one IV solve in
 * blackPrice calls (target <= 4), and the npm peers `implied-volatility` and
 * `@uqee/black-scholes` on identical cases (speed and max error vs the generating vol), all
 * measured in the same run. Peers get r = 0 and spot = forward, where Black-Scholes equals
 * Black-76 with D = 1. A peer that throws or returns garbage is counted, not fatal.
 *
 * Run: npx tsx bench/run.ts pricing
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { loadDeribitCsvFile } from "../src/adapters/deribit/files.js";
import { normalizeChain } from "../src/core/market/normalize.js";
import { createRng } from "../src/core/math/rng.js";
import { blackPrice } from "../src/core/pricing/black76.js";
import { impliedVol } from "../src/core/pricing/impliedVol.js";
import { impliedVolFromCoinPrice } from "../src/core/pricing/inverse.js";
import { fmt, header, measure, SAMPLE_CHAIN } from "./harness.js";

interface Case {
  readonly price: number;
  readonly forward: number;
  readonly strike: number;
  readonly expiry: number;
  readonly vol: number;
  readonly kind: "call" | "put";
}

type Solver = (c: Case) => number;

const HOUR = 1 / 8760;
const EXPIRIES = [HOUR, 1 / 365, 7 / 365, 30 / 365, 91 / 365, 1];

function makeCases(n: number, seed: number, mLo: number, mHi: number, expiries: number[]): Case[] {
  const rng = createRng(seed);
  const out: Case[] = [];
  const forward = 60000;
  for (let i = 0; i < n; i++) {
    const expiry = expiries[i % expiries.length] as number;
    const vol = 0.2 + 1.3 * rng.uniform();
    const m = mLo + (mHi - mLo) * rng.uniform(); // std devs out of the money
    const kind = rng.uniform() < 0.5 ? "call" : "put";
    const s = vol * Math.sqrt(expiry);
    const strike = forward * Math.exp((kind === "call" ? m : -m) * s);
    const price = blackPrice({ forward, strike, expiry, vol, kind });
    out.push({ price, forward, strike, expiry, vol, kind });
  }
  return out;
}

interface Accuracy {
  readonly maxRelError: number;
  readonly failures: number;
  readonly n: number;
}

/** Max relative error vs the generating vol; a throw, NaN or error > 1e-3 counts as a failure. */
function accuracy(solve: Solver, cases: Case[]): Accuracy {
  let maxRelError = 0;
  let failures = 0;
  for (const c of cases) {
    let v: number;
    try {
      v = solve(c);
    } catch {
      failures++;
      maxRelError = Number.POSITIVE_INFINITY;
      continue;
    }
    const e = Number.isFinite(v) ? Math.abs(v - c.vol) / c.vol : Number.POSITIVE_INFINITY;
    if (!(e <= 1e-3)) failures++;
    if (!(e <= maxRelError)) maxRelError = e;
  }
  return { maxRelError, failures, n: cases.length };
}

function loadPeers(): { name: string; solve: Solver }[] {
  const require = createRequire(import.meta.url);
  const peers: { name: string; solve: Solver }[] = [];
  try {
    const iv = require("implied-volatility") as {
      getImpliedVolatility: (p: number, s: number, k: number, t: number, r: number, cp: string) => number;
    };
    peers.push({
      name: "implied-volatility",
      solve: (c) => iv.getImpliedVolatility(c.price, c.forward, c.strike, c.expiry, 0, c.kind),
    });
  } catch (e) {
    console.log(`implied-volatility not loadable: ${(e as Error).message}`);
  }
  try {
    const { BlackScholes } = require("@uqee/black-scholes") as {
      BlackScholes: new (
        o?: Record<string, unknown>,
      ) => {
        sigma: (a: {
          price: number;
          rate: number;
          strike: number;
          time: number;
          type: string;
          underlying: number;
        }) => number;
      };
    };
    const configs: [string, Record<string, unknown>][] = [
      ["@uqee/black-scholes (defaults)", {}],
      [
        "@uqee/black-scholes (tight: Newton, 1e-12, double)",
        {
          priceToSigmaMethod: "newton-raphson",
          priceToSigmaAccuracy: 1e-12,
          priceToSigmaNRIteractions: 100,
          sigmaToPricePrecision: "double",
        },
      ],
    ];
    for (const [name, cfg] of configs) {
      const bs = new BlackScholes(cfg);
      peers.push({
        name,
        solve: (c) =>
          bs.sigma({
            price: c.price,
            rate: 0,
            strike: c.strike,
            time: c.expiry,
            type: c.kind,
            underlying: c.forward,
          }),
      });
    }
  } catch (e) {
    console.log(`@uqee/black-scholes not loadable: ${(e as Error).message}`);
  }
  return peers;
}

/** Every option of the real sample chain at its mark vol, or [] when the file is absent. */
async function realChainCases(): Promise<Case[]> {
  if (!existsSync(SAMPLE_CHAIN)) return [];
  const out: Case[] = [];
  for (const chain of (await loadDeribitCsvFile(SAMPLE_CHAIN)).chains) {
    for (const q of normalizeChain(chain).snapshot.quotes) {
      const vol = q.markVol;
      if (vol === null || !(vol > 0)) continue;
      const c = {
        price: 0,
        forward: q.forward,
        strike: q.instrument.strike,
        expiry: q.timeToExpiry,
        vol,
        kind: q.instrument.kind,
      };
      c.price = blackPrice(c);
      out.push(c); // a literal in the field order of the other cases: one object shape (see above)
    }
  }
  return out;
}

/** Wraps a solver so a throw inside the timing loop becomes NaN (the bench goes on). */
const safe =
  (s: Solver): Solver =>
  (c) => {
    try {
      return s(c);
    } catch {
      return Number.NaN;
    }
  };

export async function run(): Promise<void> {
  header("pricing: Black-76 price and implied vol (Let's Be Rational)");
  const standard = makeCases(4096, 7, 0, 4, EXPIRIES);
  const hour = makeCases(1024, 11, 0, 4, [HOUR]);
  const wings = makeCases(1024, 13, 6, 12, EXPIRIES);
  const mask = 4095;

  // Machine yardstick, so absolute rates from different hosts compare: one Math.exp call on a
  // spread of arguments (same harness, same run). 3 M solves/s on one core is 333 ns per solve.
  // Timed first: measure's call site goes megamorphic after a few different closures, which
  // adds ~15-20 ns to a call as cheap as this one (it read 37-41 ns when timed after the
  // others, 21 ns first) but nothing measurable to an IV solve (420 ns either way).
  const args = Float64Array.from({ length: 4096 }, (_, i) => -0.01 * (i % 1000) - 0.001);
  const exp = measure((i) => Math.exp(args[i & mask] as number), { minMs: 300 });
  const price = measure((i) => blackPrice(standard[i & mask] as Case), { minMs: 400 });
  const iv = measure((i) => impliedVol(standard[i & mask] as Case), { minMs: 400 });
  const ivWings = measure((i) => impliedVol(wings[i & 1023] as Case), { minMs: 300 });
  console.log(
    `blackPrice: ${fmt(price.nsPerOp)} ns/call; impliedVol: ${fmt(iv.nsPerOp)} ns/solve = ` +
      `${fmt(iv.opsPerSecond / 1e6)} M solves/s on one core (target >= 3); deep wings ${fmt(ivWings.nsPerOp)} ns`,
  );
  console.log(`ratio IV solve / blackPrice call: ${fmt(iv.nsPerOp / price.nsPerOp)} (target <= 4)`);
  console.log(
    `yardstick: Math.exp ${fmt(exp.nsPerOp)} ns on this machine; one IV solve = ${fmt(iv.nsPerOp / exp.nsPerOp)} ` +
      `exp calls (3 M solves/s needs a host where Math.exp takes <= ${fmt(333 / (iv.nsPerOp / exp.nsPerOp))} ns)`,
  );

  // Coin-quoted (Deribit inverse) prices: impliedVolFromCoinPrice wraps impliedVol; a wrapper
  // that built its input by object spread made V8 give every call its own map (3.5-6x slower).
  const coin = standard.map((c) => ({
    priceCoin: c.price / c.forward,
    forward: c.forward,
    strike: c.strike,
    expiry: c.expiry,
    kind: c.kind,
  }));
  const ivCoin = measure((i) => impliedVolFromCoinPrice(coin[i & mask] as (typeof coin)[number]), {
    minMs: 300,
  });
  console.log(
    `impliedVolFromCoinPrice (inverse quotes): ${fmt(ivCoin.nsPerOp)} ns/solve = ${fmt(ivCoin.nsPerOp / iv.nsPerOp)}x impliedVol`,
  );

  // The strike/expiry/vol mix of a real Deribit chain (both coins, every listed option at its
  // mark vol, priced by Black-76 on the chain forward): the cases a chain calibration solves.
  const real = await realChainCases();
  if (real.length > 0) {
    const n = real.length;
    const r = measure((i) => impliedVol(real[i % n] as Case), { minMs: 300 });
    const a = accuracy((c) => impliedVol(c), real);
    console.log(
      `real chain mix (${n} options, sample 2026-01-10): ${fmt(r.nsPerOp)} ns/solve = ${fmt(r.opsPerSecond / 1e6)} M solves/s; ` +
        `max rel err ${fmt(a.maxRelError)}, ${a.failures} failures`,
    );
  } else console.log(`real chain mix: skipped (${SAMPLE_CHAIN} not found)`);

  const sets: [string, Case[]][] = [
    ["0-4 sd, 1h..1y", standard],
    ["1-hour expiry", hour],
    ["6-12 sd wings", wings],
  ];
  const ours: Solver = (c) => impliedVol(c);
  const solvers = [{ name: "volfolio impliedVol", solve: ours }, ...loadPeers()];
  const rows: string[][] = [];
  for (const s of solvers) {
    const fn = safe(s.solve);
    const speed =
      s.solve === ours ? iv : measure((i) => fn(standard[i & mask] as Case), { batch: 256, minMs: 400 });
    const cells = [s.name, fmt(speed.nsPerOp), fmt(speed.nsPerOp / iv.nsPerOp)];
    for (const [, cases] of sets) {
      const a = accuracy(fn, cases);
      cells.push(`${fmt(a.maxRelError)} (${a.failures}/${a.n} fail)`);
    }
    rows.push(cells);
  }
  const head = ["solver", "ns/solve", "x ours", ...sets.map(([n]) => `max rel err: ${n}`)];
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] as string).length)));
  const line = (r: string[]) => r.map((c, j) => c.padEnd(widths[j] as number)).join("  ");
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log("(fail = threw, non-finite, or relative error above 1e-3; errors vs the generating vol)");
}
