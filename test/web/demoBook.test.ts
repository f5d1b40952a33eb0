/** `volfolio demo --book FILE`: the risk sections value the user's book, not the sample one. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { captureCli } from "../cli/capture.js";

const SAMPLE = resolve(__dirname, "../../examples/book.json");

describe("volfolio demo --book", () => {
  it("values the given book: only its underlying appears in the greeks; a missing book is exit 3", async () => {
    const dir = mkdtempSync(join(tmpdir(), "volfolio-demo-book-"));
    const sample = JSON.parse(readFileSync(SAMPLE, "utf8"));
    const book = {
      positions: [{ instrument: "ETH-27MAR26-3000-P", quantity: -40 }],
      cash: { ETH: 10 },
      market: sample.market,
    };
    const file = join(dir, "eth-book.json");
    writeFileSync(file, JSON.stringify(book));
    const r = await captureCli([
      "demo",
      "--no-serve",
      "--no-forecast",
      "--json",
      "--book",
      file,
      "--out",
      dir,
    ]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    // --no-forecast (kept out of this test for its ~5 s of CPU): the Regime tab without its panel.
    expect(report.regime).toBeDefined();
    expect(report.regime.forecast).toBeUndefined();
    const underlyings = new Set(report.greeks.rows.map((x: { underlying: string }) => x.underlying));
    expect([...underlyings]).toEqual(["ETH"]);
    // A short put: positive cash delta, negative vega.
    const eth = report.greeks.rows.filter((x: { underlying: string }) => x.underlying === "ETH");
    expect(eth.reduce((s: number, x: { vegaUsd: number }) => s + x.vegaUsd, 0)).toBeLessThan(0);
    expect(eth.reduce((s: number, x: { cashDeltaUsd: number }) => s + x.cashDeltaUsd, 0)).toBeGreaterThan(0);

    const missing = await captureCli(["demo", "--no-serve", "--book", join(dir, "nope.json")]);
    expect(missing.code).toBe(3);
    expect(missing.err.trim().split("\n")).toHaveLength(1);
    expect(missing.err).toMatch(/nope\.json/);
  }, 120_000);
});
