/**
 * Issue 25 item 1: the public API by area. The package root exports core's public names (no internals and
 * no adapters); every subpath in package.json `exports` has its entry file; importing `volfolio` or
 * `volfolio/pricing` loads no package at all (so no database, queue or HTTP module) and no I/O builtin.
 * The loaded-module check runs each entry in a fresh child process with a resolve hook that logs every
 * URL the process resolves (recordResolve.mjs); the store adapter is the control that the log sees packages.
 * The same checks run on the published build (scripts/buildBundle.ts: every exports subpath bundled in one
 * esbuild run, made here into test-output/), plus class identity across entries: an error thrown through
 * `volfolio/pricing` or an adapter is `instanceof` the class `volfolio` exports (one copy of each module).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BundleResult, bundleLibrary } from "../../scripts/buildBundle.js";
import * as root from "../../src/index.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const workDir = mkdtempSync(join(tmpdir(), "volfolio-entry-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/**
 * Every URL resolved while a fresh Node process imports `entry` (a path under src/ run through tsx, or an
 * absolute path of a built .js file run by plain Node).
 */
async function resolvedUrls(entry: string): Promise<string[]> {
  const built = entry.endsWith(".js");
  const logFile = join(workDir, `${entry.replaceAll("/", "_")}.log`);
  await promisify(execFile)(
    process.execPath,
    [
      ...(built ? [] : ["--import", "tsx"]),
      "--import",
      "./test/api/registerRecorder.mjs",
      "--input-type=module",
      "-e",
      "await import(process.argv[1])",
      built ? pathToFileURL(entry).href : join(ROOT, entry),
    ],
    { cwd: ROOT, env: { ...process.env, VOLFOLIO_RESOLVE_LOG: logFile } },
  );
  return [
    ...new Set(
      readFileSync(logFile, "utf8")
        .split("\n")
        .filter((l) => l !== ""),
    ),
  ];
}

/** Package name of a node_modules URL (`@scope/name` or `name`), or null for our own files and builtins. */
function packageOf(url: string): string | null {
  const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return m?.[1] ?? null;
}

const IO_BUILTINS = /^node:(http|https|http2|net|tls|dgram|dns|child_process|worker_threads|cluster)$/;

describe("entry points load no service dependency", () => {
  const loads = Promise.all([
    resolvedUrls("src/index.ts"),
    resolvedUrls("src/entry/pricing.ts"),
    resolvedUrls("src/entry/adapters/store.ts"),
  ]);

  it("volfolio (the root, all of core's areas) loads no package and no network or process builtin", async () => {
    const [rootUrls] = await loads;
    expect(rootUrls.length).toBeGreaterThan(50); // the hook saw the core modules
    expect(rootUrls.map(packageOf).filter((p) => p !== null)).toEqual([]);
    expect(rootUrls.filter((u) => IO_BUILTINS.test(u))).toEqual([]);
    expect(rootUrls.filter((u) => /\/src\/(adapters|cli|agent|web)\//.test(u))).toEqual([]);
  }, 30_000);

  it("volfolio/pricing loads only core modules", async () => {
    const [, pricingUrls] = await loads;
    const outside = pricingUrls.filter((u) => !u.startsWith(`file://${ROOT}/src/core/`));
    expect(outside).toEqual([`file://${ROOT}/src/entry/pricing.ts`]);
    expect(pricingUrls.some((u) => u.endsWith("/src/core/pricing/black76.ts"))).toBe(true);
  }, 30_000);

  it("control: volfolio/adapters/store does load DuckDB and pg (the hook sees packages)", async () => {
    const [, , storeUrls] = await loads;
    const packages = new Set(storeUrls.map(packageOf));
    expect(packages.has("@duckdb/node-api")).toBe(true);
    expect(packages.has("pg")).toBe(true);
  }, 30_000);
});

/** The module of src/entry/<name>.ts (name as in package.json `exports`, e.g. "adapters/store"). */
async function entryModule(name: string): Promise<Record<string, unknown>> {
  return (await import(/* @vite-ignore */ join(ROOT, "src/entry", `${name}.ts`))) as Record<string, unknown>;
}

describe("package root: core's public names only", () => {
  const names = Object.keys(root);

  it("leaves out internals and adapters", () => {
    for (const internal of [
      "blackUndiscountedUnchecked",
      "normalisedImpliedVolOtm",
      "sviToInternal",
      "sviFromInternal",
      "requireFinite",
      "redisConnectionFromUrl",
      "DuckDbSnapshotStore",
      "loadChainFile",
      "fetchDeribitChain",
    ])
      expect(names, internal).not.toContain(internal);
  });

  it("exports each area's main functions", () => {
    for (const name of [
      "blackPrice",
      "impliedVol",
      "impliedVolFromCoinPrice",
      "parseInstrumentName",
      "normalizeChain",
      "calibrateSurface",
      "valuePosition",
      "chainRiskMarket",
      "scenarioGrid",
      "portfolioMargin",
      "optimizePortfolio",
      "runBacktest",
      "drawdownSeries",
      "volIndexFromChain",
      "fitGarch",
      "runVault",
      "InvalidInputError",
    ])
      expect(typeof (root as Record<string, unknown>)[name], name).toBe("function");
  });

  it("is the union of the core subpath entries, each a package.json export with its entry file", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      exports: Record<string, unknown>;
    };
    const union = new Set<string>();
    for (const subpath of Object.keys(pkg.exports)) {
      if (subpath === "." || subpath === "./package.json") continue;
      const name = subpath.slice(2);
      expect(existsSync(join(ROOT, "src/entry", `${name}.ts`)), subpath).toBe(true);
      // adapters are not in the root (and importing them here would load DuckDB, BullMQ, ...)
      if (name.startsWith("adapters/")) continue;
      const mod = await entryModule(name);
      expect(Object.keys(mod).length, subpath).toBeGreaterThan(0);
      for (const n of Object.keys(mod)) union.add(n);
    }
    for (const n of ["errors", "math"]) for (const k of Object.keys(await entryModule(n))) union.add(k);
    expect(new Set(names)).toEqual(union);
  }, 30_000);
});

