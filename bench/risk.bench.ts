/**
 * Risk bench: a 5,000-position BTC/ETH book (inverse and linear options, futures) on the default
 * 21 x 11 spot x vol grid. Reports the cost per position-scenario as a ratio to one blackPrice
 * call measured in the same run (target <= 2x), and the 2-thread piscina speed-up.
 */
import { cpus } from "node:os";
import {
  createRiskPool,
  parallelPortfolioPnl,
  type RiskMarketData,
  riskMarketFromData,
} from "../src/adapters/riskWorkers.js";
import type { Position } from "../src/core/instruments/types.js";
import { createRng } from "../src/core/math/rng.js";
import { blackPrice } from "../src/core/pricing/black76.js";
import { compileBook, scenarioPortfolioPnl } from "../src/core/risk/grid.js";
import { scenarioGrid } from "../src/core/risk/scenario.js";
import { fmt, header, measure, timeOnce } from "./harness.js";

const T0 = Date.UTC(2026, 1, 2, 8);
const DAY = 86_400_000;
const EXPIRIES = [7, 14, 30, 60, 90, 180, 270].map((d) => T0 + d * DAY);

function market(): RiskMarketData {
  const fw = (S: number) =>
    EXPIRIES.map((e) => ({ expiry: e, forward: S * Math.exp((0.05 * (e - T0)) / (365 * DAY)) }));
  return {
    valuationTime: T0,
    underlyings: {
      BTC: {
        indexPrice: 100_000,
        forwards: fw(100_000),
        atmVol: 0.52,
        skew: -0.12,
        curvature: 0.35,
        termSlope: 0.03,
      },
      ETH: {
        indexPrice: 3_500,
        forwards: fw(3_500),
        atmVol: 0.68,
        skew: -0.1,
        curvature: 0.3,
        termSlope: 0.02,
      },
    },
  };
}

function book(n: number): Position[] {
  const rng = createRng(42);
  const out: Position[] = [];
  for (let i = 0; i < n; i++) {
    const eth = rng.uniform() < 0.3;
    const u = eth ? "ETH" : "BTC";
    const S = eth ? 3_500 : 100_000;
    const expiry = EXPIRIES[rng.int(EXPIRIES.length)] as number;
    if (rng.uniform() < 0.9) {
      const linear = rng.uniform() < 0.25;
      const strike = Math.round((S * Math.exp(0.4 * rng.normal())) / (eth ? 50 : 1000)) * (eth ? 50 : 1000);
      out.push({
        instrument: {
          type: "option",
          name: `o${i}`,
          underlying: u,
          kind: rng.uniform() < 0.5 ? "call" : "put",
          strike: Math.max(strike, eth ? 50 : 1000),
          expiry,
          settlement: linear ? "linear" : "inverse",
          contractSize: linear ? (eth ? 0.1 : 0.01) : 1,
        },
        quantity: Math.round(20 * rng.normal()) || 1,
      });
    } else {
      out.push({
        instrument: {
          type: "future",
          name: `f${i}`,
          underlying: u,
          expiry: rng.uniform() < 0.5 ? null : expiry,
          settlement: "inverse",
          contractSize: eth ? 1 : 10,
        },
        quantity: Math.round(1000 * rng.normal()) || 1,
        entryPrice: S,
      });
    }
  }
  return out;
}

export async function run(): Promise<void> {
  header("risk: 5,000-position book x 21 x 11 grid (full revaluation)");
  const data = market();
  const mkt = riskMarketFromData(data);
  const positions = book(5_000);
  const scenarios = scenarioGrid();
  const cells = positions.length * scenarios.length;

  const inputs = Array.from({ length: 1024 }, (_, i) => ({
    forward: 100_000,
    strike: 60_000 + 80 * i,
    expiry: 0.1 + (i % 50) / 100,
    vol: 0.4 + (i % 17) / 50,
    kind: (i % 2 ? "call" : "put") as "call" | "put",
  }));
  const black = measure((i) => blackPrice(inputs[i & 1023] as (typeof inputs)[number]), {
    batch: 200_000,
    minMs: 400,
  });

  const compiled = compileBook(positions, mkt);
  scenarioPortfolioPnl(compiled, scenarios); // warm-up
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 5; r++)
    best = Math.min(best, (await timeOnce(() => scenarioPortfolioPnl(compiled, scenarios))).ms);
  const compileMs = (await timeOnce(() => compileBook(positions, mkt))).ms;
  const nsPerCell = (best * 1e6) / cells;
  console.log(`blackPrice: ${fmt(black.nsPerOp)} ns/call (baseline, same run)`);
  console.log(
    `grid: ${cells.toLocaleString("en-US")} position-scenarios in ${fmt(best)} ms (best of 5) = ${fmt(nsPerCell)} ns each; compile ${fmt(compileMs)} ms`,
  );
  console.log(`cost per position-scenario / blackPrice = ${fmt(nsPerCell / black.nsPerOp)}x (target <= 2x)`);

  const task = { positions, market: data, scenarios };
  const poolMs: number[] = [];
  for (const threads of [1, 2]) {
    const pool = createRiskPool(threads);
    try {
      for (let w = 0; w < 3; w++) await parallelPortfolioPnl(pool, task, threads); // warm-up (thread start, JIT)
      let t = Number.POSITIVE_INFINITY;
      let check = 0;
      for (let r = 0; r < 5; r++) {
        const res = await timeOnce(() => parallelPortfolioPnl(pool, task, threads));
        t = Math.min(t, res.ms);
        check = res.value[0] as number;
      }
      const serial = scenarioPortfolioPnl(compiled, scenarios)[0] as number;
      console.log(
        `piscina ${threads} thread(s): ${fmt(t)} ms (incl. transfer + per-slice compile); speed-up vs in-thread ${fmt(best / t)}x; PnL[0] matches: ${Math.abs(check - serial) <= 1e-6 * (Math.abs(serial) + 1)}`,
      );
      poolMs.push(t);
    } finally {
      await pool.destroy();
    }
  }
  console.log(
    `2-core speed-up (piscina 2 threads vs 1 thread): ${fmt((poolMs[0] as number) / (poolMs[1] as number))}x`,
  );
  console.log(`machine: ${cpus().length} logical CPUs (shared with other jobs; speed-ups are noisy)`);
}
