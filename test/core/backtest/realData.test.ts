import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBacktestData } from "../../../src/adapters/backtestData.js";
import { runBacktest } from "../../../src/core/backtest/engine.js";

/** Daily USD attribution totals (~1e2-1e4 each) summed over a real season vs the equity change: 8 digits of USD (was 6; tightened, passes at 8). */
const EQUITY_SUM_DIGITS = 8;

const dir = resolve(__dirname, "../../../..", "shared/data/deribit/daily");
if (!existsSync(dir)) console.warn(`real-data backtest skipped: ${dir} not found`);

describe.skipIf(!existsSync(dir))("backtest on the real Deribit daily chain history", () => {
  it("replays January 2026 (BTC): counts reconcile, the strangle sells, settles and attribution adds up", async () => {
    const progress: [number, number][] = [];
    const d = await loadBacktestData({
      dir,
      underlying: "BTC",
      from: "2026-01-01",
      to: "2026-01-31",
      onFile: (done, n) => progress.push([done, n]),
    });
    // progress after every file, ending at files/files
    expect(progress.length).toBe(d.files);
    expect(progress.map(([done]) => done)).toEqual(Array.from({ length: d.files }, (_, i) => i + 1));
    expect(progress.every(([, n]) => n === d.files)).toBe(true);
    expect(d.steps.length).toBeGreaterThan(20);
    expect(d.steps.length + d.skippedFiles.length).toBe(d.files);
    expect(d.quotes.accepted).toBeGreaterThan(1000);
    const r = runBacktest({
      strategy: {
        type: "short-strangle",
        params: { usd: 100_000, quantity: 1, callDelta: 0.2, putDelta: 0.2, tenorDays: 7 },
        hedge: { policy: "delta-band", band: 0.1 },
      },
      steps: d.steps,
    });
    expect(r.settlements).toBeGreaterThan(2);
    expect(r.tradeCount).toBeGreaterThan(4);
    const sum = r.attribution.reduce((a, x) => a + x.totalUsd, 0);
    expect(sum).toBeCloseTo(r.finalEquityUsd - r.daily[0]!.equityUsd, EQUITY_SUM_DIGITS);
    expect(Number.isFinite(r.metricsUsd!.sharpe)).toBe(true);
  });
});
