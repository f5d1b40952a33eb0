/**
 * Exit codes scripts rely on (README: 0 ok, 1 failed, 2 bad usage or bad input file, 3 input or
 * network unavailable), issue 18 item 5: bad input files and bad flag values exit 2 with one line
 * (they used to exit 1, or 0 with a number made up from them); implausible flags get a hint.
 * In-process runs (captureCli) for most cases; a spawned `tsx src/cli/main.ts` for the process's
 * real exit status.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DERIBIT_CSV_COLUMNS, formatDeribitCsvRows } from "../../src/adapters/deribit/files.js";
import { BadInputFileError, InputFileError } from "../../src/adapters/inputFile.js";
import { BookFileError } from "../../src/adapters/portfolioFile.js";
import { CliError, describeError, EXIT_FAILURE, EXIT_UNAVAILABLE, EXIT_USAGE } from "../../src/cli/io.js";
import { InvalidInputError } from "../../src/core/errors.js";
import { syntheticChain } from "../../src/core/market/synthetic.js";
import { captureCli } from "./capture.js";

const root = resolve(__dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "volfolio-exit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 0, 10, 9);
const oneLine = (err: string) => err.trim().split("\n");

/** A synthetic BTC chain as Deribit snapshot CSV lines (header first), every row stamped T0. */
function chainCsvLines(): string[] {
  const chain = syntheticChain({ underlying: "BTC", valuationTime: T0, seed: 5 });
  return [DERIBIT_CSV_COLUMNS.join(","), ...formatDeribitCsvRows(chain)];
}

describe("describeError: bad input is 2, unavailable 3, genuine failures 1", () => {
  it.each([
    [new BookFileError("b.json", ["positions[0].quantity: expected a number, got true"]), EXIT_USAGE],
    [new BadInputFileError("c.csv", ["unknown chain file format"]), EXIT_USAGE],
    [new InvalidInputError("spot", -5, "must be > 0"), EXIT_USAGE],
    [
      new InputFileError("cannot read chain file x.gz: not valid gzip (bad header)", "EBADGZIP", "x.gz"),
      EXIT_USAGE,
    ],
    [new InputFileError("chain file not found: x.csv", "ENOENT", "x.csv"), EXIT_UNAVAILABLE],
    [new InputFileError("cannot read chain file d: it is a directory", "EISDIR", "d"), EXIT_UNAVAILABLE],
    [new CliError("optimization infeasible"), EXIT_FAILURE],
    [new Error("no convergence\nsecond line"), EXIT_FAILURE],
  ])("%s -> %i", (err, code) => {
    const d = describeError(err);
    expect(d.exitCode).toBe(code);
    expect(d.message.split("\n")).toHaveLength(1);
  });
});

