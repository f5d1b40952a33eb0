/**
 * `volfolio demo` (market -> surface -> risk -> optimizer -> backtest -> report + dashboard)
 * and `volfolio serve` (a report.json, or a market: --chain / --live / --synthetic, with the
 * position builder on it).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { checkInputFile } from "../../adapters/inputFile.js";
import { deribitBaseUrl, fetchLiveChain } from "../bookMarket.js";
import { type BuilderMarket, builderMarket } from "../../web/builder.js";
import { LiveChainRefresher } from "../../web/live.js";
import { runDemoPipeline } from "../../web/pipeline.js";
import { type DemoReport, REPORT_SECTIONS } from "../../web/report.js";
import { isLoopback, parseAgentUrl, renderReportHtml, startDashboardServer } from "../../web/server.js";
import { CliError, EXIT_UNAVAILABLE, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";

interface ServeFlags {
  port: string;
  host: string;
  token?: string;
  agentUrl?: string;
}

/** Validates --agent-url (exit 2 when malformed). */
function checkAgentUrl(f: ServeFlags): void {
  if (f.agentUrl === undefined) return;
  try {
    f.agentUrl = parseAgentUrl(f.agentUrl);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT_USAGE);
  }
}

function parsePort(v: string): number {
  const p = parseNumberOption("port", v);
  if (!Number.isInteger(p) || p < 0 || p > 65535)
    throw new CliError(`--port must be 0..65535, got "${v}"`, EXIT_USAGE);
  return p;
}

/**
 * The token rule of the dashboard, checked before any work (exit 2): a non-loopback bind needs a
 * token of at least 16 characters (--token or VOLFOLIO_TOKEN); the token is never echoed.
 */
function checkToken(f: ServeFlags): void {
  const token = f.token ?? (process.env.VOLFOLIO_TOKEN || undefined);
  if (!isLoopback(f.host) && !token)
    throw new CliError(
      `binding ${f.host} requires --token (or VOLFOLIO_TOKEN) of at least 16 characters`,
      EXIT_USAGE,
    );
  if (token !== undefined && token.length < 16)
    throw new CliError(
      `the dashboard token must be at least 16 characters (got ${token.length}; --token or VOLFOLIO_TOKEN)`,
      EXIT_USAGE,
    );
}

