/**
 * `volfolio chain load|show|synthetic` (and `chain fetch`, registered by chainFetch.ts):
 * option-chain files -> loader (format detected from the content) -> normalizeChain -> table/JSON.
 *
 * Exit codes (io.ts): a file that is not a chain, or has no usable chain (every row rejected, no
 * quote of the asked --underlying), and bad flag values (--time not ISO, --spot <= 0, --vol 50
 * "looks like percent: 0.50?") exit 2; a missing or unreadable file 3. The loader's warnings (e.g.
 * no bid/ask columns: mark-only quotes) are printed on stderr as "volfolio: warning: ..." and
 * listed under `warnings` in --json.
 */
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import type { Command } from "commander";
import { type ChainFileResult, loadChainFile } from "../../adapters/chainFile.js";
import { BadInputFileError, InputFileError } from "../../adapters/inputFile.js";
import { COIN_NAME } from "../../adapters/portfolioFile.js";
import { DERIBIT_CSV_COLUMNS, formatDeribitCsvRows } from "../../adapters/deribit/files.js";
import { formatDeribitExpiry, parseDeribitExpiry } from "../../core/instruments/names.js";
import { type NormalizedChain, normalizeChain } from "../../core/market/normalize.js";
import { summarizeNormalizedChain } from "../../core/market/summary.js";
import { syntheticChain } from "../../core/market/synthetic.js";
import type { ChainSnapshot } from "../../core/market/types.js";
import {
  CliError,
  EXIT_FAILURE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  formatTable,
  output,
  parseNumberOption,
  parsePositiveOption,
  parseVolOption,
} from "../io.js";
import { registerChainFetch } from "./chainFetch.js";

interface CommonFlags {
  json?: boolean;
  underlying?: string;
  at?: string;
  time?: string;
  maxAge?: string;
}

function parseInstant(flag: string, value: string): number {
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw new CliError(`${flag}: not an ISO time: "${value}"`, EXIT_USAGE);
  return t;
}

async function loadAndNormalize(
  file: string,
  flags: CommonFlags,
): Promise<{ file: ChainFileResult; results: { chain: ChainSnapshot; norm: NormalizedChain }[] }> {
  const options = {
    ...(flags.at ? { at: parseInstant("--at", flags.at) } : {}),
    ...(flags.time ? { valuationTime: parseInstant("--time", flags.time) } : {}),
  };
  const maxQuoteAgeMs = flags.maxAge ? parsePositiveOption("--max-age", flags.maxAge) * 60_000 : undefined;
  let loaded: ChainFileResult;
  try {
    loaded = await loadChainFile(file, options);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === "ENOENT") throw new CliError(`chain file not found: ${file}`, EXIT_UNAVAILABLE);
    if (e instanceof InputFileError) throw e; // one line naming the path; exit 3 when unreadable
    if (e instanceof BadInputFileError) throw e; // not a chain file: exit 2
    if (err instanceof CliError) throw err;
    throw new CliError(err.message ?? String(e), EXIT_FAILURE);
  }
  for (const w of loaded.warnings) process.stderr.write(`volfolio: warning: ${w}\n`);
  const want = flags.underlying?.toUpperCase();
  const chains = want ? loaded.chains.filter((c) => c.underlying === want) : loaded.chains;
  if (chains.length === 0) {
    const byReason = Object.entries(countBy(loaded.rejected, (r) => r.reason))
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    throw new CliError(
      want
        ? `no ${want} options in ${file} (found: ${loaded.chains.map((c) => c.underlying).join(", ") || "none"})`
        : `no option chain in ${file} (${loaded.rejected.length} of ${loaded.rowsRead} rows rejected${byReason ? `: ${byReason}` : ""}${loaded.rejected[0] ? `; first: ${loaded.rejected[0].where}: ${loaded.rejected[0].detail}` : ""})`,
      EXIT_USAGE,
    );
  }
  const results = chains.map((chain) => ({
    chain,
    norm: normalizeChain(chain, maxQuoteAgeMs === undefined ? {} : { maxQuoteAgeMs }),
  }));
  return { file: loaded, results };
}

function countBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

const pct = (v: number | null | undefined): number | null =>
  v === null || v === undefined ? null : Number((v * 100).toFixed(2));

