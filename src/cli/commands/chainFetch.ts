/**
 * `volfolio chain fetch`: a live Deribit options chain over the public REST API (no key).
 * When the host cannot be reached it prints one line and exits 3 (EXIT_UNAVAILABLE). A currency
 * Deribit does not list (checked before any request, against DERIBIT_CURRENCIES) or one the API
 * refuses as an invalid parameter, and a bad --timeout, exit 2 (EXIT_USAGE) with one line.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import {
  DERIBIT_MAINNET_URL,
  DERIBIT_TESTNET_URL,
  DeribitClientError,
  fetchDeribitChain,
} from "../../adapters/deribit/client.js";
import {
  CliError,
  EXIT_FAILURE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  formatTable,
  output,
  parsePositiveOption,
} from "../io.js";

/**
 * Currencies of Deribit's public market-data API (get_book_summary_by_currency /
 * get_instruments): the coins with options or futures, and the settlement currencies of the linear
 * (USDC/USDT) and EURR instruments.
 */
export const DERIBIT_CURRENCIES = ["BTC", "ETH", "SOL", "XRP", "USDC", "USDT", "EURR"] as const;

/** The --currency value upper-cased, or a usage error naming it and the known currencies. */
export function parseDeribitCurrency(value: string): string {
  const c = value.trim().toUpperCase();
  if (!(DERIBIT_CURRENCIES as readonly string[]).includes(c))
    throw new CliError(
      `--currency: unknown Deribit currency "${value}" (known: ${DERIBIT_CURRENCIES.join(", ")})`,
      EXIT_USAGE,
    );
  return c;
}

interface FetchOpts {
  currency: string;
  testnet?: boolean;
  baseUrl?: string;
  out?: string;
  json?: boolean;
  timeout?: string;
}

export function registerChainFetch(chain: Command): void {
  const cmd = chain
    .command("fetch")
    .description("fetch a live options chain from Deribit's public API (book summaries + instruments)")
    .requiredOption("--currency <coin>", `${DERIBIT_CURRENCIES.join(", ")} (USDC: linear options)`)
    .option("--testnet", "use https://test.deribit.com")
    .option("--base-url <url>", "API base URL (overrides --testnet)")
    .option("--out <file>", "save the raw book-summary payload as JSON (readable by `volfolio chain show`)")
    .option("--timeout <ms>", "per-request timeout in ms", "10000")
    .option("--json", "print the summary as JSON")
    .action(async (o: FetchOpts) => {
      const currency = parseDeribitCurrency(o.currency);
      const baseUrl = o.baseUrl ?? (o.testnet ? DERIBIT_TESTNET_URL : DERIBIT_MAINNET_URL);
      const timeoutMs = parsePositiveOption("timeout", o.timeout ?? "10000");
      let r: Awaited<ReturnType<typeof fetchDeribitChain>>;
      try {
        r = await fetchDeribitChain({ currency, baseUrl, timeoutMs, maxRetries: 2 });
      } catch (err) {
        if (err instanceof DeribitClientError && (err.kind === "network" || err.kind === "timeout")) {
          const why = err.message.replace(/^\S+: /, "");
          throw new CliError(
            `cannot reach ${baseUrl}: ${why} (this machine may have no internet access)`,
            EXIT_UNAVAILABLE,
          );
        }
        // JSON-RPC -32602 "Invalid params" (e.g. a currency this venue does not list): bad input.
        if (err instanceof DeribitClientError && err.kind === "api" && err.details.code === -32602)
          throw new CliError(`--currency ${currency}: the API refused it (${err.message})`, EXIT_USAGE);
        if (err instanceof DeribitClientError) throw new CliError(err.message, EXIT_FAILURE);
        throw err;
      }
      if (o.out) writeFileSync(o.out, `${JSON.stringify({ jsonrpc: "2.0", result: r.entries })}\n`);
      const c = r.chain;
      const expiries = new Set(c.quotes.map((q) => q.instrument.expiry)).size;
      const summary = {
        baseUrl,
        underlying: c.underlying,
        valuationTime: new Date(c.valuationTime).toISOString(),
        indexPriceUsd: c.indexPrice,
        options: c.quotes.length,
        expiries,
        futures: c.futures?.length ?? 0,
        rejected: r.result.rejected.length,
        instrumentsListed: r.instrumentsListed,
        missingFromSummary: r.missingFromSummary.length,
        requests: r.requests,
        out: o.out ?? null,
      };
      output(o.json, o.json ? { ...summary, rejectedEntries: r.result.rejected } : summary, () =>
        formatTable(Object.entries(summary).map(([field, value]) => ({ field, value }))),
      );
    });
  cmd.addHelpText(
    "after",
    `
Examples:
  volfolio chain fetch --currency BTC
  volfolio chain fetch --currency ETH --testnet --json
  volfolio chain fetch --currency BTC --out /tmp/btc.json && volfolio chain show /tmp/btc.json
Exit code 3 when the API cannot be reached (e.g. no internet access); 2 for an unknown currency.`,
  );
}
