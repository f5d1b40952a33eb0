/**
 * Issue 25 item 1, the CLI side: src/cli/main.ts loads a command's module only when that command runs,
 * so `volfolio chain ...`, `volfolio risk ...` or `volfolio backtest ...` never loads DuckDB, pg, BullMQ, Redis, fastify or ws.
 * COMMAND_AREAS names each module's top-level commands; this checks the table against what each module
 * really registers, and the loaded packages of a command run in a fresh process.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { areasFor, buildProgram, COMMAND_AREAS } from "../../src/cli/main.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const workDir = mkdtempSync(join(tmpdir(), "volfolio-cli-lazy-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Packages (node_modules names) a fresh `volfolio <argv>` process resolves. */
async function packagesLoadedBy(argv: readonly string[]): Promise<Set<string>> {
  const logFile = join(workDir, `${argv.join("_")}.log`);
  await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--import", "./test/api/registerRecorder.mjs", "src/cli/main.ts", ...argv],
    { cwd: ROOT, env: { ...process.env, VOLFOLIO_RESOLVE_LOG: logFile } },
  );
  const urls = readFileSync(logFile, "utf8").split("\n");
  return new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));
}

const SERVICE_PACKAGES = ["@duckdb/node-api", "pg", "bullmq", "ioredis", "fastify", "ws", "piscina", "pino"];

describe("CLI loads command modules lazily", () => {
  it("each area's listed commands are exactly the top-level commands its module registers", async () => {
    for (const area of COMMAND_AREAS) {
      const program = new Command();
      (await area.load()).register(program);
      expect(program.commands.map((c) => c.name()).sort()).toEqual([...area.commands].sort());
    }
  });

  it("a command loads only its own module; help and unknown commands load all", async () => {
    expect(areasFor(["risk", "--book", "b.json"]).map((a) => a.commands[0])).toEqual(["risk"]);
    expect(areasFor(["margin"]).map((a) => a.commands)).toEqual([["risk", "stress", "margin"]]);
    expect(areasFor(["--help"])).toHaveLength(COMMAND_AREAS.length);
    expect(areasFor(["no-such-command"])).toHaveLength(COMMAND_AREAS.length);
    const all = await buildProgram();
    expect(all.commands.map((c) => c.name())).toEqual(COMMAND_AREAS.flatMap((a) => a.commands));
  });

  it("`volfolio chain|risk|backtest --help` load no database, queue or HTTP package", async () => {
    const runs = await Promise.all(["chain", "risk", "backtest"].map((c) => packagesLoadedBy([c, "--help"])));
    expect(runs[0]?.has("commander")).toBe(true); // the hook saw packages
    for (const loaded of runs) expect(SERVICE_PACKAGES.filter((p) => loaded.has(p))).toEqual([]);
  }, 60_000);
});
