/**
 * Chain-season forecasts (issue 24 item 1): the ridge fit equals the closed-form ridge solution
 * (normal equations written here), the chain feature row is the stated differences, and the
 * walk-forward never looks ahead (truncating the season changes no earlier forecast).
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../../../../src/core/math/rng.js";
import { dailySeries } from "../../../../src/core/regime/forecast/features.js";
import {
  type ChainDay,
  chainFeatureRow,
  fitRidge,
  scoreSeasonEvent,
  seasonChainForecasts,
} from "../../../../src/core/regime/forecast/season.js";
import { syntheticDailyBars } from "../../../../src/core/regime/syntheticBars.js";

/** The 2-feature least squares solved by hand (Cramer on the 2x2 normal equations) vs the module's solver: conditioning of the standardized features costs a few digits of 16. */
const NORMAL_EQUATIONS_DIGITS = 10;

/** Feature differences of vols ~0.5 and funding x 1,095: one or two operations each, rounding only. */
const FEATURE_DIGITS = 12;

const bars = syntheticDailyBars({ days: 400, start: Date.UTC(2025, 0, 1), spot: 90_000 }, createRng(17)).bars;
const s = dailySeries(bars);

function chainDays(from: number, to: number): ChainDay[] {
  const rng = createRng(5);
  const out: ChainDay[] = [];
  for (let index = from; index < to; index++) {
    const atm30 = 0.4 + 0.1 * rng.normal();
    out.push({
      index,
      volIndex: atm30 + 0.01 * rng.normal(),
      atm7: atm30 + 0.05 * rng.normal(),
      atm30,
      atm90: atm30 + 0.03 * rng.normal(),
      rr25: 0.02 * rng.normal(),
      funding: 0.0001 * (1 + rng.normal()),
      basis: 0.05 + 0.02 * rng.normal(),
    });
  }
  return out;
}

describe("chain-season forecasts", () => {
  it("fits the closed-form ridge on standardized columns, intercept unpenalized", () => {
    const rng = createRng(9);
    const x = Array.from({ length: 50 }, () => [rng.normal() * 3 + 1, rng.normal() - 2]);
    const y = x.map((r) => 0.5 + 2 * (r[0] ?? 0) - (r[1] ?? 0) + rng.normal());
    const lambda = 0.7;
    const predict = fitRidge(x, y, lambda);
    // Closed form: z = standardized x (population sd), beta = (Z'Z + lambda n I)^-1 Z'(y - ybar).
    const n = x.length;
    const col = (j: number) => x.map((r) => r[j] ?? 0);
    const stats = [0, 1].map((j) => {
      const m = col(j).reduce((a, b) => a + b, 0) / n;
      return { m, sd: Math.sqrt(col(j).reduce((a, v) => a + (v - m) ** 2, 0) / n) };
    });
    const z = x.map((r) => [0, 1].map((j) => ((r[j] ?? 0) - (stats[j]?.m ?? 0)) / (stats[j]?.sd ?? 1)));
    const ybar = y.reduce((a, b) => a + b, 0) / n;
    const dot = (a: number, b: number) => z.reduce((acc, r) => acc + (r[a] ?? 0) * (r[b] ?? 0), 0);
    const zy = [0, 1].map((j) => z.reduce((acc, r, i) => acc + (r[j] ?? 0) * ((y[i] ?? 0) - ybar), 0));
    const a11 = dot(0, 0) + lambda * n;
    const a22 = dot(1, 1) + lambda * n;
    const a12 = dot(0, 1);
    const det = a11 * a22 - a12 * a12;
    const b1 = (a22 * (zy[0] ?? 0) - a12 * (zy[1] ?? 0)) / det;
    const b2 = (a11 * (zy[1] ?? 0) - a12 * (zy[0] ?? 0)) / det;
    for (const r of [x[0] ?? [], [4, -1], [-3, 2]]) {
      const expected =
        ybar +
        b1 * (((r[0] ?? 0) - (stats[0]?.m ?? 0)) / (stats[0]?.sd ?? 1)) +
        b2 * (((r[1] ?? 0) - (stats[1]?.m ?? 0)) / (stats[1]?.sd ?? 1));
      expect(predict(r)).toBeCloseTo(expected, NORMAL_EQUATIONS_DIGITS);
    }
  });

  it("builds the chain feature row from the stated differences", () => {
    const d = chainDays(200, 201)[0] as ChainDay;
    const row = chainFeatureRow(s, d);
    let sum = 0;
    for (let k = 171; k <= 200; k++) sum += Math.log((bars[k]?.close ?? 1) / (bars[k - 1]?.close ?? 1)) ** 2;
    const rv30 = Math.sqrt((365 * sum) / 30);
    expect(row[0]).toBeCloseTo(d.volIndex - rv30, FEATURE_DIGITS);
    expect(row[1]).toBeCloseTo(d.atm30 - rv30, FEATURE_DIGITS);
    expect(row[2]).toBeCloseTo(d.atm90 - d.atm7, FEATURE_DIGITS);
    expect(row[3]).toBe(d.atm7 > d.atm30 ? 1 : 0);
    expect(row[5]).toBeCloseTo(d.funding * 3 * 365, FEATURE_DIGITS);
  });

  it("never looks ahead: a truncated season gives the same earlier forecasts", () => {
    const o = { refitEvery: 10, minRows: 40 };
    const full = seasonChainForecasts(s, chainDays(100, 330), o);
    const cut = seasonChainForecasts(dailySeries(bars.slice(0, 260)), chainDays(100, 260), o);
    expect(cut.size).toBeGreaterThan(50);
    for (const [index, v] of cut) expect(full.get(index)).toBe(v);
  });

  it("scores an event only with both outcomes present", () => {
    expect(scoreSeasonEvent([0, 0, 0], [0.1, 0.2, 0.3]).auc).toBeNaN();
    expect(scoreSeasonEvent([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]).auc).toBe(1);
  });
});
