/**
 * `volfolio index --method dvol|cboe --compare-dvol FILE`: the DVOL method is the default, the
 * comparison line is DVOL at the chain's time of day (open + (close - open) x h/24, computed here
 * from the bar written to the file), and bad flags exit with one line. The real 2026-01-13 chain
 * (missing near-money bids) is checked when ../shared/data is present.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DERIBIT_CSV_COLUMNS, formatDeribitCsvRows } from "../../src/adapters/deribit/files.js";
import { syntheticChain } from "../../src/core/market/synthetic.js";
import { captureCli as capture } from "./capture.js";
import { DATA_DIR } from "../core/surface/helpers.js";

/** DVOL at the chain's hour, interpolated open-to-close (the JSON rounds it to 4 decimals). */
const DVOL_INTERP_DIGITS = 4;

/** index - DVOL: two figures each printed rounded (index to 2-4 decimals): 3 digits. */
const DIFF_DIGITS = 3;

/**
 * The DVOL-method index vs the daily bar's open-to-close line on 2026-01-13 09:21 UTC: measured
 * -0.60 points (index 40.14, line 40.74); DVOL itself was 40.10 then (Deribit's hourly bars,
 * scripts/measure/dvolIntraday.ts), the line's own error. 1 point.
 */
const REAL_DVOL_DIFF_PTS = 1;

/** Regression pin, not a reference: the Cboe method's 32.85 on the stored 2026-01-13 file (issue 24's outlier), at the 2 decimals printed. */
const PINNED_CBOE_DIGITS = 2;

const dir = mkdtempSync(join(tmpdir(), "volfolio-index-dvol-"));
const T0 = Date.UTC(2026, 0, 10, 9, 0, 0); // 9.0 h UTC
const chainFile = join(dir, "btc.csv");
writeFileSync(
  chainFile,
  `${[DERIBIT_CSV_COLUMNS.join(","), ...formatDeribitCsvRows(syntheticChain({ underlying: "BTC", valuationTime: T0, seed: 7 }))].join("\n")}\n`,
);
const dvolBtc = join(dir, "DVOL_BTC_daily.csv");
writeFileSync(dvolBtc, "Date,Open,High,Low,Close\n2026-01-09,50,52,49,51\n2026-01-10,44,49,43,48\n");

const dvolBtcHourly = join(dir, "DVOL_BTC_hourly.csv");
// One hourly bar from T0's hour: 44 at its start, 48 an hour later (written here).
const hourStart = Math.floor(T0 / 3_600_000) * 3_600_000;
writeFileSync(dvolBtcHourly, `timestamp_ms,open,high,low,close\n${hourStart},44,49,43,48\n`);

