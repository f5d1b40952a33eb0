/**
 * The market flags of `volfolio risk | stress | margin | optimize` and the book they value:
 * book file + market flags -> a ValuedBook (src/web/bookMarket.ts, the valuation the demo shares).
 *
 * The market a trader has (exactly one of):
 *   --chain FILE      a chain file (Deribit CSV/.csv.gz, Deribit API JSON, Tardis options_chain;
 *                     adapters/chainFile.ts), at `--time ISO` instead of the file's time if given
 *   --live            Deribit's public API (env VOLFOLIO_DERIBIT_URL overrides the URL), one chain per
 *                     underlying the book holds, all valued at the first chain's instant;
 *                     unreachable: one line, exit 3
 *   --synthetic       seeded synthetic chains, one per underlying the book holds (`--seed N`: the n-th
 *                     underlying gets N + n; `--time ISO`, default the book file's market time, else
 *                     the current hour UTC; index from the book file's market section when it has one)
 *   --book-market     the book file's own parametric `market` section: explicit only
 * No market flag: exit 2 with the list of choices. Two market flags, or --time with --live or
 * --book-market: exit 2. A book with bad rows: exit 2 naming every one; a missing file: exit 3.
 */
import type { Command } from "commander";
import {
  DERIBIT_MAINNET_URL,
  DeribitClientError,
  type FetchedDeribitChain,
  fetchDeribitChain,
} from "../adapters/deribit/client.js";
import { assertCleanBook, loadPortfolioFile, type PortfolioFile } from "../adapters/portfolioFile.js";
import type { SurfaceModel } from "../core/surface/calibrate.js";
import {
  chainFileChains,
  describeChains,
  type LoadedChains,
  neededUnderlyings,
  syntheticChainsFor,
  type ValuedBook,
  valueBookOnBookMarket,
  valueBookOnChains,
} from "../web/bookMarket.js";
import { CliError, EXIT_FAILURE, EXIT_UNAVAILABLE, EXIT_USAGE, parseNumberOption } from "./io.js";

/** The market flags as commander hands them over (strings unparsed). */
export interface MarketFlags {
  chain?: string;
  live?: boolean;
  synthetic?: boolean;
  seed?: string;
  time?: string;
  bookMarket?: boolean;
  timeout?: string;
}

/** Which market to value the book on. */
export type MarketChoice =
  | { readonly kind: "chain"; readonly file: string; readonly valuationTime?: number }
  | { readonly kind: "live"; readonly timeoutMs: number }
  | { readonly kind: "synthetic"; readonly seed: number; readonly valuationTime?: number }
  | { readonly kind: "book-market" };

/** Default --seed (of --synthetic, and of risk's Monte Carlo VaR). */
export const DEFAULT_SEED = 1;

/** The market choices, for the no-market error and the help texts. */
export const MARKET_CHOICES =
  "--chain FILE, --live, --synthetic [--seed N] [--time ISO] or --book-market (the book file's own parametric market section)";
const CHAIN_CHOICES = "--chain FILE, --live or --synthetic [--seed N] [--time ISO]";

/**
 * Registers --chain, --live, --synthetic, --time, --timeout, --book-market (when `bookMarket`;
 * "refused": registered so that parseMarketFlags can say why it does not apply) and --seed (when
 * `seed`; risk registers its own, shared with the Monte Carlo VaR).
 */
export function addMarketOptions(
  cmd: Command,
  o: { bookMarket: boolean | "refused"; seed: boolean },
): Command {
  cmd
    .option(
      "--chain <file>",
      "market: this option chain file (Deribit CSV/.csv.gz, Deribit API JSON, Tardis options_chain)",
    )
    .option(
      "--live",
      "market: Deribit's live public chains, one per underlying of the book (env VOLFOLIO_DERIBIT_URL overrides the URL; exit 3 when unreachable)",
    )
    .option(
      "--synthetic",
      "market: seeded synthetic chains, one per underlying of the book (--seed, --time)",
    );
  if (o.seed)
    cmd.option(
      "--seed <n>",
      "with --synthetic: seed of the first underlying's chain (+1 for each next one)",
      String(DEFAULT_SEED),
    );
  cmd
    .option(
      "--time <iso>",
      "with --chain: valuation time instead of the file's; with --synthetic: the chains' instant (default: the book file's market time, else the current hour UTC)",
    )
    .option("--timeout <ms>", "with --live: per-request timeout in ms", "10000");
  if (o.bookMarket)
    cmd.option(
      "--book-market",
      o.bookMarket === "refused"
        ? "not available here: the candidates are a chain's quotes (exit 2)"
        : "market: the book file's own parametric market section (explicit only, never the default)",
    );
  return cmd;
}

