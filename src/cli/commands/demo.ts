/**
 * `volfolio demo` (market -> surface -> risk -> optimizer -> backtest -> report + dashboard)
 * and `volfolio serve --report FILE`.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { runDemoPipeline } from "../../web/pipeline.js";
import type { DemoReport } from "../../web/report.js";
import { isLoopback, renderReportHtml, startDashboardServer } from "../../web/server.js";
import { CliError, EXIT_UNAVAILABLE, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";

interface ServeFlags {
  port: string;
  host: string;
  token?: string;
}

function parsePort(v: string): number {
  const p = parseNumberOption("port", v);
  if (!Number.isInteger(p) || p < 0 || p > 65535)
    throw new CliError(`--port must be 0..65535, got "${v}"`, EXIT_USAGE);
  return p;
}

async function serve(report: DemoReport, f: ServeFlags): Promise<void> {
  const token = f.token ?? process.env.VOLFOLIO_TOKEN;
  let started: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    started = await startDashboardServer({ report, host: f.host, port: parsePort(f.port), token });
  } catch (e) {
    const msg = (e as Error).message;
    throw new CliError(msg, /requires --token/.test(msg) ? EXIT_USAGE : EXIT_UNAVAILABLE);
  }
  process.stdout.write(`dashboard: ${started.url}${token ? " (send Authorization: Bearer <token>)" : ""}\n`);
  process.stderr.write("serving; press Ctrl-C to stop\n");
  await new Promise<void>((done) => {
    const stop = () => {
      started.app.close().then(() => done());
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

function summaryRows(r: DemoReport) {
  const sections = [
    "surface",
    "greeks",
    "scenarios",
    "stress",
    "margin",
    "optimizer",
    "backtest",
    "volIndex",
    "regime",
    "agent",
  ];
  return sections.map((s) => ({
    section: s,
    status: (r as unknown as Record<string, unknown>)[s] !== undefined ? "ok" : "absent",
    note: r.unavailable[s] ?? "",
  }));
}

export function register(program: Command): void {
  const demo = program
    .command("demo")
    .description(
      "run the whole pipeline on a seeded synthetic (or file) market, write a report and serve the dashboard",
    )
    .option("--port <n>", "dashboard port (0 = any free port)", "8787")
    .option("--host <addr>", "bind address (non-loopback requires --token)", "127.0.0.1")
    .option("--token <secret>", "bearer token required on every request (or env VOLFOLIO_TOKEN)")
    .option("--seed <n>", "seed of the synthetic market and backtest", "42")
    .option("--chain <file>", "use this option chain file instead of a synthetic chain")
    .option("--live", "fetch the chain live from Deribit")
    .option("--out <dir>", "report directory", "volfolio-report")
    .option("--no-serve", "write the report and exit")
    .option("--json", "print the report JSON on stdout (implies --no-serve)")
    .addHelpText(
      "after",
      `
Examples:
  volfolio demo                              # synthetic market, serve http://127.0.0.1:8787/
  volfolio demo --no-serve --out /tmp/report # write report.json + report.html and exit
  volfolio demo --chain ../shared/data/deribit/sample.csv.gz --port 0
  VOLFOLIO_TOKEN=... volfolio demo --host 0.0.0.0 --port 8787`,
    )
    .action(
      async (
        f: ServeFlags & {
          seed: string;
          chain?: string;
          live?: boolean;
          out: string;
          serve: boolean;
          json?: boolean;
        },
      ) => {
        const seed = parseNumberOption("seed", f.seed);
        if (!Number.isInteger(seed))
          throw new CliError(`--seed must be an integer, got "${f.seed}"`, EXIT_USAGE);
        if (f.live && f.chain) throw new CliError("use either --chain or --live, not both", EXIT_USAGE);
        if (f.live)
          throw new CliError(
            "--live: the Deribit live client is not available in this build; use --chain FILE",
            EXIT_UNAVAILABLE,
          );
        if (f.chain && !existsSync(f.chain))
          throw new CliError(`chain file not found: ${f.chain}`, EXIT_UNAVAILABLE);
        parsePort(f.port);
        if (f.serve && !f.json && !isLoopback(f.host) && !(f.token ?? process.env.VOLFOLIO_TOKEN))
          throw new CliError(`binding ${f.host} requires --token (or VOLFOLIO_TOKEN)`, EXIT_USAGE);
        const t0 = performance.now();
        const report = await runDemoPipeline({
          seed,
          chainFile: f.chain,
          onProgress: (e) => {
            if (e.phase === "start") process.stderr.write(`[demo] ${e.step} ...`);
            else
              process.stderr.write(
                ` ${e.ms?.toFixed(0)} ms${e.error ? ` (not available: ${e.error})` : ""}\n`,
              );
          },
        });
        process.stderr.write(`[demo] computed in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
        const out = resolve(f.out);
        await mkdir(out, { recursive: true });
        await writeFile(resolve(out, "report.json"), `${JSON.stringify(report)}\n`);
        await writeFile(resolve(out, "report.html"), await renderReportHtml(report));
        if (f.json) {
          output(true, report, () => "");
          return;
        }
        process.stdout.write(`${formatTable(summaryRows(report))}\n`);
        process.stdout.write(`report: ${resolve(out, "report.html")} and report.json\n`);
        if (f.serve) await serve(report, f);
      },
    );
  void demo;

  program
    .command("serve")
    .description("serve the dashboard for a report.json written by `volfolio demo`")
    .requiredOption("--report <file>", "report.json")
    .option("--port <n>", "port (0 = any free port)", "8787")
    .option("--host <addr>", "bind address (non-loopback requires --token)", "127.0.0.1")
    .option("--token <secret>", "bearer token required on every request (or env VOLFOLIO_TOKEN)")
    .option("--json", "print the report's section status as JSON and exit")
    .addHelpText(
      "after",
      `
Examples:
  volfolio serve --report volfolio-report/report.json
  volfolio serve --report volfolio-report/report.json --port 0
  volfolio serve --report volfolio-report/report.json --json`,
    )
    .action(async (f: ServeFlags & { report: string; json?: boolean }) => {
      if (!existsSync(f.report)) throw new CliError(`report not found: ${f.report}`, EXIT_UNAVAILABLE);
      let report: DemoReport;
      try {
        report = JSON.parse(await readFile(f.report, "utf8")) as DemoReport;
      } catch (e) {
        throw new CliError(`cannot read report ${f.report}: ${(e as Error).message.split("\n")[0]}`);
      }
      if (!report || typeof report !== "object" || !report.unavailable)
        throw new CliError(`${f.report} is not a volfolio demo report`);
      if (f.json) return output(true, summaryRows(report), () => "");
      await serve(report, f);
    });
}
