/** `volfolio surface fit` end to end (src/cli/commands/surface.ts; the fitting itself is tested in test/core/surface). */
import { describe, expect, it } from "vitest";
import { captureCli } from "./capture.js";
import { haveSample, SAMPLE_CSV } from "../core/surface/helpers.js";

const capture = captureCli;

describe("volfolio surface fit", () => {
  it("usage errors exit 2 with one line; a missing file exits 3", async () => {
    const bad = await capture(["surface", "fit", "--chain", "x.csv", "--model", "heston"]);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split("\n")).toHaveLength(1);
    const missing = await capture(["surface", "fit", "--chain", "/nonexistent/chain.csv"]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/not found/);
  });

  it.skipIf(!haveSample)(
    "fits the sample BTC chain: --json counts reconcile, table output lists every expiry",
    async () => {
      const res = await capture([
        "surface",
        "fit",
        "--chain",
        SAMPLE_CSV,
        "--underlying",
        "BTC",
        "--model",
        "essvi",
        "--json",
      ]);
      expect(res.code).toBe(0);
      const data = JSON.parse(res.out);
      expect(data.underlying).toBe("BTC");
      expect(data.counts.fitted + data.counts.surfaceRejected).toBe(data.counts.cleanQuotes);
      expect(data.arbitrage.free).toBe(true);
      expect(data.slices.length).toBe(12);
      // --json keeps full precision (issue 18): each slice's year fraction is ACT/365 from the
      // valuation time to its expiry to the last bits (6-digit rounding missed by up to 5e-7).
      for (const sl of data.slices as { expiry: string; timeToExpiry: number }[]) {
        const T = (Date.parse(sl.expiry) - Date.parse(data.valuationTime)) / (365 * 86_400_000);
        expect(Math.abs(sl.timeToExpiry - T)).toBeLessThan(1e-12 * T);
      }
      const table = await capture(["surface", "fit", "--chain", SAMPLE_CSV, "--underlying", "BTC"]);
      expect(table.code).toBe(0);
      expect(table.out).toMatch(/rmse\(pts\)/);
      expect(table.out).toMatch(/2026-12-25/);
      const none = await capture(["surface", "fit", "--chain", SAMPLE_CSV, "--underlying", "SOL"]);
      expect(none.code).toBe(1);
      expect(none.err).toMatch(/no SOL options/);
    },
  );

  it.skipIf(!haveSample)(
    "the default (svi-af) is arbitrage-free on the sample chain; --model svi warns that it holds arbitrage and where; --repair gives svi-af",
    async () => {
      const af = await capture(["surface", "fit", "--chain", SAMPLE_CSV, "--underlying", "ETH", "--json"]);
      expect(af.code).toBe(0);
      const data = JSON.parse(af.out);
      expect(data.model).toBe("svi-af");
      expect(data.arbitrage.free).toBe(true);
      const svi = await capture([
        "surface",
        "fit",
        "--chain",
        SAMPLE_CSV,
        "--underlying",
        "ETH",
        "--model",
        "svi",
        "--json",
      ]);
      const s = JSON.parse(svi.out);
      expect(s.model).toBe("svi");
      expect(s.arbitrage.free).toBe(false);
      const w = (s.warnings as string[]).find((x) => x.includes("holds static arbitrage"));
      expect(w).toMatch(/at k=-?\d/);
      const table = await capture([
        "surface",
        "fit",
        "--chain",
        SAMPLE_CSV,
        "--underlying",
        "ETH",
        "--model",
        "svi",
      ]);
      expect(table.out).toMatch(/try --model svi-af/);
      expect(table.out).toMatch(/warning: model svi \(unconstrained per-slice SVI\) holds static arbitrage/);
      const rep = await capture([
        "surface",
        "fit",
        "--chain",
        SAMPLE_CSV,
        "--underlying",
        "ETH",
        "--model",
        "svi",
        "--repair",
        "--json",
      ]);
      const r = JSON.parse(rep.out);
      expect(r.model).toBe("svi-af");
      expect(r.arbitrage.free).toBe(true);
      expect(r.slices.map((x: { rawSvi: unknown }) => x.rawSvi)).toEqual(
        data.slices.map((x: { rawSvi: unknown }) => x.rawSvi),
      );
    },
  );
});
