import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { closeCostUsd, runStress } from "../../../src/core/risk/stress.js";
import { STRESS_LIBRARY } from "../../../src/core/risk/stressLibrary.js";
import { applyScenario } from "../../../src/core/risk/scenario.js";
import { E1, market, opt, sampleBook } from "./fixtures.js";

const DATA = resolve(__dirname, "../../../..", "shared/data/prices/BTC-USD_daily.csv");

describe("stress library", () => {
  it("has the four documented historical crashes and hypothetical shocks", () => {
    const ids = STRESS_LIBRARY.filter((e) => e.kind === "historical").map((e) => e.id);
    expect(ids).toEqual(["covid-2020-03-12", "china-ban-2021-05-19", "luna-2022-05", "ftx-2022-11"]);
    expect(STRESS_LIBRARY.filter((e) => e.kind === "hypothetical").length).toBeGreaterThanOrEqual(5);
  });
  it("results are sorted worst first and a short-put book loses in crashes", () => {
    const book: Position[] = [
      { instrument: opt({ strike: 95_000, kind: "put", expiry: E1 }), quantity: -10 },
    ];
    const r = runStress({ positions: book, market: market(), entries: STRESS_LIBRARY });
    for (let i = 1; i < r.length; i++)
      expect(r[i - 1]!.stressedLossUsd).toBeGreaterThanOrEqual(r[i]!.stressedLossUsd);
    expect(r[0]!.id).toBe("covid-2020-03-12");
    expect(r[0]!.stressedLossUsd).toBeGreaterThan(0);
    expect(r.every((x) => Math.abs(x.stressedLossUsd - (-x.pnlUsd + x.closeCostUsd)) < 1e-9)).toBe(true);
  });
  it("liquidity overlay: close cost grows with the vol spike and is part of the loss", () => {
    const mkt = market();
    const calm = closeCostUsd(sampleBook(), mkt, 0);
    const spiked = closeCostUsd(sampleBook(), applyScenario(mkt, { spotShift: 0, volShift: 0.3 }), 0.3);
    expect(calm).toBeGreaterThan(0);
    expect(spiked / calm).toBeGreaterThan(2);
    const noLiq = runStress({
      positions: sampleBook(),
      market: mkt,
      entries: STRESS_LIBRARY,
      liquidity: null,
    });
    const withLiq = runStress({ positions: sampleBook(), market: mkt, entries: STRESS_LIBRARY });
    const a = noLiq.find((x) => x.id === "ftx-2022-11")!;
    const b = withLiq.find((x) => x.id === "ftx-2022-11")!;
    expect(b.pnlUsd).toBeCloseTo(a.pnlUsd, 8);
    expect(b.stressedLossUsd).toBeGreaterThan(a.stressedLossUsd);
  });
});

describe.skipIf(!existsSync(DATA))("historical spot moves match the price file", () => {
  if (!existsSync(DATA)) console.warn(`skipped: ${DATA} not found (shared data absent)`);
  it("recomputes each crash move from BTC-USD closes", () => {
    const closes = new Map<string, number>();
    for (const line of readFileSync(DATA, "utf8").trim().split("\n").slice(1)) {
      const c = line.split(",");
      closes.set(c[0]!, Number(c[4]));
    }
    const windows: Record<string, [string, string]> = {
      "covid-2020-03-12": ["2020-03-11", "2020-03-12"],
      "china-ban-2021-05-19": ["2021-05-18", "2021-05-19"],
      "luna-2022-05": ["2022-05-05", "2022-05-12"],
      "ftx-2022-11": ["2022-11-07", "2022-11-09"],
    };
    for (const [id, [d0, d1]] of Object.entries(windows)) {
      const move = closes.get(d1)! / closes.get(d0)! - 1;
      const entry = STRESS_LIBRARY.find((e) => e.id === id)!;
      expect(Math.abs(entry.scenario.spotShift - move)).toBeLessThan(6e-5);
    }
  });
});
