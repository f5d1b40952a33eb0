/**
 * The library build (issue 25 item 1): every package.json `exports` subpath bundled by esbuild in ONE run
 * with code splitting into dist/bundle/, after tsc has written dist/ (the .d.ts the `types` conditions
 * point at, and the CLI, agent and web server, which keep running from tsc's per-file output).
 *
 * Why a bundle: tsc's output makes `import "volfolio"` load 168 core ES modules one by one, and Node's ESM
 * loader pays about 0.5 ms per module (resolve, read, compile, link) beside parsing and running the code.
 * The same root code measured at real-time priority (wall, median of 9): 168 files (tsc) 105 ms, 43 files
 * (esbuild splitting, plain) 47 ms, 5 files (this build) 22.5 ms, 1 file 20 ms. One esbuild run over all
 * entries puts every module in exactly one output file, so an error class (or any function) exists once
 * whichever entries a program imports: `instanceof InvalidInputError` holds across `volfolio`,
 * `volfolio/pricing` and the adapters (test/api/entryPoints.test.ts checks it on this bundle); one bundle
 * per entry would give each entry its own copy.
 *
 * Why the entries other than the root and `volfolio/pricing` also import the root: esbuild puts each
 * module in the chunk of the SET of entries that reach it. With 19 entries reaching different parts of
 * core, the root needed 43 chunk files (47 ms above). When every other entry also imports the root, all
 * of core that the root reaches falls into two chunks (what pricing reaches, and the rest), so `volfolio`
 * loads 5 files and `volfolio/pricing` 3; `volfolio/surface`, `volfolio/adapters/store`, ... load all of
 * core (the root's cost, ~25 ms) before their own code.
 *
 * Worker files: the sweep adapter finds its worker-thread module and its `--sweep-worker` child-process
 * module next to its own module URL (src/adapters/sweepRunner.ts `siblingModulePath`). In the bundle that
 * URL is the output file holding that code, so small launcher files are written beside it, running tsc's
 * build of the same modules (a worker thread or child process is a separate realm: jobs and results
 * cross by structured clone or Redis JSON, so class identity does not matter there). Any other bundled
 * module that reads `import.meta.url` fails the build, since bundling moves it.
 *
 * Run: `npm run build` (tsc, then `tsx scripts/buildBundle.ts`).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLE_PREFIX = "./dist/bundle/";
/** Entries bundled on their own (the light ones); every other entry also imports the root. */
const LIGHT = new Set(["index", "entry/pricing"]);
const VIRTUAL = "volfolio-entry";

/** A bundled module that locates a sibling module by `import.meta.url`, and the launcher written for it. */
interface SiblingLauncher {
  /** Source module (relative to the repo) whose code reads import.meta.url. */
  readonly module: string;
  /** File name looked up next to it (without .js). */
  readonly sibling: string;
  /** What the launcher does: re-export tsc's default export (piscina task), or run tsc's module as main. */
  readonly kind: "default-export" | "main";
}

const LAUNCHERS: readonly SiblingLauncher[] = [
  { module: "src/adapters/sweepRunner.ts", sibling: "sweepWorker", kind: "default-export" },
  { module: "src/adapters/sweepQueue.ts", sibling: "sweepQueue", kind: "main" },
];

export interface BundleOptions {
  /** Output directory (default dist/bundle). */
  readonly outdir?: string;
  /** tsc's output directory, which the worker launchers point at (default dist). */
  readonly tscDir?: string;
}

export interface BundleResult {
  readonly outdir: string;
  /** Bundle file of each exports subpath (".": index.js, "./pricing": entry/pricing.js, ...), absolute. */
  readonly entries: ReadonlyMap<string, string>;
  readonly metafile: Metafile;
  readonly ms: number;
}

/** Output name (under dist/bundle, no extension) of each package.json exports subpath. */
export function bundleEntryNames(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    exports: Record<string, { import?: string } | string>;
  };
  const out = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target !== "object" || target.import === undefined) continue;
    if (!target.import.startsWith(BUNDLE_PREFIX) || !target.import.endsWith(".js"))
      throw new Error(`package.json exports["${subpath}"].import must be ${BUNDLE_PREFIX}<name>.js`);
    out.set(subpath, target.import.slice(BUNDLE_PREFIX.length, -".js".length));
  }
  return out;
}

/** esbuild entry of each output name: the source entry itself, or a virtual module that imports the root first. */
function entryPoints(names: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names)
    out[name] = LIGHT.has(name) ? join(ROOT, "src", `${name}.ts`) : `${VIRTUAL}:${name}`;
  return out;
}