/**
 * Child program for the identity check: imports the built root, `volfolio/pricing`, `volfolio/surface` and
 * `volfolio/adapters/files` (argv: their URLs) and reports whether errors thrown through the others are
 * instances of the root's classes and whether shared functions are the same objects.
 */
const IDENTITY_CHILD = `
const [root, pricing, surface, files] = await Promise.all(process.argv.slice(1).map((u) => import(u)));
const thrown = (f) => { try { f(); } catch (e) { return e; } return null; };
const fromPricing = thrown(() => pricing.blackPrice({ forward: -1, strike: 1, expiry: 1, vol: 0.5, kind: "call" }));
const fromAdapter = thrown(() => files.parseStrategySpec({}, "strategy.json"));
console.log(JSON.stringify({
  pricingError: fromPricing?.name ?? null,
  pricingErrorIsRootClass: fromPricing instanceof root.InvalidInputError,
  adapterError: fromAdapter?.name ?? null,
  adapterErrorIsRootClass: fromAdapter instanceof root.InvalidInputError,
  sameBlackPrice: pricing.blackPrice === root.blackPrice,
  sameCalibrateSurface: surface.calibrateSurface === root.calibrateSurface,
}));
`;

describe("the built package (scripts/buildBundle.ts: one esbuild run over every exports subpath)", () => {
  let bundle: BundleResult;
  /** Bundle file of an exports subpath ("." for the root). */
  const file = (subpath: string): string => {
    const f = bundle.entries.get(subpath);
    if (f === undefined) throw new Error(`no bundle entry for ${subpath}`);
    return f;
  };
  const inBundle = (u: string) => u.startsWith(pathToFileURL(bundle.outdir).href);
  const bytes = (urls: readonly string[]) =>
    urls.filter(inBundle).reduce((s, u) => s + statSync(fileURLToPath(u)).size, 0);

  beforeAll(async () => {
    // Under the repo (gitignored test-output/) so the adapters' external packages resolve from node_modules.
    mkdirSync(join(ROOT, "test-output"), { recursive: true });
    bundle = await bundleLibrary({ outdir: mkdtempSync(join(ROOT, "test-output", "bundle-")) });
  }, 60_000);
  afterAll(() => rmSync(bundle.outdir, { recursive: true, force: true }));

  it("bundles every package.json exports subpath", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: object };
    const subpaths = Object.keys(pkg.exports).filter((s) => s !== "./package.json");
    expect([...bundle.entries.keys()].sort()).toEqual(subpaths.sort());
    for (const f of bundle.entries.values()) expect(existsSync(f), f).toBe(true);
  });

  it("instanceof holds across entries: errors thrown via volfolio/pricing and an adapter are volfolio's class", async () => {
    const urls = [".", "./pricing", "./surface", "./adapters/files"].map((s) => pathToFileURL(file(s)).href);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "-e", IDENTITY_CHILD, ...urls],
      { cwd: ROOT },
    );
    expect(JSON.parse(stdout)).toEqual({
      pricingError: "InvalidInputError",
      pricingErrorIsRootClass: true,
      adapterError: "InvalidInputError",
      adapterErrorIsRootClass: true,
      sameBlackPrice: true,
      sameCalibrateSurface: true,
    });
  }, 30_000);

  it("volfolio and volfolio/pricing load no package and no network or process builtin; the store adapter does", async () => {
    const [rootUrls, pricingUrls, storeUrls] = await Promise.all([
      resolvedUrls(file(".")),
      resolvedUrls(file("./pricing")),
      resolvedUrls(file("./adapters/store")),
    ]);
    for (const urls of [rootUrls, pricingUrls]) {
      expect(urls.filter((u) => !inBundle(u) && !u.startsWith("node:"))).toEqual([]);
      expect(urls.filter((u) => IO_BUILTINS.test(u))).toEqual([]);
    }
    // A few files, not one per module: 43 chunk files cost the root twice the CPU time (scripts/buildBundle.ts).
    expect(rootUrls.filter(inBundle).length).toBeLessThanOrEqual(8);
    // pricing loads a part of what the root loads (its tables and kernels), not the rest of core
    expect(
      pricingUrls.every((u) => rootUrls.includes(u) || u === pathToFileURL(file("./pricing")).href),
    ).toBe(true);
    expect(bytes(pricingUrls)).toBeLessThan(bytes(rootUrls) / 2);
    const packages = new Set(storeUrls.map(packageOf));
    expect(packages.has("@duckdb/node-api")).toBe(true);
    expect(packages.has("pg")).toBe(true);
  }, 60_000);
});
