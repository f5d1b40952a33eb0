/** `volfolio backtest --strategy examples/variance-swap.json`: the swap log in JSON and text. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { captureCli } from "./capture.js";

const SPEC = join(resolve(__dirname, "../.."), "examples/variance-swap.json");
/** Sums of USD figures of 1e2-1e5 read back from the JSON: 1e-6 USD. */
const USD = 1e-6;
const ARGS = ["backtest", "--strategy", SPEC, "--synthetic", "--days", "32", "--seed", "5"];

describe("volfolio backtest with the variance-swap strategy", () => {
  it("--synthetic --days 32 --json: one settled swap, its error split adds up", async () => {
    const res = await captureCli([...ARGS, "--json"]);
    expect(res.code, res.err).toBe(0);
    const d = JSON.parse(res.out);
    expect(d.strategy).toMatch(/variance swap/);
    expect(d.varianceSwaps).toHaveLength(1);
    const s = d.varianceSwaps[0];
    expect(s.legCount).toBeGreaterThan(5);
    expect(s.fixingCount).toBeGreaterThan(24 * 28);
    expect(s.costsUsd).toBeGreaterThan(0);
    expect(Math.abs(s.pnlUsd - s.idealUsd - (-s.costsUsd + s.staticUsd + s.hedgeUsd))).toBeLessThan(USD);
    const text = await captureCli(ARGS);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/variance swaps \(replicated P&L - ideal/);
  }, 60_000);

  it("a bad variance notional is a usage error naming the field", async () => {
    const p = join(mkdtempSync(join(tmpdir(), "volfolio-vsb-")), "bad.json");
    writeFileSync(
      p,
      JSON.stringify({ type: "variance-swap", params: { usd: 1, tenorDays: 30, varianceNotional: 0 } }),
    );
    const res = await captureCli(["backtest", "--strategy", p, "--synthetic", "--days", "5"]);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/varianceNotional/);
  });
});