/** Loads `volfolio-entry:<name>` as `import "src/index.ts"; export * from "src/<name>.ts";`. */
const rootFirst: Plugin = {
  name: "root-first-entries",
  setup(b) {
    b.onResolve({ filter: new RegExp(`^${VIRTUAL}:`) }, (a) => ({
      path: a.path.slice(VIRTUAL.length + 1),
      namespace: VIRTUAL,
    }));
    b.onLoad({ filter: /.*/, namespace: VIRTUAL }, (a) => ({
      contents: `import ${JSON.stringify(join(ROOT, "src/index.ts"))};\nexport * from ${JSON.stringify(join(ROOT, "src", `${a.path}.ts`))};\n`,
      resolveDir: ROOT,
      loader: "ts",
    }));
  },
};

/** Absolute path of a metafile input or output (esbuild writes them relative to absWorkingDir = ROOT). */
function metaPath(p: string): string {
  return resolve(ROOT, p);
}

/** Repo-relative path of a metafile input, with forward slashes. */
function inputPath(input: string): string {
  return relative(ROOT, metaPath(input)).replaceAll("\\", "/");
}

/** Fails when a bundled module reads import.meta.url and no launcher handles it (bundling moves the URL). */
function checkModuleUrls(meta: Metafile): void {
  const handled = new Set(LAUNCHERS.map((l) => l.module));
  for (const input of Object.keys(meta.inputs)) {
    const path = inputPath(input);
    if (!path.startsWith("src/") || handled.has(path)) continue;
    if (readFileSync(join(ROOT, path), "utf8").includes("import.meta.url"))
      throw new Error(
        `${path} reads import.meta.url and is bundled into dist/bundle (its URL would be a chunk's): handle it in scripts/buildBundle.ts`,
      );
  }
}

/** Text of a launcher file at `at` for tsc's module `target`. */
function launcherText(kind: SiblingLauncher["kind"], at: string, target: string): string {
  const rel = relative(dirname(at), target).replaceAll("\\", "/");
  const spec = JSON.stringify(rel.startsWith(".") ? rel : `./${rel}`);
  const head =
    "// Written by scripts/buildBundle.ts: runs tsc's build of this module in a worker (separate realm).\n";
  if (kind === "default-export") return `${head}export { default } from ${spec};\n`;
  return `${head}import { fileURLToPath } from "node:url";\nconst target = new URL(${spec}, import.meta.url);\nprocess.argv[1] = fileURLToPath(target);\nawait import(target.href);\n`;
}

/** Writes each launcher next to every output file that holds its module's code. */
function writeLaunchers(meta: Metafile, tscDir: string): void {
  for (const l of LAUNCHERS)
    for (const [output, info] of Object.entries(meta.outputs)) {
      if (!Object.keys(info.inputs).some((i) => inputPath(i) === l.module)) continue;
      const at = join(dirname(metaPath(output)), `${l.sibling}.js`);
      const target = join(tscDir, "adapters", `${l.sibling}.js`);
      writeFileSync(at, launcherText(l.kind, at, target));
    }
}

/** Bundles every exports subpath into `outdir` (emptied first) in one esbuild run with code splitting. */
export async function bundleLibrary(opts: BundleOptions = {}): Promise<BundleResult> {
  const outdir = resolve(opts.outdir ?? join(ROOT, "dist/bundle"));
  const tscDir = resolve(opts.tscDir ?? join(ROOT, "dist"));
  const names = bundleEntryNames();
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const t0 = performance.now();
  const result = await build({
    entryPoints: entryPoints(names.values()),
    absWorkingDir: ROOT,
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    chunkNames: "chunks/[name]-[hash]",
    sourcemap: true,
    metafile: true,
    logLevel: "warning",
    plugins: [rootFirst],
  });
  checkModuleUrls(result.metafile);
  writeLaunchers(result.metafile, tscDir);
  const entries = new Map([...names].map(([subpath, name]) => [subpath, join(outdir, `${name}.js`)]));
  return { outdir, entries, metafile: result.metafile, ms: performance.now() - t0 };
}

/** Files (absolute) that importing `file` loads statically, itself included. */
export function staticClosure(meta: Metafile, file: string): string[] {
  const seen = new Set<string>();
  const stack = [resolve(file)];
  for (let f = stack.pop(); f !== undefined; f = stack.pop()) {
    if (seen.has(f)) continue;
    seen.add(f);
    const info = meta.outputs[relative(ROOT, f).replaceAll("\\", "/")];
    for (const imp of info?.imports ?? [])
      if (imp.kind === "import-statement" && !imp.external) stack.push(metaPath(imp.path));
  }
  return [...seen];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await bundleLibrary();
  const root = r.entries.get(".");
  const files = root === undefined ? [] : staticClosure(r.metafile, root);
  console.log(
    `bundle: ${r.entries.size} entries in ${relative(ROOT, r.outdir)}/ (${Math.round(r.ms)} ms); volfolio loads ${files.length} files`,
  );
}
