import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { normCdf, inverseNormCdf } from "../../../src/core/math/normal.js";
import { createRng } from "../../../src/core/math/rng.js";
import type { Position } from "../../../src/core/instruments/types.js";
import { historicalVar, mertonJumpMoves, monteCarloVar, varCvarFromPnl } from "../../../src/core/risk/var.js";
import { fut, market, sampleBook } from "./fixtures.js";

/** Quantile and tail mean of the integers -99..0: exact decimals up to one interpolation and a 5-term mean, rounded on ~100 (ulp 1.4e-14). */
const SAMPLE_QUANTILE_DIGITS = 12;
/** inverseNormCdf then normCdf: Acklam's inverse is refined to double precision, the round trip is a few ulps of 0.01. */
const INVERSE_NORMAL_DIGITS = 14;
/** Historical VaR of one perpetual vs the quantile of close moves computed here: the same 1% interpolation on ~1e5 USD, so summation rounding only (~1e-11 USD). */
const HIST_VAR_DIGITS = 6;
/** Lognormal VaR vs the Monte Carlo estimate over the sample paths: +-2% is the simulated 1% quantile's sampling error. */
const MC_VAR_BAND = 0.02;

describe("VaR / CVaR", () => {
  it("varCvarFromPnl on a known sample", () => {
    const pnl = Array.from({ length: 100 }, (_, i) => i - 99); // -99..0
    const r = varCvarFromPnl(pnl, 0.95);
    // quantile(0.05) of -99..0 with linear interpolation: -99 + 0.05*99 = -94.05
    expect(r.varUsd).toBeCloseTo(94.05, SAMPLE_QUANTILE_DIGITS);
    // outcomes <= -94.05: -99..-95 (5 values), mean -97
    expect(r.cvarUsd).toBeCloseTo(97, SAMPLE_QUANTILE_DIGITS);
    expect(r.worstPnlUsd).toBe(-99);
  });
  it("a linear position's normal VaR matches the closed form (no jumps, MC)", () => {
    const mkt = market();
    // Linear perpetual, 1 BTC long (contractSize 0.001 x 1000): PnL = S (e^x - 1).
    const book: Position[] = [
      { instrument: fut({ settlement: "linear", contractSize: 0.001 }), quantity: 1000 },
    ];
    const vol = 0.6;
    const h = 10;
    const r = monteCarloVar({
      positions: book,
      market: mkt,
      confidence: 0.99,
      horizonDays: h,
      params: { vol, jumpIntensity: 0, jumpMean: 0, jumpStd: 0 },
      paths: 200_000,
      seed: 7,
    });
    const sd = vol * Math.sqrt(h / 365);
    const z = inverseNormCdf(0.01);
    const exact = -100_000 * (Math.exp(-0.5 * sd * sd + sd * z) - 1);
    expect(r.varUsd / exact).toBeGreaterThan(1 - MC_VAR_BAND);
    expect(r.varUsd / exact).toBeLessThan(1 + MC_VAR_BAND);
    expect(r.cvarUsd).toBeGreaterThan(r.varUsd);
    expect(normCdf(z)).toBeCloseTo(0.01, INVERSE_NORMAL_DIGITS);
  });
  it("Merton moves have the compensated mean (E[S_h/S] = e^{mu h})", () => {
    const moves = mertonJumpMoves({
      params: { vol: 0.5, jumpIntensity: 20, jumpMean: -0.05, jumpStd: 0.1 },
      horizonDays: 30,
      paths: 200_000,
      seed: 3,
    });
    const mean = moves.reduce((a, b) => a + b, 0) / moves.length;
    expect(Math.abs(mean)).toBeLessThan(0.003);
    const again = mertonJumpMoves({
      params: { vol: 0.5, jumpIntensity: 20, jumpMean: -0.05, jumpStd: 0.1 },
      horizonDays: 30,
      paths: 10,
      seed: 3,
    });
    expect(Array.from(again)).toEqual(Array.from(moves.slice(0, 10)));
  });
  it("historical VaR: jumps make the tail fatter; confidence monotone", () => {
    const rng = createRng(11);
    const closes = [100];
    for (let i = 0; i < 800; i++)
      closes.push(closes[i]! * Math.exp(0.03 * rng.normal() + (rng.uniform() < 0.02 ? -0.2 : 0)));
    const o = { positions: sampleBook(), market: market(), closes, horizonDays: 1 };
    const v95 = historicalVar({ ...o, confidence: 0.95 });
    const v99 = historicalVar({ ...o, confidence: 0.99 });
    expect(v95.scenarios).toBe(800);
    expect(v99.varUsd).toBeGreaterThanOrEqual(v95.varUsd);
    expect(v99.cvarUsd).toBeGreaterThanOrEqual(v99.varUsd);
  });
});

const PRICES = resolve(__dirname, "../../../..", "shared/data/prices/BTC-USD_daily.csv");
describe.skipIf(!existsSync(PRICES))("historical VaR on the real BTC-USD history", () => {
  if (!existsSync(PRICES)) console.warn(`skipped: ${PRICES} not found (shared data absent)`);
  it("a 1 BTC linear long: 1-day 99% VaR equals the 1% quantile of daily moves x 100,000", () => {
    const closes = readFileSync(PRICES, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => Number(l.split(",")[4]))
      .filter((x) => Number.isFinite(x) && x > 0);
    const book: Position[] = [
      { instrument: fut({ settlement: "linear", contractSize: 0.001 }), quantity: 1000 },
    ];
    const r = historicalVar({ positions: book, market: market(), closes, confidence: 0.99, horizonDays: 1 });
    const moves = closes
      .slice(1)
      .map((c, i) => c / closes[i]! - 1)
      .sort((a, b) => a - b);
    const h = (moves.length - 1) * 0.01;
    const q =
      moves[Math.floor(h)]! + (h - Math.floor(h)) * (moves[Math.floor(h) + 1]! - moves[Math.floor(h)]!);
    expect(r.varUsd).toBeCloseTo(-q * 100_000, HIST_VAR_DIGITS);
    expect(r.varUsd).toBeGreaterThan(5_000); // BTC's 1% daily tail is worse than -5%
  });
});