function summaryText(source: string, file: ChainFileResult | null, norms: NormalizedChain[]): string {
  const out: string[] = [];
  if (file) {
    const fileRej = countBy(file.rejected, (r) => r.reason);
    out.push(
      `${source}: ${file.format}${file.gzip ? " (gzip)" : ""}, ${file.rowsRead} rows read, ${file.rejected.length} rejected${
        file.rejected.length
          ? ` (${Object.entries(fileRej)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ")})`
          : ""
      }${file.superseded ? `, ${file.superseded} superseded/futures` : ""}`,
    );
  }
  for (const n of norms) {
    const s = summarizeNormalizedChain(n);
    out.push(
      "",
      `${s.underlying} at ${new Date(s.valuationTime).toISOString()}: index ${s.indexPrice} USD, ${s.input} quotes, ${s.accepted} accepted, ${s.rejected} rejected${
        s.rejected
          ? ` (${Object.entries(s.rejectedByReason)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ")})`
          : ""
      }`,
      formatTable(
        s.expiries.map((e) => ({
          expiry: e.code,
          days: Number((e.timeToExpiry * 365).toFixed(2)),
          forwardUsd: Number(e.forward.toFixed(2)),
          source: e.source,
          quotes: e.input,
          accepted: e.accepted,
          oneSided: e.oneSided,
          atmVolPct: pct(e.atmVol),
        })),
      ),
    );
  }
  return out.join("\n");
}

function chainJson(n: NormalizedChain, rejectedLimit: number) {
  return {
    ...summarizeNormalizedChain(n),
    valuationTimeIso: new Date(n.snapshot.valuationTime).toISOString(),
    rejectedQuotes: n.rejected.slice(0, rejectedLimit).map((r) => ({
      name: r.quote.instrument.name,
      reason: r.reason,
      detail: r.detail,
    })),
  };
}

type LoadFlags = CommonFlags & { rejected?: string };
type ShowFlags = CommonFlags & { expiry?: string; kind?: string };
interface SyntheticFlags {
  seed: string;
  underlying: string;
  time?: string;
  spot?: string;
  vol?: string;
  out?: string;
  json?: boolean;
}

/** The rejected file rows and chain quotes, first `limit`. */
function rejectedRows(loaded: ChainFileResult, norms: readonly NormalizedChain[], limit: number) {
  return [
    ...loaded.rejected.map((r) => ({ where: r.where, name: "", reason: r.reason, detail: r.detail })),
    ...norms.flatMap((n) =>
      n.rejected.map((x) => ({
        where: "clean",
        name: x.quote.instrument.name,
        reason: x.reason,
        detail: x.detail,
      })),
    ),
  ].slice(0, limit);
}

/** `chain load`: counts, forwards and rejections of a chain file. */
async function runLoad(file: string, flags: LoadFlags): Promise<void> {
  const { file: loaded, results } = await loadAndNormalize(file, flags);
  const limit =
    flags.rejected === undefined
      ? flags.json
        ? 50
        : 0
      : Math.max(0, Math.floor(parseNumberOption("--rejected", flags.rejected)));
  const norms = results.map((r) => r.norm);
  output(
    flags.json,
    {
      file,
      format: loaded.format,
      gzip: loaded.gzip,
      rowsRead: loaded.rowsRead,
      superseded: loaded.superseded,
      rowsRejected: loaded.rejected.length,
      rowsRejectedByReason: countBy(loaded.rejected, (r) => r.reason),
      warnings: loaded.warnings,
      rejectedRows: loaded.rejected.slice(0, limit),
      chains: norms.map((n) => chainJson(n, limit)),
    },
    () => {
      const text = summaryText(file, loaded, norms);
      if (limit <= 0) return text;
      const rows = rejectedRows(loaded, norms, limit);
      return `${text}\n\nrejected (first ${rows.length}):\n${formatTable(rows)}`;
    },
  );
}

/** The --expiry and --kind filters of `chain show` (exit 2 when malformed). */
function showFilter(flags: ShowFlags): { expiry: number | null; kind: string | undefined } {
  let expiry: number | null = null;
  if (flags.expiry) {
    expiry = parseDeribitExpiry(flags.expiry.toUpperCase());
    if (expiry === null)
      throw new CliError(`--expiry: not a Deribit date code like 27MAR26: "${flags.expiry}"`, EXIT_USAGE);
  }
  if (flags.kind && flags.kind !== "call" && flags.kind !== "put")
    throw new CliError(`--kind must be call or put, got "${flags.kind}"`, EXIT_USAGE);
  return { expiry, kind: flags.kind };
}

/** One row of the `chain show` table: prices in quote units, vols in percent. */
function showRow(q: NormalizedChain["snapshot"]["quotes"][number]) {
  return {
    name: q.instrument.name,
    strike: q.instrument.strike,
    k: Number(q.logMoneyness.toFixed(4)),
    bid: q.bid,
    ask: q.ask,
    mark: q.mark,
    bidVol: pct(q.bidVol),
    midVol: pct(q.midVol),
    askVol: pct(q.askVol),
    markVol: pct(q.markVol),
    venueIv: pct(q.markIv),
    forwardUsd: Number(q.forward.toFixed(2)),
    oi: q.openInterest ?? null,
  };
}

/** `chain show`: the clean quotes with their implied vols, filtered and sorted. */
async function runShow(file: string, flags: ShowFlags): Promise<void> {
  const { expiry, kind } = showFilter(flags);
  const { results } = await loadAndNormalize(file, flags);
  const quotes = results.flatMap((r) =>
    r.norm.snapshot.quotes.filter(
      (q) => (expiry === null || q.instrument.expiry === expiry) && (!kind || q.instrument.kind === kind),
    ),
  );
  quotes.sort(
    (a, b) =>
      a.instrument.underlying.localeCompare(b.instrument.underlying) ||
      a.instrument.expiry - b.instrument.expiry ||
      a.instrument.strike - b.instrument.strike ||
      a.instrument.kind.localeCompare(b.instrument.kind),
  );
  if (expiry !== null && quotes.length === 0) {
    const listed = [
      ...new Set(results.flatMap((r) => r.norm.snapshot.forwards.map((f) => formatDeribitExpiry(f.expiry)))),
    ];
    throw new CliError(`no accepted quotes for ${flags.expiry} (listed: ${listed.join(", ")})`, EXIT_FAILURE);
  }
  output(flags.json, quotes, () => formatTable(quotes.map(showRow)));
}

/** The synthetic chains the flags ask for (typed errors naming the flag). */
function syntheticChains(flags: SyntheticFlags): {
  seed: number;
  valuationTime: number;
  chains: ChainSnapshot[];
} {
  const seed = Math.floor(parseNumberOption("--seed", flags.seed));
  const valuationTime = flags.time
    ? parseInstant("--time", flags.time)
    : Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const coins = flags.underlying.toLowerCase() === "both" ? ["BTC", "ETH"] : [flags.underlying.toUpperCase()];
  for (const c of coins)
    if (!COIN_NAME.test(c))
      throw new CliError(
        `--underlying must be a coin name like BTC or "both", got "${flags.underlying}"`,
        EXIT_USAGE,
      );
  const spot = flags.spot !== undefined ? parsePositiveOption("--spot", flags.spot) : undefined;
  if (spot !== undefined && coins.length > 1)
    throw new CliError("--spot needs a single --underlying", EXIT_USAGE);
  const atmVol = flags.vol !== undefined ? parseVolOption("--vol", flags.vol) : undefined;
  const chains = coins.map((underlying, i) =>
    syntheticChain({
      underlying,
      valuationTime,
      seed: seed * 7919 + i,
      ...(spot !== undefined ? { spot } : {}),
      ...(atmVol !== undefined ? { atmVol } : {}),
    }),
  );
  return { seed, valuationTime, chains };
}

/** `chain synthetic`: generate, optionally write as a Deribit snapshot CSV, summarize. */
function runSynthetic(flags: SyntheticFlags): void {
  const { seed, valuationTime, chains } = syntheticChains(flags);
  if (flags.out) {
    const text = `${[DERIBIT_CSV_COLUMNS.join(","), ...chains.flatMap(formatDeribitCsvRows)].join("\n")}\n`;
    writeFileSync(flags.out, flags.out.endsWith(".gz") ? gzipSync(text) : text);
  }
  const norms = chains.map((c) => normalizeChain(c));
  output(
    flags.json,
    {
      seed,
      valuationTime: new Date(valuationTime).toISOString(),
      out: flags.out ?? null,
      chains: norms.map((n) => chainJson(n, 50)),
    },
    () =>
      `${flags.out ? `wrote ${chains.reduce((s, c) => s + c.quotes.length, 0)} rows to ${flags.out}\n` : ""}${summaryText(
        `synthetic seed ${seed}`,
        null,
        norms,
      )}`,
  );
}

function registerLoad(chain: Command): void {
  chain
    .command("load")
    .description(
      "Load a chain file (Deribit CSV/.csv.gz, Tardis options_chain CSV, Deribit API JSON) and summarize it",
    )
    .argument("<file>", "chain file; the format is detected from its content")
    .option("--underlying <coin>", "only this underlying (e.g. BTC)")
    .option("--at <iso>", "Tardis files: snapshot at this instant (default: end of file)")
    .option("--time <iso>", "valuation time (default: the file's dominant timestamp; Tardis: end of file)")
    .option("--max-age <minutes>", "reject quotes older than this at the snapshot time (default 15)")
    .option("--rejected <n>", "list up to n rejected rows and quotes (table default 0, JSON default 50)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      `
Counts always reconcile: file rows = accepted + superseded + rejected; chain quotes = accepted + rejected.
Forwards per expiry come from the dated future, else the venue's underlying price, else put-call parity, else the index.
The valuation time of a snapshot file is its dominant (median) row timestamp; a row more than 10 minutes
from it is rejected as timestamp-outlier. A file without bid/ask columns loads mark-only, with a warning.

Examples:
  volfolio chain load ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv
  volfolio chain load ../shared/data/deribit/daily/deribit_options_snapshot_20260301T083000Z.csv.gz --underlying ETH --json
  volfolio chain load tardis_options_chain.csv.gz --at 2026-01-10T09:00:00Z --rejected 20
  volfolio chain load book_summary.json`,
    )
    .action(runLoad);
}

function registerShow(chain: Command): void {
  chain
    .command("show")
    .description("Show the cleaned quotes of a chain file with their implied vols")
    .argument("<file>", "chain file (Deribit CSV/.csv.gz, Tardis CSV, Deribit JSON)")
    .option("--underlying <coin>", "only this underlying (e.g. BTC)")
    .option("--expiry <code>", "only this expiry, Deribit code (e.g. 27MAR26)")
    .option("--kind <kind>", "only calls or puts (call|put)")
    .option("--at <iso>", "Tardis files: snapshot at this instant")
    .option("--time <iso>", "valuation time (default: the file's dominant timestamp; Tardis: end of file)")
    .option("--max-age <minutes>", "reject quotes older than this at the snapshot time (default 15)")
    .option("--json", "machine-readable output (full CleanQuote objects)")
    .addHelpText(
      "after",
      `
Prices are in the instrument's quote units (coin for inverse options, USD for linear); vols in percent
(JSON: decimal). bidVol/askVol are empty when that side is missing or below intrinsic.

Examples:
  volfolio chain show ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv --underlying BTC --expiry 27MAR26
  volfolio chain show chain.csv --underlying ETH --kind put --json`,
    )
    .action(runShow);
}

function registerSynthetic(chain: Command): void {
  chain
    .command("synthetic")
    .description("Generate a seeded synthetic Deribit-style chain (no data or network needed)")
    .option("--seed <n>", "random seed", "1")
    .option("--underlying <coin>", "BTC, ETH, or both", "both")
    .option("--time <iso>", "valuation time (default: the current hour, UTC)")
    .option("--spot <usd>", "index price, USD (default BTC 90000, ETH 3000)")
    .option("--vol <decimal>", "short-end ATM vol, decimal: 0.45 = 45% (default BTC 0.45, ETH 0.60)")
    .option("--out <file>", "write the chain as a Deribit snapshot CSV (.csv or .csv.gz)")
    .option("--json", "machine-readable summary")
    .addHelpText(
      "after",
      `
Deterministic for a given --seed and --time. Expiries follow Deribit's calendar (dailies, Friday
weeklies, last-Friday monthlies, quarterlies, 08:00 UTC); smiles are SSVI with a put skew and a rising
term structure; bid/ask on the 0.0001-coin tick, widening in the wings.

Examples:
  volfolio chain synthetic --seed 42 --time 2026-01-10T09:00:00Z
  volfolio chain synthetic --underlying BTC --out /tmp/btc_chain.csv && volfolio chain show /tmp/btc_chain.csv --expiry 27MAR26`,
    )
    .action(runSynthetic);
}

export function register(program: Command): void {
  const chain = program
    .command("chain")
    .description("Option-chain files: load, inspect, generate synthetic chains");
  registerLoad(chain);
  registerShow(chain);
  registerSynthetic(chain);
  registerChainFetch(chain);
}
