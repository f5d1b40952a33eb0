/** `volfolio regime forecast`: walk-forward scores from a price file, and its input errors. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/core/math/rng.js";
import { syntheticDailyBars } from "../../src/core/regime/syntheticBars.js";
import { tempDir } from "../agent/tmp.js";
import { captureCli } from "./capture.js";

function priceCsv(days: number, skip?: number): string {
  const { bars } = syntheticDailyBars({ days, start: Date.UTC(2021, 0, 1), spot: 40_000 }, createRng(5));
  const lines = bars.map((b, i) => {
    const date = new Date(Date.UTC(2021, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    return `${date},${b.open},${b.high},${b.low},${b.close},${b.close},0`;
  });
  if (skip !== undefined) lines.splice(skip, 1);
  return `Date,Open,High,Low,Close,Adj Close,Volume\n${lines.join("\n")}\n`;
}

describe("volfolio regime forecast", () => {
  it("prints the scores of every model against naive, and the same in --json", async () => {
    const dir = tempDir("regime-forecast");
    const file = join(dir, "prices.csv");
    writeFileSync(file, priceCsv(900));
    const args = ["regime", "forecast", "--prices", file, "--min-training", "500", "--refit-every", "200"];
    const table = await captureCli(args);
    expect(table.code).toBe(0);
    for (const model of ["naive", "ewma", "har", "garch", "gjr", "gbdt", "climatology", "hmm"])
      expect(table.out).toMatch(new RegExp(`^${model}\\s`, "m"));
    const json = await captureCli([...args, "--json"]);
    const d = JSON.parse(json.out);
    expect(d.refits).toBe(2);
    expect(d.days).toHaveLength(400);
    const naive = d.scores.variance.find((v: { model: string }) => v.model === "naive");
    expect(naive.qlikeVsNaive).toBe(1);
    expect(d.inputs.prices).toMatchObject({ rowsRead: 900, accepted: 900, rejected: 0, used: 900 });
  });

  it("refuses a history with a missing day, and a missing --prices, in one line", async () => {
    const dir = tempDir("regime-forecast");
    const file = join(dir, "gap.csv");
    writeFileSync(file, priceCsv(900, 300));
    const gap = await captureCli(["regime", "forecast", "--prices", file]);
    expect(gap.code).toBe(2);
    expect(gap.err).toMatch(/one bar per day; 2021-10-27 is followed by 2021-10-29/);
    const none = await captureCli(["regime", "forecast"]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--prices/);
  });
});
