/**
 * `volfolio varswap`: on the real sample chain, the strip equals the `index` command's DVOL-method
 * index (same chain, another entry point), the parts add up to the fair variance, the DVOL future is
 * below the forward vol; usage errors exit 2 with one line.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { captureCli } from "./capture.js";

/** varswap's strip is the index command's full strip (the same sums): both printed rounded, 1e-4 vol points. */
const STRIP_VS_INDEX_PTS = 1e-4;

/** Variance points are printed to 2 decimals: four rounded figures add up to within 0.02 (measured 0.01 on the sample), so 1 digit (0.05); 2 digits would fail on rounding alone. */
const PRINTED_PARTS_DIGITS = 1;

const SAMPLE = "../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv";
const DVOL = "../shared/data/prices/DVOL_BTC_daily.csv";
const have = existsSync(SAMPLE);
if (!have) console.warn(`varswap CLI real-chain test skipped: ${SAMPLE} not found`);

describe("volfolio varswap", () => {
  it.skipIf(!have)(
    "strip = the index command's index; parts add up; future <= forward vol",
    async () => {
      const v = await captureCli(["varswap", "--chain", SAMPLE, "--currency", "BTC", "--json"]);
      expect(v.code, v.err).toBe(0);
      const rep = JSON.parse(v.out);
      const idx = await captureCli(["index", "--chain", SAMPLE, "--currency", "BTC", "--json"]);
      expect(idx.code, idx.err).toBe(0);
      const index = JSON.parse(idx.out).results[0].indexFull as number;
      expect(Math.abs(rep.swap.stripVolPoints - index)).toBeLessThan(STRIP_VS_INDEX_PTS);
      const s = rep.swap;
      expect(s.stripVariance + s.discreteCorrection + s.wingCorrection).toBeCloseTo(
        s.fairVariance,
        PRINTED_PARTS_DIGITS,
      );
      expect(s.wingBeyondQuotes).toBeLessThanOrEqual(s.wingBeyondQuotesSvi);
      expect(s.bracketed).toBe(true);
      expect(rep.dvolFuture.fairValue).toBeLessThan(rep.dvolFuture.forwardVolPoints);
      expect(rep.dvolFuture.volOfVarianceSource).toMatch(/default/);
    },
    120_000,
  );

  it.skipIf(!have || !existsSync(DVOL))(
    "table output; vol of variance from the DVOL history before the chain",
    async () => {
      const v = await captureCli([
        "varswap",
        "--chain",
        SAMPLE,
        "--currency",
        "ETH",
        "--tenor-days",
        "45",
        "--future-expiry",
        "27FEB26",
        "--dvol-history",
        DVOL,
      ]);
      expect(v.code, v.err).toBe(0);
      expect(v.out).toMatch(/ETH 45-day variance swap at 2026-01-10.*fair strike \d+\.\d\d vol points/);
      expect(v.out).toMatch(/DVOL future expiring 2026-02-27T08:00:00.000Z/);
      expect(v.out).toMatch(/before 2026-01-10/);
    },
    120_000,
  );

  it.each([
    [["varswap"], /--chain/],
    [["varswap", "--chain", SAMPLE, "--tenor-days", "0"], /--tenor-days/],
    [["varswap", "--chain", SAMPLE, "--currency", "BTC", "--future-expiry", "someday"], /--future-expiry/],
    [["varswap", "--chain", SAMPLE, "--vol-of-var", "-1"], /--vol-of-var/],
  ])("usage error %j exits 2 with one line", async (argv, msg) => {
    const r = await captureCli(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(msg as RegExp);
  });

  it.skipIf(!have)(
    "a file with two underlyings needs --currency (exit 2)",
    async () => {
      const r = await captureCli(["varswap", "--chain", SAMPLE]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/BTC, ETH: pass --currency/);
    },
    60_000,
  );
});
