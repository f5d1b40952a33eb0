/**
 * `volfolio risk --workers N` on a chain market: the grid runs on worker threads that rebuild the
 * chain market from its normalized chains (adapters/riskWorkers.ts) and gives the in-thread grid.
 * Worker threads load the compiled module, so this spawns the built CLI (dist/, which `npm run
 * check` builds before the tests) and skips, saying so, when it is absent.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/** Threaded vs serial worst scenarios: the two slices' sums in another order; rounding ~1e-15 relative, 1e-9 (floor 1 USD) still catches a lost leg. */
const SPLIT_SUM_REL = 1e-9;

const ROOT = resolve(__dirname, "../..");
const CLI = join(ROOT, "dist/cli/main.js");
const built = existsSync(CLI);
if (!built) console.warn(`test/cli/riskWorkers: ${CLI} absent (run npm run build): skipped`);

describe.skipIf(!built)("risk --workers on a chain market", () => {
  it("the worker grid equals the in-thread grid (same market rebuilt in each worker)", () => {
    const dir = mkdtempSync(join(tmpdir(), "volfolio-workers-"));
    const book = join(dir, "book.json");
    writeFileSync(
      book,
      JSON.stringify({
        positions: [
          { instrument: "BTC-27MAR26-110000-C", quantity: -10 },
          { instrument: "BTC-27MAR26-90000-P", quantity: 8 },
          { instrument: "BTC-26JUN26-100000-C", quantity: 5 },
          { instrument: "BTC-26JUN26-87000-P", quantity: -6 },
          { instrument: "ETH-27MAR26-3000-P", quantity: -40 },
          { instrument: "BTC-PERPETUAL", quantity: 20000 },
        ],
      }),
    );
    const run = (workers: string) => {
      const r = spawnSync(
        process.execPath,
        [
          CLI,
          "risk",
          "--book",
          book,
          "--synthetic",
          "--seed",
          "5",
          "--time",
          "2026-02-02T08:00:00Z",
          "--workers",
          workers,
          "--top",
          "400",
          "--json",
        ],
        { encoding: "utf8", timeout: 120_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const inThread = run("0");
    const threaded = run("2");
    expect(threaded.notes.join(" ")).not.toMatch(/ran in-thread/);
    expect(threaded.worstScenarios.length).toBe(inThread.worstScenarios.length);
    const byName = new Map(
      inThread.worstScenarios.map((w: { scenario: string; pnlUsd: number }) => [w.scenario, w.pnlUsd]),
    );
    for (const w of threaded.worstScenarios as { scenario: string; pnlUsd: number }[]) {
      const x = byName.get(w.scenario) as number;
      // Sums of the two slices in another order: equal to rounding.
      expect(Math.abs(w.pnlUsd - x)).toBeLessThan(SPLIT_SUM_REL * Math.max(1, Math.abs(x)));
    }
  }, 180_000);
});
