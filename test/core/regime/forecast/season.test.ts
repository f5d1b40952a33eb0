/**
 * Chain-season forecasts (issue 24 item 1): the ridge fit equals the closed-form ridge solution
 * (normal equations written here), the chain feature row of six real 2026 days equals the one a
 * committed numpy script computes from the raw price, DVOL, funding and Deribit chain files, and the
 * walk-forward never looks ahead (truncating the season changes no earlier forecast).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPriceHistory } from "../../../../src/adapters/priceHistory.js";
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

/**
 * Feature row vs scripts/fixtures/season_features_numpy.py (numpy on calendar dates from the raw
 * CSVs): the module's realized variance is a difference of prefix sums of squared returns over
 * ~700 days (~0.5) for a window sum of ~0.005, so ~1e-14 relative; measured worst 1.3e-14 (feature
 * 7 on 2026-02-20); 1e-12 absolute. A one-day window shift moves a feature by > 1e-3.
 */
const FEATURE_ABS = 1e-12;

const PRICES = resolve(__dirname, "../../../../../shared/data/prices/BTC-USD_daily_2024-2026.csv");
const FIXTURE = resolve(__dirname, "../../../fixtures/regime/season_features_numpy.json");
if (!existsSync(PRICES))
  console.warn(
    "test/core/regime/forecast/season: ../shared/data absent, the real-day feature rows are skipped",
  );

interface SeasonFeatureFixture {
  readonly days: readonly {
    readonly date: string;
    readonly inputs: Omit<ChainDay, "index" | "funding"> & { readonly fundingPer8h: number };
    readonly row: readonly number[];
  }[];
}

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

  it.skipIf(!existsSync(PRICES))(
    "builds the chain feature row of real days as the numpy reference computes it from the raw files",
    async () => {
      const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as SeasonFeatureFixture;
      const bars = (await loadPriceHistory(PRICES)).bars;
      const series = dailySeries(bars);
      const flags = new Set<number>();
      for (const day of fixture.days) {
        const index = bars.findIndex((b) => b.date === day.date);
        expect(index, day.date).toBeGreaterThan(30);
        const { fundingPer8h, ...chain } = day.inputs;
        const row = chainFeatureRow(series, { index, ...chain, funding: fundingPer8h });
        expect(row.length).toBe(day.row.length);
        for (const [j, want] of day.row.entries())
          expect(Math.abs((row[j] ?? Number.NaN) - want), `${day.date} feature ${j}`).toBeLessThanOrEqual(
            FEATURE_ABS,
          );
        flags.add(row[3] ?? Number.NaN);
      }
      // The sample holds both an inverted (7d above 30d) and a normal term structure.
      expect([...flags].sort()).toEqual([0, 1]);
    },
  );

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
