/**
 * The agent's forecast signal (issue 24 item 2): a `regime.forecast` block seeds the walk-forward
 * forecast with a daily price file, the ticks become UTC-day bars, and the scale in force is the
 * batch walk-forward's forecast of the last completed day; bad configs name the field.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AgentRegime, agentRegimeSchema } from "../../src/agent/regime.js";
import { createRng } from "../../src/core/math/rng.js";
import { forecastSignal } from "../../src/core/regime/forecast/signal.js";
import { walkForwardForecasts } from "../../src/core/regime/forecast/walkForward.js";
import { syntheticDailyBars } from "../../src/core/regime/syntheticBars.js";
import { tempDir } from "./tmp.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("agent forecast signal", () => {
  const all = syntheticDailyBars({ days: 503, start: Date.UTC(2023, 0, 1), spot: 20_000 }, createRng(8)).bars;
  const seed = all.slice(0, 500);
  const csv = [
    "Date,Open,High,Low,Close,Adj Close,Volume",
    ...seed.map((b) => `${b.date},${b.open},${b.high},${b.low},${b.close},${b.close},0`),
  ].join("\n");
  /** The seed file in a temporary directory (removed when the test finishes). */
  const seedFile = () => {
    const dir = tempDir("forecast");
    const file = join(dir, "daily.csv");
    writeFileSync(file, csv);
    return { dir, file };
  };
  const settings = { calmProbability: 0.01, stressProbability: 0.2, minTraining: 400, refitEvery: 90 };

  it("acts on the forecast of the last completed day, equal to the batch walk-forward's", () => {
    const { file } = seedFile();
    const config = agentRegimeSchema.parse({ forecast: { prices: file, ...settings } });
    const regime = new AgentRegime(config);
    // Day 500 (the next after the file) as hourly ticks from open to close, then the first tick of day 501.
    const day = all[500];
    const t0 = Date.parse(`${day?.date}T00:00:00Z`);
    const path = [day?.open, day?.high, day?.low, day?.close].map((x) => x ?? Number.NaN);
    for (const [i, index] of path.entries()) regime.observe(i, index, t0 + i * 6 * HOUR);
    const before = regime.view(3);
    regime.observe(4, all[501]?.open ?? Number.NaN, t0 + DAY + HOUR);
    const after = regime.view(4);
    const batch = walkForwardForecasts(all.slice(0, 501), undefined, { minTraining: 400, refitEvery: 90 });
    const last = batch.days.at(-1);
    const expected = last ? forecastSignal(last, settings) : null;
    expect(after.scale).toBe(expected?.scale);
    expect(after.highVolProbability).toBe(expected?.eventProbability);
    expect(after.reason).toContain(`forecast of ${day?.date}`);
    expect(before.reason).toContain(`forecast of ${seed.at(-1)?.date}`);
  });

  it("rejects a missing price file and inverted thresholds, naming the field", () => {
    const { dir, file } = seedFile();
    expect(() => agentRegimeSchema.parse({ forecast: { prices: join(dir, "none.csv") } })).toThrow(/prices/);
    expect(() =>
      agentRegimeSchema.parse({ forecast: { prices: file, calmProbability: 0.5, stressProbability: 0.2 } }),
    ).toThrow(/calmProbability/);
    expect(() => agentRegimeSchema.parse({ forecast: { prices: file, bogus: 1 } })).toThrow(/bogus/);
  });
});