describe("chain synthetic: implausible flags exit 2", () => {
  it("--vol 50 exits 2 with 'looks like percent: 0.50?'", async () => {
    const r = await captureCli(["chain", "synthetic", "--underlying", "BTC", "--vol", "50"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toEqual([
      "volfolio: --vol 50 looks like percent: 0.50? (vols are decimal, 0.55 = 55%)",
    ]);
    expect(r.out).toBe("");
  });

  it.each([["-0.2"], ["0"], ["abc"]])("--vol %s exits 2 naming the flag", async (v) => {
    const r = await captureCli(["chain", "synthetic", "--underlying", "BTC", "--vol", v]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toHaveLength(1);
    expect(r.err).toContain("--vol");
    expect(r.err).toContain(`"${v}"`);
  });

  it("--vol 0.9 is used as the short-end ATM vol", async () => {
    const base = ["chain", "synthetic", "--underlying", "BTC", "--time", "2026-01-10T09:00:00Z", "--json"];
    const hi = await captureCli([...base, "--vol", "0.9"]);
    expect(hi.code, hi.err).toBe(0);
    const first = JSON.parse(hi.out).chains[0].expiries[0];
    expect(first.atmVol).toBeGreaterThan(0.85);
    expect(first.atmVol).toBeLessThan(0.95);
  });

  it.each([["-5"], ["0"], ["abc"]])("--spot %s exits 2 naming the flag and value", async (v) => {
    const r = await captureCli(["chain", "synthetic", "--underlying", "BTC", `--spot=${v}`]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toHaveLength(1);
    expect(r.err).toContain(`--spot must be`);
    expect(r.err).toContain(`"${v}"`);
  });

  it("a non-coin --underlying exits 2", async () => {
    const r = await captureCli(["chain", "synthetic", "--underlying", "b!tc"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--underlying must be a coin name like BTC or "both", got "b!tc"');
  });
});

describe("chain fetch", () => {
  it("an unknown currency exits 2 with one line, before any request", async () => {
    const r = await captureCli(["chain", "fetch", "--currency", "DOGE", "--base-url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toEqual([
      'volfolio: --currency: unknown Deribit currency "DOGE" (known: BTC, ETH, SOL, XRP, USDC, USDT, EURR)',
    ]);
  });

  it("a non-positive --timeout exits 2", async () => {
    const r = await captureCli(["chain", "fetch", "--currency", "BTC", "--timeout", "0"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toEqual(['volfolio: --timeout must be > 0, got "0"']);
  });
});

describe("chain load: bad files exit 2, missing 3; outliers and missing columns reported", () => {
  it("a file that is not a chain exits 2 (unknown format, invalid JSON, corrupt gzip)", async () => {
    const unknown = join(dir, "notachain.csv");
    writeFileSync(unknown, "a,b,c\n1,2,3\n");
    const json = join(dir, "broken.json");
    writeFileSync(json, '{"result": [');
    const gz = join(dir, "corrupt.csv.gz");
    // gzip's magic bytes and header, then a deflate stream that does not inflate.
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]));
    for (const [file, text] of [
      [unknown, "unknown chain file format"],
      [json, "invalid JSON"],
      [gz, "not valid gzip"],
    ] as const) {
      const r = await captureCli(["chain", "load", file]);
      expect(r.code, r.err).toBe(2);
      expect(oneLine(r.err)).toHaveLength(1);
      expect(r.err).toContain(file);
      expect(r.err).toContain(text);
    }
  });

  it("a chain file whose every row is rejected exits 2 with the reasons", async () => {
    const [head, ...rows] = chainCsvLines();
    const p = join(dir, "allbad.csv");
    writeFileSync(
      p,
      [head, ...rows.slice(0, 3).map((l) => l.replace(/,BTC,([^,]*),([^,]*)$/, ",BTC,,$2"))].join("\n"),
    );
    const r = await captureCli(["chain", "load", p]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toHaveLength(1);
    expect(r.err).toContain(
      `no option chain in ${p} (3 of 3 rows rejected: missing-index 3; first: line 2: index_price`,
    );
  });

  it("a missing file exits 3, a directory exits 3", async () => {
    const r = await captureCli(["chain", "load", join(dir, "nope.csv")]);
    expect(r.code).toBe(3);
    const d = join(dir, "adir");
    mkdirSync(d);
    const s = await captureCli(["chain", "load", d]);
    expect(s.code).toBe(3);
  });

  it("a row stamped 2100 is rejected as timestamp-outlier; the chain keeps the dominant time (exit 0); --time overrides", async () => {
    const lines = chainCsvLines();
    const stamp = new Date(T0).toISOString();
    lines[4] = (lines[4] as string).replace(stamp, "2100-01-01T00:00:00.000Z");
    const p = join(dir, "outlier.csv");
    writeFileSync(p, lines.join("\n"));
    const r = await captureCli(["chain", "load", p, "--json"]);
    expect(r.code, r.err).toBe(0);
    const d = JSON.parse(r.out);
    expect(d.rowsRead).toBe(lines.length - 1);
    expect(d.rowsRejectedByReason).toEqual({ "timestamp-outlier": 1 });
    expect(d.rejectedRows[0]).toMatchObject({ where: "line 5", reason: "timestamp-outlier" });
    expect(d.chains[0].valuationTimeIso).toBe(stamp);
    expect(d.chains[0].accepted + d.chains[0].rejected).toBe(lines.length - 2);
    expect(d.chains[0].rejectedByReason?.expired ?? 0).toBe(0);
    const at = "2026-01-10T09:05:00.000Z";
    const t = await captureCli(["chain", "load", p, "--json", "--time", at]);
    expect(t.code, t.err).toBe(0);
    expect(JSON.parse(t.out).chains[0].valuationTimeIso).toBe(at);
    const bad = await captureCli(["chain", "load", p, "--time", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.err)).toEqual(['volfolio: --time: not an ISO time: "yesterday"']);
  });

  it("a Deribit CSV without bid_price/ask_price loads mark-only with a loud warning (stderr and JSON)", async () => {
    const lines = chainCsvLines().map((l) => l.split(","));
    const drop = new Set([
      DERIBIT_CSV_COLUMNS.indexOf("bid_price"),
      DERIBIT_CSV_COLUMNS.indexOf("ask_price"),
    ]);
    const p = join(dir, "markonly.csv");
    writeFileSync(p, lines.map((cells) => cells.filter((_, i) => !drop.has(i)).join(",")).join("\n"));
    const r = await captureCli(["chain", "load", p, "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`volfolio: warning: ${p} has no bid_price, ask_price columns`);
    const d = JSON.parse(r.out);
    expect(d.warnings).toEqual([expect.stringContaining("MARK-ONLY")]);
    const t = await captureCli(["chain", "load", p]);
    expect(t.code).toBe(0);
    expect(t.err).toContain("volfolio: warning:");
  });
});

describe("the process exit status (spawned CLI)", () => {
  const tsx = join(root, "node_modules/.bin/tsx");
  const main = join(root, "src/cli/main.ts");
  const cli = (args: string[]) => {
    const r = spawnSync(tsx, [main, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it("chain synthetic --vol 50 and chain fetch --currency DOGE exit 2; a missing chain file exits 3", () => {
    const v = cli(["chain", "synthetic", "--underlying", "BTC", "--vol", "50"]);
    expect(v.code).toBe(2);
    expect(v.err).toContain("looks like percent: 0.50?");
    const c = cli(["chain", "fetch", "--currency", "DOGE"]);
    expect(c.code).toBe(2);
    expect(oneLine(c.err)).toHaveLength(1);
    const m = cli(["chain", "load", join(dir, "missing.csv")]);
    expect(m.code).toBe(3);
  }, 120_000);
});
