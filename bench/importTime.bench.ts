/**
 * Import-time bench (issue 25 item 1): the cost of importing each public entry point of the built
 * package (the files package.json `exports` names: dist/bundle/, one esbuild run with code splitting,
 * scripts/buildBundle.ts; `npm run bench` builds it first), each in a fresh Node process that times its
 * own `await import()` and reports its RSS growth. In the same run: importing every entry at once (the
 * old package root: core plus every adapter, DuckDB, pg, BullMQ, fastify, ...), and the root from tsc's
 * per-file output (dist/index.js, what the package published before the bundle). Prints the ratio
 * volfolio / volfolio/pricing. Targets: `volfolio` and `volfolio/pricing` under 100 ms wall on an idle
 * machine. Median of RUNS processes per entry.
 *
 * Run: npm run build && npx tsx bench/run.ts importTime
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { quantile } from "../src/core/math/stats.js";
import { fmt, header } from "./harness.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = 7;

/**
 * Child program: imports every URL in argv in turn, prints the wall time, the process's CPU time
 * (user + system: on a shared machine the steadier figure, near the wall time of a quiet one) and
 * the RSS growth of the whole import.
 */
const CHILD = `
const rss0 = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (const url of process.argv.slice(1)) await import(url);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(JSON.stringify({ ms, cpuMs, rssMb: (process.memoryUsage().rss - rss0) / 2 ** 20 }));
`;

interface ImportCost {
  readonly ms: number;
  readonly cpuMs: number;
  readonly rssMb: number;
}

/** Median import time and RSS growth of `files` (paths under dist/) over RUNS fresh processes. */
function importCost(files: readonly string[]): ImportCost {
  const urls = files.map((f) => pathToFileURL(join(ROOT, f)).href);
  const runs: ImportCost[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", CHILD, ...urls], {
      cwd: ROOT,
      encoding: "utf8",
    });
    runs.push(JSON.parse(out) as ImportCost);
  }
  const median = (pick: (r: ImportCost) => number) => quantile(runs.map(pick), 0.5);
  return { ms: median((r) => r.ms), cpuMs: median((r) => r.cpuMs), rssMb: median((r) => r.rssMb) };
}

/** dist/ file of each package.json export (".": dist/bundle/index.js, "./pricing": dist/bundle/entry/pricing.js, ...). */
function exportFiles(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    exports: Record<string, { import?: string } | string>;
  };
  const out = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports))
    if (typeof target === "object" && target.import) out.set(subpath, target.import.replace(/^\.\//, ""));
  return out;
}

/** The unbundled root (tsc's per-file output), the reference line. */
const TSC_ROOT = "dist/index.js";

/** One entry's line: median wall and CPU, RSS growth, ratio to the every-entry baseline, target verdict. */
function entryLine(subpath: string, c: ImportCost, all: ImportCost): string {
  const name = subpath === "." ? "volfolio" : `volfolio${subpath.slice(1)}`;
  const target =
    subpath === "." || subpath === "./pricing"
      ? ` (target < 100 ms: wall ${c.ms < 100 ? "meets" : "MISSES"} it, CPU ${c.cpuMs < 100 ? "meets" : "MISSES"} it)`
      : "";
  return `${name.padEnd(28)} ${fmt(c.ms).padStart(6)} ms (CPU ${fmt(c.cpuMs)} ms), +${fmt(c.rssMb)} MB RSS, ${fmt(c.ms / all.ms)}x the baseline${target}`;
}

export async function run(): Promise<void> {
  header(`import time of the package entry points (fresh process each, median of ${RUNS})`);
  const files = exportFiles();
  if (![...files.values(), TSC_ROOT].every((f) => existsSync(join(ROOT, f)))) {
    console.log("skipped: dist/ is missing or stale (run `npm run build` first)");
    return;
  }
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
  console.log(`load average (1, 5, 15 min) at start: ${load()} (wall times need an idle machine)`);
  const all = importCost([...files.values()]);
  console.log(
    `baseline, every entry at once (the old root: core + all adapters): ${fmt(all.ms)} ms (CPU ${fmt(all.cpuMs)} ms), +${fmt(all.rssMb)} MB RSS`,
  );
  const costs = new Map<string, ImportCost>();
  for (const [subpath, file] of files) {
    const c = importCost([file]);
    costs.set(subpath, c);
    console.log(entryLine(subpath, c, all));
  }
  const root = costs.get(".");
  const pricing = costs.get("./pricing");
  if (root === undefined || pricing === undefined) return;
  const tsc = importCost([TSC_ROOT]);
  console.log(
    `volfolio / volfolio/pricing: ${fmt(root.ms / pricing.ms)}x wall, ${fmt(root.cpuMs / pricing.cpuMs)}x CPU`,
  );
  console.log(
    `volfolio from tsc's per-file output (${TSC_ROOT}, unbundled): ${fmt(tsc.ms)} ms (CPU ${fmt(tsc.cpuMs)} ms), +${fmt(tsc.rssMb)} MB RSS; the bundle takes ${fmt(root.ms / tsc.ms)}x its wall time, ${fmt(root.cpuMs / tsc.cpuMs)}x its CPU`,
  );
  console.log(`load average at end: ${load()}`);
}
