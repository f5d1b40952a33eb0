import { tmpdir } from "node:os";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { captureCli } from "./capture.js";

/** Every leaf command registered on the program, as argv prefixes (e.g. ["surface", "fit"]). */
function leafCommands(cmd: Command, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const c of cmd.commands) {
    const path = [...prefix, c.name()];
    if (c.commands.length === 0) out.push(path);
    else out.push(...leafCommands(c, path));
  }
  return out;
}

const capture = captureCli;

const commands = leafCommands(await buildProgram());

describe("CLI: every registered command", () => {
  it("has at least the demo and serve commands registered", () => {
    expect(commands.map((c) => c.join(" "))).toEqual(expect.arrayContaining(["demo", "serve"]));
  });

  it.each(commands.map((c) => [c.join(" "), c]))(
    "%s --help shows usage and an Examples section",
    async (_n, argv) => {
      const r = await capture([...(argv as string[]), "--help"]);
      expect(r.code).toBe(0);
      const text = r.out + r.err;
      expect(text).toContain("Usage:");
      expect(text).toMatch(/Examples:/);
    },
  );

  it.each(commands.map((c) => [c.join(" "), c]))(
    "%s with a bad flag exits 2 with a one-line error",
    async (_n, argv) => {
      const r = await capture([...(argv as string[]), "--no-such-flag-xyz"]);
      expect(r.code).toBe(2);
      const lines = r.err.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("(run with --help"));
      expect(lines.length).toBe(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    },
  );
});

describe("CLI: demo and serve", () => {
  it("demo --json writes the report and prints it; every section present or with a reason", async () => {
    const dir = `${process.env.TMPDIR ?? "/tmp"}/volfolio-cli-demo-${process.pid}`;
    const r = await capture(["demo", "--no-serve", "--json", "--seed", "3", "--out", dir]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    for (const s of [
      "surface",
      "greeks",
      "scenarios",
      "stress",
      "margin",
      "optimizer",
      "backtest",
      "volIndex",
      "regime",
    ])
      expect(report[s] !== undefined || typeof report.unavailable[s] === "string").toBe(true);
    expect(r.err).toContain("[demo] surface fit");
  }, 60_000);

  it("usage errors exit 2, missing files exit 3, as one line", async () => {
    const a = await capture(["demo", "--no-serve", "--seed", "abc"]);
    expect(a.code).toBe(2);
    expect(a.err.trim().split("\n")).toHaveLength(1);
    const b = await capture(["demo", "--no-serve", "--chain", "/nonexistent/chain.csv"]);
    expect(b.code).toBe(3);
    expect(b.err.trim()).toBe("volfolio: chain file not found: /nonexistent/chain.csv");
    // a directory named as the chain or book stops the demo too (it used to run on with every
    // market section marked absent and exit 0)
    const dir = tmpdir();
    const b2 = await capture(["demo", "--no-serve", "--chain", dir]);
    expect(b2.code).toBe(3);
    expect(b2.err.trim()).toBe(`volfolio: cannot read chain file ${dir}: it is a directory`);
    const b3 = await capture(["demo", "--no-serve", "--book", dir]);
    expect(b3.code).toBe(3);
    expect(b3.err.trim()).toBe(`volfolio: cannot read book file ${dir}: it is a directory`);
    const b4 = await capture(["agent", "--config", "/nonexistent/agent.json"]);
    expect(b4.code).toBe(3);
    expect(b4.err.trim()).toBe("volfolio: config not found: /nonexistent/agent.json");
    const b5 = await capture(["agent", "--config", dir]);
    expect(b5.code).toBe(3);
    expect(b5.err.trim()).toBe(`volfolio: cannot read config ${dir}: it is a directory`);
    const c = await capture(["serve", "--report", "/nonexistent/report.json"]);
    expect(c.code).toBe(3);
    const d = await capture(["serve", "--report", "/nonexistent/report.json", "--host", "0.0.0.0"]);
    expect(d.code).toBe(3);
  });
});
