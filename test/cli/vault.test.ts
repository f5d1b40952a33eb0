/** `volfolio vault`: table and --json on the synthetic market, the schedule file, and its input errors. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runVault } from "../../src/core/vault/engine.js";
import { syntheticSteps } from "../../src/core/backtest/syntheticMarket.js";
import { parseVaultSchedule } from "../../src/adapters/vaultSchedule.js";
import { tempDir } from "../agent/tmp.js";
import { captureCli } from "./capture.js";

const schedule = {
  flows: [
    { time: "2025-12-31", depositor: "alice", type: "deposit", amount: 10 },
    { time: "2026-01-05T12:00:00Z", depositor: "bob", type: "deposit", amount: 4 },
    { time: "2026-01-20", depositor: "alice", type: "withdraw", shares: 3 },
  ],
};
const base = ["vault", "--synthetic", "--days", "35", "--step-hours", "6", "--seed", "4"];

describe("volfolio vault", () => {
  it("prints a round per week and the depositors; --json carries the same numbers as the library", async () => {
    const dir = tempDir("vault-cli");
    const file = join(dir, "schedule.json");
    writeFileSync(file, JSON.stringify(schedule));
    const args = [
      ...base,
      "--strategy",
      "covered-call",
      "--schedule",
      file,
      "--management-fee",
      "0.02",
      "--performance-fee",
      "0.2",
    ];
    const table = await captureCli(args);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/covered-call vault on BTC \(asset BTC, collateral coin\): 4 rounds of 7 days/);
    expect(table.out).toMatch(/^alice\s/m);
    expect(table.out).toMatch(/^bob\s/m);
    const json = await captureCli([...args, "--json"]);
    expect(json.code).toBe(0);
    const j = JSON.parse(json.out);
    expect(j.input.source).toBe("synthetic");
    // The same run through the library: identical share prices.
    const lib = runVault({
      spec: {
        strategy: "covered-call",
        fees: { managementPerYear: 0.02, performance: 0.2 },
        targetDelta: 0.1,
        epochDays: 7,
        conversionBps: 0,
      },
      steps: syntheticSteps({
        steps: 35 * 4,
        stepHours: 6,
        seed: 4,
        spot: 60_000,
        model: { type: "gbm", drift: 0, vol: 0.5 },
      }),
      flows: parseVaultSchedule(schedule),
    });
    expect(j.epochs.map((e: { sharePrice: number }) => e.sharePrice)).toEqual(
      lib.epochs.map((e) => e.sharePrice),
    );
    expect(j.epochs[0].deposits[0].depositor).toBe("bob");
    expect(j.final.balances.find((b: { depositor: string }) => b.depositor === "alice").shares).toBe(
      7, // 10 shares at the opening price 1 less the 3 withdrawn: integer arithmetic, exact
    );
    for (const line of table.out.split("\n").filter((l) => /^\s+\d+\s+2026/.test(l)))
      expect(line).toMatch(/BTC-\d+[A-Z]{3}26-\d+-C/);
  });

  it("--progress draws a bar on stderr; stdout stays the table", async () => {
    const r = await captureCli([...base, "--progress"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/vault \[.*\] 100% \| 141\/141/);
    expect(r.out).not.toMatch(/vault \[/);
  });

  it("put-selling in USD by default, coin collateral on request", async () => {
    const usd = await captureCli([...base, "--strategy", "put-selling", "--json"]);
    expect(usd.code).toBe(0);
    const u = JSON.parse(usd.out);
    expect(u.asset).toBe("USD");
    expect(u.opening.nav).toBe(1_000_000);
    expect(u.epochs[0].option.kind).toBe("put");
    const coin = await captureCli([...base, "--strategy", "put-selling", "--collateral", "coin", "--json"]);
    expect(JSON.parse(coin.out).asset).toBe("BTC");
  });

  it("bad input: one line naming the field and the value, exit 2", async () => {
    const dir = tempDir("vault-cli-bad");
    const file = join(dir, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({
        flows: [
          { time: "2026-13-01", depositor: "a", type: "deposit", amount: 1 },
          { time: "2026-01-02", depositor: "b", type: "deposit", amount: -5 },
          { time: "2026-01-03", depositor: "c", type: "withdraw", shares: "half" },
        ],
      }),
    );
    const r = await captureCli([...base, "--schedule", file]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/flows\.0\.time .*got "2026-13-01"/);
    expect(r.err).toMatch(/flows\.1\.amount .*got -5/);
    expect(r.err).toMatch(/flows\.2\.shares .*got "half"/);
    const s = await captureCli([...base, "--strategy", "strangle"]);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/--strategy must be covered-call or put-selling, got "strangle"/);
    const f = await captureCli([...base, "--performance-fee", "1.5"]);
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/fees\.performance .*got 1\.5/);
    // A withdrawal of more shares than held: named by its field, value and the holding.
    writeFileSync(
      file,
      JSON.stringify({
        flows: [
          { time: "2026-01-01", depositor: "a", type: "deposit", amount: 1 },
          { time: "2026-01-03", depositor: "a", type: "withdraw", shares: 2 },
        ],
      }),
    );
    const w = await captureCli([...base, "--schedule", file]);
    expect(w.code).toBe(2);
    expect(w.err).toMatch(
      /flows\[1\]\.shares must be at most the depositor's shares at the boundary 2026-01-09T.*a's 1 shares.*got 2/,
    );
    expect(w.err).not.toMatch(/\n\s+at /);
  });
});
