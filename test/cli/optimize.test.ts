/** `volfolio optimize` end to end on the sample Deribit chain (skipped when ../shared/data is absent). */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { captureCli } from "./capture.js";
import { haveSample, SAMPLE_CSV } from "../core/surface/helpers.js";

const ROOT = resolve(__dirname, "../..");
const SPEC = join(ROOT, "examples/optimize-spec.json");
const BOOK = join(ROOT, "examples/book.json");

const capture = captureCli;

if (!haveSample) console.warn(`optimize CLI test skipped: sample chain ${SAMPLE_CSV} not found`);

describe.skipIf(!haveSample)("volfolio optimize", () => {
  const dir = mkdtempSync(join(tmpdir(), "volfolio-opt-"));

  it("--json: trades, after greeks inside the spec delta band, binding constraints, verified", async () => {
    const res = await capture(["optimize", "--chain", SAMPLE_CSV, "--book", BOOK, "--spec", SPEC, "--json"]);
    expect(res.code, res.err).toBe(0);
    const d = JSON.parse(res.out);
    expect(d.status).toBe("optimal");
    expect(d.trades.length).toBeGreaterThan(0);
    // examples/optimize-spec.json: delta band [-0.05, 0.05] coin, vega target 1000 USD/vol pt
    /** HiGHS's primal feasibility tolerance (1e-7) on constraints of order 1-1e5, re-evaluated from the JSON's printed greeks: 1e-6 absolute. */
    const tol = 1e-6;
    /** The vega target is an equality row of the LP, met far inside HiGHS's 1e-7 feasibility tolerance on ~1000: 6 digits. (VEGA_TARGET_DIGITS was 3; tightened, passes at 6). */
    const VEGA_TARGET_DIGITS = 6;
    expect(d.after.greeks.deltaCoin).toBeGreaterThanOrEqual(-0.05 - tol);
    expect(d.after.greeks.deltaCoin).toBeLessThanOrEqual(0.05 + tol);
    expect(Math.abs(d.before.greeks.deltaCoin)).toBeGreaterThan(0.05); // the book started outside the band
    expect(d.after.greeks.vegaUsdPerVolPt).toBeCloseTo(1000, VEGA_TARGET_DIGITS);
    expect(d.after.cvarUsd).toBeLessThanOrEqual(60000 + tol);
    expect(d.after.worstStressLossUsd).toBeLessThanOrEqual(80000 + tol);
    expect(d.binding.length).toBeGreaterThan(0);
    expect(d.binding.some((b: { text: string }) => /delta/i.test(b.text))).toBe(true);
    expect(d.verification.ok).toBe(true);
    // Which CVaR method ran, what the CVaR is, and the engine's margins (standard = the LP's).
    expect(d.stats.cvarMethod).toMatch(/^(lp|cuts)$/);
    expect(d.cvarLabel).toMatch(
      /^CVaR 95%: mean loss of the worst [\d.]+ of \d+ equally weighted grid scenarios/,
    );
    expect(d.after.portfolioMarginUsd).toBeGreaterThan(0);
    const text = await capture(["optimize", "--chain", SAMPLE_CSV, "--book", BOOK, "--spec", SPEC]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/CVaR method: (whole Rockafellar-Uryasev LP|cutting planes)/);
    expect(text.out).toMatch(/pmMarginUsd/);
  }, 90_000);

  it("an infeasible spec exits 1 with the diagnosis on one line", async () => {
    const spec = JSON.parse(readFileSync(SPEC, "utf8"));
    spec.constraints.delta = { min: 5, max: 6 };
    spec.constraints.marginBudgetUsd = 1;
    const p = join(dir, "infeasible.json");
    writeFileSync(p, JSON.stringify(spec));
    const res = await capture(["optimize", "--chain", SAMPLE_CSV, "--book", BOOK, "--spec", p]);
    expect(res.code).toBe(1);
    expect(res.err.trim().split("\n")).toHaveLength(1);
    expect(res.err).toMatch(/infeasible/);
  }, 60_000);

  it("a bad spec file exits 2 naming the field", async () => {
    const spec = JSON.parse(readFileSync(SPEC, "utf8"));
    spec.constraints.cvar.alpha = "high";
    const p = join(dir, "bad.json");
    writeFileSync(p, JSON.stringify(spec));
    const res = await capture(["optimize", "--chain", SAMPLE_CSV, "--spec", p]);
    expect(res.code).toBe(2);
    expect(res.err.trim().split("\n")).toHaveLength(1);
    expect(res.err).toMatch(/constraints\.cvar\.alpha/);
  });
});
