/**
 * `volfolio chain fetch`: a live Deribit options chain over the public REST API (no key).
 * When the host cannot be reached it prints one line and exits 3 (EXIT_UNAVAILABLE).
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import {
  DERIBIT_MAINNET_URL,
  DERIBIT_TESTNET_URL,
  DeribitClientError,
  fetchDeribitChain,
} from "../../adapters/deribit/client.js";
import { CliError, EXIT_FAILURE, EXIT_UNAVAILABLE, formatTable, output, parseNumberOption } from "../io.js";

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
    .requiredOption("--currency <coin>", "BTC, ETH, SOL or USDC (linear options)")
    .option("--testnet", "use https://test.deribit.com")
    .option("--base-url <url>", "API base URL (overrides --testnet)")
    .option("--out <file>", "save the raw book-summary payload as JSON (readable by `volfolio chain show`)")
    .option("--timeout <ms>", "per-request timeout in ms", "10000")
    .option("--json", "print the summary as JSON")
    .action(async (o: FetchOpts) => {
      const baseUrl = o.baseUrl ?? (o.testnet ? DERIBIT_TESTNET_URL : DERIBIT_MAINNET_URL);
      const timeoutMs = parseNumberOption("timeout", o.timeout ?? "10000");
      let r: Awaited<ReturnType<typeof fetchDeribitChain>>;
      try {
        r = await fetchDeribitChain({ currency: o.currency, baseUrl, timeoutMs, maxRetries: 2 });
      } catch (err) {
        if (err instanceof DeribitClientError && (err.kind === "network" || err.kind === "timeout")) {
          const why = err.message.replace(/^\S+: /, "");
          throw new CliError(
            `cannot reach ${baseUrl}: ${why} (this machine may have no internet access)`,
            EXIT_UNAVAILABLE,
          );
        }
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
Exit code 3 when the API cannot be reached (e.g. no internet access).`,
  );
}
