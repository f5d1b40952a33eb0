/**
 * Tests mirror src/ (issue 25 item 5; DESIGN.md: "test/ mirrors src/"). The rule: a test file lives
 * in the test/ directory that mirrors the src/ directory of the module it tests
 * (test/core/optimize/milp.test.ts tests src/core/optimize; test/cli/surface.test.ts the CLI
 * command). Cross-cutting tests (layering, one valuation across entry points, function length,
 * this layout) stay at the top level and are listed here; the public API's tests are in test/api;
 * `fixtures/` and `helpers/` directories (at any depth) hold data and shared test code.
 * Checked: every other directory under test/ names an existing src/ directory, and the top level
 * holds only the listed cross-cutting tests. A control tree shows the check finds a stray directory.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const TEST = resolve(__dirname);
const SRC = resolve(__dirname, "../src");

/** Directory names that hold data or shared test code, not tests of a module. */
const SUPPORT_DIRS = new Set(["fixtures", "helpers"]);
/** Top-level directories that mirror no src/ directory on purpose: the public API's tests. */
const TOP_LEVEL_DIRS = new Set(["api"]);
/** The cross-cutting tests allowed at the top level. */
const TOP_LEVEL_TESTS = [
  "architecture.test.ts",
  "consistency.test.ts",
  "functionLength.test.ts",
  "layout.test.ts",
];

function isDir(p: string): boolean {
  return statSync(p).isDirectory();
}

/** Test directories (relative to `testRoot`) without a src/ directory of the same path. */
function unmirroredDirs(testRoot: string, srcRoot: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (!isDir(p) || SUPPORT_DIRS.has(name)) continue;
      const rel = relative(testRoot, p);
      if (dir === testRoot && TOP_LEVEL_DIRS.has(name)) continue;
      let mirrored = false;
      try {
        mirrored = isDir(join(srcRoot, rel));
      } catch {
        mirrored = false;
      }
      if (!mirrored) out.push(rel);
      walk(p);
    }
  };
  walk(testRoot);
  return out.sort();
}

/** Test files at the top level of `testRoot` that are not in the cross-cutting list. */
function strayTopLevelTests(testRoot: string): string[] {
  return readdirSync(testRoot)
    .filter((n) => n.endsWith(".test.ts") && !TOP_LEVEL_TESTS.includes(n))
    .sort();
}

describe("test/ mirrors src/", () => {
  it("every test directory (except fixtures, helpers and api) is a src/ directory", () => {
    expect(unmirroredDirs(TEST, SRC)).toEqual([]);
  });

  it("the top level holds only the cross-cutting tests", () => {
    expect(strayTopLevelTests(TEST)).toEqual([]);
  });

  it("control: a stray directory, nested or not, and a stray top-level test are found", () => {
    const root = join(tmpdir(), `volfolio-layout-${process.pid}`);
    try {
      for (const d of [
        "src/core/optimize",
        "test/core/optimize/fixtures",
        "test/core/surfaces",
        "test/core/optimize/lp",
        "test/api",
        "test/helpers",
      ])
        mkdirSync(join(root, d), { recursive: true });
      writeFileSync(join(root, "test/core.test.ts"), "");
      writeFileSync(join(root, "test/layout.test.ts"), "");
      expect(unmirroredDirs(join(root, "test"), join(root, "src"))).toEqual([
        "core/optimize/lp",
        "core/surfaces",
      ]);
      expect(strayTopLevelTests(join(root, "test"))).toEqual(["core.test.ts"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