describe("volfolio index --method / --compare-dvol", () => {
  it("dvol is the default; cboe reads the full strip (higher on a skewed smile)", async () => {
    const d = JSON.parse((await capture(["index", "--chain", chainFile, "--json"])).out);
    const c = JSON.parse((await capture(["index", "--chain", chainFile, "--json", "--method", "cboe"])).out);
    expect(d.method).toBe("dvol");
    expect(d.results[0].method).toBe("dvol");
    expect(c.results[0].method).toBe("cboe");
    expect(c.results[0].index).toBeGreaterThan(d.results[0].index);
  }, 60_000);

  it("--compare-dvol with hourly bars prints DVOL at the chain's instant inside its hour", async () => {
    const res = await capture(["index", "--chain", chainFile, "--compare-dvol", dvolBtcHourly, "--json"]);
    expect(res.code, res.err).toBe(0);
    const r = JSON.parse(res.out).results[0];
    const expected = 44 + ((48 - 44) * (T0 - hourStart)) / 3_600_000;
    expect(r.compareDvol.resolution).toBe("hourly");
    expect(r.compareDvol.dvol).toBeCloseTo(expected, DVOL_INTERP_DIGITS);
    expect(r.compareDvol.diff).toBeCloseTo(r.index - expected, DIFF_DIGITS);
    const text = await capture(["index", "--chain", chainFile, "--compare-dvol", dvolBtcHourly]);
    expect(text.out).toMatch(
      /at the chain's instant, .* h into its hourly bar from .*index - DVOL = [+-]\d+\.\d\d vol points/,
    );
  }, 60_000);

  it("--compare-dvol prints DVOL at the chain's hour and the difference", async () => {
    const res = await capture(["index", "--chain", chainFile, "--compare-dvol", dvolBtc, "--json"]);
    expect(res.code, res.err).toBe(0);
    const r = JSON.parse(res.out).results[0];
    const expected = 44 + ((48 - 44) * 9) / 24; // 45.5 at 09:00 UTC
    expect(r.compareDvol.dvol).toBeCloseTo(expected, DVOL_INTERP_DIGITS);
    expect(r.compareDvol.diff).toBeCloseTo(r.index - expected, DIFF_DIGITS);
    expect(r.compareDvol.hourUtc).toBe(9);
    expect(r.compareDvol.bar).toEqual({ date: "2026-01-10", open: 44, high: 49, low: 43, close: 48 });
    const text = await capture(["index", "--chain", chainFile, "--compare-dvol", dvolBtc]);
    expect(text.out).toMatch(
      /DVOL \(.*DVOL_BTC_daily\.csv\) at 9\.00 h UTC of 2026-01-10: 45\.50 .*index - DVOL = [+-]\d+\.\d\d vol points/,
    );
  }, 60_000);

  it.each([
    [["--method", "vix"], 2, /--method must be dvol or cboe, got "vix"/],
    [["--parity"], 2, /--parity applies to --method cboe only/],
    [["--compare-dvol", "/nonexistent/DVOL_BTC_daily.csv"], 3, /no such file/],
    [["--compare-dvol", "WRONG_COIN"], 2, /./],
  ])(
    "%s exits %i with one line",
    async (flags, code, msg) => {
      let args = flags as string[];
      if (args[1] === "WRONG_COIN") {
        const eth = join(dir, "DVOL_ETH_daily.csv");
        writeFileSync(eth, "Date,Open,High,Low,Close\n2026-01-10,60,61,59,60\n");
        args = ["--compare-dvol", eth];
        msg = /is for ETH, not in the chain \(BTC\)/;
      }
      const res = await capture(["index", "--chain", chainFile, ...args]);
      expect(res.code).toBe(code);
      expect(res.err.trim().split("\n")).toHaveLength(1);
      expect(res.err).toMatch(msg);
    },
    60_000,
  );

  it("a bad DVOL file names the line and field", async () => {
    const bad = join(dir, "DVOL_BTC_bad.csv");
    writeFileSync(bad, "Date,Open,High,Low,Close\n2026-01-10,44,49,oops,48\n");
    const res = await capture(["index", "--chain", chainFile, "--compare-dvol", bad]);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/line 2\.low/);
  }, 60_000);
});

const REAL = resolve(DATA_DIR, "deribit/daily/deribit_options_snapshot_20260113T092145Z.csv.gz");
const REAL_DVOL = resolve(DATA_DIR, "prices/DVOL_BTC_daily.csv");
const haveReal = existsSync(REAL) && existsSync(REAL_DVOL);
if (!haveReal)
  console.warn(`index --compare-dvol real-chain test skipped: ${REAL} or ${REAL_DVOL} not found`);

describe.skipIf(!haveReal)("volfolio index on the real 2026-01-13 chain (missing near-money bids)", () => {
  it("dvol reads within 1 point of DVOL's daily line; cboe shows the issue-24 outlier", async () => {
    const res = await capture([
      "index",
      "--chain",
      REAL,
      "--currency",
      "BTC",
      "--compare-dvol",
      REAL_DVOL,
      "--json",
    ]);
    expect(res.code, res.err).toBe(0);
    const r = JSON.parse(res.out).results[0];
    // DVOL's bar that day: open 40.13, close 41.69; at 09:21:45.558 UTC.
    const h = (Date.parse("2026-01-13T09:21:45.558Z") - Date.parse("2026-01-13T00:00:00Z")) / 3_600_000;
    expect(r.compareDvol.dvol).toBeCloseTo(40.13 + (1.56 * h) / 24, DVOL_INTERP_DIGITS);
    expect(Math.abs(r.compareDvol.diff)).toBeLessThan(REAL_DVOL_DIFF_PTS);
    expect(r.markFilled).toBeGreaterThan(0);
    const cboe = JSON.parse(
      (await capture(["index", "--chain", REAL, "--currency", "BTC", "--method", "cboe", "--json"])).out,
    );
    expect(cboe.results[0].index).toBeCloseTo(32.85, PINNED_CBOE_DIGITS);
  }, 60_000);
});