function parseInstant(flag: string, value: string): number {
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim()) || !Number.isFinite(t))
    throw new CliError(`${flag}: not an ISO time: "${value}" (e.g. 2026-02-02T08:00:00Z)`, EXIT_USAGE);
  return t;
}

/**
 * Parses the market flags of `command` (exit 2 for no market, two markets, or a flag that does not
 * apply). `allowBookMarket: false` for optimize: its candidates are a chain's quotes.
 */
export function parseMarketFlags(
  f: MarketFlags,
  o: { readonly command: string; readonly allowBookMarket: boolean },
): MarketChoice {
  const chosen = [
    f.chain !== undefined ? "--chain" : null,
    f.live ? "--live" : null,
    f.synthetic ? "--synthetic" : null,
    f.bookMarket ? "--book-market" : null,
  ].filter((x): x is string => x !== null);
  if (chosen.length === 0)
    throw new CliError(
      `${o.command}: no market given: choose ${o.allowBookMarket ? MARKET_CHOICES : CHAIN_CHOICES}`,
      EXIT_USAGE,
    );
  if (chosen.length > 1)
    throw new CliError(`${o.command}: choose one market, got ${chosen.join(" and ")}`, EXIT_USAGE);
  const time = f.time !== undefined ? parseInstant("--time", f.time) : undefined;
  if (time !== undefined && (f.live || f.bookMarket))
    throw new CliError(`--time applies to --chain and --synthetic, not to ${chosen[0]}`, EXIT_USAGE);
  if (f.bookMarket) {
    if (!o.allowBookMarket)
      throw new CliError(
        `${o.command}: --book-market cannot be used (the candidates are a chain's quotes): choose ${CHAIN_CHOICES}`,
        EXIT_USAGE,
      );
    return { kind: "book-market" };
  }
  if (f.chain !== undefined)
    return { kind: "chain", file: f.chain, ...(time !== undefined ? { valuationTime: time } : {}) };
  if (f.live) {
    const timeoutMs = parseNumberOption("timeout", f.timeout ?? "10000");
    if (!(timeoutMs > 0)) throw new CliError(`--timeout must be > 0 ms, got "${f.timeout}"`, EXIT_USAGE);
    return { kind: "live", timeoutMs };
  }
  const seed = parseNumberOption("seed", f.seed ?? String(DEFAULT_SEED));
  if (!Number.isInteger(seed)) throw new CliError(`--seed must be an integer, got "${f.seed}"`, EXIT_USAGE);
  return { kind: "synthetic", seed, ...(time !== undefined ? { valuationTime: time } : {}) };
}

/**
 * Loads a book file (JSON or CSV, adapters/portfolioFile.ts). Missing or unreadable: one line,
 * exit 3 (InputFileError); a malformed file or any bad row: a BookFileError listing every problem,
 * exit 2 (assertCleanBook; cli/io.ts maps it).
 */
export async function loadBookFile(path: string): Promise<PortfolioFile> {
  const f = await loadPortfolioFile(path);
  assertCleanBook(f, path);
  return f;
}

/** Base URL of the live Deribit API: env VOLFOLIO_DERIBIT_URL (e.g. a test server), else mainnet. */
export function deribitBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.VOLFOLIO_DERIBIT_URL || DERIBIT_MAINNET_URL).replace(/\/+$/, "");
}

