/** `volfolio optimize --with-varswap 30d --variance N` on a seeded synthetic market (no data files). */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { captureCli } from "./capture.js";

/** The example spec without its CVaR frontier (6 more solves, not what this test is about). */
const SPEC = join(mkdtempSync(join(tmpdir(), "volfolio-vs-")), "spec.json");
const example = JSON.parse(
  readFileSync(join(resolve(__dirname, "../.."), "examples/optimize-spec.json"), "utf8"),
);
delete example.frontier;
writeFileSync(SPEC, JSON.stringify(example));
const MARKET = ["--synthetic", "--seed", "42", "--time", "2026-02-02T08:00:00Z"];
/** The variance band is an equality row met to HiGHS's 1e-7 feasibility tolerance: 1e-6 USD/pt. */
const BAND_TOL = 1e-6;
/** The vega target (1000 USD/vol pt) is an LP equality row met to HiGHS's 1e-7 feasibility tolerance, not a float
 * identity: 6 digits = 5e-7 USD/pt leaves room for the solver's tolerance; measured 0 on this run. */
const VEGA_TARGET_DIGITS = 6;

describe("volfolio optimize with a variance-swap candidate", () => {
  const ARGS = ["optimize", ...MARKET, "--spec", SPEC, "--with-varswap", "30d", "--variance", "5"];
  it("--with-varswap 30d --variance 5: buys 5 units of VS-30d, names it, verified", async () => {
    const res = await captureCli([...ARGS, "--json"]);
    expect(res.code, res.err).toBe(0);
    const d = JSON.parse(res.out);
    expect(d.status).toBe("optimal");
    expect(d.verification.ok).toBe(true);
    const vs = d.trades.find((t: { instrument: string }) => t.instrument === "VS-30d");
    expect(vs.side).toBe("buy");
    expect(Math.abs(vs.contracts - 5)).toBeLessThan(BAND_TOL);
    expect(vs.explanation).toMatch(/VS-30d/);
    expect(Math.abs(d.after.varianceUsdPerPt - 5)).toBeLessThan(BAND_TOL);
    expect(d.notes.some((n: string) => /^variance swap VS-30d: strip of \d+ options/.test(n))).toBe(true);
    const text = await captureCli(ARGS);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/varianceUsdPerPt/);
    expect(text.out).toMatch(/variance binds/);
  }, 60_000);

  it("--with-dvol-future 27MAR26: the DVOL future is a candidate, valued by the core, and the cheapest vega here", async () => {
    // No per-contract fee (the example's 3 USD is sized for options), half-spread 0.1 index points.
    const spec = join(dirname(SPEC), "dvol.json");
    writeFileSync(spec, JSON.stringify({ ...example, costs: {} }));
    const res = await captureCli([
      ...[
        "optimize",
        ...MARKET,
        "--spec",
        spec,
        "--with-dvol-future",
        "27MAR26",
        "--dvol-half-spread",
        "0.1",
      ],
      "--json",
    ]);
    expect(res.code, res.err).toBe(0);
    const d = JSON.parse(res.out);
    expect(d.status).toBe("optimal");
    expect(d.verification.ok).toBe(true);
    const f = d.trades.find((t: { instrument: string }) => t.instrument === "BTCDVOL-27MAR26");
    expect(f.side).toBe("buy");
    expect(f.explanation).toMatch(/BTCDVOL-27MAR26/);
    expect(d.after.greeks.vegaUsdPerVolPt).toBeCloseTo(1000, VEGA_TARGET_DIGITS);
    expect(d.notes.some((n: string) => /^DVOL future BTCDVOL-27MAR26: fair \d+\.\d+ index pts/.test(n))).toBe(
      true,
    );
  }, 60_000);

  it("a bad tenor is a usage error on one line", async () => {
    const res = await captureCli(["optimize", ...MARKET, "--spec", SPEC, "--with-varswap", "abc"]);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/--with-varswap: "abc"/);
    expect(res.err.trim().split("\n")).toHaveLength(1);
  });
});
