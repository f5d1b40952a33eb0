import { describe, expect, it } from "vitest";
import { runDemoPipeline } from "../../src/web/pipeline.js";

describe("demo regime section without a price history file (fresh machine)", () => {
  it("runs on the seeded synthetic regime history, labelled, and finds both regimes", async () => {
    const report = await runDemoPipeline({
      seed: 7,
      frontierPoints: 2,
      forecast: false, // the panel is built and checked in dashboard.test.ts
      priceHistoryFile: "/nonexistent/BTC-USD_daily.csv",
    });
    expect(report.unavailable.regime).toBeUndefined();
    const g = report.regime;
    expect(g?.source).toMatch(
      /^synthetic BTC history with calm\/stressed vol regimes \(seed 14; no \/nonexistent/,
    );
    // lookback 720 days of 1000, the first 30 without a rolling vol
    expect(g?.dates.length).toBeGreaterThan(600);
    const p = g?.highVolProbability ?? [];
    expect(p.some((v) => v > 0.9)).toBe(true);
    expect(p.some((v) => v < 0.1)).toBe(true);
    // same seed, same history
    const again = await runDemoPipeline({
      seed: 7,
      frontierPoints: 2,
      forecast: false, // the panel is built and checked in dashboard.test.ts
      priceHistoryFile: "/nonexistent/BTC-USD_daily.csv",
    });
    expect(again.regime?.garchVol).toEqual(g?.garchVol);
  }, 60_000);
});