/** Fetches one live chain; an unreachable API is one line, exit 3 (`flag` names the caller's flag). */
export async function fetchLiveChain(
  currency: string,
  timeoutMs: number,
  o: { readonly flag?: string; readonly log?: (line: string) => void } = {},
): Promise<FetchedDeribitChain> {
  const flag = o.flag ?? "--live";
  const baseUrl = deribitBaseUrl();
  const t0 = performance.now();
  try {
    const r = await fetchDeribitChain({ currency, baseUrl, timeoutMs, maxRetries: 1 });
    o.log?.(
      `live ${currency} chain from ${baseUrl}: ${r.chain.quotes.length} options in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    return r;
  } catch (err) {
    if (err instanceof DeribitClientError) {
      const why = err.message.replace(/^\S+: /, "").split("\n")[0];
      if (err.kind === "network" || err.kind === "timeout" || err.kind === "http")
        throw new CliError(
          `${flag}: cannot reach ${baseUrl}: ${why} (this machine may have no internet access; use --chain FILE)`,
          EXIT_UNAVAILABLE,
        );
      throw new CliError(`${flag}: ${baseUrl}: ${why}`, EXIT_FAILURE);
    }
    throw err;
  }
}

const iso = (t: number) => new Date(t).toISOString();

/** Live chains for `needed`, all at the first chain's instant (one market, one time; noted). */
async function liveChains(
  needed: readonly string[],
  timeoutMs: number,
  log?: (line: string) => void,
): Promise<LoadedChains> {
  const fetched: FetchedDeribitChain[] = [];
  for (const u of needed) fetched.push(await fetchLiveChain(u, timeoutMs, log ? { log } : {}));
  const first = (fetched[0] as FetchedDeribitChain).chain;
  const notes: string[] = [];
  const chains = fetched.map((r, i) => {
    if (i > 0 && r.chain.valuationTime !== first.valuationTime)
      notes.push(
        `live ${r.chain.underlying} chain taken at ${iso(r.chain.valuationTime)}, valued at the ${first.underlying} chain's instant ${iso(first.valuationTime)} (one market, one time)`,
      );
    return { ...r.chain, valuationTime: first.valuationTime };
  });
  return { chains, label: `live Deribit ${describeChains(chains)} from ${deribitBaseUrl()}`, notes };
}

/**
 * The book on the market of `choice` (src/web/bookMarket.ts). `first`: underlyings the caller needs
 * a chain for even without a position (optimize's spec underlying), placed first.
 */
export async function bookOnMarket(
  book: PortfolioFile,
  choice: MarketChoice,
  o: {
    readonly first?: readonly string[];
    readonly surfaceModel?: SurfaceModel;
    readonly log?: (line: string) => void;
  } = {},
): Promise<ValuedBook> {
  if (choice.kind === "book-market") {
    if (!book.market)
      throw new CliError(
        `--book-market: the book file has no "market" section (index, vols, forwards); choose ${CHAIN_CHOICES}`,
        EXIT_USAGE,
      );
    return valueBookOnBookMarket(book);
  }
  const needed = neededUnderlyings(book.positions, o.first ?? []);
  if (needed.length === 0) throw new CliError("the book holds no position: nothing to value", EXIT_USAGE);
  let loaded: LoadedChains;
  if (choice.kind === "chain") {
    try {
      loaded = await chainFileChains(choice.file, needed, {
        ...(choice.valuationTime !== undefined ? { valuationTime: choice.valuationTime } : {}),
      });
    } catch (e) {
      if (e instanceof Error && /^no .* chain in /.test(e.message))
        throw new CliError(e.message, EXIT_FAILURE);
      throw e;
    }
  } else if (choice.kind === "live") loaded = await liveChains(needed, choice.timeoutMs, o.log);
  else {
    const t =
      choice.valuationTime ?? book.market?.valuationTime ?? Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const s = syntheticChainsFor(needed, { seed: choice.seed, valuationTime: t, book });
    const why =
      choice.valuationTime !== undefined
        ? "--time"
        : book.market
          ? "the book file's market time; --time to choose another"
          : "the current hour; --time to choose another";
    loaded = { ...s, notes: [`synthetic chains at ${iso(t)} (${why})`] };
  }
  return valueBookOnChains({
    source: choice.kind,
    label: loaded.label,
    positions: book.positions,
    ...(book.cash ? { cash: book.cash } : {}),
    chains: loaded.chains,
    ...(o.surfaceModel ? { surfaceModel: o.surfaceModel } : {}),
    notes: loaded.notes,
  });
}

/** Writes `warnings` on stderr, one loud line each. */
export function printWarnings(command: string, warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`volfolio ${command}: WARNING: ${w}\n`);
}
