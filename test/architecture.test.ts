/**
 * DESIGN.md layering, enforced: imports point down only, core does no I/O and reads no clock
 * or global randomness, and there is no import cycle between source files.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(__dirname, "../src");

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return listTs(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

const files = listTs(SRC);
const importRe = /(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(importRe)) out.push((m[1] ?? m[2]) as string);
  return out;
}

function resolveLocal(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  return resolve(dirname(from), spec.replace(/\.js$/, ".ts"));
}

/** Layer rank: a file may import only files of lower or equal rank. */
function layer(file: string): string {
  const rel = relative(SRC, file);
  return rel.split("/")[0] === "core" ? "core" : (rel.split("/")[0] ?? "");
}
const RANK: Record<string, number> = {
  core: 0,
  adapters: 1,
  agent: 2,
  web: 2,
  cli: 3,
  entry: 4,
  "index.ts": 4,
};

// Packages core may use: pure computation only (HiGHS is the optimizer's solver, DESIGN.md).
const CORE_ALLOWED_PACKAGES = new Set(["highs"]);

describe("architecture", () => {
  it("core imports nothing from outer layers, no node: I/O modules and no I/O packages", () => {
    const problems: string[] = [];
    for (const f of files.filter((x) => layer(x) === "core")) {
      for (const spec of importsOf(f)) {
        const local = resolveLocal(f, spec);
        if (local) {
          if (layer(local) !== "core") problems.push(`${relative(SRC, f)} imports ${spec}`);
        } else if (!CORE_ALLOWED_PACKAGES.has(spec)) {
          problems.push(`${relative(SRC, f)} imports package ${spec}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("core reads no clock and no global randomness", () => {
    const problems: string[] = [];
    for (const f of files.filter((x) => layer(x) === "core")) {
      const text = readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      if (/Date\.now\(|new Date\(\)|Math\.random\(|performance\.now\(|process\./.test(text))
        problems.push(relative(SRC, f));
    }
    expect(problems).toEqual([]);
  });

  it("imports point down only", () => {
    const problems: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(f)) {
        const local = resolveLocal(f, spec);
        if (!local) continue;
        const a = RANK[layer(f)] ?? 0;
        const b = RANK[layer(local)] ?? 0;
        if (b > a) problems.push(`${relative(SRC, f)} -> ${relative(SRC, local)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("has no import cycle", () => {
    const graph = new Map<string, string[]>();
    for (const f of files) {
      graph.set(
        f,
        importsOf(f)
          .map((s) => resolveLocal(f, s))
          .filter((x): x is string => x !== null)
          .map((x) => (x.endsWith(".ts") ? x : `${x}.ts`)),
      );
    }
    const state = new Map<string, number>();
    const cycles: string[] = [];
    const visit = (n: string, stack: string[]) => {
      state.set(n, 1);
      for (const m of graph.get(n) ?? []) {
        if (state.get(m) === 1) cycles.push([...stack, n, m].map((x) => relative(SRC, x)).join(" -> "));
        else if (!state.get(m)) visit(m, [...stack, n]);
      }
      state.set(n, 2);
    };
    for (const f of files) if (!state.get(f)) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