async function serve(
  report: DemoReport,
  f: ServeFlags & { live?: boolean; refresh?: string; currency?: string },
  builder?: BuilderMarket,
): Promise<void> {
  // --live --refresh S: the chain and the builder's marks follow Deribit's WebSocket (web/live.ts).
  let current = builder;
  let refresher: LiveChainRefresher | undefined;
  if (f.live && f.refresh !== undefined && builder) {
    const s = parseNumberOption("refresh", f.refresh);
    if (!(s >= 0.2)) throw new CliError(`--refresh must be >= 0.2 seconds, got "${f.refresh}"`, EXIT_USAGE);
    const base = builder;
    refresher = new LiveChainRefresher({
      currency: (f.currency ?? "BTC").toUpperCase(),
      intervalMs: s * 1000,
      initialAt: Date.now(),
      onChain: (chain) => {
        current = builderMarket({
          chains: [chain],
          label: `live Deribit ${chain.underlying} chain (WebSocket, ${chain.quotes.length} options)`,
          book: base.book,
        });
      },
    });
    refresher.start();
  }
  const token = f.token ?? (process.env.VOLFOLIO_TOKEN || undefined);
  let started: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    const agentToken = process.env.VOLFOLIO_AGENT_TOKEN;
    started = await startDashboardServer({
      report,
      host: f.host,
      port: parsePort(f.port),
      ...(token !== undefined ? { token } : {}),
      ...(builder ? { builder: () => current } : {}),
      ...(refresher ? { live: () => refresher.status() } : {}),
      ...(f.agentUrl ? { agentUrl: f.agentUrl, ...(agentToken ? { agentToken } : {}) } : {}),
    });
  } catch (e) {
    const msg = (e as Error).message;
    throw new CliError(msg, /requires --token/.test(msg) ? EXIT_USAGE : EXIT_UNAVAILABLE);
  }
  // The token is never printed: open the page once with ?token=<your token> (a cookie is set).
  process.stdout.write(
    `dashboard: ${started.url}${token ? " (open it once as /?token=<your token>, or send Authorization: Bearer <token>)" : ""}\n`,
  );
  if (f.agentUrl) process.stdout.write(`agent: live state from ${f.agentUrl}/state on the Agent tab\n`);
  process.stderr.write("serving; press Ctrl-C to stop\n");
  await new Promise<void>((done) => {
    const stop = () => {
      Promise.all([started.app.close(), refresher?.stop()]).then(() => done());
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

interface MarketFlags extends ServeFlags {
  seed: string;
  chain?: string;
  book?: string;
  bookMarket?: boolean;
  live?: boolean;
  currency: string;
  timeout: string;
  data?: string;
  history?: string;
  historyDays?: string;
  /** false with --no-forecast: the Regime tab without its forecast panel. */
  forecast?: boolean;
}

/** Loads the market (synthetic, --chain or --live), runs the pipeline; the builder's market too. */
async function computeReport(
  f: MarketFlags,
  tag: string,
): Promise<{ report: DemoReport; builder: BuilderMarket | undefined }> {
  let builder: BuilderMarket | undefined;
  const seed = parseNumberOption("seed", f.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed must be an integer, got "${f.seed}"`, EXIT_USAGE);
  if (f.live && f.chain) throw new CliError("use either --chain or --live, not both", EXIT_USAGE);
  const currency = f.currency.toUpperCase();
  if (currency !== "BTC" && currency !== "ETH")
    throw new CliError(`--currency must be BTC or ETH, got "${f.currency}"`, EXIT_USAGE);
  const timeoutMs = parseNumberOption("timeout", f.timeout);
  if (!(timeoutMs > 0)) throw new CliError(`--timeout must be > 0 ms, got "${f.timeout}"`, EXIT_USAGE);
  // A file the user named must be readable before the pipeline starts (missing, directory,
  // unreadable: one line, exit 3), not a section quietly marked absent.
  if (f.chain) await checkInputFile(f.chain, "chain file");
  if (f.book) await checkInputFile(f.book, "book file");
  if (f.data && !existsSync(f.data))
    throw new CliError(`data directory not found: ${f.data}`, EXIT_UNAVAILABLE);
  if (f.history && !existsSync(f.history))
    throw new CliError(`history directory not found: ${f.history}`, EXIT_UNAVAILABLE);
  const historyMaxDays =
    f.historyDays === undefined ? undefined : parseNumberOption("history-days", f.historyDays);
  if (historyMaxDays !== undefined && !(Number.isInteger(historyMaxDays) && historyMaxDays >= 2))
    throw new CliError(`--history-days must be an integer >= 2, got "${f.historyDays}"`, EXIT_USAGE);
  parsePort(f.port);
  checkAgentUrl(f);
  const live = f.live
    ? await fetchLiveChain(currency, timeoutMs, {
        log: (line) => process.stderr.write(`[${tag}] ${line}\n`),
      })
    : undefined;
  const t0 = performance.now();
  const report = await runDemoPipeline({
    seed,
    ...(f.chain ? { chainFile: f.chain } : {}),
    ...(f.book ? { bookFile: f.book } : {}),
    ...(f.bookMarket ? { bookMarket: true } : {}),
    ...(live
      ? {
          chain: live.chain,
          chainSource: `live Deribit ${live.chain.underlying} chain from ${deribitBaseUrl()} (${live.chain.quotes.length} options)`,
        }
      : {}),
    ...(f.data ? { backtestDataDir: f.data } : {}),
    ...(f.history ? { historyDir: f.history } : {}),
    ...(historyMaxDays !== undefined ? { historyMaxDays } : {}),
    ...(f.forecast === false ? { forecast: false as const } : {}),
    onHistoryFile: (done, total) => {
      if (done % 20 === 0 || done === total) process.stderr.write(` ${done}/${total}`);
    },
    onMarket: (m) => {
      try {
        builder = builderMarket(m);
      } catch (e) {
        process.stderr.write(`[${tag}] builder not available: ${(e as Error).message.split("\n")[0]}\n`);
      }
    },
    onProgress: (e) => {
      if (e.phase === "start") process.stderr.write(`[${tag}] ${e.step} ...`);
      else process.stderr.write(` ${e.ms?.toFixed(0)} ms${e.error ? ` (not available: ${e.error})` : ""}\n`);
    },
  });
  process.stderr.write(`[${tag}] computed in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  return { report, builder };
}

function bookNote(r: DemoReport): string {
  const b = r.book;
  if (!b) return r.unavailable.greeks ?? "";
  const ex = b.excluded.map((x) => `${x.instrument} (${x.reason})`).join(", ");
  const exp = (b.expired ?? []).map((x) => x.instrument).join(", ");
  return `${b.valued} of ${b.positions} positions valued${exp ? `; expired (settled): ${exp}` : ""}${ex ? `; excluded: ${ex}` : ""}`;
}

function summaryRows(r: DemoReport, agentUrl?: string) {
  // The report's sections in page order, the book summary after the surface, the live agent last.
  const sections = [...REPORT_SECTIONS.flatMap((s) => (s === "surface" ? [s, "book"] : [s])), "agent"];
  return sections.map((s) =>
    s === "agent" && agentUrl
      ? { section: s, status: "live", note: `proxied from ${agentUrl}/state on the dashboard` }
      : s === "book"
        ? { section: s, status: r.book ? "ok" : "absent", note: bookNote(r) }
        : {
            section: s,
            status: (r as unknown as Record<string, unknown>)[s] !== undefined ? "ok" : "absent",
            note: r.unavailable[s] ?? "",
          },
  );
}

type DemoFlags = MarketFlags & { out: string; serve: boolean; json?: boolean };
type ServeCommandFlags = MarketFlags & { report?: string; synthetic?: boolean; json?: boolean };

const DEMO_HELP = `
Examples:
  volfolio demo                              # synthetic market, serve http://127.0.0.1:8787/
  volfolio demo --no-serve --out /tmp/report # write report.json + report.html and exit
  volfolio demo --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv --port 0
  volfolio demo --live --currency ETH --book my-eth-book.json   # live Deribit chain (exit 3 when unreachable)
  volfolio demo --book my-book.json --book-market   # value my-book.json on its own market section
  VOLFOLIO_DERIBIT_URL=https://test.deribit.com volfolio demo --live --no-serve
  VOLFOLIO_TOKEN=... volfolio demo --host 0.0.0.0 --port 8787
  volfolio demo --agent-url http://127.0.0.1:8788   # Agent tab: a running \`volfolio agent\` (config "http": {"port": 8788})

Risk, stress, margin and the optimizer value the book on the loaded market by the same step as
volfolio risk (src/web/bookMarket.ts): the chain's index and forwards, each option at its chain mark
vol (the fitted surface pinned to the marks where the chain has no mark). Legs expired at the
market's time are settled at the index and listed as expired; positions the market cannot value
(other underlying, outside the listed expiries) are listed as excluded with the reason; neither
reaches a figure. Without --book on a --chain/--live market,
the sample book's legs are placed on the loaded chain's expiries and strikes by tenor and
moneyness (the report's book section lists the legs).`;

/** `volfolio demo`: computes the report, writes report.json/.html, prints the summary, serves. */
async function runDemo(f: DemoFlags): Promise<void> {
  if (f.serve && !f.json) checkToken(f);
  const { report, builder } = await computeReport(f, "demo");
  const out = resolve(f.out);
  await mkdir(out, { recursive: true });
  await writeFile(resolve(out, "report.json"), `${JSON.stringify(report)}\n`);
  await writeFile(resolve(out, "report.html"), await renderReportHtml(report));
  if (f.json) {
    output(true, report, () => "");
    return;
  }
  process.stdout.write(`${formatTable(summaryRows(report, f.serve ? f.agentUrl : undefined))}\n`);
  process.stdout.write(`report: ${resolve(out, "report.html")} and report.json\n`);
  if (f.serve) await serve(report, f, builder);
}

/** A report.json written by `volfolio demo` (exit 1 with one line when unreadable or not a report). */
async function readReport(path: string): Promise<DemoReport> {
  let report: DemoReport;
  try {
    report = JSON.parse(await readFile(path, "utf8")) as DemoReport;
  } catch (e) {
    throw new CliError(`cannot read report ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!report || typeof report !== "object" || !report.unavailable)
    throw new CliError(`${path} is not a volfolio demo report`);
  return report;
}

/** `volfolio serve`: the dashboard on a saved report or on a market computed now. */
async function runServe(f: ServeCommandFlags): Promise<void> {
  checkAgentUrl(f);
  const markets = [f.report, f.chain, f.live, f.synthetic].filter((x) => x !== undefined && x !== false);
  if (markets.length !== 1)
    throw new CliError("give one of --report FILE, --chain FILE, --live or --synthetic", EXIT_USAGE);
  if (f.report && !existsSync(f.report))
    throw new CliError(`report not found: ${f.report}`, EXIT_UNAVAILABLE);
  if (!f.json) checkToken(f);
  if (!f.report) {
    const { report, builder } = await computeReport(f, "serve");
    if (f.json) return output(true, summaryRows(report), () => "");
    return serve(report, f, builder);
  }
  const report = await readReport(f.report);
  if (f.json) return output(true, summaryRows(report), () => "");
  await serve(report, f);
}

/** The dashboard's flags (demo and serve): --port, --host, --token, --agent-url. */
function addDashboardOptions(cmd: Command): Command {
  return cmd
    .option("--port <n>", "dashboard port (0 = any free port)", "8787")
    .option("--host <addr>", "bind address (non-loopback requires --token)", "127.0.0.1")
    .option("--token <secret>", "bearer token required on every request (or env VOLFOLIO_TOKEN)")
    .option(
      "--agent-url <url>",
      "show this running agent's live state (GET URL/state; token from env VOLFOLIO_AGENT_TOKEN)",
    );
}

/** The live chain's flags besides --live (demo and serve): --refresh, --currency, --timeout. */
function addLiveOptions(cmd: Command): Command {
  return cmd
    .option(
      "--refresh <seconds>",
      "with --live: refresh the chain and the builder's marks over Deribit's WebSocket every so many seconds (env VOLFOLIO_DERIBIT_WS_URL overrides the URL); the page shows the data's age and marks it stale after two missed refreshes",
    )
    .option("--currency <coin>", "with --live: BTC or ETH", "BTC")
    .option("--timeout <ms>", "with --live: per-request timeout in ms", "10000");
}

function registerDemo(program: Command): void {
  const cmd = program
    .command("demo")
    .description(
      "run the whole pipeline on a seeded synthetic (or file) market, write a report and serve the dashboard",
    );
  addDashboardOptions(cmd)
    .option("--seed <n>", "seed of the synthetic market and backtest", "42")
    .option("--chain <file>", "use this option chain file instead of a synthetic chain")
    .option(
      "--book <file>",
      "portfolio file (JSON/CSV, as `volfolio risk`) for the risk, stress and margin sections, valued on the loaded market (default examples/book.json; with --chain/--live its legs are placed on the loaded chain)",
    )
    .option(
      "--book-market",
      "value the book on its file's own market section (parametric surfaces) instead of the loaded chain",
    )
    .option(
      "--live",
      "fetch the chain live from Deribit's public API (env VOLFOLIO_DERIBIT_URL overrides the URL)",
    );
  addLiveOptions(cmd)
    .option(
      "--data <dir>",
      "daily Deribit chain files (e.g. ../shared/data/deribit/daily): the Backtest tab runs on the loaded underlying's real chain history, the 90 days up to the valuation date (default: a labelled synthetic run ending at the valuation time)",
    )
    .option(
      "--history <dir>",
      "daily Deribit chain files (e.g. ../shared/data/deribit/daily) for the History tab: fixed-tenor ATM vol, RR/BF, vol index vs realized and DVOL, the IV-vs-RV cone, any stored day's surface (about 0.5 s a day)",
    )
    .option("--history-days <n>", "with --history: at most n stored days, evenly spaced, ending at the last")
    .option("--out <dir>", "report directory", "volfolio-report")
    .option(
      "--no-forecast",
      "leave the volatility forecast panel (walk-forward HAR/GARCH/boosted trees, a few seconds of CPU) out of the Regime tab",
    )
    .option("--no-serve", "write the report and exit")
    .option("--json", "print the report JSON on stdout (implies --no-serve)")
    .addHelpText("after", DEMO_HELP)
    .action(runDemo);
}

function registerServe(program: Command): void {
  const cmd = program
    .command("serve")
    .description(
      "serve the dashboard: a report.json written by `volfolio demo` (--report), or a market computed now (--chain, --live or --synthetic) with the position builder on it",
    )
    .option("--report <file>", "report.json (the Builder tab then has no market)")
    .option("--chain <file>", "option chain file (Deribit CSV/.csv.gz, Tardis CSV, Deribit API JSON)")
    .option(
      "--live",
      "fetch the chain live from Deribit's public API (env VOLFOLIO_DERIBIT_URL overrides the URL)",
    )
    .option("--synthetic", "a seeded synthetic chain (--seed)")
    .option("--seed <n>", "seed of the synthetic market", "42");
  addLiveOptions(cmd)
    .option("--book <file>", "the account the builder adds legs to (JSON/CSV, as `volfolio risk`)")
    .option("--data <dir>", "daily Deribit chain files for the Backtest tab (see `volfolio demo --help`)")
    .option("--history <dir>", "daily Deribit chain files for the History tab (see `volfolio demo --help`)")
    .option("--history-days <n>", "with --history: at most n stored days, evenly spaced");
  addDashboardOptions(cmd)
    .option("--json", "print the report's section status as JSON and exit")
    .addHelpText(
      "after",
      `
Examples:
  volfolio serve --report volfolio-report/report.json
  volfolio serve --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv --port 0
  volfolio serve --synthetic --seed 7 --book examples/book.json
  volfolio serve --live --currency ETH
  VOLFOLIO_TOKEN=... volfolio serve --chain FILE --host 0.0.0.0   # open http://HOST:8787/?token=<token> once
  volfolio serve --report volfolio-report/report.json --json
  volfolio serve --report volfolio-report/report.json --agent-url http://127.0.0.1:8788`,
    )
    .action(runServe);
}

/** Registers `demo` and `serve`. */
export function register(program: Command): void {
  registerDemo(program);
  registerServe(program);
}
